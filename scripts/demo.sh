#!/usr/bin/env bash
# The demo: a local VictoriaLogs loaded with a day of generated VPC Flow Logs,
# and every panel of the NAT-gateway dashboard printed from it.
set -euo pipefail
cd "$(dirname "$0")/.."

VICTORIALOGS_BIN="$(bash scripts/victorialogs.sh)"
export VICTORIALOGS_BIN
cargo run --locked --release --quiet --bin flowlens -- demo "$@"

#!/usr/bin/env bash
# The test suite: builds VictoriaLogs (cached) and runs every Rust test, the
# live ones against real VictoriaLogs processes the tests start themselves.
# A test that needs VictoriaLogs fails, never skips, when it cannot start.
set -euo pipefail
cd "$(dirname "$0")/.."

VICTORIALOGS_BIN="$(bash scripts/victorialogs.sh)"
export VICTORIALOGS_BIN
echo "== VictoriaLogs: $VICTORIALOGS_BIN"

echo "== Rust tests"
cargo test --locked --all-targets

echo "== Frontend: install, typecheck, build, unit tests"
(cd frontend && npm ci --no-audit --no-fund && npm run typecheck && npm run build && npm test)

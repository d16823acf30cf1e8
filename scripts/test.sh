#!/usr/bin/env bash
# The test suite: builds VictoriaLogs (cached), installs the frontend's
# packages, then runs every Rust test (the live ones against real
# VictoriaLogs processes the tests start themselves, the browser test in
# Debian's Chromium) and the frontend's typecheck, build and unit tests.
# A test that needs VictoriaLogs, Chromium, node_modules or the LogQL
# engine (../shared/tools/oteldb-mem, or OTELDB_MEM) fails, never
# skips, when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."

VICTORIALOGS_BIN="$(bash scripts/victorialogs.sh)"
export VICTORIALOGS_BIN
echo "== VictoriaLogs: $VICTORIALOGS_BIN"

echo "== Frontend packages"
(cd frontend && npm ci --no-audit --no-fund)

echo "== Grafana's LogQL grammar (tests/logql_grammar.rs)"
(cd tests/logql-grammar && npm ci --no-audit --no-fund)

echo "== Rust formatting"
cargo fmt --check

echo "== Rust tests"
cargo test --locked --all-targets

echo "== Frontend: typecheck, build, unit tests"
(cd frontend && npm run typecheck && npm run build && npm test)

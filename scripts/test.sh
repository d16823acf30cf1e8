#!/usr/bin/env bash
# The test suite: builds VictoriaLogs (cached), installs the frontend's
# packages, then runs every Rust test (the live ones against real
# VictoriaLogs processes the tests start themselves, the browser test in
# Debian's Chromium, every QueryData answer also read by Grafana's Go SDK)
# and the frontend's typecheck, build and unit tests. A test that needs
# VictoriaLogs, Chromium, Go or node_modules fails, never skips, when they
# are missing.
set -euo pipefail
cd "$(dirname "$0")/.."

VICTORIALOGS_BIN="$(bash scripts/victorialogs.sh)"
export VICTORIALOGS_BIN
echo "== VictoriaLogs: $VICTORIALOGS_BIN"

echo "== Frontend packages"
(cd frontend && npm ci --no-audit --no-fund)

# Every QueryData answer the Rust tests get is also read by Grafana's own Go
# plugin SDK (tests/grafana-go, which the harness builds with `go build`):
# fetch its modules from the Go module proxy and test the checker itself.
echo "== Grafana's Go SDK checker (tests/grafana-go)"
command -v go >/dev/null || { echo "go is missing: the tests check every answer with Grafana's Go SDK" >&2; exit 1; }
(
    cd tests/grafana-go
    export GOFLAGS=-mod=readonly GOWORK=off
    go mod download
    unformatted="$(gofmt -l .)"
    [[ -z "$unformatted" ]] || { echo "gofmt needed: $unformatted" >&2; exit 1; }
    go vet ./...
    go test ./...
)

echo "== Rust formatting"
cargo fmt --check

echo "== Rust tests"
cargo test --locked --all-targets

echo "== Frontend: typecheck, build, unit tests"
(cd frontend && npm run typecheck && npm run build && npm test)

#!/usr/bin/env bash
# The test suite (the README's test command): installs Debian's Chromium
# when it is missing (apt-get, as root or through sudo), builds VictoriaLogs
# (cached), installs the frontend's packages, then runs every Rust test (the
# live ones against real VictoriaLogs processes the tests start themselves,
# the browser test in Chromium, every QueryData answer also read by Grafana's
# Go SDK, the dashboard and raw-query tests with the frontend's own
# interpolation under Node) and the frontend's typecheck, build and unit
# tests. Needs Rust, Go and Node 20+. A test that needs VictoriaLogs,
# Chromium, Go or node_modules fails, never skips, when they are missing.
# The prebuilt tools of ../shared/tools (the LogQL engine, the official
# datasource's backend) are required in CI; elsewhere the checks that need
# them are listed as not run (below).
# `.ci/run` runs this, then builds, checks and validates the zip.
set -euo pipefail
cd "$(dirname "$0")/.."
# Where rustup and Go's installer put their tools, for a shell started before they were installed.
export PATH="$HOME/.cargo/bin:/usr/local/go/bin:$HOME/go/bin:$PATH"

for tool in cargo go node npm; do
    command -v "$tool" >/dev/null || { echo "test.sh: $tool is missing: install Rust, Go and Node 20+ first (README)" >&2; exit 1; }
done

# The prebuilt tools of ../shared/tools (see its README; not from a
# registry): the LogQL engine the Loki tests load records into, and the
# official VictoriaLogs datasource's backend the benchmark compares with.
# In CI (CI=true) both are required. On a machine that has only this
# repository, the checks that need them are named and not run; every other
# check runs.
engine="${OTELDB_MEM:-../shared/tools/oteldb-mem/oteldb-mem}"
peer=../shared/tools/victorialogs-datasource/gpx_victorialogs
missing=()
[[ -x "$engine" ]] || missing+=("the LogQL engine (oteldb-mem) at $engine, or OTELDB_MEM: the Loki tests on a real engine (logql_engine, logql_model's engine check, loki_e2e, loki_partitions, and the Loki halves of dashboard and questions)")
[[ -x "$peer" ]] || missing+=("the official VictoriaLogs datasource's backend at $peer: the small benchmark against it")
if ((${#missing[@]})); then
    if [[ "${CI:-}" == "true" ]]; then
        printf 'test.sh: CI needs ../shared/tools beside the repository; missing:\n' >&2
        printf '  - %s\n' "${missing[@]}" >&2
        exit 1
    fi
    printf '== NOT RUN on this machine (get the tools as ../shared/tools/README.md says, then run again):\n'
    printf '  - %s\n' "${missing[@]}"
    export FLOWLENS_WITHOUT_SHARED_TOOLS=1
fi

echo "== Chromium (the browser test)"
if [[ -z "${CHROMIUM:-}" ]]; then
    bash scripts/debian-packages.sh chromium
fi

VICTORIALOGS_BIN="$(bash scripts/victorialogs.sh)"
export VICTORIALOGS_BIN
echo "== VictoriaLogs: $VICTORIALOGS_BIN"
VICTORIAMETRICS_BIN="$(bash scripts/victoriametrics.sh victoria-metrics)"
export VICTORIAMETRICS_BIN
echo "== VictoriaMetrics: $VICTORIAMETRICS_BIN"
VMALERT_BIN="$(bash scripts/victoriametrics.sh vmalert)"
export VMALERT_BIN
echo "== vmalert: $VMALERT_BIN"

echo "== Frontend packages"
(cd frontend && npm ci --no-audit --no-fund)

# Every QueryData answer the Rust tests get is also read by Grafana's own Go
# plugin SDK (tests/grafana-go, which the harness builds with `go build`):
# fetch its modules from the Go module proxy and test the checker itself.
echo "== Grafana's Go SDK checker (tests/grafana-go)"
(
    cd tests/grafana-go
    export GOFLAGS=-mod=readonly GOWORK=off
    go mod download
    unformatted="$(gofmt -l .)"
    [[ -z "$unformatted" ]] || { echo "gofmt needed: $unformatted" >&2; exit 1; }
    go vet ./...
    go test ./...
)

echo "== Grafana's LogQL grammar (tests/logql_grammar.rs)"
(cd tests/logql-grammar && npm ci --no-audit --no-fund)

echo "== Rust formatting"
cargo fmt --check

# The plugin crate holds the product: none of the command line's crates
# (devtools/: clap, the generator, the loader) is in what Grafana runs.
echo "== The plugin's dependencies (cargo tree -p flowlens)"
leaked="$(cargo tree --locked -p flowlens -e normal,build --prefix none | grep -E '^(clap|flowlens-devtools) ' || true)"
[[ -z "$leaked" ]] || { echo "the plugin crate depends on devtools' crates: $leaked" >&2; exit 1; }

echo "== Rust tests"
cargo test --locked --all-targets

# The benchmark, small (debug build): it checks every answer, ours and the
# official datasource's, against its own reference before timing it, so a
# wrong answer fails here. Its figures at full size are in BENCHMARKS.md.
echo "== Benchmark, small (flowlens bench)"
if [[ -x "$peer" ]]; then
    cargo run --locked --quiet --bin flowlens -- bench --connections 3000 --runs 1 --scale 2 >/dev/null
else
    echo "NOT RUN: the benchmark needs $peer (above)"
fi

echo "== Frontend: typecheck, build, unit tests"
(cd frontend && npm run typecheck && npm run build && npm test)

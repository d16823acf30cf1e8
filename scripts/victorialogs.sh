#!/usr/bin/env bash
# Print the path of a VictoriaLogs binary of the version flowlens tests against,
# building it with `go install` into a per-user cache when it is not there yet.
#
#   VL=$(scripts/victorialogs.sh)   # progress on stderr, the path alone on stdout
#
# Environment: VICTORIALOGS_VERSION (default v1.52.1), FLOWLENS_CACHE_DIR
# (default $HOME/.cache/flowlens). Needs Go (1.24 or newer) and access to the
# Go module proxy the first time.
set -euo pipefail

version="${VICTORIALOGS_VERSION:-v1.52.1}"
cache_dir="${FLOWLENS_CACHE_DIR:-${HOME:?HOME is not set}/.cache/flowlens}/bin"
binary="$cache_dir/victoria-logs"
stamp="$binary.version"

log() { printf 'victorialogs.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# `go install` builds carry no -version string (upstream sets it with
# -ldflags), so the version is read from the Go build info embedded in the
# binary: the line "mod<TAB>github.com/VictoriaMetrics/VictoriaLogs<TAB>vX.Y.Z".
embeds_version() {
    grep -aq "github.com/VictoriaMetrics/VictoriaLogs"$'\t'"$version"$'\t' "$1"
}

# A cached binary is good when its stamp names the wanted version and its
# build info agrees.
cached_ok() {
    [[ -x "$binary" && -f "$stamp" && "$(cat "$stamp")" == "$version" ]] && embeds_version "$binary"
}

if cached_ok; then
    printf '%s\n' "$binary"
    exit 0
fi

command -v go >/dev/null || die "go is not on PATH; install Go 1.24+ or set VICTORIALOGS_BIN to an existing victoria-logs $version binary"
mkdir -p "$cache_dir"
log "building victoria-logs $version into $cache_dir (about a minute)"
rm -f "$stamp"
CGO_ENABLED=0 GOBIN="$cache_dir" GOFLAGS=-mod=mod \
    go install "github.com/VictoriaMetrics/VictoriaLogs/app/victoria-logs@$version" >&2 \
    || die "go install github.com/VictoriaMetrics/VictoriaLogs/app/victoria-logs@$version failed"
[[ -x "$binary" ]] || die "go install succeeded but $binary is missing"
embeds_version "$binary" || die "$binary was built but its build info does not name VictoriaLogs $version"
printf '%s\n' "$version" >"$stamp"
log "built $binary"
printf '%s\n' "$binary"

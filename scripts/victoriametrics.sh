#!/usr/bin/env bash
# Print the path of a VictoriaMetrics binary (single-node victoria-metrics or
# vmalert) of the version flowlens tests against, building it with
# `go install` into a per-user cache when it is not there yet.
#
#   VM=$(scripts/victoriametrics.sh victoria-metrics)   # progress on stderr, the path alone on stdout
#   VMALERT=$(scripts/victoriametrics.sh vmalert)
#
# Environment: VICTORIAMETRICS_VERSION (default v1.151.0), FLOWLENS_CACHE_DIR
# (default $HOME/.cache/flowlens). Needs Go (1.24 or newer) and access to the
# Go module proxy the first time.
set -euo pipefail

log() { printf 'victoriametrics.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

name="${1:-}"
case "$name" in
    victoria-metrics) env_var=VICTORIAMETRICS_BIN ;;
    vmalert) env_var=VMALERT_BIN ;;
    *) die "usage: scripts/victoriametrics.sh victoria-metrics|vmalert" ;;
esac

version="${VICTORIAMETRICS_VERSION:-v1.151.0}"
cache_dir="${FLOWLENS_CACHE_DIR:-${HOME:?HOME is not set}/.cache/flowlens}/bin"
binary="$cache_dir/$name"
stamp="$binary.version"
package="github.com/VictoriaMetrics/VictoriaMetrics/app/$name@$version"

# `go install` builds carry no -version string (upstream sets it with
# -ldflags), so the version is read from the Go build info embedded in the
# binary: the line "mod<TAB>github.com/VictoriaMetrics/VictoriaMetrics<TAB>vX.Y.Z".
embeds_version() {
    grep -aq "github.com/VictoriaMetrics/VictoriaMetrics"$'\t'"$version"$'\t' "$1"
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

command -v go >/dev/null || die "go is not on PATH; install Go 1.24+ or set $env_var to an existing $name $version binary"
mkdir -p "$cache_dir"
log "building $name $version into $cache_dir (a minute or two)"
rm -f "$stamp"
CGO_ENABLED=0 GOBIN="$cache_dir" GOFLAGS=-mod=mod \
    go install "$package" >&2 \
    || die "go install $package failed"
[[ -x "$binary" ]] || die "go install succeeded but $binary is missing"
embeds_version "$binary" || die "$binary was built but its build info does not name VictoriaMetrics $version"
printf '%s\n' "$version" >"$stamp"
log "built $binary"
printf '%s\n' "$binary"

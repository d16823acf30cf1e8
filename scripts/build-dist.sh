#!/usr/bin/env bash
# Assemble the plugin the way Grafana loads it, and its release zip:
#
#   dist/                                        the plugin folder: module.js (+ .map),
#                                                plugin.json (version filled), README.md,
#                                                LICENSE and CHANGELOG.md if present, img/,
#                                                gpx_flowlens_linux_amd64 (+ _arm64), mode 0755
#   flowlens-flowlogs-datasource-<version>.zip   dist/ as the folder flowlens-flowlogs-datasource/
#   flowlens-flowlogs-datasource-<version>.zip.sha256
#
# Steps: `npm ci` in frontend/ when node_modules is missing or older than
# package-lock.json, `npm run build`; `cargo build --release --locked --bin
# gpx_flowlens` (where cargo puts it: CARGO_TARGET_DIR and cargo config are
# honoured); the same for aarch64-unknown-linux-gnu when its toolchain is here.
# Every run rebuilds dist/ and the zip from scratch; anything missing fails.
#
# Environment:
#   FLOWLENS_ARM64    auto (default): build linux arm64 when the Rust target
#                     aarch64-unknown-linux-gnu and aarch64-linux-gnu-gcc are
#                     installed, else say why and skip it; 1: required; 0: skip.
#   FLOWLENS_ZIP_DIR  where the zip and its .sha256 go (default: the repository root).
#   SOURCE_DATE_EPOCH timestamps inside the zip (default: the last commit's time),
#                     so the same inputs give the same zip.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

log() { printf 'build-dist.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
seconds() { date +%s.%N; }
took() { awk -v a="$1" -v b="$(seconds)" 'BEGIN { printf "%.1fs", b - a }'; }

for tool in node npm cargo rustc zip unzip sha256sum; do
    command -v "$tool" >/dev/null || die "$tool is not on PATH"
done

# json FILE EXPR: evaluate a JavaScript expression over the parsed file (as `j`).
json() { node -e 'const j = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); const v = eval(process.argv[2]); if (v === undefined || v === null || v === "") process.exit(3); process.stdout.write(String(v));' "$1" "$2"; }

src_plugin_json="frontend/src/plugin.json"
[[ -f "$src_plugin_json" ]] || die "$src_plugin_json is missing"
plugin_id="$(json "$src_plugin_json" 'j.id')" || die "$src_plugin_json has no id"
executable="$(json "$src_plugin_json" 'j.executable')" || die "$src_plugin_json has no executable"
[[ "$(json "$src_plugin_json" 'j.backend')" == "true" ]] || die "$src_plugin_json does not say backend: true"
version="$(json frontend/package.json 'j.version')" || die "frontend/package.json has no version"
cargo_version="$(sed -n 's/^version *= *"\(.*\)"/\1/p' Cargo.toml | head -n1)"
[[ "$cargo_version" == "$version" ]] \
    || die "versions differ: frontend/package.json says $version, Cargo.toml says ${cargo_version:-nothing}; make them equal"
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.+-]+)?$ ]] || die "version '$version' is not semver"

zip_dir="${FLOWLENS_ZIP_DIR:-$root}"
zip_name="$plugin_id-$version.zip"
arm64_mode="${FLOWLENS_ARM64:-auto}"
case "$arm64_mode" in auto | 1 | 0) ;; *) die "FLOWLENS_ARM64 must be auto, 1 or 0, not '$arm64_mode'" ;; esac
stage=""
# A failed run leaves no half-built dist.tmp or zip staging folder behind.
trap 'rm -rf "$root/dist.tmp" ${stage:+"$stage"}' EXIT
started="$(seconds)"
log "$plugin_id $version"

# --- frontend -------------------------------------------------------------
t="$(seconds)"
if [[ ! -d frontend/node_modules || frontend/package-lock.json -nt frontend/node_modules/.package-lock.json ]]; then
    log "npm ci (frontend/node_modules is missing or older than package-lock.json)"
    (cd frontend && npm ci --no-audit --no-fund) >&2 || die "npm ci failed in frontend/"
fi
log "npm run build"
(cd frontend && npm run build) >&2 || die "npm run build failed in frontend/"
log "frontend built in $(took "$t")"

# --- backend --------------------------------------------------------------
# cargo_build [ARGS...]: build the backend binary and print its path, as cargo
# reports it (so CARGO_TARGET_DIR and any cargo config are honoured).
cargo_build() {
    local out
    out="$(cargo build --release --locked --package flowlens --bin "$executable" --message-format=json-render-diagnostics "$@")" \
        || die "cargo build --release --locked --bin $executable $* failed"
    printf '%s\n' "$out" | node -e '
        let path = "";
        for (const line of require("fs").readFileSync(0, "utf8").split("\n")) {
            if (!line.startsWith("{")) continue;
            const m = JSON.parse(line);
            if (m.reason === "compiler-artifact" && m.target && m.target.name === process.argv[1] && m.executable) path = m.executable;
        }
        if (!path) process.exit(1);
        process.stdout.write(path);' "$executable" \
        || die "cargo build $* reported no executable for $executable"
}

t="$(seconds)"
log "cargo build --release --locked --bin $executable (linux amd64)"
[[ "$(rustc -vV | sed -n 's/^host: //p')" == "x86_64-unknown-linux-gnu" ]] \
    || die "the host is $(rustc -vV | sed -n 's/^host: //p'), not x86_64-unknown-linux-gnu: the amd64 binary would be something else"
amd64_bin="$(cargo_build)"
log "amd64 built in $(took "$t"): $amd64_bin"

arm64_bin=""
arm64_target="aarch64-unknown-linux-gnu"
arm64_missing=""
if [[ "$arm64_mode" != 0 ]]; then
    [[ -d "$(rustc --print sysroot)/lib/rustlib/$arm64_target/lib" ]] \
        || arm64_missing+=" the Rust standard library for $arm64_target (rustup target add $arm64_target);"
    command -v aarch64-linux-gnu-gcc >/dev/null \
        || arm64_missing+=" the linker aarch64-linux-gnu-gcc (apt-get install gcc-aarch64-linux-gnu);"
fi
case "$arm64_mode" in
    0) log "linux arm64: skipped (FLOWLENS_ARM64=0)" ;;
    auto | 1)
        if [[ -n "$arm64_missing" ]]; then
            [[ "$arm64_mode" == 1 ]] && die "linux arm64 is required (FLOWLENS_ARM64=1) but these are missing:$arm64_missing"
            log "linux arm64: SKIPPED, missing:$arm64_missing the zip has linux amd64 only"
        else
            t="$(seconds)"
            log "cargo build --release --locked --bin $executable --target $arm64_target (linux arm64)"
            arm64_bin="$(
                export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
                export CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc
                export AR_aarch64_unknown_linux_gnu=aarch64-linux-gnu-ar
                cargo_build --target "$arm64_target"
            )"
            log "arm64 built in $(took "$t"): $arm64_bin"
        fi
        ;;
esac

# --- dist/ ----------------------------------------------------------------
fe="frontend/dist"
for f in module.js module.js.map plugin.json README.md; do
    [[ -s "$fe/$f" ]] || die "$fe/$f is missing or empty after npm run build"
done
built_version="$(json "$fe/plugin.json" 'j.info.version')" || die "$fe/plugin.json has no info.version"
[[ "$built_version" == "$version" ]] || die "$fe/plugin.json has version '$built_version', expected $version"
if grep -q '%[A-Z_]*%' "$fe/plugin.json"; then die "$fe/plugin.json still has a placeholder: $(grep -o '%[A-Z_]*%' "$fe/plugin.json" | head -n1)"; fi
[[ "$(json "$fe/plugin.json" 'j.id')" == "$plugin_id" ]] || die "$fe/plugin.json has another id than $plugin_id"

rm -rf dist dist.tmp
mkdir dist.tmp
# The frontend's output, without backend binaries an older build may have left in frontend/dist.
(cd "$fe" && find . -type f ! -name "${executable}_*" ! -name go_plugin_build_manifest -print0 \
    | xargs -0 cp --parents -t "$root/dist.tmp") || die "copying $fe failed"
logos="$(json "$fe/plugin.json" '[j.info.logos.small, j.info.logos.large].join(" ").trim()')" || die "$fe/plugin.json names no logos"
for logo in $logos; do
    [[ -s "dist.tmp/$logo" ]] || die "logo $logo named in plugin.json is not in the bundle"
done
for f in LICENSE CHANGELOG.md; do
    if [[ -f "$f" ]]; then cp "$f" dist.tmp/; else log "note: no $f in the repository root, so none in the plugin"; fi
done
install -m 0755 "$amd64_bin" "dist.tmp/${executable}_linux_amd64"
[[ -n "$arm64_bin" ]] && install -m 0755 "$arm64_bin" "dist.tmp/${executable}_linux_arm64"
file_of() { command -v file >/dev/null && file -b "$1" || echo "(file(1) not installed)"; }
case "$(file_of "dist.tmp/${executable}_linux_amd64")" in *x86-64* | *"not installed"*) ;; *) die "${executable}_linux_amd64 is not an x86-64 executable" ;; esac
if [[ -n "$arm64_bin" ]]; then
    case "$(file_of "dist.tmp/${executable}_linux_arm64")" in *aarch64* | *"not installed"*) ;; *) die "${executable}_linux_arm64 is not an aarch64 executable" ;; esac
fi
find dist.tmp -type d -exec chmod 0755 {} +
find dist.tmp -type f ! -name "${executable}_*" -exec chmod 0644 {} +
mv dist.tmp dist

# --- zip ------------------------------------------------------------------
# Grafana's layout: one top-level folder named after the plugin id. Entries in
# a fixed order with fixed timestamps, no extra fields (-X): same inputs, same zip.
epoch="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}"
mkdir -p "$zip_dir"
zip_path="$(cd "$zip_dir" && pwd)/$zip_name"
stage="$(mktemp -d)"
cp -a dist "$stage/$plugin_id"
find "$stage/$plugin_id" -exec touch -h -d "@$epoch" {} +
rm -f "$zip_path" "$zip_path.sha256"
(cd "$stage" && find "$plugin_id" | LC_ALL=C sort | TZ=UTC zip -q -X -9 "$zip_path" -@) || die "zip failed"
(cd "$(dirname "$zip_path")" && sha256sum "$zip_name" >"$zip_name.sha256")

# The zip must hold exactly dist/, under the plugin folder.
listed="$(unzip -Z1 "$zip_path" | grep -v '/$' | LC_ALL=C sort)" || die "cannot list $zip_path"
expected="$(cd dist && find . -type f | sed "s|^\./|$plugin_id/|" | LC_ALL=C sort)"
[[ "$listed" == "$expected" ]] || die "$zip_path does not hold exactly dist/ under $plugin_id/"

log "done in $(took "$started")"
(cd dist && find . -type f -printf '  %M %10s  %P\n' | LC_ALL=C sort -k3) >&2
log "$zip_path ($(stat -c %s "$zip_path") bytes)"
log "sha256 $(cut -d' ' -f1 "$zip_path.sha256")"
[[ -n "$arm64_bin" ]] || log "note: linux arm64 is not in this build (see above)"

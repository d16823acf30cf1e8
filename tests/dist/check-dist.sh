#!/usr/bin/env bash
# Checks the release zip that scripts/build-dist.sh writes, as Grafana would
# find it: layout, plugin.json, the frontend files, the backend executables
# (mode, architecture, glibc needs) and that each one starts and prints the
# go-plugin handshake (linux arm64 under qemu-aarch64 when it is installed).
#
#   bash scripts/build-dist.sh && bash tests/dist/check-dist.sh [ZIP]
#
# Ends with "N passed, N failed"; exit 1 when any check failed.
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$PWD"

plugin_id="$(node -p 'require("./frontend/src/plugin.json").id')"
executable="$(node -p 'require("./frontend/src/plugin.json").executable')"
version="$(node -p 'require("./frontend/package.json").version')"
zip="${1:-${FLOWLENS_ZIP_DIR:-$root}/$plugin_id-$version.zip}"
# Grafana's Alpine images carry glibc for x86_64 (2.35 since Grafana 9.0.3);
# a newer symbol version would not load there.
max_glibc="2.35"

passed=0; failed=0
ok() { passed=$((passed + 1)); printf 'ok:   %s\n' "$*"; }
bad() { failed=$((failed + 1)); printf 'FAIL: %s\n' "$*"; }
check() { local what="$1"; shift; if "$@" >/dev/null 2>&1; then ok "$what"; else bad "$what"; fi; }
finish() { printf '%d passed, %d failed\n' "$passed" "$failed"; ((failed == 0)); exit $?; }

[[ -f "$zip" ]] || { bad "$zip exists (run scripts/build-dist.sh)"; finish; }
work="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

# --- the archive --------------------------------------------------------------
if [[ -f "$zip.sha256" ]]; then
    check "$(basename "$zip").sha256 matches" bash -c 'cd "$(dirname "$1")" && sha256sum --quiet -c "$(basename "$1").sha256"' _ "$zip"
else
    bad "$(basename "$zip").sha256 exists"
fi
tops="$(unzip -Z1 "$zip" | cut -d/ -f1 | sort -u | paste -sd' ')"
[[ "$tops" == "$plugin_id" ]] && ok "one top-level folder, $plugin_id/" || bad "one top-level folder $plugin_id/, found: $tops"
unzip -q "$zip" -d "$work"
dir="$work/$plugin_id"
[[ -d "$dir" ]] || { bad "$plugin_id/ extracted"; finish; }

# --- plugin.json and the frontend -----------------------------------------------
pj="$dir/plugin.json"
field() { node -e 'const j = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); const v = process.argv[2].split(".").reduce((o, k) => (o == null ? o : o[k]), j); process.stdout.write(v == null ? "" : String(v));' "$pj" "$1"; }
if node -e 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))' "$pj" 2>/dev/null; then
    ok "plugin.json parses"
    [[ "$(field id)" == "$plugin_id" ]] && ok "plugin.json id $plugin_id" || bad "plugin.json id is '$(field id)'"
    [[ "$(field type)" == datasource ]] && ok "plugin.json type datasource" || bad "plugin.json type is '$(field type)'"
    [[ "$(field backend)" == true && "$(field executable)" == "$executable" ]] \
        && ok "plugin.json backend: true, executable $executable" || bad "plugin.json backend/executable"
    [[ "$(field info.version)" == "$version" ]] && ok "plugin.json version $version" || bad "plugin.json version is '$(field info.version)', package.json says $version"
    cargo_version="$(sed -n 's/^version *= *"\(.*\)"/\1/p' Cargo.toml | head -n1)"
    [[ "$cargo_version" == "$version" ]] && ok "Cargo.toml version $version" || bad "Cargo.toml version is '$cargo_version'"
    [[ "$(field info.updated)" =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}$ ]] && ok "plugin.json updated is a date" || bad "plugin.json updated is '$(field info.updated)'"
    if grep -q '%[A-Z_]*%' "$pj"; then bad "plugin.json has no %PLACEHOLDER% left"; else ok "plugin.json has no %PLACEHOLDER% left"; fi
    for logo in "$(field info.logos.small)" "$(field info.logos.large)"; do
        [[ -n "$logo" && -s "$dir/$logo" ]] && ok "logo $logo present" || bad "logo '$logo' present"
    done
else
    bad "plugin.json parses"
fi
for f in module.js module.js.map README.md; do
    [[ -s "$dir/$f" ]] && ok "$f present" || bad "$f present"
done
check "module.js is an AMD module" grep -q '^define(' "$dir/module.js"

# The validator's SVG check cannot be run by name in v0.31.0 (see
# scripts/plugincheck.yaml): no scripts, event handlers, foreign objects or
# external references in the SVGs.
while IFS= read -r -d '' svg; do
    if grep -qiE '<script|<foreignObject|[[:space:]]on[a-z]+[[:space:]]*=|(xlink:)?href[[:space:]]*=[[:space:]]*["'\''](https?:|javascript:|data:)' "$svg"; then
        bad "${svg#"$work/"} has no scripts, handlers or external references"
    else
        ok "${svg#"$work/"} has no scripts, handlers or external references"
    fi
done < <(find "$dir" -name '*.svg' -print0)

# --- the backend executables ----------------------------------------------------
glibc_needed() { readelf -V "$1" 2>/dev/null | grep -oE 'GLIBC_[0-9]+\.[0-9]+' | sed 's/GLIBC_//' | sort -uV | tail -n1; }
version_le() { [[ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -n1)" == "$1" ]]; }

# handshake RUNNER... BINARY: start it, read the first line of stdout (10 s,
# 30 s under qemu), stop it.
handshake() {
    local out="$work/handshake.$RANDOM" pid line="" i
    "$@" >"$out" 2>"$out.err" &
    pid=$!; pids+=("$pid")
    for ((i = 0; i < 300; i++)); do
        line="$(head -n1 "$out" 2>/dev/null || true)"
        [[ -n "$line" ]] && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    printf '%s' "$line"
}

for arch in amd64 arm64; do
    bin="$dir/${executable}_linux_$arch"
    if [[ ! -e "$bin" ]]; then
        [[ "$arch" == amd64 ]] && bad "${executable}_linux_amd64 present" || printf 'note: no %s_linux_arm64 in this zip\n' "$executable"
        continue
    fi
    [[ -x "$bin" ]] && ok "${executable}_linux_$arch is executable" || bad "${executable}_linux_$arch is executable"
    mode="$(unzip -Z "$zip" "$plugin_id/${executable}_linux_$arch" | awk '{print $1}')"
    [[ "$mode" == -rwxr-xr-x ]] && ok "${executable}_linux_$arch mode in the zip is $mode" || bad "${executable}_linux_$arch mode in the zip is $mode"
    machine="$(readelf -h "$bin" 2>/dev/null | sed -n 's/^ *Machine: *//p')"
    want="Advanced Micro Devices X86-64"; [[ "$arch" == arm64 ]] && want="AArch64"
    [[ "$machine" == "$want" ]] && ok "${executable}_linux_$arch is $want" || bad "${executable}_linux_$arch is $want, not '$machine'"
    glibc="$(glibc_needed "$bin")"
    if [[ -z "$glibc" ]]; then
        ok "${executable}_linux_$arch needs no glibc symbol versions"
    elif version_le "$glibc" "$max_glibc"; then
        ok "${executable}_linux_$arch needs glibc $glibc (<= $max_glibc)"
    else
        bad "${executable}_linux_$arch needs glibc $glibc (> $max_glibc)"
    fi

    runner=()
    if [[ "$arch" == arm64 ]]; then
        qemu="$(command -v qemu-aarch64-static || command -v qemu-aarch64 || true)"
        if [[ -z "$qemu" || ! -d /usr/aarch64-linux-gnu ]]; then
            printf 'note: %s_linux_arm64 not started: needs qemu-aarch64 and /usr/aarch64-linux-gnu (apt-get install qemu-user-static libc6-arm64-cross)\n' "$executable"
            continue
        fi
        runner=("$qemu" -L /usr/aarch64-linux-gnu)
    fi
    line="$(handshake "${runner[@]}" "$bin")"
    if [[ "$line" =~ ^1\|2\|tcp\|127\.0\.0\.1:[0-9]+\|grpc$ ]]; then
        ok "${executable}_linux_$arch starts and prints the go-plugin handshake ($line)"
    else
        bad "${executable}_linux_$arch starts and prints the go-plugin handshake (got '$line')"
    fi
done
for extra in "$dir/${executable}"_*; do
    case "$(basename "$extra")" in "${executable}_linux_amd64" | "${executable}_linux_arm64") ;; *) bad "unexpected $(basename "$extra")" ;; esac
done

finish

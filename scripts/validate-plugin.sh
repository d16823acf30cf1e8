#!/usr/bin/env bash
# Run Grafana's plugin validator (plugincheck2 v0.31.0) on the release zip,
# offline: every analyzer that needs the internet is off, each analyzer that
# is on runs alone, and any error fails. Which are on and why:
# scripts/plugincheck.yaml.
#
#   bash scripts/build-dist.sh && bash scripts/validate-plugin.sh [ZIP]
#
# ZIP defaults to flowlens-flowlogs-datasource-<version>.zip at the
# repository root (FLOWLENS_ZIP_DIR, as build-dist.sh). Exit codes: 0 no
# errors (warnings are printed), 1 errors or an analyzer that did not
# complete, 2 the validator could not be had.
#
# The validator binary is cached in ${FLOWLENS_CACHE_DIR:-~/.cache/flowlens}/bin.
# Without it there, in this order:
#   PLUGINCHECK2=/path/to/plugincheck2   use that binary (it must say it is v0.31.0)
#   go install github.com/grafana/plugin-validator/pkg/cmd/plugincheck2@v0.31.0
#                                        (the Go module proxy reachable from our CI
#                                        machines refuses this module: 403 "not
#                                        available", so CI cannot run this script)
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

validator_version="v0.31.0"
validator_module="github.com/grafana/plugin-validator"
config="$root/scripts/plugincheck.yaml"
cache_dir="${FLOWLENS_CACHE_DIR:-${HOME:?HOME is not set}/.cache/flowlens}/bin"
binary="$cache_dir/plugincheck2"
stamp="$binary.version"

log() { printf 'validate-plugin.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
unavailable() { log "error: $*"; exit 2; }

command -v node >/dev/null || die "node is not on PATH"
[[ -f "$config" ]] || die "$config is missing"

# --- the validator --------------------------------------------------------
# go version -m names the module and, for `go install`, its version; a build
# from a source tree says (devel), so the stamp records what was built.
is_validator() { command -v go >/dev/null && go version -m "$1" 2>/dev/null | grep -q "mod[[:space:]]*$validator_module[[:space:]]"; }
cached_ok() { [[ -x "$binary" && -f "$stamp" ]] && grep -q "^$validator_version " "$stamp" && is_validator "$binary"; }

if [[ -n "${PLUGINCHECK2:-}" ]]; then
    [[ -x "$PLUGINCHECK2" ]] || unavailable "PLUGINCHECK2=$PLUGINCHECK2 is not an executable"
    is_validator "$PLUGINCHECK2" || log "warning: cannot tell from $PLUGINCHECK2's build info that it is $validator_module"
    binary="$PLUGINCHECK2"
    stamp="/dev/null/none"
elif ! cached_ok; then
    command -v go >/dev/null || unavailable "go is not on PATH, needed to build plugincheck2 $validator_version"
    mkdir -p "$cache_dir"
    rm -f "$stamp"
    log "go install $validator_module/pkg/cmd/plugincheck2@$validator_version"
    if CGO_ENABLED=0 GOBIN="$cache_dir" GOFLAGS=-mod=mod \
        go install "$validator_module/pkg/cmd/plugincheck2@$validator_version" >&2; then
        printf '%s go install\n' "$validator_version" >"$stamp"
    else
        unavailable "plugincheck2 $validator_version cannot be had: go install failed (above) and there is none in $cache_dir;
  set PLUGINCHECK2 to a plugincheck2 $validator_version binary. Nothing was validated."
    fi
    cached_ok || unavailable "built $binary, but its build info does not name $validator_module"
fi
log "validator: $binary ($(cat "$stamp" 2>/dev/null || echo "PLUGINCHECK2, version not checked"))"

# --- the zip ----------------------------------------------------------------
plugin_id="$(node -p 'require("./frontend/src/plugin.json").id')"
version="$(node -p 'require("./frontend/package.json").version')"
zip="${1:-${FLOWLENS_ZIP_DIR:-$root}/$plugin_id-$version.zip}"
[[ -f "$zip" ]] || die "$zip is missing: run scripts/build-dist.sh first"
zip="$(cd "$(dirname "$zip")" && pwd)/$(basename "$zip")"
if [[ -f "$zip.sha256" ]]; then
    (cd "$(dirname "$zip")" && sha256sum --quiet -c "$(basename "$zip").sha256") \
        || die "$zip does not match $zip.sha256"
fi

# --- the analyzers ----------------------------------------------------------
# From the config: each analyzer's own `enabled` (4 spaces in), not its rules'.
mapfile -t listed < <(awk '
    /^analyzers:/ { inside = 1; next }
    inside && /^[^ #]/ { inside = 0 }
    inside && /^  [A-Za-z][A-Za-z0-9-]*:/ { name = $1; sub(/:$/, "", name); state[name] = "?"; order[++n] = name; next }
    inside && name != "" && /^    enabled:/ { state[name] = $2 }
    END { for (i = 1; i <= n; i++) print order[i], state[order[i]] }' "$config")
on=(); off=()
for line in "${listed[@]}"; do
    read -r name state <<<"$line"
    case "$state" in
        true) on+=("$name") ;;
        false) off+=("$name") ;;
        *) die "$config: analyzer $name has no 'enabled: true|false' of its own" ;;
    esac
done
(( ${#on[@]} > 0 )) || die "$config turns no analyzer on"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
source_uri="file://$root/frontend"
[[ -f frontend/package.json && -d frontend/src ]] || die "frontend/package.json or frontend/src is missing (the source for jsMap, packagejson)"

log "zip: $zip"
log "running ${#on[@]} analyzers one at a time; off: ${off[*]}"
incomplete=0
for name in "${on[@]}"; do
    # No tokens or keys: analyzers that would use them stay offline no-ops.
    if ! env -u GITHUB_TOKEN -u GEMINI_API_KEY -u WEBRISK_API_KEY \
        DEBUG=1 NO_COLOR=1 SKIP_OSV_SCANNER=1 SKIP_CLAMAV=1 SKIP_LLM_REVIEW=1 SKIP_LLM_CODEDIFF=1 \
        "$binary" -config "$config" -analyzer "$name" -sourceCodeUri "$source_uri" \
        -output-to-file "$work/$name.json" "$zip" >"$work/$name.out" 2>"$work/$name.err"; then
        : # exit 1 = errors found; counted from the JSON below
    fi
    # The runner logs an analyzer before those it requires; an unknown -analyzer
    # name makes it run them all, starting with archive.
    ran="$(sed -n 's/^\[DEBUG\] Running analyzer //p' "$work/$name.out" | head -n1)"
    if grep -q '^\[DEBUG\] check failed:' "$work/$name.out"; then
        log "error: analyzer $name did not complete: $(sed -n 's/^\[DEBUG\] check failed: //p' "$work/$name.out")"
        incomplete=1
    elif [[ "$ran" != "$name" ]]; then
        log "error: plugincheck2 has no analyzer named '$name' (it ran '${ran:-nothing}' first); fix $config"
        incomplete=1
    elif [[ ! -s "$work/$name.json" ]]; then
        log "error: analyzer $name wrote no report: $(head -c 500 "$work/$name.err")"
        incomplete=1
    fi
done

# Only each run's own analyzer counts (what it requires ran with defaults, not
# with this config, and is counted in its own run).
node - "$work" "${on[@]}" <<'EOF'
const fs = require('fs');
const [work, ...names] = process.argv.slice(2);
const order = { error: 0, warning: 1, suspected: 2, recommendation: 3, ok: 4 };
const findings = [];
for (const name of names) {
  const file = `${work}/${name}.json`;
  if (!fs.existsSync(file) || fs.statSync(file).size === 0) continue;
  const report = JSON.parse(fs.readFileSync(file, 'utf8'));
  for (const d of (report['plugin-validator'] || {})[name] || []) findings.push({ analyzer: name, ...d });
}
findings.sort((a, b) => (order[a.Severity] ?? 9) - (order[b.Severity] ?? 9));
const count = (s) => findings.filter((f) => f.Severity === s).length;
for (const f of findings) {
  console.log(`${f.Severity}: [${f.analyzer}/${f.Name}] ${f.Context ? f.Context + ': ' : ''}${f.Title}`);
  if (f.Detail) console.log(`    ${f.Detail.replace(/\n/g, '\n    ')}`);
}
const noisy = new Set(findings.map((f) => f.analyzer));
console.log(`clean: ${names.filter((n) => !noisy.has(n)).join(' ')}`);
console.log(`plugincheck2: ${count('error')} errors, ${count('warning')} warnings, ` +
  `${findings.length - count('error') - count('warning')} other, from ${names.length} analyzers`);
fs.writeFileSync(`${work}/errors`, String(count('error')));
EOF
errors="$(cat "$work/errors")"
if (( errors > 0 || incomplete )); then
    log "FAILED: $errors errors$( ((incomplete)) && echo ', and analyzers that did not complete')"
    exit 1
fi
log "passed: no errors"

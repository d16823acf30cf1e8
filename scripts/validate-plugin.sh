#!/usr/bin/env bash
# Run Grafana's plugin validator (plugincheck2 v0.44.2) on the release zip,
# offline: every analyzer that needs the internet is off, each analyzer that
# is on runs alone, and any error fails. Which are on and why:
# scripts/plugincheck.yaml. `.ci/run` runs it after build-dist.sh.
#
#   bash scripts/build-dist.sh && bash scripts/validate-plugin.sh [ZIP]
#
# ZIP defaults to flowlens-flowlogs-datasource-<version>.zip at the
# repository root (FLOWLENS_ZIP_DIR, as build-dist.sh). Exit codes: 0 no
# errors (warnings are printed), 1 errors or an analyzer that did not
# complete, 2 the validator could not be had.
#
# The validator, in this order:
#   PLUGINCHECK2=/path/to/plugincheck2       that binary
#   ../shared/tools/plugin-validator/plugincheck2
#                                            (relative to the repository) the prebuilt
#                                            v0.44.2 (its module is not on the Go module
#                                            proxy; see ../shared/tools/README.md)
# Validators from v0.45.1 on report a backend that is not a Go binary as
# missing (backendbinary reads Go build info); this script does not use them.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

validator_version="v0.44.2"
validator_module="github.com/grafana/plugin-validator"
config="$root/scripts/plugincheck.yaml"
shared="$root/../shared/tools/plugin-validator/plugincheck2"

log() { printf 'validate-plugin.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
unavailable() { log "error: $*"; exit 2; }

command -v node >/dev/null || die "node is not on PATH"
[[ -f "$config" ]] || die "$config is missing"

# --- the validator --------------------------------------------------------
# `go version -m` names the module; the prebuilt binary is a source build, so
# its version reads (devel) and is taken from ../shared/tools/README.md.
if [[ -n "${PLUGINCHECK2:-}" ]]; then
    binary="$PLUGINCHECK2"
    [[ -x "$binary" ]] || unavailable "PLUGINCHECK2=$binary is not an executable"
elif [[ -x "$shared" ]]; then
    binary="$(cd "$(dirname "$shared")" && pwd)/plugincheck2"
else
    unavailable "no plugincheck2: $shared is missing and PLUGINCHECK2 is not set; set PLUGINCHECK2 to a
  plugincheck2 $validator_version binary. Nothing was validated."
fi
if command -v go >/dev/null && ! go version -m "$binary" 2>/dev/null | grep -q "mod[[:space:]]*$validator_module[[:space:]]"; then
    unavailable "$binary is not $validator_module (go version -m names no such module)"
fi
log "validator: $binary ($validator_module $validator_version)"

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

#!/usr/bin/env bash
# Installs, from Debian, the commands given that are not on PATH (each
# command's package has its name: chromium, zip, unzip), with apt-get as root
# or through sudo. Nothing to do when all are there.
#
#   bash scripts/debian-packages.sh chromium zip unzip
set -euo pipefail

missing=()
for tool in "$@"; do
    command -v "$tool" >/dev/null || missing+=("$tool")
done
((${#missing[@]})) || exit 0

log() { printf 'debian-packages.sh: %s\n' "$*" >&2; }
command -v apt-get >/dev/null || { log "error: ${missing[*]} missing and no apt-get: install them with your package manager"; exit 1; }
sudo=()
if ((EUID != 0)); then
    command -v sudo >/dev/null || { log "error: installing ${missing[*]} needs root or sudo"; exit 1; }
    sudo=(sudo)
fi
log "installing from Debian: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
for tool in "${missing[@]}"; do
    command -v "$tool" >/dev/null || { log "error: $tool is still not on PATH after apt-get install $tool"; exit 1; }
done

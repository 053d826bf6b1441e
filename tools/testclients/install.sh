#!/usr/bin/env bash
# Installs the npm packages the tests use as independent checkers and clients (ajv, ajv-formats
# and the official ollama, openai and Anthropic JavaScript clients, pinned by package.json and package-lock.json beside
# this script) into a cache folder outside the source tree. Idempotent: returns at once when that exact lock file is already installed.
# Prints the folder it uses. Override it with CORRAL_TESTCLIENTS_DIR.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
dir=${CORRAL_TESTCLIENTS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/corral/testclients}

# A copy of the lock file written after a successful install marks it complete.
marker=$dir/installed-package-lock.json
if cmp -s "$here/package-lock.json" "$marker" 2>/dev/null; then
  echo "$dir"
  exit 0
fi

if ! command -v npm >/dev/null 2>&1; then
  echo "install.sh: npm is missing; scripts/install-deps.sh installs it" >&2
  exit 1
fi
# These run on the system Node.js (Debian 12's 18 is enough); no private Node.js is needed.

mkdir -p "$dir"
rm -f "$marker"
cp "$here/package.json" "$here/package-lock.json" "$dir/"
(cd "$dir" && npm ci --no-audit --no-fund >&2)
cp "$here/package-lock.json" "$marker"
echo "$dir"

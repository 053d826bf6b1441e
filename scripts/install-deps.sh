#!/usr/bin/env bash
# Installs exactly the Debian 12 packages Corral needs to build, test and run. Idempotent and
# quick when everything is there (one dpkg-query, no apt call). Runs apt-get as root or via sudo.
set -euo pipefail

packages=(
  # toolchain
  g++ cmake ninja-build make pkg-config clang-format
  # libraries (see README, "Dependencies")
  nlohmann-json3-dev libcpp-httplib-dev libssl-dev zlib1g-dev libbrotli-dev
  libcli11-dev libutf8proc-dev libpcre2-dev
  # zstd-compressed request bodies (/v1/responses; Codex sends them)
  libzstd-dev
  # line editing for `corral run`'s interactive session
  libedit-dev
  # tests and benchmarks (python3-jinja2: the Jinja reference the template tests compare with)
  libgtest-dev libgmock-dev libbenchmark-dev python3-jinja2
  # the interactive `corral run` end-to-end test drives it in a pseudo-terminal
  tmux
  # the llama.cpp reference harness (node-llama-cpp from npm)
  nodejs npm
  # the registry the pull/push end-to-end test runs on loopback (it starts no daemon here)
  docker-registry
)

# `install-deps.sh fuzz` adds clang and its sanitizer/libFuzzer runtimes for `make fuzz`.
if [ "${1:-}" = fuzz ]; then
  packages+=(clang libclang-rt-14-dev)
fi

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$status" = installed ] || missing+=("$p")
done

# node and npm may come from outside Debian's packages (a machine's own Node.js install); any
# working node >= 18 with npm serves (tools/reference/install.sh adds Node.js 20 for the
# reference where the system one is older).
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 &&
   node -e 'process.exit(+process.versions.node.split(".")[0] >= 18 ? 0 : 1)'; then
  filtered=()
  for p in "${missing[@]}"; do
    [ "$p" = nodejs ] || [ "$p" = npm ] || filtered+=("$p")
  done
  missing=("${filtered[@]}")
fi

[ ${#missing[@]} -eq 0 ] && exit 0

sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2

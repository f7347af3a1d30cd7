#!/usr/bin/env bash
# Installs the project's Node (24 LTS) beside the project, from the npm registry alone: the registry ships
# Node itself as the node-linux-<arch> package. Needs any working npm; keeps its configuration (registry,
# CA file). Prints on stdout the lines that put this Node first on PATH, for a shell to evaluate:
#   eval "$(bash .ci/install-node.sh)"
# Idempotent: a second run only prints the lines. .ci/run uses it when the machine's Node is too old.
set -euo pipefail
cd "$(dirname "$0")/.."

NODE_VERSION=24.21.0   # Node 24 LTS; the project needs >= 22.12 (package.json engines)
PREFIX=.ci/.node

case "$(uname -s)/$(uname -m)" in
  Linux/x86_64) arch=x64 ;;
  Linux/aarch64) arch=arm64 ;;
  *) echo "install-node: no Node package for $(uname -s) $(uname -m) here; install Node >= 22.12 yourself (.nvmrc says 24)" >&2; exit 1 ;;
esac
if ! command -v npm >/dev/null 2>&1; then
  echo "install-node: needs npm (any version) to reach the registry; install Node and npm from your system's packages first" >&2
  exit 1
fi

bin="$PWD/$PREFIX/node_modules/node-linux-$arch/bin"
if [ "$("$bin/node" -v 2>/dev/null)" != "v$NODE_VERSION" ]; then
  echo "install-node: installing Node $NODE_VERSION from the npm registry into $PREFIX" >&2
  npm install --prefix "$PREFIX" --no-save --no-package-lock --no-audit --no-fund "node-linux-$arch@$NODE_VERSION" >&2
fi

# npm looks for its global npmrc beside the running node; point it at the machine's (registry, CA file).
globalconfig="$(npm config get globalconfig)"
echo "install-node: Node $("$bin/node" -v) is in $PREFIX; to use it: eval \"\$(bash .ci/install-node.sh)\"" >&2
printf 'export npm_config_globalconfig=%q\n' "$globalconfig"
printf 'export PATH=%q:"$PATH"\n' "$bin"

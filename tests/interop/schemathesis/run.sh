#!/usr/bin/env bash
# Runs schemathesis against /api/v1/openapi.json of a keyturn this script builds and starts
# (SQLite in a temporary folder, sandbox on, emails as .eml files), three times: anonymous, as a
# verified customer, as an owner. Any failure fails the script.
#
# The authenticated runs leave out DELETE operations (the logouts would end the session the run
# depends on; the anonymous run covers them). The owner run comes last, so nothing it changes
# (suspend, erase, new services) can make the customer run meaningless.
# ST_MAX_EXAMPLES (default 20) and ST_SEED (default 1) bound and fix the generated cases.
set -euo pipefail
cd "$(dirname "$0")/../../.."
here=tests/interop/schemathesis

# SCHEMATHESIS_KEYTURN_BIN: a binary built already (skips the build).
if [ -n "${SCHEMATHESIS_KEYTURN_BIN:-}" ]; then
  bin="$SCHEMATHESIS_KEYTURN_BIN"
else
  cargo build --quiet --bin keyturn
  bin="${CARGO_TARGET_DIR:-target}/debug/keyturn"
fi
dir=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
export KEYTURN_DATA_DIR="$dir/data" KEYTURN_LISTEN="127.0.0.1:$port" KEYTURN_PUBLIC_URL="$base" KEYTURN_LOG_LEVEL=warn

"$bin" serve >"$dir/server.log" 2>&1 &
server=$!
cleanup() {
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
for _ in $(seq 1 100); do
  curl -fs "$base/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done

owner_password="Owner-of-the-schema-1!"
printf '%s\n' "$owner_password" | "$bin" admin create --username st-owner --role owner --password-stdin >/dev/null
owner_cookie=$(curl -fsS -o /dev/null -D - -X POST "$base/api/v1/admin/session" \
  -H 'Content-Type: application/json' -H "Origin: $base" \
  -d "{\"username\":\"st-owner\",\"password\":\"$owner_password\"}" | grep -io 'keyturn_admin=[^;]*')
customer_cookie=$(python3 "$here/customer.py" "$base" "$KEYTURN_DATA_DIR/outbox")

st_run() {
  local who=$1
  shift
  echo "--- schemathesis as $who"
  st --config-file "$here/schemathesis.toml" run "$base/api/v1/openapi.json" \
    --max-examples "${ST_MAX_EXAMPLES:-20}" --seed "${ST_SEED:-1}" --workers 1 \
    --warnings off -H "Origin: $base" "$@"
}

status=0
st_run anonymous || status=1
st_run customer -H "Cookie: $customer_cookie" --exclude-method DELETE || status=1
st_run owner -H "Cookie: $owner_cookie" --exclude-method DELETE || status=1
if [ "$status" -ne 0 ]; then
  echo "schemathesis found failures; the server log follows" >&2
  tail -n 50 "$dir/server.log" >&2
fi
exit "$status"

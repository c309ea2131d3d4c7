#!/usr/bin/env bash
# Acceptance on a real clock: the release binary, moved days ahead with libfaketime (Debian
# package `faketime`), sends each renewal reminder once. A paid order through the sandbox's
# signed callback on today's clock; then restarts 6 days before the access ends (the 7-day
# reminder, once), twice (no duplicate), 23 hours before the end (the 1-day reminder, once) and
# an hour later (still two). Emails are read from the file outbox (KEYTURN_MAIL_DIR) and counted
# exactly, per kind and recipient; the claims and links are counted in the SQLite database. Every
# process the script starts is stopped with a time limit (TERM, then KILL), and every request has
# one, so the script cannot hang.
# Needs: cargo, faketime, curl, jq, openssl, xxd, python3, timeout. Prints every check; exits non-zero on the
# first that fails.
set -euo pipefail
cd "$(dirname "$0")/../.."

say() { printf '[faketime] %s\n' "$*"; }
fail() { printf '[faketime] FAILED: %s\n' "$*" >&2; exit 1; }
for tool in faketime curl jq openssl xxd python3 timeout; do
  command -v "$tool" >/dev/null 2>&1 || fail "$tool is not installed"
done

# FAKETIME_KEYTURN_BIN: a release binary built already (skips the build).
if [ -n "${FAKETIME_KEYTURN_BIN:-}" ]; then
  BIN="$FAKETIME_KEYTURN_BIN"
else
  say "cargo build --release"
  cargo build --release --quiet
  BIN="${CARGO_TARGET_DIR:-target}/release/keyturn"
fi
[ -x "$BIN" ] || fail "no binary at $BIN"

# The library the `faketime` command preloads (the multi-threaded variant: keyturn runs threads).
LIBFAKETIME=$( (dpkg -L libfaketime 2>/dev/null || true; ls /usr/lib/*/faketime/* 2>/dev/null || true) \
  | grep -m1 'libfaketimeMT\.so' || true)
[ -n "$LIBFAKETIME" ] && [ -f "$LIBFAKETIME" ] || fail "libfaketimeMT.so not found (Debian package faketime)"

WORK=$(mktemp -d)
LOG="$WORK/keyturn.log"
PID=""
cleanup() {
  local rc=$?
  if [ "$rc" -ne 0 ] && [ -f "$LOG" ]; then
    printf '[faketime] FAILED (exit %s); the log ends with:\n' "$rc" >&2
    tail -n 40 "$LOG" >&2
  fi
  if [ -n "$PID" ]; then stop_pid "$PID" || true; fi
  rm -rf "$WORK"
}
# stop_pid PID: TERM, up to 20 s to exit, then KILL; reaps it. Fails when it had to be killed.
stop_pid() {
  local pid=$1
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 200); do
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    sleep 0.1
  done
  printf '[faketime] keyturn (pid %s) ignored TERM for 20 s; killing it\n' "$pid" >&2
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  return 1
}
trap cleanup EXIT
# Every request is bounded.
curl() { command curl --max-time 10 "$@"; }

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
KEY_HEX=$(openssl rand -hex 32)
export KEYTURN_DATA_DIR="$WORK/data" KEYTURN_MAIL_DIR="$WORK/mail" KEYTURN_LISTEN="127.0.0.1:$PORT"
export KEYTURN_SANDBOX_ENABLED=true KEYTURN_SANDBOX_SECRET="whsec_$(printf '%s' "$KEY_HEX" | xxd -r -p | base64 -w0)"
unset KEYTURN_DATABASE_URL KEYTURN_SMTP_URL
mkdir -p "$KEYTURN_DATA_DIR" "$KEYTURN_MAIL_DIR"

# start [faketime offset]: runs the binary (shifted when an offset is given) until /healthz answers.
start() {
  if [ -n "${1:-}" ]; then
    # libfaketime preloaded straight into keyturn (the `faketime` wrapper would stand between
    # this script and the process it must stop).
    FAKETIME="$1" LD_PRELOAD="$LIBFAKETIME" "$BIN" serve >>"$LOG" 2>&1 &
  else
    "$BIN" serve >>"$LOG" 2>&1 &
  fi
  PID=$!
  for _ in $(seq 1 150); do
    curl -fsS "$BASE/healthz" >/dev/null 2>&1 && return 0
    kill -0 "$PID" 2>/dev/null || fail "keyturn exited at start (offset ${1:-none})"
    sleep 0.1
  done
  fail "keyturn did not answer /healthz (offset ${1:-none})"
}
stop() {
  local pid=$PID
  kill -0 "$pid" 2>/dev/null || fail "keyturn (pid $pid) had exited before it was stopped"
  PID=""
  stop_pid "$pid" || fail "keyturn (pid $pid) did not stop on TERM within 20 s"
}

# count WHAT: how many emails in the file outbox match WHAT (python3 parses each .eml):
#   all          every email
#   to           every email to $EMAIL
#   reminders    emails to $EMAIL whose subject is a renewal reminder (": renew ") AND that carry a
#                /renew/ link (a reminder without its link, or a link in another email, is counted
#                by `links` and fails the comparison below)
#   links        emails (to anyone) that carry a /renew/ link
#   expired      emails to $EMAIL saying the access has ended
count() {
  timeout 20 python3 - "$KEYTURN_MAIL_DIR" "$EMAIL" "$1" <<'PY'
import email, email.header, glob, sys
from email import policy
folder, to, what = sys.argv[1:4]
n = 0
for path in sorted(glob.glob(folder + "/*.eml")):
    with open(path, "rb") as f:
        msg = email.message_from_binary_file(f, policy=policy.default)
    rcpt = to.lower() in str(msg.get("To", "")).lower()
    subject = str(msg.get("Subject", ""))
    body = "".join(p.get_content() for p in msg.walk() if p.get_content_type() in ("text/plain", "text/html"))
    link = "/renew/" in body
    n += {"all": True, "to": rcpt, "reminders": rcpt and ": renew " in subject and link, "links": link,
          "expired": rcpt and "has ended" in subject}[what]
print(n)
PY
}
# sql QUERY: one number from the SQLite database (read-only; keyturn may be running).
sql() {
  timeout 20 python3 - "$KEYTURN_DATA_DIR/keyturn.db" "$1" <<'PY'
import sqlite3, sys
db = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True, timeout=10)
print(db.execute(sys.argv[2]).fetchone()[0])
PY
}
# expect NAME WANT WHAT: `count NAME` is exactly WANT.
expect() {
  local got
  got=$(count "$1")
  [ "$got" -eq "$2" ] || fail "$3: $got email(s) of kind $1, want exactly $2"
}
reminders() { count reminders; }
# Waits until `reminders` reaches $1 (fails after 90 s), then for 10 s that no more come.
expect_reminders() {
  local want=$1 what=$2
  for _ in $(seq 1 900); do
    [ "$(reminders)" -ge "$want" ] && break
    sleep 0.1
  done
  [ "$(reminders)" -ge "$want" ] || fail "$what: $(reminders) reminder(s) after 90 s, want $want"
  for _ in $(seq 1 20); do
    [ "$(reminders)" -le "$want" ] || fail "$what: $(reminders) reminders, want exactly $want (a duplicate)"
    sleep 0.5
  done
  expect reminders "$want" "$what"
  expect links "$want" "$what (emails with a renewal link)"
  expect expired 0 "$what (no expiry email before the end)"
  expect all $((BASELINE + want)) "$what (every email in the outbox: the purchase's and the reminders)"
  local claims skipped live
  claims=$(sql "SELECT COUNT(*) FROM access_notices WHERE kind LIKE 'access.expiring:%' AND skipped = 0")
  skipped=$(sql "SELECT COUNT(*) FROM access_notices WHERE skipped <> 0")
  # One link per reminder email (a retried send expires its earlier attempt's link, same job).
  live=$(sql "SELECT COUNT(DISTINCT outbox_id) + COALESCE(SUM(outbox_id IS NULL), 0) FROM renewal_tokens")
  [ "$claims" -eq "$want" ] || fail "$what: $claims reminder claims in access_notices, want $want"
  [ "$skipped" -eq 0 ] || fail "$what: $skipped skipped reminder claims, want 0 (no reminder day was missed)"
  [ "$live" -eq "$want" ] || fail "$what: renewal links of $live emails stored, want $want (one per reminder email)"
  say "ok: $what: exactly $want reminder email(s), $claims claim(s), $live link(s), $(count all) email(s) in all"
}

say "start on the real clock ($BASE, data in $WORK)"
start
DEMO=$(curl -fsS "$BASE/api/v1/services" | jq -c '.[] | select(.slug == "demo")')
[ -n "$DEMO" ] || fail "no demo service in the catalog"
PERIOD=$(jq -r .period_days <<<"$DEMO")
say "demo service: $PERIOD days, reminders $(jq -c .reminder_days <<<"$DEMO") days before the end"
[ "$(jq -c .reminder_days <<<"$DEMO")" = "[7,1]" ] || fail "the demo service should remind at [7,1]"

EMAIL="faketime-$(openssl rand -hex 4)@example.com"
ORDER=$(curl -fsS -H 'content-type: application/json' \
  -d "{\"service\": \"demo\", \"name\": \"Faketime Test\", \"email\": \"$EMAIL\"}" "$BASE/api/v1/orders" | jq -r .order_id)
[ -n "$ORDER" ] && [ "$ORDER" != null ] || fail "no order created"
BODY=$(jq -cn --arg order "$ORDER" --argjson amount "$(jq .price_minor <<<"$DEMO")" --arg currency "$(jq -r .currency <<<"$DEMO")" \
  '{type: "payment.succeeded", data: {payment_id: ("pay_ft_" + $order), order_id: $order, amount_minor: $amount,
    currency: $currency, three_ds: "authenticated"}}')
ID="evt_ft_$(openssl rand -hex 8)"
TS=$(date +%s)
SIG=$(printf '%s.%s.%s' "$ID" "$TS" "$BODY" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$KEY_HEX" -binary | base64 -w0)
STATUS=$(curl -sS -o /dev/null -w '%{http_code}' -H 'content-type: application/json' -H "webhook-id: $ID" \
  -H "webhook-timestamp: $TS" -H "webhook-signature: v1,$SIG" -d "$BODY" "$BASE/api/v1/payments/sandbox/callback")
[ "$STATUS" = 200 ] || fail "the signed callback was answered $STATUS"
for _ in $(seq 1 300); do
  [ "$(curl -fsS "$BASE/api/v1/orders/$ORDER" | jq -r .status)" = provisioned ] && break
  sleep 0.1
done
[ "$(curl -fsS "$BASE/api/v1/orders/$ORDER" | jq -r .status)" = provisioned ] || fail "order $ORDER not provisioned"
say "ok: order $ORDER paid through the sandbox's signed callback and provisioned"
# What the purchase sent (credentials, payment confirmation): the baseline every later count adds to.
for _ in $(seq 1 100); do
  [ "$(count to)" -ge 2 ] && break
  sleep 0.1
done
sleep 2
BASELINE=$(count all)
[ "$BASELINE" -eq "$(count to)" ] || fail "emails to someone other than $EMAIL after the purchase"
[ "$BASELINE" -ge 2 ] || fail "the purchase sent $BASELINE email(s), want the credentials and the confirmation"
[ "$(reminders)" -eq 0 ] || fail "a reminder right after the purchase"
[ "$(count links)" -eq 0 ] || fail "a renewal link right after the purchase"
say "ok: the purchase sent $BASELINE email(s) to $EMAIL, no reminder on the real clock"
stop

FIRST="+$((PERIOD - 6))d"
say "restart under faketime $FIRST (6 days before the access ends)"
start "$FIRST"
expect_reminders 1 "6 days before the end"
stop
say "restart again under faketime $FIRST"
start "$FIRST"
expect_reminders 1 "after a restart at the same moment"
stop

SECOND="+$((PERIOD * 24 - 23))h"
say "restart under faketime $SECOND (23 hours before the access ends)"
start "$SECOND"
expect_reminders 2 "23 hours before the end"
stop
THIRD="+$((PERIOD * 24 - 22))h"
say "restart under faketime $THIRD"
start "$THIRD"
expect_reminders 2 "an hour later"
stop

[ "$(count all)" -eq "$(count to)" ] || fail "an email to someone other than $EMAIL"
say "ok: every email went to $EMAIL"
say "all checks passed"

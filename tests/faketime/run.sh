#!/usr/bin/env bash
# Acceptance on a real clock: the release binary, moved days ahead with libfaketime (Debian
# package `faketime`), sends each renewal reminder once. A paid order through the sandbox's
# signed callback on today's clock; then restarts 6 days before the access ends (the 7-day
# reminder, once), twice (no duplicate), 23 hours before the end (the 1-day reminder, once) and
# an hour later (still two). Emails are read from the file outbox (KEYTURN_MAIL_DIR).
# Needs: cargo, faketime, curl, jq, openssl, xxd, python3. Prints every check; exits non-zero on the first
# that fails.
set -euo pipefail
cd "$(dirname "$0")/../.."

say() { printf '[faketime] %s\n' "$*"; }
fail() { printf '[faketime] FAILED: %s\n' "$*" >&2; exit 1; }
for tool in faketime curl jq openssl xxd python3; do
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
  if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then kill -TERM "$PID"; wait "$PID" || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

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
  for _ in $(seq 1 100); do
    curl -fsS "$BASE/healthz" >/dev/null 2>&1 && return 0
    kill -0 "$PID" 2>/dev/null || fail "keyturn exited at start (offset ${1:-none})"
    sleep 0.1
  done
  fail "keyturn did not answer /healthz (offset ${1:-none})"
}
stop() {
  kill -0 "$PID" 2>/dev/null || fail "keyturn (pid $PID) had exited before it was stopped"
  kill -TERM "$PID"
  wait "$PID" || true
  PID=""
}

# Emails to the customer that carry a renewal link (the reminders).
reminders() { grep -l -- "/renew/" "$KEYTURN_MAIL_DIR"/*.eml 2>/dev/null | wc -l; }
# Waits until `reminders` reaches $1 (fails after 90 s), then for 10 s that no more come.
expect_reminders() {
  local want=$1 what=$2
  for _ in $(seq 1 900); do
    [ "$(reminders)" -ge "$want" ] && break
    sleep 0.1
  done
  [ "$(reminders)" -ge "$want" ] || fail "$what: $(reminders) reminder(s) after 90 s, want $want"
  for _ in $(seq 1 100); do
    [ "$(reminders)" -le "$want" ] || fail "$what: $(reminders) reminders, want exactly $want (a duplicate)"
    sleep 0.1
  done
  say "ok: $what: exactly $want reminder email(s)"
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
[ "$(reminders)" -eq 0 ] || fail "a reminder right after the purchase"
say "ok: no reminder on the real clock"
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

grep -l -- "/renew/" "$KEYTURN_MAIL_DIR"/*.eml | while read -r f; do
  grep -qi "^To:.*$EMAIL" "$f" || fail "a reminder to someone else: $f"
done
say "ok: both reminders went to $EMAIL"
say "all checks passed"

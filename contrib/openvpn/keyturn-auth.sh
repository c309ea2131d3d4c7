#!/bin/sh
# OpenVPN auth-user-pass-verify script: checks the username and password against keyturn's
# POST /api/v1/access/check (API key with the access:check scope).
#
#   auth-user-pass-verify /etc/openvpn/keyturn-auth.sh via-file
#   setenv KEYTURN_URL https://account.shop.example
#   setenv KEYTURN_SERVICE vpn                      # optional: any open access will do without it
#   setenv KEYTURN_API_KEY_FILE /etc/openvpn/keyturn.key
#   setenv KEYTURN_ALLOW_HTTP 1                     # only to test against a plain-http keyturn
#
# OpenVPN passes a file with the username on line 1 and the password on line 2. Exit 0 lets the
# client in; anything else refuses it. Needs curl and jq. The password and the key never appear
# on a command line and are never logged.
set -eu

creds_file="$1"
: "${KEYTURN_URL:?set KEYTURN_URL}"
key_file="${KEYTURN_API_KEY_FILE:?set KEYTURN_API_KEY_FILE}"

# The password travels only over https (redirects included), unless plain http is asked for.
proto='=https'
if [ "${KEYTURN_ALLOW_HTTP:-}" = "1" ]; then
  proto='=http,https'
fi
case "$KEYTURN_URL" in
  https://*) ;;
  http://*) [ "$proto" != '=https' ] || { echo "keyturn: KEYTURN_URL must be https (KEYTURN_ALLOW_HTTP=1 for tests)" >&2; exit 1; } ;;
  *) echo "keyturn: KEYTURN_URL must start with https://" >&2; exit 1 ;;
esac

# The body, built from the file itself: the password never reaches a command line.
umask 077
body=''
trap 'rm -f "$body"' EXIT
trap 'rm -f "$body"; exit 1' INT TERM HUP
body=$(mktemp)
jq -ncR --arg s "${KEYTURN_SERVICE:-}" \
  'input as $l | input as $p | {login: $l, password: $p} + (if $s == "" then {} else {service: $s} end)' \
  "$creds_file" > "$body"

# The key reaches curl through its config on stdin, not its arguments; -q (first) keeps a
# ~/.curlrc out of it.
status=$(printf 'header = "Authorization: Bearer %s"\n' "$(cat "$key_file")" |
  curl -q -K - --proto "$proto" --proto-redir "$proto" -sS -o /dev/null -w '%{http_code}' --max-time 15 \
    -H 'Content-Type: application/json' --data-binary @"$body" \
    "$KEYTURN_URL/api/v1/access/check") || status=000

if [ "$status" = "200" ]; then
  exit 0
fi
echo "keyturn: access refused (HTTP $status)" >&2
exit 1

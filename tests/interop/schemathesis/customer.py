"""Creates a verified customer with its own password on a running keyturn and prints the
session cookie (`keyturn_session=...`): order -> sandbox card payment -> credentials email
(.eml in the outbox folder) -> verify -> log in -> change the password -> log in again.

usage: customer.py BASE_URL OUTBOX_DIR
"""
import email
import email.policy
import glob
import json
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


OPENER = urllib.request.build_opener(NoRedirect)


def call(base, method, path, body=None, form=None, cookie=None):
    headers = {"Origin": base}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    if cookie:
        headers["Cookie"] = cookie
    req = urllib.request.Request(base + path, data=data, method=method, headers=headers)
    try:
        resp = OPENER.open(req, timeout=30)
    except urllib.error.HTTPError as e:
        resp = e
    return resp.status, resp.headers, resp.read().decode(errors="replace")


def session_cookie(headers):
    for value in headers.get_all("Set-Cookie") or []:
        m = re.match(r"([^=;]*keyturn_session=[^;]*)", value)
        if m:
            return m.group(1)
    raise SystemExit(f"no session cookie in {headers}")


def credentials_email(outbox, address, deadline):
    while time.time() < deadline:
        for path in sorted(glob.glob(f"{outbox}/*.eml")):
            with open(path, "rb") as f:
                msg = email.message_from_binary_file(f, policy=email.policy.default)
            if address not in str(msg["To"]):
                continue
            text = msg.get_body(preferencelist=("plain",)).get_content()
            login = re.search(r"[Ll]ogin:\s*(\S+)", text)
            password = re.search(r"[Pp]assword:\s*(\S+)", text)
            token = re.search(r"token=([A-Za-z0-9_-]+)", text)
            if login and password and token:
                return login.group(1), password.group(1), token.group(1)
        time.sleep(0.2)
    raise SystemExit(f"no credentials email for {address} in {outbox}")


def main():
    base, outbox = sys.argv[1].rstrip("/"), sys.argv[2]
    address = f"st-{int(time.time())}@example.com"
    status, _, body = call(base, "POST", "/api/v1/orders", {"service": "demo", "name": "Schema Thesis", "email": address})
    assert status == 201, (status, body)
    order_id = json.loads(body)["order_id"]
    card = {"card_number": "4242424242424242", "exp": "12/30", "cvc": "123"}
    status, _, body = call(base, "POST", f"/sandbox/checkout/{order_id}", form=card)
    assert status < 500, (status, body)
    login, temporary, token = credentials_email(outbox, address, time.time() + 30)
    status, _, body = call(base, "POST", "/api/v1/verify-email", {"token": token})
    assert status == 200, (status, body)
    status, headers, body = call(base, "POST", "/api/v1/session", {"login": login, "password": temporary})
    assert status == 200, (status, body)
    new = "Schemathesis-owns-this-1!"
    status, headers, body = call(
        base, "POST", "/api/v1/me/password",
        {"current_password": temporary, "new_password": new}, cookie=session_cookie(headers),
    )
    assert status == 204, (status, body)
    print(session_cookie(headers))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""An independent OpenID Connect relying party (Authlib, pinned in requirements.txt) against a
running keyturn. Driven by tests/it/interop.rs.

    oidc_client.py flow CONFIG.json     the whole flow; prints {"id_token", "client_id"} as JSON
    oidc_client.py verify ISSUER CLIENT_ID ID_TOKEN
                                        validates an ID token against the JWKS now; prints
                                        "valid" or "invalid: <why>"

CONFIG: {"issuer", "login", "password", "confidential": {"id", "secret", "redirect"},
         "public": {"id", "redirect"}, "bound": {"id", "secret", "redirect"}}
Every check raises AssertionError with a message; the process then exits non-zero.
"""

import json
import secrets
import sys
from urllib.parse import parse_qs, urlencode, urlparse

import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.jose import JsonWebKey, jwt

SCOPE = "openid email profile entitlements"


def query(url):
    return {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}


def discover(issuer):
    d = requests.get(issuer + "/.well-known/openid-configuration", timeout=10).json()
    assert d["issuer"] == issuer, d
    assert d["code_challenge_methods_supported"] == ["S256"], d
    assert "RS256" in d["id_token_signing_alg_values_supported"], d
    assert d["response_types_supported"] == ["code"], d
    for k in ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri", "end_session_endpoint"):
        assert d[k].startswith(issuer + "/"), (k, d)
    return d


def validate(d, client_id, id_token, nonce=None):
    jwks = JsonWebKey.import_key_set(requests.get(d["jwks_uri"], timeout=10).json())
    options = {"iss": {"essential": True, "value": d["issuer"]}, "aud": {"essential": True, "value": client_id}}
    if nonce is not None:
        options["nonce"] = {"essential": True, "value": nonce}
    claims = jwt.decode(id_token, jwks, claims_options=options)
    claims.validate(leeway=5)
    return claims


def login(d, http, cfg):
    r = http.post(d["issuer"] + "/api/v1/session", json={"login": cfg["login"], "password": cfg["password"]}, timeout=10)
    assert r.status_code == 200, ("login", r.status_code, r.text)


def authorize(d, http, client, verifier, nonce, auth_method="client_secret_basic", **extra):
    rp = OAuth2Session(client["id"], client.get("secret"), scope=SCOPE, redirect_uri=client["redirect"],
                       code_challenge_method="S256", token_endpoint_auth_method=auth_method)
    url, state = rp.create_authorization_url(d["authorization_endpoint"], code_verifier=verifier, nonce=nonce,
                                             **extra)
    r = http.get(url, allow_redirects=False, timeout=10)
    return rp, state, r


def code_flow(d, http, client, auth_method):
    verifier = secrets.token_urlsafe(48)
    nonce = secrets.token_urlsafe(16)
    rp, state, r = authorize(d, http, client, verifier, nonce, auth_method)
    assert r.status_code in (302, 303), ("authorize", r.status_code, r.text[:300])
    back = r.headers["Location"]
    assert back.startswith(client["redirect"] + "?"), back
    assert query(back)["state"] == state, back
    token = rp.fetch_token(d["token_endpoint"], authorization_response=back, code_verifier=verifier)
    claims = validate(d, client["id"], token["id_token"], nonce)
    return rp, token, claims, query(back)["code"], verifier


def token_error(d, form, auth=None):
    r = requests.post(d["token_endpoint"], data=form, auth=auth, timeout=10)
    body = r.json()
    assert "error_description" in body and "access_token" not in body, body
    return r.status_code, body["error"]


def fresh_code(d, http, client):
    """A new code for `client` (not exchanged) and its PKCE verifier."""
    verifier = secrets.token_urlsafe(48)
    _, state, r = authorize(d, http, client, verifier, secrets.token_urlsafe(16))
    assert r.status_code in (302, 303), ("authorize", r.status_code, r.text[:300])
    q = query(r.headers["Location"])
    assert q.get("state") == state and "error" not in q, q
    return q["code"], verifier


def flow(cfg):
    d = discover(cfg["issuer"])
    http = requests.Session()
    login(d, http, cfg)
    conf, pub, bound = cfg["confidential"], cfg["public"], cfg["bound"]

    # Code + PKCE + nonce, client_secret_basic; the ID token checked against the JWKS.
    rp, token, claims, code, verifier = code_flow(d, http, conf, "client_secret_basic")
    assert claims["preferred_username"] == cfg["login"], claims
    assert claims["email_verified"] is True, claims
    assert "demo" in claims["entitlements"], claims
    assert "demo" in claims["active_until"], claims

    # userinfo with the access token.
    info = rp.get(d["userinfo_endpoint"]).json()
    assert info["sub"] == claims["sub"] and info["preferred_username"] == cfg["login"], info
    assert info["entitlements"] == claims["entitlements"], info

    # The code again: invalid_grant.
    auth = (conf["id"], conf["secret"])
    status, err = token_error(d, {"grant_type": "authorization_code", "code": code, "redirect_uri": conf["redirect"],
                                  "code_verifier": verifier}, auth)
    assert (status, err) == (400, "invalid_grant"), (status, err)

    # The token endpoint's PKCE and redirect URI checks, each with its exact error.
    code2, verifier2 = fresh_code(d, http, conf)
    form = {"grant_type": "authorization_code", "code": code2, "redirect_uri": conf["redirect"]}
    status, err = token_error(d, form, auth)
    assert (status, err) == (400, "invalid_request"), ("no code_verifier", status, err)
    status, err = token_error(d, dict(form, redirect_uri="https://evil.example/callback", code_verifier=verifier2), auth)
    assert (status, err) == (400, "invalid_grant"), ("another redirect_uri", status, err)
    code3, _ = fresh_code(d, http, conf)
    status, err = token_error(d, dict(form, code=code3, code_verifier=secrets.token_urlsafe(48)), auth)
    assert (status, err) == (400, "invalid_grant"), ("another flow's code_verifier", status, err)
    status, err = token_error(d, dict(form, code=code3, code_verifier="plain"), auth)
    assert (status, err) == (400, "invalid_grant"), ("a burnt code", status, err)

    # Refresh with rotation (client_secret_post this time); the old refresh token is refused.
    rp2, token2, _, _, _ = code_flow(d, http, conf, "client_secret_post")
    old = token2["refresh_token"]
    fresh = rp2.refresh_token(d["token_endpoint"], refresh_token=old)
    assert fresh["refresh_token"] != old, "rotated"
    validate(d, conf["id"], fresh["id_token"])
    status, err = token_error(d, {"grant_type": "refresh_token", "refresh_token": old}, auth)
    assert (status, err) == (400, "invalid_grant"), (status, err)
    status, err = token_error(d, {"grant_type": "refresh_token", "refresh_token": fresh["refresh_token"]}, auth)
    assert (status, err) == (400, "invalid_grant"), ("the family is revoked", status, err)

    # A public client (token_endpoint_auth_method none).
    code_flow(d, http, pub, "none")

    # Without PKCE, and with the plain method: refused, back to the client with invalid_request.
    params = {"client_id": conf["id"], "redirect_uri": conf["redirect"], "response_type": "code", "scope": SCOPE,
              "state": "s-nopkce", "nonce": "n"}
    plain = dict(params, code_challenge=secrets.token_urlsafe(48), code_challenge_method="plain")
    for p in (params, plain):
        r = http.get(d["authorization_endpoint"] + "?" + urlencode(p), allow_redirects=False, timeout=10)
        assert r.status_code in (302, 303), r.status_code
        assert r.headers["Location"].startswith(conf["redirect"] + "?"), r.headers["Location"]
        q = query(r.headers["Location"])
        assert q.get("error") == "invalid_request" and q.get("state") == "s-nopkce" and "code" not in q, q

    # A wrong redirect URI: never redirected to, our own page says why.
    evil = dict(conf, redirect="https://evil.example/callback")
    _, _, r = authorize(d, http, evil, secrets.token_urlsafe(48), "n")
    assert r.status_code == 400 and "Location" not in r.headers, (r.status_code, dict(r.headers))
    assert "redirect_uri is not registered" in r.text, r.text[:500]

    # A client bound to a service the customer has not paid for: a page, whose Continue link
    # hands the client access_denied.
    _, state, r = authorize(d, http, bound, secrets.token_urlsafe(48), "n")
    assert r.status_code == 403 and "Location" not in r.headers, r.status_code
    marker = 'id="continue" href="'
    link = r.text[r.text.index(marker) + len(marker):].split('"')[0].replace("&amp;", "&")
    assert link.startswith(bound["redirect"] + "?"), link
    q = query(link)
    assert q["error"] == "access_denied" and q["state"] == state, q

    # The same with prompt=none: no page, access_denied straight back to the client.
    _, state, r = authorize(d, http, bound, secrets.token_urlsafe(48), "n", prompt="none")
    assert r.status_code in (302, 303), r.status_code
    q = query(r.headers["Location"])
    assert r.headers["Location"].startswith(bound["redirect"] + "?"), r.headers["Location"]
    assert q.get("error") == "access_denied" and q.get("state") == state and "code" not in q, q

    print(json.dumps({"id_token": token["id_token"], "client_id": conf["id"]}))


def verify(issuer, client_id, id_token):
    d = discover(issuer)
    try:
        validate(d, client_id, id_token)
        print("valid")
    except Exception as e:  # noqa: BLE001 - the verdict is the output
        print(f"invalid: {type(e).__name__}")


if __name__ == "__main__":
    if sys.argv[1] == "flow":
        with open(sys.argv[2]) as f:
            flow(json.load(f))
    elif sys.argv[1] == "verify":
        verify(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        sys.exit("usage: oidc_client.py flow CONFIG | verify ISSUER CLIENT_ID ID_TOKEN")

//! Sign in with keyturn under attack (security.md 44, 48): open redirects through
//! `redirect_uri`, PKCE missing, `plain` or wrong, a code replayed (with its state) or injected
//! into another client, tokens substituted for one another, and forged `id_token_hint`s
//! (`alg: none`, HS256 keyed with our public key, another issuer's RS256 key).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{json, Value};

use crate::harness::*;
use crate::oidc::{assert_oauth_error, urlencode};
use crate::password_reset::{confirm, forgot, reset_link, token_of};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_uri_that_is_not_registered_exactly_is_never_redirected_to() {
    let app = TestApp::builder().start().await;
    let owner = app.admin("owner").await;
    let client = app.oidc_client(&owner, json!({})).await;
    let c = app.active().await;
    let pkce = Pkce::new();
    let host = client.redirect.trim_start_matches("https://").split('/').next().unwrap().to_string();
    let variants = [
        "https://evil.example/callback".to_string(),
        format!("{}/", client.redirect),
        format!("{}?x=1", client.redirect),
        format!("{}/../evil", client.redirect),
        format!("{}#f", client.redirect),
        client.redirect.replace("https://", "http://"),
        client.redirect.to_uppercase(),
        format!("https://{host}.evil.example/callback"),
        format!("https://{host}@evil.example/callback"),
        "//evil.example/callback".to_string(),
        String::new(),
    ];
    for v in &variants {
        let url = app.authorize_url(&client, &pkce, &[("redirect_uri", Some(v))]);
        let resp = c.customer.client.get(&url).send().await.unwrap();
        assert_eq!(resp.status(), 400, "{v}");
        assert!(location(&resp).is_none(), "redirected to {v}");
        assert!(resp.text().await.unwrap().contains("not registered"));
    }
    // A missing redirect_uri and an unknown client: our page too, even with errors to report.
    for overrides in [
        vec![("redirect_uri", None), ("code_challenge", None)],
        vec![("client_id", Some("ktc_nosuch")), ("response_type", Some("token"))],
    ] {
        let resp = c.customer.client.get(app.authorize_url(&client, &pkce, &overrides)).send().await.unwrap();
        assert_eq!(resp.status(), 400);
        assert!(location(&resp).is_none());
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pkce_is_required_with_s256_and_checked_at_the_exchange() {
    let app = TestApp::builder().start().await;
    let owner = app.admin("owner").await;
    let client = app.oidc_client(&owner, json!({"public": true})).await;
    let c = app.active().await;
    let pkce = Pkce::new();
    let plain = pkce.verifier.clone();
    for (overrides, want) in [
        (vec![("code_challenge", None), ("code_challenge_method", None)], "invalid_request"),
        (vec![("code_challenge_method", Some("plain")), ("code_challenge", Some(plain.as_str()))], "invalid_request"),
        (vec![("code_challenge_method", None)], "invalid_request"),
        (vec![("response_type", Some("token"))], "unsupported_response_type"),
        (vec![("scope", Some("email"))], "invalid_scope"),
        // A NUL or another control character in the nonce (stored with the code): refused, never a 500.
        (vec![("nonce", Some("n\0x"))], "invalid_request"),
        (vec![("nonce", Some("n\u{1}x"))], "invalid_request"),
    ] {
        let resp = c.customer.client.get(app.authorize_url(&client, &pkce, &overrides)).send().await.unwrap();
        assert_eq!(resp.status(), 303, "{overrides:?}");
        let to = location(&resp).unwrap();
        assert!(to.starts_with(&format!("{}?", client.redirect)));
        assert_eq!(param(&to, "error").as_deref(), Some(want), "{overrides:?}");
        assert_eq!(param(&to, "state").as_deref(), Some("st-123"));
        assert!(param(&to, "code").is_none());
    }

    // A control character in the state: refused back to the (registered) redirect URI too.
    let resp =
        c.customer.client.get(app.authorize_url(&client, &pkce, &[("state", Some("s\0t"))])).send().await.unwrap();
    assert_eq!(resp.status(), 303);
    let to = location(&resp).unwrap();
    assert!(to.starts_with(&format!("{}?", client.redirect)));
    assert_eq!(param(&to, "error").as_deref(), Some("invalid_request"));
    assert!(param(&to, "code").is_none());

    // A verifier from another flow, and none at all: refused; the code is burnt by the wrong one.
    let code = app.code_for(&c.customer, &client, &pkce).await;
    let other = Pkce::new();
    let missing =
        [("grant_type", "authorization_code"), ("code", code.as_str()), ("redirect_uri", client.redirect.as_str())];
    assert_oauth_error(app.token(&client, &missing).await, 400, "invalid_request").await;
    assert_oauth_error(app.exchange(&client, &code, &other.verifier).await, 400, "invalid_grant").await;
    assert_oauth_error(app.exchange(&client, &code, &pkce.verifier).await, 400, "invalid_grant").await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_code_works_once_for_its_own_client_and_redirect_uri() {
    let app = TestApp::builder().start().await;
    let owner = app.admin("owner").await;
    let a = app.oidc_client(&owner, json!({})).await;
    let b = app.oidc_client(&owner, json!({})).await;
    let c = app.active().await;
    let pkce = Pkce::new();
    let code = app.code_for(&c.customer, &a, &pkce).await;

    // Injected into another client (with that client's own valid credentials): refused.
    assert_oauth_error(app.exchange(&b, &code, &pkce.verifier).await, 400, "invalid_grant").await;
    // Another redirect URI than the one the code was issued for: refused.
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", "https://evil.example/callback"),
        ("code_verifier", pkce.verifier.as_str()),
    ];
    assert_oauth_error(app.token(&a, &form).await, 400, "invalid_grant").await;

    // A fresh code works once; the replayed authorization response (code + state) is refused
    // and revokes what the code issued.
    let code = app.code_for(&c.customer, &a, &pkce).await;
    let t = json_status(app.exchange(&a, &code, &pkce.verifier).await, 200).await;
    assert_oauth_error(app.exchange(&a, &code, &pkce.verifier).await, 400, "invalid_grant").await;
    assert_eq!(app.userinfo(t["access_token"].as_str().unwrap()).await.status(), 401);
    let r = app
        .token(&a, &[("grant_type", "refresh_token"), ("refresh_token", t["refresh_token"].as_str().unwrap())])
        .await;
    assert_oauth_error(r, 400, "invalid_grant").await;

    // Expired after 60 s.
    let code = app.code_for(&c.customer, &a, &pkce).await;
    app.clock.advance(61);
    assert_oauth_error(app.exchange(&a, &code, &pkce.verifier).await, 400, "invalid_grant").await;

    // Unknown grant types and garbage.
    assert_oauth_error(app.token(&a, &[("grant_type", "password")]).await, 400, "unsupported_grant_type").await;
    assert_oauth_error(
        app.token(
            &a,
            &[
                ("grant_type", "authorization_code"),
                ("code", "x\0y"),
                ("redirect_uri", a.redirect.as_str()),
                ("code_verifier", pkce.verifier.as_str()),
            ],
        )
        .await,
        400,
        "invalid_request",
    )
    .await;
    let json_body = app.client.post(app.url("/oauth2/token")).json(&json!({"grant_type": "x"})).send().await.unwrap();
    assert_oauth_error(json_body, 400, "invalid_request").await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_cannot_stand_in_for_one_another() {
    let app = TestApp::builder().start().await;
    let owner = app.admin("owner").await;
    let a = app.oidc_client(&owner, json!({})).await;
    let b = app.oidc_client(&owner, json!({})).await;
    let c = app.active().await;
    let t = app.sign_in(&c.customer, &a).await;
    let (access, refresh, id) =
        (t["access_token"].as_str().unwrap(), t["refresh_token"].as_str().unwrap(), t["id_token"].as_str().unwrap());
    assert_eq!(app.userinfo(id).await.status(), 401, "an ID token is not an access token");
    assert_eq!(app.userinfo(refresh).await.status(), 401, "a refresh token is not an access token");
    assert_eq!(app.userinfo("kta_forged").await.status(), 401);
    let as_refresh = app.token(&a, &[("grant_type", "refresh_token"), ("refresh_token", access)]).await;
    assert_oauth_error(as_refresh, 400, "invalid_grant").await;
    let other_client = app.token(&b, &[("grant_type", "refresh_token"), ("refresh_token", refresh)]).await;
    assert_oauth_error(other_client, 400, "invalid_grant").await;
    // The ID token is for client a only.
    assert!(app.verify_id_token(id, &b.id).await.is_err());
    assert!(app.verify_id_token(id, &a.id).await.is_ok());
    // After all that, a's refresh token still works (b's attempt did not consume it).
    json_status(app.token(&a, &[("grant_type", "refresh_token"), ("refresh_token", refresh)]).await, 200).await;
    app.stop().await;
}

fn b64(v: &Value) -> String {
    URL_SAFE_NO_PAD.encode(v.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_id_token_hints_are_refused_at_logout() {
    let app = TestApp::builder().start().await;
    let owner = app.admin("owner").await;
    let client = app.oidc_client(&owner, json!({})).await;
    let c = app.active().await;
    let t = app.sign_in(&c.customer, &client).await;
    let genuine = t["id_token"].as_str().unwrap();
    let claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(genuine.split('.').nth(1).unwrap()).unwrap()).unwrap();
    let kid = jsonwebtoken::decode_header(genuine).unwrap().kid.unwrap();
    let jwks: Value = app.get("/oauth2/jwks").await.json().await.unwrap();
    let jwk = jwks["keys"].as_array().unwrap().iter().find(|k| k["kid"] == kid.as_str()).unwrap().clone();

    // alg none.
    let none = format!("{}.{}.", b64(&json!({"alg": "none", "kid": kid})), b64(&claims));
    // HS256 keyed with our public key (as JWK JSON, and as the modulus bytes).
    let mut hs = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    hs.kid = Some(kid.clone());
    let hs_jwk =
        jsonwebtoken::encode(&hs, &claims, &jsonwebtoken::EncodingKey::from_secret(jwk.to_string().as_bytes()))
            .unwrap();
    let n = URL_SAFE_NO_PAD.decode(jwk["n"].as_str().unwrap()).unwrap();
    let hs_n = jsonwebtoken::encode(&hs, &claims, &jsonwebtoken::EncodingKey::from_secret(&n)).unwrap();
    // A signature over other claims (the payload swapped under a genuine header and signature).
    let mut tampered_claims = claims.clone();
    tampered_claims["sub"] = json!("someone-else");
    let parts: Vec<&str> = genuine.split('.').collect();
    let swapped = format!("{}.{}.{}", parts[0], b64(&tampered_claims), parts[2]);

    let bye = urlencode(&format!("{}/bye", client.redirect));
    for forged in [none, hs_jwk, hs_n, swapped, "not-a-jwt".to_string()] {
        let path = format!("/oauth2/logout?id_token_hint={forged}&post_logout_redirect_uri={bye}");
        let resp = c.customer.client.get(app.url(&path)).send().await.unwrap();
        assert_eq!(resp.status(), 400, "{forged}");
        assert!(location(&resp).is_none());
        assert_eq!(c.customer.me().await.status(), 200, "the session survives a forged hint");
    }
    // The genuine hint works.
    let path = format!("/oauth2/logout?id_token_hint={genuine}&post_logout_redirect_uri={bye}");
    assert_eq!(c.customer.client.get(app.url(&path)).send().await.unwrap().status(), 303);
    app.stop().await;
}

/// What an app sees once the customer's sign-ins are ended: the access token is refused at
/// userinfo (`401 invalid_token`) and the refresh token and a code not yet exchanged are
/// `invalid_grant`.
async fn assert_app_signed_out(app: &TestApp, client: &RpClient, tokens: &Value, code: &str, verifier: &str) {
    let info = app.userinfo(tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(info.status(), 401);
    assert!(info.headers()["www-authenticate"].to_str().unwrap().contains("invalid_token"));
    assert_eq!(info.json::<Value>().await.unwrap()["error"], "invalid_token");
    let refresh = tokens["refresh_token"].as_str().unwrap();
    let r = app.token(client, &[("grant_type", "refresh_token"), ("refresh_token", refresh)]).await;
    assert_oauth_error(r, 400, "invalid_grant").await;
    assert_oauth_error(app.exchange(client, code, verifier).await, 400, "invalid_grant").await;
}

/// An app's sign-in and a code it has not exchanged yet, both working.
async fn signed_in_app(app: &TestApp, client: &RpClient, c: &Active) -> (Value, String, Pkce) {
    let tokens = app.sign_in(&c.customer, client).await;
    assert_eq!(app.userinfo(tokens["access_token"].as_str().unwrap()).await.status(), 200);
    let pkce = Pkce::new();
    let code = app.code_for(&c.customer, client, &pkce).await;
    (tokens, code, pkce)
}

/// A stolen refresh token must not outlive the password it was obtained with.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_reset_ends_the_customers_sign_ins_at_every_app() {
    let app = TestApp::builder().start().await;
    let owner = app.admin("owner").await;
    let client = app.oidc_client(&owner, json!({})).await;
    let c = app.active().await;
    let (tokens, code, pkce) = signed_in_app(&app, &client, &c).await;
    json_status(forgot(&app, json!({"email": c.email})).await, 202).await;
    let link = reset_link(&app, &c.email, 1).await;
    let password = strong_password();
    assert_eq!(confirm(&app, token_of(&link), &password).await.status(), 204);
    assert_app_signed_out(&app, &client, &tokens, &code, &pkce.verifier).await;
    // Signing in again with the new password works.
    let browser = app.customer();
    json_status(browser.login(&c.login, &password).await, 200).await;
    let again = app.sign_in(&browser, &client).await;
    assert_eq!(app.userinfo(again["access_token"].as_str().unwrap()).await.status(), 200);
    app.stop().await;
}

/// A change in the cabinet ends the apps' sign-ins and every other browser's session; the
/// browser that made the change stays signed in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_change_ends_the_apps_sign_ins_but_keeps_the_browser_that_made_it() {
    let app = TestApp::builder().start().await;
    let owner = app.admin("owner").await;
    let client = app.oidc_client(&owner, json!({})).await;
    let c = app.active().await;
    let (tokens, code, pkce) = signed_in_app(&app, &client, &c).await;
    let phone = app.customer();
    json_status(phone.login(&c.login, &c.password).await, 200).await;
    assert_eq!(c.customer.change_password(&c.password, &strong_password()).await.status(), 204);
    assert_app_signed_out(&app, &client, &tokens, &code, &pkce.verifier).await;
    assert_error(phone.me().await, 401, "unauthenticated").await;
    assert_eq!(json_status(c.customer.me().await, 200).await["login"], c.login);
    let again = app.sign_in(&c.customer, &client).await;
    assert_eq!(app.userinfo(again["access_token"].as_str().unwrap()).await.status(), 200);
    app.stop().await;
}

/// A suspension revokes the apps' tokens for good: reinstating the account does not bring them
/// back. Neither does an administrator's credentials reset once the customer chose a new password.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn suspension_and_an_admin_credentials_reset_end_the_apps_sign_ins_for_good() {
    let app = TestApp::builder().start().await;
    let owner = app.admin("owner").await;
    let support = app.admin("support").await;
    let client = app.oidc_client(&owner, json!({})).await;
    let c = app.active().await;
    let (tokens, code, pkce) = signed_in_app(&app, &client, &c).await;
    assert_eq!(support.post(&format!("/accounts/{}/suspend", c.login), &json!({})).await.status(), 204);
    assert_eq!(support.post(&format!("/accounts/{}/reinstate", c.login), &json!({})).await.status(), 204);
    assert_app_signed_out(&app, &client, &tokens, &code, &pkce.verifier).await;

    let browser = app.customer();
    json_status(browser.login(&c.login, &c.password).await, 200).await;
    let active =
        Active { email: c.email.clone(), login: c.login.clone(), password: c.password.clone(), customer: browser };
    let (tokens, code, pkce) = signed_in_app(&app, &client, &active).await;
    let resend = format!("/accounts/{}/resend-credentials", c.login);
    assert_eq!(support.post(&resend, &json!({})).await.status(), 202);
    let mail = app.mail.wait_for(&c.email, Kind::Other, 1, MAIL_TIMEOUT).await;
    assert!(mail.subject.contains("new temporary password"), "{}", mail.subject);
    let temporary =
        mail.text.lines().find_map(|l| l.trim().strip_prefix("Password:")).expect("a password line").trim().to_string();
    let fresh = app.customer();
    json_status(fresh.login(&c.login, &temporary).await, 200).await;
    assert_eq!(fresh.change_password(&temporary, &strong_password()).await.status(), 204);
    assert_app_signed_out(&app, &client, &tokens, &code, &pkce.verifier).await;
    assert_error(active.customer.me().await, 401, "unauthenticated").await;
    app.stop().await;
}

/// Two requests at once; the responses in order of their status (200 first).
async fn at_once(a: reqwest::Response, b: reqwest::Response) -> (Vec<Value>, Vec<reqwest::Response>) {
    let (mut won, mut lost) = (Vec::new(), Vec::new());
    for r in [a, b] {
        if r.status() == 200 {
            won.push(r.json::<Value>().await.unwrap());
        } else {
            lost.push(r);
        }
    }
    (won, lost)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_code_exchanged_twice_at_once_gives_tokens_once_and_then_none() {
    let app = TestApp::builder().start().await;
    let owner = app.admin("owner").await;
    let client = app.oidc_client(&owner, json!({})).await;
    let c = app.active().await;
    for round in 0..4 {
        let pkce = Pkce::new();
        let code = app.code_for(&c.customer, &client, &pkce).await;
        let (a, b) =
            tokio::join!(app.exchange(&client, &code, &pkce.verifier), app.exchange(&client, &code, &pkce.verifier));
        let (won, lost) = at_once(a, b).await;
        assert_eq!((won.len(), lost.len()), (1, 1), "round {round}: exactly one exchange gets tokens");
        for r in lost {
            assert_oauth_error(r, 400, "invalid_grant").await;
        }
        // The second presentation is a reuse: what the code issued is revoked (RFC 6749 §4.1.2).
        let t = &won[0];
        assert_eq!(app.userinfo(t["access_token"].as_str().unwrap()).await.status(), 401, "round {round}");
        let r = t["refresh_token"].as_str().unwrap();
        assert_oauth_error(
            app.token(&client, &[("grant_type", "refresh_token"), ("refresh_token", r)]).await,
            400,
            "invalid_grant",
        )
        .await;
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_refresh_token_used_twice_at_once_rotates_once_and_revokes_the_family() {
    let app = TestApp::builder().start().await;
    let owner = app.admin("owner").await;
    let client = app.oidc_client(&owner, json!({})).await;
    let c = app.active().await;
    for round in 0..4 {
        let t = app.sign_in(&c.customer, &client).await;
        let r = t["refresh_token"].as_str().unwrap();
        let form = [("grant_type", "refresh_token"), ("refresh_token", r)];
        let (a, b) = tokio::join!(app.token(&client, &form), app.token(&client, &form));
        let (won, lost) = at_once(a, b).await;
        assert_eq!((won.len(), lost.len()), (1, 1), "round {round}: at most one new pair");
        for r in lost {
            assert_oauth_error(r, 400, "invalid_grant").await;
        }
        // The reuse revoked the whole family, the new pair included.
        let fresh = &won[0];
        for access in [&t["access_token"], &fresh["access_token"]] {
            assert_eq!(app.userinfo(access.as_str().unwrap()).await.status(), 401, "round {round}");
        }
        let next = [("grant_type", "refresh_token"), ("refresh_token", fresh["refresh_token"].as_str().unwrap())];
        assert_oauth_error(app.token(&client, &next).await, 400, "invalid_grant").await;
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sweep_forgets_spent_codes_and_tokens_but_still_catches_a_replay() {
    let app = TestApp::builder().start().await;
    let owner = app.admin("owner").await;
    let client = app.oidc_client(&owner, json!({})).await;
    let c = app.active().await;
    let refresh = |t: &Value| {
        let r = t["refresh_token"].as_str().unwrap().to_string();
        let (app, client) = (&app, &client);
        async move { app.token(client, &[("grant_type", "refresh_token"), ("refresh_token", &r)]).await }
    };
    // Family A rotated once; family B from a code kept for a replay; a code never exchanged.
    let a = app.sign_in(&c.customer, &client).await;
    let a2 = json_status(refresh(&a).await, 200).await;
    let pkce = Pkce::new();
    let code_b = app.code_for(&c.customer, &client, &pkce).await;
    let b = json_status(app.exchange(&client, &code_b, &pkce.verifier).await, 200).await;
    app.code_for(&c.customer, &client, &Pkce::new()).await;
    assert_eq!(app.oidc_rows().await, (3, 6));

    // An hour later: the unused code and the expired access tokens are gone; the used codes and
    // the refresh chains (the rotated token included) stay.
    app.clock.advance(3600 + 60);
    app.sweep().await;
    assert_eq!(app.oidc_rows().await, (2, 3));
    // So a replay is still caught: the rotated refresh token revokes family A, the code family B.
    assert_oauth_error(refresh(&a).await, 400, "invalid_grant").await;
    assert_oauth_error(refresh(&a2).await, 400, "invalid_grant").await;
    assert_oauth_error(app.exchange(&client, &code_b, &pkce.verifier).await, 400, "invalid_grant").await;
    assert_oauth_error(refresh(&b).await, 400, "invalid_grant").await;
    // Revoked families are of no more use; used codes go a day after they expired.
    app.sweep().await;
    assert_eq!(app.oidc_rows().await, (2, 0));
    app.clock.advance(86_400);
    app.sweep().await;
    assert_eq!(app.oidc_rows().await, (0, 0));

    // A live family lasts as long as its refresh token (30 days), then goes entirely.
    json_status(c.customer.login(&c.login, &c.password).await, 200).await;
    let d = app.sign_in(&c.customer, &client).await;
    app.clock.advance(29 * 86_400);
    app.sweep().await;
    assert_eq!(app.oidc_rows().await.1, 1, "the refresh token of a live family stays");
    let d2 = json_status(refresh(&d).await, 200).await;
    app.clock.advance(30 * 86_400 + 60);
    app.sweep().await;
    assert_eq!(app.oidc_rows().await, (0, 0));
    assert_oauth_error(refresh(&d2).await, 400, "invalid_grant").await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_long_return_addresses_get_a_clear_400() {
    let app = TestApp::builder().start().await;
    let owner = app.admin("owner").await;
    let client = app.oidc_client(&owner, json!({})).await;
    let iss = app.public_url.trim_end_matches('/').to_string();
    let browser = app.customer();
    for len in [4097, 20_000] {
        let rd = format!("{iss}/oauth2/authorize?x={}", "a".repeat(len));
        let resp = browser.client.get(app.url(&format!("/cabinet?rd={}", urlencode(&rd)))).send().await.unwrap();
        assert_eq!(resp.status(), 400, "{len}");
        assert!(resp.text().await.unwrap().contains("too long"));
    }
    // An authorization request whose way back through the login would be too long: the client
    // hears invalid_request now (not a login that silently forgets where to return).
    let scope = format!("openid {}", "profile ".repeat(600));
    let resp =
        browser.client.get(app.authorize_url(&client, &Pkce::new(), &[("scope", Some(&scope))])).send().await.unwrap();
    assert_eq!(resp.status(), 303);
    let to = location(&resp).unwrap();
    assert!(to.starts_with(&format!("{}?", client.redirect)), "{to}");
    assert_eq!(param(&to, "error").as_deref(), Some("invalid_request"));
    app.stop().await;
}

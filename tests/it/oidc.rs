//! Sign in with keyturn, the flow an app sees: discovery, the cabinet login in front of the
//! authorization request, code + PKCE, an ID token that verifies against the JWKS and carries
//! the nonce and what the customer paid for, userinfo, refresh-token rotation, key rotation,
//! RP-initiated logout, and a client bound to a service turning away a customer without access.

use serde_json::{json, Value};

use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discovery_describes_what_a_generic_client_needs() {
    let app = TestApp::builder().start().await;
    let d: Value = json_status(app.get("/.well-known/openid-configuration").await, 200).await;
    let iss = app.public_url.trim_end_matches('/');
    assert_eq!(d["issuer"], iss);
    for (k, path) in [
        ("authorization_endpoint", "/oauth2/authorize"),
        ("token_endpoint", "/oauth2/token"),
        ("userinfo_endpoint", "/oauth2/userinfo"),
        ("jwks_uri", "/oauth2/jwks"),
        ("end_session_endpoint", "/oauth2/logout"),
    ] {
        assert_eq!(d[k], format!("{iss}{path}"), "{k}");
    }
    assert_eq!(d["response_types_supported"], json!(["code"]));
    assert_eq!(d["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(d["id_token_signing_alg_values_supported"], json!(["RS256"]));
    assert_eq!(
        d["token_endpoint_auth_methods_supported"],
        json!(["client_secret_basic", "client_secret_post", "none"])
    );
    assert_eq!(d["scopes_supported"], json!(["openid", "email", "profile", "entitlements"]));
    let jwks: Value = json_status(app.get("/oauth2/jwks").await, 200).await;
    let key = &jwks["keys"][0];
    assert_eq!(
        (key["kty"].as_str(), key["alg"].as_str(), key["use"].as_str()),
        (Some("RSA"), Some("RS256"), Some("sig"))
    );
    assert!(key["kid"].as_str().is_some_and(|k| !k.is_empty()) && key.get("d").is_none(), "public only: {key}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_flow_from_login_to_refresh() {
    let app = TestApp::builder().start().await;
    let owner = app.admin("owner").await;
    let client = app.oidc_client(&owner, json!({})).await;
    assert!(client.secret.as_deref().is_some_and(|s| s.starts_with("kts_") && s.len() >= 40));
    let listed = owner.get("/oidc-clients").await.text().await.unwrap();
    assert!(listed.contains(&client.id) && !listed.contains(client.secret.as_deref().unwrap()), "secret shown once");
    let audit = owner.audit("action=oidc_client.create").await;
    assert_eq!(audit.len(), 1, "{audit:?}");

    // Not logged in: the cabinet's login comes first and returns to the same request.
    let c = app.active().await;
    let browser = app.customer();
    let pkce = Pkce::new();
    let url = app.authorize_url(&client, &pkce, &[]);
    let resp = browser.client.get(&url).send().await.unwrap();
    assert_eq!(resp.status(), 303);
    let to = location(&resp).unwrap();
    assert!(to.starts_with(&format!("{}/cabinet?rd=", app.public_url)), "{to}");
    let rd = param(&to, "rd").unwrap();
    json_status(browser.login(&c.login, &c.password).await, 200).await;
    let cabinet = browser.client.get(app.url(&format!("/cabinet?rd={}", urlencode(&rd)))).send().await.unwrap();
    assert_eq!(cabinet.status(), 303, "a logged-in customer goes straight back");
    assert_eq!(location(&cabinet).as_deref(), Some(rd.as_str()));
    let back = browser.client.get(&rd).send().await.unwrap();
    assert_eq!(back.status(), 303);
    let to = location(&back).unwrap();
    assert!(to.starts_with(&format!("{}?", client.redirect)), "{to}");
    assert_eq!(param(&to, "state").as_deref(), Some("st-123"));
    assert_eq!(param(&to, "iss").as_deref(), Some(app.public_url.trim_end_matches('/')));
    let code = param(&to, "code").unwrap();

    let t = json_status(app.exchange(&client, &code, &pkce.verifier).await, 200).await;
    assert_eq!((t["token_type"].as_str(), t["expires_in"].as_i64()), (Some("Bearer"), Some(3600)));
    let claims = app.verify_id_token(t["id_token"].as_str().unwrap(), &client.id).await.expect("valid ID token");
    assert_eq!(claims["nonce"], "n-456");
    assert_eq!(claims["preferred_username"], c.login);
    assert_eq!(claims["email"], c.email);
    assert_eq!(claims["email_verified"], true);
    assert_eq!(claims["entitlements"], json!(["demo"]));
    assert!(claims["active_until"]["demo"].as_str().is_some_and(|s| s.ends_with('Z') || s.contains('+')), "{claims}");
    let sub = claims["sub"].as_str().unwrap().to_string();
    assert!(!sub.contains(&c.login) && sub.len() >= 16, "opaque sub");

    let access = t["access_token"].as_str().unwrap();
    let info = json_status(app.userinfo(access).await, 200).await;
    assert_eq!(
        (info["sub"].as_str(), info["preferred_username"].as_str()),
        (Some(sub.as_str()), Some(c.login.as_str()))
    );
    assert_eq!(info["entitlements"], json!(["demo"]));

    // The same customer signs in again: the same subject.
    let again = app.sign_in(&browser, &client).await;
    let claims2 = app.verify_id_token(again["id_token"].as_str().unwrap(), &client.id).await.unwrap();
    assert_eq!(claims2["sub"], sub.as_str());

    // Refresh rotates; the rotated token presented again revokes the family.
    let r1 = t["refresh_token"].as_str().unwrap();
    let t2 =
        json_status(app.token(&client, &[("grant_type", "refresh_token"), ("refresh_token", r1)]).await, 200).await;
    let r2 = t2["refresh_token"].as_str().unwrap();
    assert_ne!(r1, r2);
    let a2 = t2["access_token"].as_str().unwrap();
    assert_eq!(app.userinfo(a2).await.status(), 200);
    let reuse = app.token(&client, &[("grant_type", "refresh_token"), ("refresh_token", r1)]).await;
    assert_oauth_error(reuse, 400, "invalid_grant").await;
    let after = app.token(&client, &[("grant_type", "refresh_token"), ("refresh_token", r2)]).await;
    assert_oauth_error(after, 400, "invalid_grant").await;
    assert_eq!(app.userinfo(a2).await.status(), 401, "the family's access tokens are revoked too");
    // Another sign-in's tokens are untouched.
    assert_eq!(app.userinfo(again["access_token"].as_str().unwrap()).await.status(), 200);
    app.stop().await;
}

/// Percent-encodes a query value.
pub fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// An RFC 6749 error body with this status and code.
pub async fn assert_oauth_error(resp: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(resp.status(), status);
    let v: Value = resp.json().await.unwrap();
    assert_eq!(v["error"], code, "{v}");
    assert!(v["error_description"].is_string() && v.get("message").is_none(), "RFC 6749 shape: {v}");
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn public_clients_and_client_secret_post() {
    let app = TestApp::builder().start().await;
    let owner = app.admin("owner").await;
    let public = app.oidc_client(&owner, json!({"public": true})).await;
    assert!(public.secret.is_none());
    let c = app.active().await;
    let t = app.sign_in(&c.customer, &public).await;
    assert!(app.verify_id_token(t["id_token"].as_str().unwrap(), &public.id).await.is_ok());

    let confidential = app.oidc_client(&owner, json!({})).await;
    let pkce = Pkce::new();
    let code = app.code_for(&c.customer, &confidential, &pkce).await;
    let secret = confidential.secret.clone().unwrap();
    // Without its secret a confidential client is refused (401 invalid_client), code intact.
    let bare = RpClient { secret: None, ..confidential.clone() };
    assert_oauth_error(app.exchange(&bare, &code, &pkce.verifier).await, 401, "invalid_client").await;
    let wrong = RpClient { secret: Some(format!("{secret}x")), ..confidential.clone() };
    let resp = app.exchange(&wrong, &code, &pkce.verifier).await;
    assert!(resp.headers().get("www-authenticate").is_some());
    assert_oauth_error(resp, 401, "invalid_client").await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", confidential.redirect.as_str()),
        ("code_verifier", pkce.verifier.as_str()),
        ("client_id", confidential.id.as_str()),
        ("client_secret", secret.as_str()),
    ];
    let resp = app.client.post(app.url("/oauth2/token")).form(&form).send().await.unwrap();
    assert_eq!(resp.headers().get("cache-control").unwrap(), "no-store");
    json_status(resp, 200).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bound_client_turns_away_a_customer_without_access() {
    let app = TestApp::builder().start().await;
    let owner = app.admin("owner").await;
    let slug = format!("vpn-{}", hex::encode(rand::random::<[u8; 3]>()));
    let svc = json!({"slug": slug, "name": "Team VPN", "price_minor": 500, "currency": "EUR", "period_days": 30});
    json_status(owner.post("/services", &svc).await, 201).await;
    let bound = app.oidc_client(&owner, json!({"service": slug})).await;
    let demo_bound = app.oidc_client(&owner, json!({"service": "demo"})).await;
    let c = app.active().await;

    let pkce = Pkce::new();
    let resp = c.customer.client.get(app.authorize_url(&bound, &pkce, &[])).send().await.unwrap();
    assert_eq!(resp.status(), 403, "a page, not a code");
    assert!(location(&resp).is_none());
    let html = resp.text().await.unwrap();
    assert!(html.contains("Team VPN") && html.contains("action=\"/forms/order\""), "offers to buy: {html}");
    let start = html.find("id=\"continue\" href=\"").expect("a Continue link") + "id=\"continue\" href=\"".len();
    let link = html[start..].split('"').next().unwrap().replace("&amp;", "&");
    assert!(link.starts_with(&format!("{}?", bound.redirect)), "{link}");
    assert_eq!(param(&link, "error").as_deref(), Some("access_denied"));
    assert_eq!(param(&link, "state").as_deref(), Some("st-123"));

    // Paying for the demo service opens the client bound to it.
    let t = app.sign_in(&c.customer, &demo_bound).await;
    assert_eq!(
        app.verify_id_token(t["id_token"].as_str().unwrap(), &demo_bound.id).await.unwrap()["entitlements"],
        json!(["demo"])
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_temporary_password_and_suspension_come_first() {
    let app = TestApp::builder().start().await;
    let owner = app.admin("owner").await;
    let client = app.oidc_client(&owner, json!({})).await;
    let (_, creds) = app.verified().await;
    let browser = app.customer();
    json_status(browser.login(&creds.login, &creds.password).await, 200).await;
    let resp = browser.client.get(app.authorize_url(&client, &Pkce::new(), &[])).send().await.unwrap();
    assert_eq!(resp.status(), 303);
    assert!(location(&resp).unwrap().contains("/cabinet?rd="), "password change first");
    let none =
        browser.client.get(app.authorize_url(&client, &Pkce::new(), &[("prompt", Some("none"))])).send().await.unwrap();
    assert_eq!(param(&location(&none).unwrap(), "error").as_deref(), Some("login_required"));

    let c = app.active().await;
    let t = app.sign_in(&c.customer, &client).await;
    let support = app.admin("support").await;
    assert_eq!(support.post(&format!("/accounts/{}/suspend", c.login), &json!({})).await.status(), 204);
    let resp = c.customer.client.get(app.authorize_url(&client, &Pkce::new(), &[])).send().await.unwrap();
    assert!(location(&resp).unwrap().contains("/cabinet?rd="), "no code for a suspended account");
    assert_eq!(app.userinfo(t["access_token"].as_str().unwrap()).await.status(), 401);
    let r = app
        .token(&client, &[("grant_type", "refresh_token"), ("refresh_token", t["refresh_token"].as_str().unwrap())])
        .await;
    assert_oauth_error(r, 400, "invalid_grant").await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotated_keys_stay_published_until_their_tokens_expire() {
    let app = TestApp::builder().start().await;
    let owner = app.admin("owner").await;
    let client = app.oidc_client(&owner, json!({})).await;
    let c = app.active().await;
    let old = app.sign_in(&c.customer, &client).await;
    let old_token = old["id_token"].as_str().unwrap();
    let new_kid = app.rotate_oidc_keys().await;
    let jwks: Value = app.get("/oauth2/jwks").await.json().await.unwrap();
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 2);
    assert!(app.verify_id_token(old_token, &client.id).await.is_ok(), "the old key is still published");
    let new = app.sign_in(&c.customer, &client).await;
    let header = jsonwebtoken::decode_header(new["id_token"].as_str().unwrap()).unwrap();
    assert_eq!(header.kid.as_deref(), Some(new_kid.as_str()), "the new key signs");

    // Once the old key's tokens have expired, the next rotation unpublishes it.
    app.clock.advance(3600 + 301);
    app.rotate_oidc_keys().await;
    let jwks: Value = app.get("/oauth2/jwks").await.json().await.unwrap();
    let kids: Vec<&str> = jwks["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap()).collect();
    let old_kid = jsonwebtoken::decode_header(old_token).unwrap().kid.unwrap();
    assert!(!kids.contains(&old_kid.as_str()) && kids.contains(&new_kid.as_str()), "{kids:?}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rp_initiated_logout_returns_only_to_a_registered_uri() {
    let app = TestApp::builder().start().await;
    let owner = app.admin("owner").await;
    let client = app.oidc_client(&owner, json!({})).await;
    let c = app.active().await;
    let t = app.sign_in(&c.customer, &client).await;
    let hint = t["id_token"].as_str().unwrap();

    let bye = format!("{}/bye", client.redirect);
    let evil =
        format!("/oauth2/logout?id_token_hint={hint}&post_logout_redirect_uri={}", urlencode("https://evil.example/"));
    let resp = c.customer.client.get(app.url(&evil)).send().await.unwrap();
    assert_eq!(resp.status(), 400);
    assert!(location(&resp).is_none(), "never to an unregistered address");

    let c2 = app.active().await;
    let t2 = app.sign_in(&c2.customer, &client).await;
    let path = format!(
        "/oauth2/logout?id_token_hint={}&post_logout_redirect_uri={}&state=s-9",
        t2["id_token"].as_str().unwrap(),
        urlencode(&bye)
    );
    let resp = c2.customer.client.get(app.url(&path)).send().await.unwrap();
    assert_eq!(resp.status(), 303);
    assert_eq!(location(&resp).unwrap(), format!("{bye}?state=s-9"));
    assert_eq!(c2.customer.me().await.status(), 401, "the keyturn session ended");
    assert_eq!(app.userinfo(t2["access_token"].as_str().unwrap()).await.status(), 401, "the client's tokens too");

    // Without a hint (Grafana's sign-out URL): client_id names the client whose URIs count,
    // but a bare GET signs no one out (another site could embed it): a confirmation page.
    let c3 = app.active().await;
    let t3 = app.sign_in(&c3.customer, &client).await;
    let path = format!("/oauth2/logout?client_id={}&post_logout_redirect_uri={}&state=s-3", client.id, urlencode(&bye));
    let resp = c3.customer.client.get(app.url(&path)).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(location(&resp).is_none());
    let html = resp.text().await.unwrap();
    assert!(html.contains("method=\"post\" action=\"/oauth2/logout?lang=en\""), "{html}");
    assert_eq!(c3.customer.me().await.status(), 200, "a GET alone keeps the session");
    let form = hidden_fields(&html);
    assert_eq!(field(&form, "post_logout_redirect_uri"), Some(bye.as_str()));

    // The form without its token (as another site would post it), or with a wrong one: refused.
    let bare: Vec<(String, String)> = form.iter().filter(|(k, _)| k != "confirm").cloned().collect();
    let resp = c3.customer.client.post(app.url("/oauth2/logout")).form(&bare).send().await.unwrap();
    assert_eq!(resp.status(), 200, "the confirmation page again");
    let forged: Vec<(String, String)> = form
        .iter()
        .map(|(k, v)| if k == "confirm" { (k.clone(), "0".repeat(64)) } else { (k.clone(), v.clone()) })
        .collect();
    let resp = c3.customer.client.post(app.url("/oauth2/logout")).form(&forged).send().await.unwrap();
    assert_eq!(resp.status(), 403);
    let cross = c3.customer.client.post(app.url("/oauth2/logout")).header("Origin", "https://evil.example").form(&form);
    assert_eq!(cross.send().await.unwrap().status(), 403);
    // Another customer's token does not work for this session either.
    let other = app.active().await;
    let other_html = other.customer.client.get(app.url(&path)).send().await.unwrap().text().await.unwrap();
    let other_token = field(&hidden_fields(&other_html), "confirm").unwrap().to_string();
    assert_ne!(field(&form, "confirm"), Some(other_token.as_str()));
    assert_eq!(c3.customer.me().await.status(), 200, "still signed in");
    assert_eq!(app.userinfo(t3["access_token"].as_str().unwrap()).await.status(), 200);

    // The customer's own click: signed out, tokens at the client revoked, a link (no redirect) back.
    let resp = c3.customer.client.post(app.url("/oauth2/logout")).form(&form).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(location(&resp).is_none());
    let html = resp.text().await.unwrap();
    let link = format!("href=\"{}?state=s-3\"", bye);
    assert!(html.contains("Signed out") && html.contains(&link), "{html}");
    assert_eq!(c3.customer.me().await.status(), 401, "the keyturn session ended");
    assert_eq!(app.userinfo(t3["access_token"].as_str().unwrap()).await.status(), 401);

    // An unregistered return address: refused before anything changes, never followed.
    let c4 = app.active().await;
    let path = format!(
        "/oauth2/logout?client_id={}&post_logout_redirect_uri={}",
        client.id,
        urlencode("https://evil.example/")
    );
    let resp = c4.customer.client.get(app.url(&path)).send().await.unwrap();
    assert_eq!(resp.status(), 400);
    assert!(location(&resp).is_none());
    assert!(!resp.text().await.unwrap().contains("evil.example"));
    assert_eq!(c4.customer.me().await.status(), 200);
    app.stop().await;
}

/// The hidden fields of the first form of a page.
fn hidden_fields(html: &str) -> Vec<(String, String)> {
    html.split("<input type=\"hidden\" ")
        .skip(1)
        .map(|f| {
            let attr = |name: &str| {
                let start = f.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
                f[start..].split('"').next().unwrap().replace("&amp;", "&")
            };
            (attr("name"), attr("value"))
        })
        .collect()
}

fn field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn owners_manage_clients_and_deleting_one_ends_its_tokens() {
    let app = TestApp::builder().start().await;
    let owner = app.admin("owner").await;
    for bad in [
        json!({"name": "x", "redirect_uris": []}),
        json!({"name": "x", "redirect_uris": ["https://app.example/cb#frag"]}),
        json!({"name": "x", "redirect_uris": ["javascript:alert(1)"]}),
        json!({"name": "x", "redirect_uris": ["https://user@app.example/cb"]}),
        json!({"name": "", "redirect_uris": ["https://app.example/cb"]}),
        json!({"name": "x", "redirect_uris": ["https://app.example/cb"], "service": "nosuch"}),
    ] {
        assert_error(owner.post("/oidc-clients", &bad).await, 422, "validation_failed").await;
    }
    let client = app.oidc_client(&owner, json!({})).await;
    let c = app.active().await;
    let t = app.sign_in(&c.customer, &client).await;
    let del = owner.request(reqwest::Method::DELETE, &format!("/oidc-clients/{}", client.id), None).await;
    assert_eq!(del.status(), 204);
    assert_eq!(app.userinfo(t["access_token"].as_str().unwrap()).await.status(), 401);
    let resp = c.customer.client.get(app.authorize_url(&client, &Pkce::new(), &[])).send().await.unwrap();
    assert_eq!(resp.status(), 400, "an unknown client gets our page");
    assert!(location(&resp).is_none());
    assert_eq!(owner.audit("action=oidc_client.delete").await.len(), 1);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_time_is_when_the_customer_logged_in() {
    let app = TestApp::builder().start().await;
    let owner = app.admin("owner").await;
    let client = app.oidc_client(&owner, json!({})).await;
    let before = app.clock.now();
    let c = app.active().await;
    let after = app.clock.now();
    app.clock.advance(600);
    let t = app.sign_in(&c.customer, &client).await;
    let claims = app.verify_id_token(t["id_token"].as_str().unwrap(), &client.id).await.unwrap();
    let login_time = claims["auth_time"].as_i64().unwrap();
    assert!((before..=after).contains(&login_time), "the login, not the code: {claims}");
    assert!(claims["iat"].as_i64().unwrap() >= after + 600);
    // A refresh keeps the original authentication time.
    app.clock.advance(60);
    let r = t["refresh_token"].as_str().unwrap();
    let t2 = json_status(app.token(&client, &[("grant_type", "refresh_token"), ("refresh_token", r)]).await, 200).await;
    let claims2 = app.verify_id_token(t2["id_token"].as_str().unwrap(), &client.id).await.unwrap();
    assert_eq!(claims2["auth_time"], login_time);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prompt_none_answers_the_client_instead_of_showing_a_page() {
    let app = TestApp::builder().start().await;
    let owner = app.admin("owner").await;
    let slug = format!("vpn-{}", hex::encode(rand::random::<[u8; 3]>()));
    let svc = json!({"slug": slug, "name": "Team VPN", "price_minor": 500, "currency": "EUR", "period_days": 30});
    json_status(owner.post("/services", &svc).await, 201).await;
    let bound = app.oidc_client(&owner, json!({"service": slug})).await;
    let open = app.oidc_client(&owner, json!({})).await;
    let pkce = Pkce::new();
    let back_with = |resp: &reqwest::Response, client: &RpClient| {
        assert_eq!(resp.status(), 303);
        let to = location(resp).unwrap();
        assert!(to.starts_with(&format!("{}?", client.redirect)), "{to}");
        assert_eq!(param(&to, "state").as_deref(), Some("st-123"));
        assert!(param(&to, "code").is_none(), "{to}");
        param(&to, "error").unwrap()
    };

    // Not logged in: login_required, not the login page.
    let anonymous = app.customer();
    let none = [("prompt", Some("none"))];
    let resp = anonymous.client.get(app.authorize_url(&open, &pkce, &none)).send().await.unwrap();
    assert_eq!(back_with(&resp, &open), "login_required");

    // A bound client refusing the customer: access_denied, not the buy-or-renew page.
    let c = app.active().await;
    let resp = c.customer.client.get(app.authorize_url(&bound, &pkce, &none)).send().await.unwrap();
    assert_eq!(back_with(&resp, &bound), "access_denied");

    // max_age: a login older than it needs a new login, which prompt=none cannot ask for.
    app.clock.advance(600);
    let old = [("prompt", Some("none")), ("max_age", Some("300"))];
    let resp = c.customer.client.get(app.authorize_url(&open, &pkce, &old)).send().await.unwrap();
    assert_eq!(back_with(&resp, &open), "login_required");
    let recent = [("prompt", Some("none")), ("max_age", Some("3600"))];
    let resp = c.customer.client.get(app.authorize_url(&open, &pkce, &recent)).send().await.unwrap();
    assert_eq!(resp.status(), 303);
    assert!(param(&location(&resp).unwrap(), "code").is_some(), "a login within max_age: a code");

    // prompt=none with another value, and a max_age that is not a number: invalid_request.
    for bad in [[("prompt", Some("none login")), ("max_age", None)], [("prompt", None), ("max_age", Some("soon"))]] {
        let resp = c.customer.client.get(app.authorize_url(&open, &pkce, &bad)).send().await.unwrap();
        assert_eq!(back_with(&resp, &open), "invalid_request", "{bad:?}");
    }
    app.stop().await;
}

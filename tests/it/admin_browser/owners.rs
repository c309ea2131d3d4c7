//! An owner creates, changes and takes a service off sale, creates, disables and enables an
//! administrator, pages through the audit log, and adds a webhook endpoint whose delivery it
//! sends again.

use serde_json::json;

use super::{log_in, shown, WAIT};
use crate::harness::browser::browser_or_skip;
use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owner_manages_services_and_admins_and_pages_through_the_audit_log() {
    let dir = tempfile::tempdir().unwrap();
    let Some(browser) = browser_or_skip(&dir.path().join("chromium-profile")).await else { return };
    let app = TestApp::builder().start().await;
    let api = app.admin("owner").await;
    let owner = app.new_admin("owner").await;
    log_in(&browser, Some(&app.public_url), &owner).await;
    browser.wait_for_visible("button[data-tab=services]", WAIT).await;

    // A new service (its name as text, never markup), then a new price, then off sale.
    let slug = format!("extra-{}", hex::encode(rand::random::<[u8; 3]>()));
    browser.click("button[data-tab=services]").await;
    browser.wait_for_visible("#service-form", WAIT).await;
    browser.type_into("#s-slug", &slug).await;
    browser.type_into("#s-name", "Extra <i>support</i>").await;
    browser.type_into("#s-price", "4.5").await;
    browser.clear("#s-days").await;
    browser.type_into("#s-days", "90").await;
    browser.click("#service-form button[type=submit]").await;
    browser.wait_for_text(&format!("Service {slug} created"), WAIT).await;
    let listed = browser.wait_for_text("Extra <i>support</i>", WAIT).await;
    assert!(listed.contains("4.50 EUR") && listed.contains("90 days"), "the catalog: {listed}");
    assert_eq!(
        browser.script("return document.querySelectorAll('#service-table i').length;", json!([])).await,
        json!(0)
    );
    browser.click(&format!("button[data-service='{slug}'][data-action=edit]")).await;
    let editing = "const s = document.getElementById('s-slug'); return s.readOnly && s.value === arguments[0];";
    browser.wait_until_with(editing, json!([slug]), WAIT).await;
    browser.clear("#s-price").await;
    browser.type_into("#s-price", "5").await;
    browser.clear("#s-grace").await;
    browser.type_into("#s-grace", "5").await;
    browser.clear("#s-reminders").await;
    browser.type_into("#s-reminders", "3, 14").await;
    browser.click("#service-form button[type=submit]").await;
    browser.wait_for_text(&format!("Service {slug} saved"), WAIT).await;
    browser.wait_for_text("5.00 EUR", WAIT).await;
    browser.wait_for_text("14, 3 days before", WAIT).await;
    browser.click(&format!("button[data-service='{slug}'][data-action=deactivate]")).await;
    browser.wait_for_visible(&format!("button[data-service='{slug}'][data-action=activate]"), WAIT).await;
    let services = json_status(api.get("/services").await, 200).await;
    let service = services.as_array().unwrap().iter().find(|s| s["slug"] == slug.as_str()).expect("created");
    assert_eq!(
        (service["name"].as_str(), service["price_minor"].as_i64(), service["period_days"].as_i64()),
        (Some("Extra <i>support</i>"), Some(500), Some(90))
    );
    assert_eq!(service["active"], false);
    assert_eq!((service["grace_days"].clone(), service["reminder_days"].clone()), (json!(5), json!([14, 3])));
    browser.screenshot("admin-owner-1-services").await;

    // A new administrator, disabled (their logins refused), then enabled again.
    let username = format!("new-{}", hex::encode(rand::random::<[u8; 3]>()));
    let password = strong_password();
    browser.click("button[data-tab=admins]").await;
    browser.wait_for_visible("#admin-form", WAIT).await;
    assert!(!shown(&browser, &format!("button[data-admin='{}']", owner.username)).await, "one cannot disable oneself");
    browser.type_into("#ad-username", &username).await;
    browser.script("document.getElementById('ad-role').value = 'support';", json!([])).await;
    browser.type_into("#ad-password", &password).await;
    browser.click("#admin-form button[type=submit]").await;
    browser.wait_for_text(&format!("Administrator {username} (support) created"), WAIT).await;
    let created = AdminActor::new(&app.base, &username, &password, "support");
    assert_eq!(created.login(None).await.status(), 200);
    browser.click(&format!("button[data-admin='{username}'][data-action=disable]")).await;
    browser.wait_for_text("is disabled", WAIT).await;
    assert_error(created.fresh().login(None).await, 403, "admin_disabled").await;
    browser.screenshot("admin-owner-2-admins").await;
    browser.click(&format!("button[data-admin='{username}'][data-action=enable]")).await;
    browser.wait_for_text("may log in again", WAIT).await;
    assert_eq!(created.fresh().login(None).await.status(), 200);

    // The audit log in pages: 50 entries, then "More" for the rest.
    for i in 0..55 {
        assert_eq!(api.patch("/services/demo", json!({"name": format!("Demo {i}")})).await.status(), 200);
    }
    browser.click("button[data-tab=audit]").await;
    browser.wait_for_visible("#audit-filter", WAIT).await;
    browser.type_into("#au-action", "service.update").await;
    browser.click("#audit-filter button[type=submit]").await;
    let rows = "const rows = [...document.querySelectorAll('#audit-table tbody tr')];
        return rows.length === arguments[0] && rows.every((r) => r.cells[2].textContent === 'service.update');";
    browser.wait_until_with(rows, json!([50]), WAIT).await;
    browser.click("#audit-more").await;
    // 55 from the API, 2 from the page (the new price, off sale).
    browser.wait_until_with(rows, json!([57]), WAIT).await;
    assert!(!shown(&browser, "#audit-more").await, "the last page offers more");
    browser.screenshot("admin-owner-3-audit").await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owner_adds_a_webhook_endpoint_and_sends_a_delivery_again() {
    let dir = tempfile::tempdir().unwrap();
    let Some(browser) = browser_or_skip(&dir.path().join("chromium-profile")).await else { return };
    let app = crate::webhooks::app_with_local_hooks().await;
    let receiver = crate::harness::receiver::Receiver::start().await;
    let owner = app.new_admin("owner").await;
    log_in(&browser, Some(&app.public_url), &owner).await;
    browser.wait_for_visible("button[data-tab=webhooks]", WAIT).await;
    browser.click("button[data-tab=webhooks]").await;
    browser.wait_for_visible("#webhook-form", WAIT).await;
    browser.type_into("#wh-url", &receiver.url).await;
    browser.type_into("#wh-events", "account.suspended").await;
    browser.click("#webhook-form button[type=submit]").await;
    browser.wait_for_text("Endpoint added.", WAIT).await;
    let secret = browser.script("return document.getElementById('wh-secret-value').textContent;", json!([])).await;
    let secret = secret.as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"), "{secret}");

    let (_, creds) = app.verified().await;
    let support = app.admin("support").await;
    assert_eq!(support.post(&format!("/accounts/{}/suspend", creds.login), &json!({})).await.status(), 204);
    app.run_pending_jobs().await;
    assert!(crate::webhooks::signed_with(&secret, &receiver.received()[0]));

    browser.click("button[data-webhook]").await;
    browser.wait_for_visible("#delivery-table button[data-delivery]", WAIT).await;
    browser.click("#delivery-table button[data-delivery]").await;
    browser.wait_for_text("queued again", WAIT).await;
    app.run_pending_jobs().await;
    let got = receiver.received();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].id, got[1].id);
    browser.screenshot("admin-owner-webhooks").await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owner_creates_an_api_key_sees_it_once_and_revokes_it() {
    let dir = tempfile::tempdir().unwrap();
    let Some(browser) = browser_or_skip(&dir.path().join("chromium-profile")).await else { return };
    let app = TestApp::builder().start().await;
    let owner = app.new_admin("owner").await;
    let c = app.active().await;
    log_in(&browser, Some(&app.public_url), &owner).await;
    browser.wait_for_visible("button[data-tab=api-keys]", WAIT).await;
    browser.click("button[data-tab=api-keys]").await;
    browser.wait_for_visible("#key-form", WAIT).await;
    browser.type_into("#key-name", "vpn-gateway").await;
    browser.click("#key-form button[type=submit]").await;
    browser.wait_for_text("Copy it now", WAIT).await;
    let key = browser.script("return document.getElementById('key-value').value;", json!([])).await;
    let key = key.as_str().unwrap().to_string();
    assert!(key.starts_with("kt_"), "{key}");
    let read = |key: String| {
        let url = app.url(&format!("/api/v1/access?login={}", c.login));
        let client = app.client.clone();
        async move { client.get(url).bearer_auth(key).send().await.unwrap() }
    };
    json_status(read(key.clone()).await, 200).await;
    browser.click("#key-table button[data-action=revoke]").await;
    browser.wait_for_text("revoked: servers using it", WAIT).await;
    assert_error(read(key).await, 401, "invalid_api_key").await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owner_registers_an_oidc_app_sees_its_secret_once_and_deletes_it() {
    let dir = tempfile::tempdir().unwrap();
    let Some(browser) = browser_or_skip(&dir.path().join("chromium-profile")).await else { return };
    let app = TestApp::builder().start().await;
    let owner = app.new_admin("owner").await;
    log_in(&browser, Some(&app.public_url), &owner).await;
    browser.wait_for_visible("button[data-tab=oidc-clients]", WAIT).await;
    browser.click("button[data-tab=oidc-clients]").await;
    browser.wait_for_visible("#oidc-form", WAIT).await;
    browser.type_into("#oidc-name", "Grafana").await;
    browser.type_into("#oidc-redirects", "https://grafana.shop.example/login/generic_oauth").await;
    browser.click("#oidc-form button[type=submit]").await;
    browser.wait_for_text("Copy the secret now", WAIT).await;
    let id = browser.script("return document.getElementById('oidc-id').value;", json!([])).await;
    let secret = browser.script("return document.getElementById('oidc-secret').value;", json!([])).await;
    let client = RpClient {
        id: id.as_str().unwrap().to_string(),
        secret: secret.as_str().map(String::from),
        redirect: "https://grafana.shop.example/login/generic_oauth".into(),
    };
    assert!(client.secret.as_deref().is_some_and(|s| s.starts_with("kts_")), "{client:?}");
    // The secret works at the token endpoint (an unknown code, but the client is authenticated).
    let r = app.exchange(&client, "nosuch", &Pkce::new().verifier).await;
    assert_eq!(r.status(), 400, "invalid_grant, not invalid_client");
    browser.click("#oidc-table button[data-action=delete]").await;
    browser.wait_for_text("its tokens stop working", WAIT).await;
    assert_eq!(app.exchange(&client, "nosuch", &Pkce::new().verifier).await.status(), 401);
    app.stop().await;
}

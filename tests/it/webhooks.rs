//! Signed outgoing webhooks, received by a local HTTP server and checked with the Standard
//! Webhooks reference library (PyPI `standardwebhooks`, pinned in tests/interop) besides an
//! independent signer: every event type with the data it promises and never a password or
//! token, the secret shown once, rotation (two signatures), private targets refused.

use std::path::Path;
use std::process::Command;

use base64::Engine;
use serde_json::{json, Value};

use crate::harness::receiver::{Received, Receiver};
use crate::harness::*;

/// An app whose webhooks may go to this machine (the receiver listens on 127.0.0.1).
pub async fn app_with_local_hooks() -> TestApp {
    TestApp::builder().set("webhook_allow_private", "true").start().await
}

/// Adds an endpoint for `receiver` (all types when `events` is None); returns (id, secret).
pub async fn add_endpoint(owner: &AdminActor, receiver: &Receiver, events: Option<&[&str]>) -> (String, String) {
    let v = json_status(owner.post("/webhooks", &json!({"url": receiver.url, "events": events})).await, 201).await;
    let secret = v["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"), "{secret}");
    (v["endpoint_id"].as_str().unwrap().to_string(), secret)
}

fn key_of(secret: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.decode(secret.trim_start_matches("whsec_")).unwrap()
}

/// Whether one of the message's signatures was made with `secret` (checked by the test's own
/// signer, and by the reference library when it is installed).
pub fn signed_with(secret: &str, r: &Received) -> bool {
    let expected =
        crate::harness::webhook::sign(&key_of(secret), &r.id, r.timestamp.parse().unwrap(), r.body.as_bytes());
    let ours = r.signature.split(' ').any(|s| s == expected);
    if let Some(results) = reference_check(secret, std::slice::from_ref(r)) {
        let theirs = results[0]["expected"].as_str().unwrap();
        assert_eq!(ours, r.signature.split(' ').any(|s| s == theirs), "the reference library disagrees");
    }
    ours
}

/// The reference library's verdict on each message; `None` when it is not installed (allowed
/// only without KEYTURN_INTEROP).
fn reference_check(secret: &str, got: &[Received]) -> Option<Vec<Value>> {
    let ready = Command::new("python3").args(["-c", "import standardwebhooks"]).status().is_ok_and(|s| s.success());
    if !ready {
        assert!(std::env::var("KEYTURN_INTEROP").is_err(), "KEYTURN_INTEROP is set but standardwebhooks is missing");
        eprintln!("reference check skipped: pip install -r tests/interop/requirements.txt");
        return None;
    }
    let items: Vec<Value> = got
        .iter()
        .map(|r| json!({"secret": secret, "id": r.id, "timestamp": r.timestamp, "signature": r.signature, "body": r.body}))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("items.json");
    std::fs::write(&file, serde_json::to_vec(&items).unwrap()).unwrap();
    let interop = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop");
    let out = Command::new("python3").arg("sw_verify.py").arg(&file).current_dir(interop).output().unwrap();
    assert!(out.status.success(), "sw_verify.py: {}", String::from_utf8_lossy(&out.stderr));
    Some(serde_json::from_slice(&out.stdout).unwrap())
}

/// Asserts that the reference library's `verify()` accepts every message with `secret` and
/// returns its body; falls back to the test's own signer without the library.
fn verified_by_reference(secret: &str, got: &[Received]) {
    match reference_check(secret, got) {
        Some(results) => {
            for (r, v) in got.iter().zip(results) {
                assert_eq!(v["payload"], r.json(), "{} not verified: {v}", r.kind());
            }
        }
        None => assert!(got.iter().all(|r| signed_with(secret, r))),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_type_arrives_signed_with_its_data_and_no_secret() {
    let app = app_with_local_hooks().await;
    let receiver = Receiver::start().await;
    let owner = app.admin("owner").await;
    let (_, secret) = add_endpoint(&owner, &receiver, None).await;

    // Payment: order.paid, account.created, access.granted.
    let email = unique_email();
    let order_id = app.order(&email).await;
    let payment_id = random_id("pay");
    let body = app.success_body(&order_id, &payment_id, "authenticated").await;
    json_or_empty(app.signed_callback(&random_id("evt"), app.clock.now(), &body).await, 200).await;
    let creds = app.mail.credentials(&email, 1).await;
    // Verification: account.activated.
    json_status(app.verify(&creds.token).await, 200).await;
    // Support: access.extended, account.suspended, account.reinstated.
    let support = app.admin("support").await;
    let extend = json!({"service": "demo", "days": 10});
    assert_eq!(support.post(&format!("/accounts/{}/extend", creds.login), &extend).await.status(), 204);
    for action in ["suspend", "reinstate"] {
        assert_eq!(support.post(&format!("/accounts/{}/{action}", creds.login), &json!({})).await.status(), 204);
    }
    // A full refund: order.refunded.
    let demo = app.demo().await;
    let refund = Event {
        kind: "refund.succeeded",
        order_id: &order_id,
        payment_id: &payment_id,
        amount_minor: demo.price_minor,
        currency: &demo.currency,
        three_ds: "authenticated",
    };
    json_or_empty(app.signed_callback(&random_id("evt"), app.clock.now(), &refund.body()).await, 200).await;
    // Revocation: access.revoked.
    assert_eq!(support.post(&format!("/accounts/{}/revoke", creds.login), &json!({})).await.status(), 204);
    app.run_pending_jobs().await;

    let got = receiver.received();
    let kinds: Vec<String> = got.iter().map(Received::kind).collect();
    let expected = [
        "order.paid",
        "account.created",
        "access.granted",
        "account.activated",
        "access.extended",
        "account.suspended",
        "account.reinstated",
        "order.refunded",
        "access.revoked",
    ];
    let mut sorted = kinds.clone();
    sorted.sort();
    let mut want: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(sorted, want, "one message per event: {kinds:?}");
    verified_by_reference(&secret, &got);

    let ids: std::collections::BTreeSet<&str> = got.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids.len(), got.len(), "each event has its own webhook-id");
    for r in &got {
        let v = r.json();
        let data = &v["data"];
        assert!(v["timestamp"].as_str().is_some_and(|t| t.ends_with('Z')), "{v}");
        assert_eq!(data["login"], creds.login.as_str(), "{v}");
        assert_eq!(data["email"], email.as_str(), "{v}");
        // Never a password, a token or a secret, under any name.
        for needle in [creds.password.as_str(), creds.token.as_str(), secret.as_str(), "password", "token"] {
            assert!(!r.body.contains(needle), "{} carries {needle:?}: {}", r.kind(), r.body);
        }
        let kind = r.kind();
        if kind.starts_with("order.") || kind == "access.granted" {
            assert_eq!(data["order_id"], order_id.as_str(), "{v}");
        }
        if kind.starts_with("access.") {
            assert_eq!(data["service"], "demo", "{v}");
            assert!(data["active_until"].as_str().is_some_and(|t| t.ends_with('Z')), "{v}");
        }
    }
    let of = |k: &str| receiver.of_type(k)[0].json();
    assert_eq!(of("order.paid")["data"]["amount_minor"], demo.price_minor);
    let granted = of("access.granted")["data"]["active_until"].as_str().unwrap().to_string();
    let extended = of("access.extended")["data"]["active_until"].as_str().unwrap().to_string();
    assert!(extended > granted, "extension moves the end: {granted} → {extended}");
    assert!(
        of("order.refunded")["data"]["active_until"].as_str().unwrap() < extended.as_str(),
        "refund takes the period back"
    );
    app.assert_no_pending_jobs().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_expiring_and_expired_are_emitted_once_by_the_sweep() {
    let app = app_with_local_hooks().await;
    let receiver = Receiver::start().await;
    let owner = app.admin("owner").await;
    let (_, secret) = add_endpoint(&owner, &receiver, Some(&["access.expiring", "access.expired"])).await;
    let (email, creds) = app.verified().await;
    let demo = app.demo().await;
    app.sweep().await;
    app.run_pending_jobs().await;
    assert!(receiver.received().is_empty(), "a fresh access is neither expiring nor expired");

    // At each of the service's reminder days (demo: 7 and 1) before the end: expiring, once
    // however often the sweep runs.
    app.clock.advance((demo.period_days - 6) * 86_400);
    app.sweep().await;
    app.sweep().await;
    app.run_pending_jobs().await;
    assert_eq!(receiver.of_type("access.expiring").len(), 1);
    app.clock.advance(5 * 86_400 + 43_200);
    app.sweep().await;
    app.sweep().await;
    app.run_pending_jobs().await;
    let expiring = receiver.of_type("access.expiring");
    let days: Vec<Value> = expiring.iter().map(|r| r.json()["data"]["days_before"].clone()).collect();
    assert_eq!(days, [json!(7), json!(1)]);
    // Past the end and its grace (3 days for demo): expired, once.
    app.clock.advance(3 * 86_400 + 43_200);
    app.sweep().await;
    app.sweep().await;
    app.run_pending_jobs().await;
    let got = receiver.received();
    let kinds = got.iter().map(Received::kind).collect::<Vec<_>>();
    assert_eq!(kinds, ["access.expiring", "access.expiring", "access.expired"]);
    for r in &got {
        assert!(signed_with(&secret, r), "{}", r.kind());
        let data = r.json()["data"].clone();
        assert_eq!(
            (data["login"].as_str(), data["email"].as_str()),
            (Some(creds.login.as_str()), Some(email.as_str()))
        );
        assert_eq!(data["service"], "demo");
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_secret_is_shown_once_and_rotation_signs_with_both() {
    let app = app_with_local_hooks().await;
    let receiver = Receiver::start().await;
    let owner = app.admin("owner").await;
    let (id, old) = add_endpoint(&owner, &receiver, Some(&["account.suspended", "account.reinstated"])).await;
    let listed = json_status(owner.get("/webhooks").await, 200).await;
    assert_eq!(listed[0]["endpoint_id"], id.as_str());
    assert_eq!(listed[0]["events"], json!(["account.reinstated", "account.suspended"]));
    assert!(!listed.to_string().contains(&old), "a listing never shows the secret");

    let rotated = json_status(owner.post(&format!("/webhooks/{id}/rotate-secret"), &json!({})).await, 200).await;
    let new = rotated["secret"].as_str().unwrap().to_string();
    assert!(new.starts_with("whsec_") && new != old);
    let listed = json_status(owner.get("/webhooks").await, 200).await;
    assert_eq!(listed[0]["previous_signs_until"], rotated["previous_signs_until"]);
    let audit = owner.audit("").await;
    let trail = serde_json::to_string(&audit).unwrap();
    assert!(trail.contains("webhook.create") && trail.contains("webhook.rotate_secret"), "{trail}");
    assert!(!trail.contains(&old) && !trail.contains(&new), "the audit log never holds a secret");

    // During the rotation window: two signatures, one per secret, each verifying alone.
    let (_, creds) = app.verified().await;
    let support = app.admin("support").await;
    assert_eq!(support.post(&format!("/accounts/{}/suspend", creds.login), &json!({})).await.status(), 204);
    app.run_pending_jobs().await;
    let first = receiver.received();
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].signature.split(' ').count(), 2, "{}", first[0].signature);
    verified_by_reference(&old, &first);
    verified_by_reference(&new, &first);

    // After the window only the new secret signs.
    app.clock.advance(25 * 3600);
    let support = app.admin("support").await;
    assert_eq!(support.post(&format!("/accounts/{}/reinstate", creds.login), &json!({})).await.status(), 204);
    app.run_pending_jobs().await;
    let second = receiver.of_type("account.reinstated");
    assert_eq!(second[0].signature.split(' ').count(), 1);
    assert!(signed_with(&new, &second[0]) && !signed_with(&old, &second[0]));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_and_malformed_targets_are_refused() {
    let app = TestApp::builder().start().await;
    let receiver = Receiver::start().await;
    let owner = app.admin("owner").await;
    for url in [
        receiver.url.as_str(),
        "http://localhost:9/hook",
        "http://[::1]:9/",
        "http://169.254.169.254/latest",
        "http://10.0.0.8/",
    ] {
        let resp = owner.post("/webhooks", &json!({"url": url})).await;
        assert_error(resp, 422, "private_target").await;
    }
    for url in ["ftp://example.com/", "not a url", "https://user:pw@example.com/"] {
        assert_error(owner.post("/webhooks", &json!({"url": url})).await, 422, "invalid_url").await;
    }
    let local = app_with_local_hooks().await;
    let owner = local.admin("owner").await;
    let resp = owner.post("/webhooks", &json!({"url": receiver.url, "events": ["order.shipped"]})).await;
    assert_error(resp, 422, "unknown_event_type").await;
    assert_eq!(json_status(owner.get("/webhooks").await, 200).await, json!([]));
    local.stop().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_erasure_revokes_access_and_no_later_message_carries_the_address() {
    let app = app_with_local_hooks().await;
    let receiver = Receiver::start().await;
    let owner = app.admin("owner").await;
    add_endpoint(&owner, &receiver, None).await;
    receiver.answer(&[500; 4]);
    let (email, creds) = app.verified().await;
    app.run_pending_jobs().await;
    assert_eq!(receiver.received().len(), 4, "paid, created, granted, activated: each refused once");
    let support = app.admin("support").await;
    assert_eq!(support.post(&format!("/accounts/{}/erase", creds.login), &json!({})).await.status(), 204);
    app.clock.advance(5);
    app.run_pending_jobs().await;
    let later = receiver.received().split_off(4);
    assert_eq!(later.len(), 5, "{later:?}");
    for r in &later {
        assert!(!r.body.contains(&email), "{} still carries the address: {}", r.kind(), r.body);
    }
    let revoked = later.iter().find(|r| r.kind() == "access.revoked").expect("access.revoked").json();
    assert_eq!(revoked["data"]["reason"], "erased");
    assert_eq!(revoked["data"]["login"], creds.login.as_str());
    assert!(revoked["data"].get("email").is_none(), "{revoked}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_voided_authorisation_that_had_provisioned_tells_receivers_it_was_cancelled() {
    let app = TestApp::builder()
        .set("webhook_allow_private", "true")
        .set("capture", "manual")
        .set("provision_on_authorization", "true")
        .start()
        .await;
    let receiver = Receiver::start().await;
    let owner = app.admin("owner").await;
    add_endpoint(&owner, &receiver, Some(&["order.paid", "access.granted", "order.refunded"])).await;
    let email = unique_email();
    let order_id = app.order(&email).await;
    app.pay_with_card(&order_id, "4242424242424242", "").await;
    let operator = app.admin("operator").await;
    let pay_id = operator.payment_reaching(&order_id, "authorized").await["payment_id"].as_str().unwrap().to_string();
    app.run_pending_jobs().await;
    let granted = receiver.of_type("access.granted");
    assert_eq!((receiver.of_type("order.paid").len(), granted.len()), (1, 1));

    json_status(operator.operate(&pay_id, "cancel", json!({}), None).await, 200).await;
    app.callbacks_applied(&order_id, "cancelled", 2).await;
    app.run_pending_jobs().await;
    let undone = receiver.of_type("order.refunded");
    assert_eq!(undone.len(), 1, "the void is told once");
    let data = undone[0].json()["data"].clone();
    assert_eq!((data["order_id"].as_str(), data["reason"].as_str()), (Some(order_id.as_str()), Some("cancelled")));
    assert_eq!(data["service"], "demo");
    let before = granted[0].json()["data"]["active_until"].as_str().unwrap().to_string();
    assert!(data["active_until"].as_str().unwrap() < before.as_str(), "the access after the void: {data}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refunding_a_held_order_tells_receivers_nothing() {
    let app = app_with_local_hooks().await;
    let receiver = Receiver::start().await;
    let owner = app.admin("owner").await;
    let c = app.active().await;
    assert_eq!(owner.post(&format!("/accounts/{}/revoke", c.login), &json!({})).await.status(), 204);
    add_endpoint(&owner, &receiver, None).await;
    let order_id = app.order(&c.email).await;
    app.pay_with_card(&order_id, "4242424242424242", "").await;
    let pay_id = owner.payment_reaching(&order_id, "succeeded").await["payment_id"].as_str().unwrap().to_string();
    json_status(owner.operate(&pay_id, "refund", json!({}), None).await, 200).await;
    assert_eq!(app.order_status(&order_id).await, "refunded");
    app.run_pending_jobs().await;
    let got: Vec<String> = receiver.received().iter().map(Received::kind).collect();
    assert!(got.is_empty(), "receivers never saw this order paid: {got:?}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_expired_waits_for_the_grace_and_a_renewal_in_grace_is_an_extension() {
    let app = app_with_local_hooks().await;
    let receiver = Receiver::start().await;
    let owner = app.admin("owner").await;
    let (_, renewing) = app.verified().await;
    let (_, lapsing) = app.verified().await;
    add_endpoint(&owner, &receiver, Some(&["access.expired", "access.extended", "access.granted"])).await;
    let demo = app.demo().await;

    // A day past the paid period: in grace (3 days for demo), so not expired yet.
    app.clock.advance((demo.period_days + 1) * 86_400);
    app.sweep().await;
    app.run_pending_jobs().await;
    assert!(receiver.of_type("access.expired").is_empty(), "still in grace");
    let support = app.admin("support").await;
    let extend = json!({"service": "demo", "days": 10});
    assert_eq!(support.post(&format!("/accounts/{}/extend", renewing.login), &extend).await.status(), 204);
    app.run_pending_jobs().await;
    let kinds: Vec<String> = receiver.received().iter().map(Received::kind).collect();
    assert_eq!(kinds, ["access.extended"], "the doors never closed: an extension");

    // Past the grace: the lapsing access expires, once.
    app.clock.advance(2 * 86_400);
    app.sweep().await;
    app.sweep().await;
    app.run_pending_jobs().await;
    let expired = receiver.of_type("access.expired");
    assert_eq!(expired.len(), 1, "{expired:?}");
    assert_eq!(expired[0].json()["data"]["login"], lapsing.login.as_str());
    app.stop().await;
}

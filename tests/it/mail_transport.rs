//! How emails leave: SMTP with STARTTLS (verified), or .eml files by default.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_email_goes_out_over_starttls() {
    let app = TestApp::builder().starttls(true).start().await;
    let (email, order_id, creds) = app.provisioned().await;
    assert!(!creds.login.is_empty() && !creds.password.is_empty());
    assert_eq!(creds.link, format!("{}/verify-email?token={}", app.public_url, creds.token));
    app.wait_for_status(&order_id, "provisioned").await;
    assert_eq!(app.mail.count(&email, Kind::Confirmation), 1);
    // Both emails travelled inside a TLS session: STARTTLS was negotiated and the address
    // never crossed the wire in clear text.
    let mails = app.mail.to(&email);
    assert_eq!(mails.len(), 2);
    for mail in mails {
        assert!(mail.tls, "{:?} was sent in clear text", mail.subject);
    }
    app.stop().await;
}

/// The control for the test above: the same server, but plain SMTP; its emails are seen in clear.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_smtp_to_the_same_server_is_seen_in_clear_text() {
    let app = TestApp::builder().plain_to_starttls_server().start().await;
    let (email, _, _) = app.provisioned().await;
    let mail = app.mail.wait_for(&email, Kind::Confirmation, 1, MAIL_TIMEOUT).await;
    assert!(!mail.tls, "a plain SMTP session counted as TLS");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn untrusted_smtp_certificate_delays_mail_and_never_downgrades() {
    // The server offers STARTTLS with a self-signed cert the app was not told to trust.
    let app = TestApp::builder().starttls(false).start().await;
    let email = unique_email();
    let order_id = app.order(&email).await;
    app.pay_by_callback(&order_id, "authenticated").await;
    // Each email is tried now: the TLS handshake fails, and it waits for a retry.
    app.run_pending_jobs().await;
    assert_eq!(app.mail.count(&email, Kind::Any), 0, "sent without verified TLS");
    let tried = failed_attempts(&app, &email).await;
    assert_eq!(tried.len(), 2, "both emails tried once and kept for a retry: {tried:?}");
    // Paid (the money is ours, the account exists), but not provisioned until the email goes out.
    assert_eq!(app.order_status(&order_id).await, "paid");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_smtp_emails_are_written_as_eml_files() {
    let app = TestApp::builder().file_mail().start().await;
    let email = unique_email();
    let order_id = app.order(&email).await;
    app.pay_by_callback(&order_id, "authenticated").await;
    app.wait_for_status(&order_id, "provisioned").await;

    let outbox = app.data_dir().join("outbox");
    let deadline = Instant::now() + MAIL_TIMEOUT;
    let credentials = loop {
        let files: Vec<Vec<u8>> = std::fs::read_dir(&outbox)
            .map(|d| d.flatten().filter_map(|e| std::fs::read(e.path()).ok()).collect())
            .unwrap_or_default();
        let captured: Vec<Mail> = files
            .into_iter()
            .map(|raw| smtp::Captured { from: String::new(), to: vec![email.clone()], raw, tls: false })
            .filter(|c| String::from_utf8_lossy(&c.raw).contains(&email))
            .map(|c| Mail::from_captured(&c))
            .collect();
        if let Some(m) = captured.iter().find(|m| m.kind() == Kind::Credentials) {
            break m.credentials().unwrap();
        }
        assert!(Instant::now() < deadline, "no credentials .eml in {}", outbox.display());
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    json_status(app.verify(&credentials.token).await, 200).await;
    json_status(app.customer().login(&credentials.login, &credentials.password).await, 200).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtp_outage_delays_emails_but_never_loses_them() {
    // Nobody listens on the SMTP port yet.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let store = smtp::Store::default();
    let app = TestApp::builder().smtp_at(port, store.clone()).start().await;
    let email = unique_email();
    let order_id = app.order(&email).await;
    app.pay_by_callback(&order_id, "authenticated").await;
    app.run_pending_jobs().await;
    assert_eq!(app.mail.count(&email, Kind::Any), 0);
    let tried = failed_attempts(&app, &email).await;
    assert_eq!(tried.len(), 2, "both emails tried once and kept for a retry: {tried:?}");
    assert_eq!(app.order_status(&order_id).await, "paid");

    // The mail server comes back; the retries are due after their backoff (at most 60 s here).
    let listener = std::net::TcpListener::bind(("127.0.0.1", port)).expect("SMTP port taken meanwhile");
    smtp::spawn_on(listener, store);
    app.clock.advance(60);
    app.run_pending_jobs().await;
    app.assert_no_pending_jobs().await;
    let creds = app.mail.credentials(&email, 1).await;
    app.wait_for_status(&order_id, "provisioned").await;
    app.assert_mail_count(&email, Kind::Credentials, 1).await;
    assert_eq!(app.mail.count(&email, Kind::Confirmation), 1);
    // The password in the email that finally went out is the one that works.
    json_status(app.verify(&creds.token).await, 200).await;
    json_status(app.customer().login(&creds.login, &creds.password).await, 200).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn support_sees_given_up_emails_and_sends_them_again() {
    // The mail server is down and every email is given up after one attempt.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let store = smtp::Store::default();
    let app = TestApp::builder().smtp_at(port, store.clone()).set("outbox_max_attempts", "1").start().await;
    let support = app.admin("support").await;
    let email = unique_email();
    let order_id = app.order(&email).await;
    app.pay_by_callback(&order_id, "authenticated").await;
    let deadline = Instant::now() + MAIL_TIMEOUT;
    let dead = loop {
        let v = json_status(support.get("/emails?status=dead").await, 200).await;
        let mine: Vec<Value> = v.as_array().unwrap().iter().filter(|e| e["to"] == email.as_str()).cloned().collect();
        if mine.len() == 2 {
            break mine;
        }
        assert!(Instant::now() < deadline, "the emails were never given up: {v}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let credentials = dead.iter().find(|e| e["kind"] == "credentials").expect("the credentials email is dead");
    assert_eq!(
        (credentials["attempts"].as_i64(), credentials["order_id"].as_str()),
        (Some(1), Some(order_id.as_str()))
    );
    assert!(credentials["last_error"].as_str().is_some_and(|e| !e.is_empty()), "{credentials}");
    let id = credentials["email_id"].as_str().unwrap();

    // The mail server is back: support sends it again, and the customer gets a login that works.
    smtp::spawn_on(std::net::TcpListener::bind(("127.0.0.1", port)).unwrap(), store);
    assert_eq!(support.post(&format!("/emails/{id}/retry"), &json!({})).await.status(), 202);
    let creds = app.mail.credentials(&email, 1).await;
    json_status(app.verify(&creds.token).await, 200).await;
    json_status(app.customer().login(&creds.login, &creds.password).await, 200).await;
    assert_error(support.post(&format!("/emails/{id}/retry"), &json!({})).await, 409, "email_not_dead").await;
    assert_error(support.post("/emails/job_nosuch/retry", &json!({})).await, 404, "not_found").await;
    assert_error(support.get("/emails?status=lost").await, 400, "invalid_query").await;
    let viewer = app.admin("viewer").await;
    assert_eq!(viewer.get("/emails").await.status(), 200);
    assert_eq!(viewer.post(&format!("/emails/{id}/retry"), &json!({})).await.status(), 403);
    let owner = app.admin("owner").await;
    let entry = &owner.audit("action=email.retry").await[0];
    assert_eq!((entry["actor"].as_str(), entry["target"].as_str()), (Some(support.username.as_str()), Some(id)));
    app.stop().await;
}

/// The outbox rows for `to` that were tried, failed and wait for a retry, as support sees them.
async fn failed_attempts(app: &TestApp, to: &str) -> Vec<Value> {
    let support = app.admin("support").await;
    let v = json_status(support.get("/emails?status=pending").await, 200).await;
    let mine = v.as_array().unwrap().iter().filter(|e| e["to"] == to);
    mine.filter(|e| e["attempts"] == 1 && e["last_error"].as_str().is_some_and(|e| !e.is_empty())).cloned().collect()
}

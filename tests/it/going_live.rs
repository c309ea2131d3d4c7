//! The merchant's side of going live: a voided authorisation tells the customer by email, a
//! stale amount moves no money (`expected_amount_minor`), an invoice's link is sent again (and
//! not too often), a service's slug is renamed with its old one kept as an alias, and
//! `check-config --production` names every problem left.

use std::process::Command;

use serde_json::{json, Value};

use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_voided_authorisation_sends_a_cancellation_email_and_a_stale_amount_moves_nothing() {
    let app = TestApp::builder().set("capture", "manual").start().await;
    let operator = app.admin("operator").await;
    let email = unique_email();
    let order_id = app.order(&email).await;
    app.pay_with_card(&order_id, "4242424242424242", "").await;
    let pay_id = operator.payment_reaching(&order_id, "authorized").await["payment_id"].as_str().unwrap().to_string();
    // The page showed another amount: nothing happens.
    let stale = json!({"expected_amount_minor": 999});
    assert_error(operator.operate(&pay_id, "cancel", stale, None).await, 409, "amount_changed").await;
    assert_eq!(app.order_status(&order_id).await, "pending_payment");

    let body = json!({"expected_amount_minor": 1990});
    let done = json_status(operator.operate(&pay_id, "cancel", body, None).await, 200).await;
    assert_eq!(done["payment_status"], "cancelled");
    let mail = app.mail.wait_for(&email, Kind::Other, 1, MAIL_TIMEOUT).await;
    assert!(mail.subject.contains("is cancelled"), "{}", mail.subject);
    assert!(mail.text.contains(&order_id) && mail.text.contains("no money is taken"), "{}", mail.text);
    // The sandbox's echo of the void sends nothing more.
    app.callbacks_applied(&order_id, "cancelled", 2).await;
    app.run_pending_jobs().await;
    assert_eq!(app.mail.count(&email, Kind::Other), 1, "a second cancellation email");
    app.assert_no_pending_jobs().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partial_refund_emails_the_customer_once_and_keeps_the_access() {
    let app = TestApp::builder().start().await;
    let operator = app.admin("operator").await;
    let email = unique_email();
    let order_id = app.order(&email).await;
    app.pay_with_card(&order_id, "4242424242424242", "").await;
    app.mail.credentials(&email, 1).await;
    let pay_id = operator.payment_reaching(&order_id, "succeeded").await["payment_id"].as_str().unwrap().to_string();
    let body = json!({"amount_minor": 500, "expected_amount_minor": 500});
    json_status(operator.operate(&pay_id, "refund", body, None).await, 200).await;
    let mail = app.mail.wait_for(&email, Kind::Other, 1, MAIL_TIMEOUT).await;
    assert!(mail.text.contains("€5.00 of your payment of €19.90"), "{}", mail.text);
    assert!(mail.text.contains("stays active until"), "{}", mail.text);
    app.run_pending_jobs().await;
    assert_eq!(app.mail.count(&email, Kind::Other), 1, "the gateway's echo sent a second refund email");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invoice_link_is_sent_again_while_payable_and_not_too_often() {
    let app = TestApp::builder().start().await;
    let operator = app.admin("operator").await;
    let email = unique_email();
    let body = json!({"name": "Grace Hopper", "email": email, "service": "demo"});
    let created = json_status(operator.post("/invoices", &body).await, 201).await;
    let send = format!("/invoices/{}/send", created["invoice_id"].as_str().unwrap());
    for n in 1..=3 {
        let v = json_status(operator.post(&send, &json!({})).await, 202).await;
        assert_eq!(v["to"], "***@example.test");
        app.mail.wait_for(&email, Kind::Other, n, MAIL_TIMEOUT).await;
    }
    assert_error(operator.post(&send, &json!({})).await, 429, "rate_limited").await;
    let unknown = "/invoices/inv_00000000000000000000000000000000/send";
    assert_error(operator.post(unknown, &json!({})).await, 404, "not_found").await;
    let viewer = app.admin("viewer").await;
    assert_error(viewer.post(&send, &json!({})).await, 403, "forbidden").await;
    app.pay_by_callback(created["order_id"].as_str().unwrap(), "authenticated").await;
    // Paid: nothing to send (whatever the hourly limit says).
    assert_error(operator.post(&send, &json!({})).await, 409, "invoice_not_payable").await;
    assert_eq!(operator.audit_as_owner(&app, "action=invoice.send").await.len(), 3);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renamed_service_keeps_its_old_slug_as_an_alias() {
    let app = TestApp::builder().start().await;
    let owner = app.admin("owner").await;
    // A customer of the service before the rename keeps their access under the new slug.
    let (email, _, creds) = app.provisioned().await;
    json_status(app.verify(&creds.token).await, 200).await;
    let other = json!({"slug": "other", "name": "Other", "price_minor": 500, "currency": "EUR", "period_days": 30});
    json_status(owner.post("/services", &other).await, 201).await;

    let taken = owner.post("/services/demo/rename", &json!({"new_slug": "other"})).await;
    assert_error(taken, 409, "slug_taken").await;
    let renamed = json_status(owner.post("/services/demo/rename", &json!({"new_slug": "pro"})).await, 200).await;
    assert_eq!(renamed["slug"], "pro");
    let catalog = json_status(app.get("/api/v1/services").await, 200).await;
    let slugs: Vec<&str> = catalog.as_array().unwrap().iter().map(|s| s["slug"].as_str().unwrap()).collect();
    assert!(slugs.contains(&"pro") && !slugs.contains(&"demo"), "{slugs:?}");
    // The old slug still orders the service, by the API and by a site-builder form.
    let order = json!({"service": "demo", "name": "Ada", "email": unique_email()});
    let placed = json_status(app.post_json("/api/v1/orders", &order).await, 201).await;
    let detail = json_status(owner.get(&format!("/orders/{}", placed["order_id"].as_str().unwrap())).await, 200).await;
    assert_eq!(detail["service"], "pro", "{detail}");
    let form = [("service", "demo"), ("Name", "Grace"), ("Email", email.as_str())];
    let resp = app.client.post(app.url("/forms/order")).form(&form).send().await.unwrap();
    assert_eq!(resp.status(), 303, "{}", resp.text().await.unwrap());
    // The earlier order and the access moved with it.
    let orders = json_status(owner.get(&format!("/orders?email={email}")).await, 200).await;
    assert!(orders["orders"].as_array().unwrap().iter().all(|o| o["service"] == "pro"), "{orders}");
    let customer = app.customer();
    json_status(customer.login(&creds.login, &creds.password).await, 200).await;
    let password = strong_password();
    assert_eq!(customer.change_password(&creds.password, &password).await.status(), 204);
    let me = json_status(customer.me().await, 200).await;
    assert_eq!(
        (me["services"][0]["slug"].as_str(), me["services"][0]["state"].as_str()),
        (Some("pro"), Some("active"))
    );
    // Links and configurations that still say the old slug keep working: a proxy asking
    // forward auth about it lets the customer in, a server's API key check of it passes, and
    // the order page of a site-builder button sells the renamed service.
    let verified = customer.client.get(app.url("/auth/verify?service=demo")).send().await.unwrap();
    assert_eq!(verified.status(), 200, "{}", verified.text().await.unwrap());
    assert_eq!(verified.headers()["remote-groups"], "pro");
    let key =
        json_status(owner.post("/api-keys", &json!({"name": "vpn", "scopes": ["access:check"]})).await, 201).await;
    let body = json!({"login": creds.login, "password": password, "service": "demo"});
    let checked =
        app.client.post(app.url("/api/v1/access/check")).bearer_auth(key["key"].as_str().unwrap()).json(&body);
    json_status(checked.send().await.unwrap(), 200).await;
    let page = app.get("/buy/demo").await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("action=\"/buy/pro\""), "the order page sells the renamed service");
    // The alias is not free: neither for another service's rename nor for a new service.
    assert_error(owner.post("/services/other/rename", &json!({"new_slug": "demo"})).await, 409, "slug_taken").await;
    let again = json!({"slug": "demo", "name": "Again", "price_minor": 500, "currency": "EUR", "period_days": 30});
    assert_error(owner.post("/services", &again).await, 409, "service_exists").await;
    // Renaming back to an old slug takes the alias back.
    json_status(owner.post("/services/pro/rename", &json!({"new_slug": "demo"})).await, 200).await;
    let order = json!({"service": "pro", "name": "Ada", "email": unique_email()});
    json_status(app.post_json("/api/v1/orders", &order).await, 201).await;
    assert_error(owner.post("/services/nope/rename", &json!({"new_slug": "x"})).await, 404, "not_found").await;
    let bad = owner.post("/services/demo/rename", &json!({"new_slug": "Not A Slug"})).await;
    assert_error(bad, 422, "validation_failed").await;
    let audit: Vec<Value> = owner.audit("action=service.rename").await;
    assert_eq!(audit.len(), 2, "{audit:?}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_renames_to_one_slug_leave_one_service_with_it_and_refuse_the_other() {
    let app = TestApp::builder().start().await;
    let owner = app.admin("owner").await;
    for round in 0..6 {
        let (a, b, target) = (format!("a{round}"), format!("b{round}"), format!("t{round}"));
        for slug in [&a, &b] {
            let s = json!({"slug": slug, "name": slug, "price_minor": 500, "currency": "EUR", "period_days": 30});
            json_status(owner.post("/services", &s).await, 201).await;
        }
        let to = json!({"new_slug": target});
        let (pa, pb) = (format!("/services/{a}/rename"), format!("/services/{b}/rename"));
        let (ra, rb) = tokio::join!(owner.post(&pa, &to), owner.post(&pb, &to));
        let mut statuses = [ra.status().as_u16(), rb.status().as_u16()];
        let bodies = [ra.text().await.unwrap(), rb.text().await.unwrap()];
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 409], "round {round}: {bodies:?}");
        assert!(bodies.iter().any(|b| b.contains("slug_taken")), "{bodies:?}");
        // The winner sells under the new slug; the loser still sells under its own.
        let catalog = json_status(app.get("/api/v1/services").await, 200).await;
        let slugs: Vec<&str> = catalog.as_array().unwrap().iter().map(|s| s["slug"].as_str().unwrap()).collect();
        let kept = [&a, &b].iter().filter(|s| slugs.contains(&s.as_str())).count();
        assert!(slugs.contains(&target.as_str()) && kept == 1, "round {round}: {slugs:?}");
    }
    app.stop().await;
}

fn keyturn(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_keyturn"));
    cmd.args(args).env_clear().env("PATH", std::env::var("PATH").unwrap_or_default());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run keyturn")
}

#[test]
fn check_config_production_names_each_problem() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_string_lossy().into_owned();
    let out = keyturn(&["check-config", "--production"], &[("KEYTURN_DATA_DIR", &data)]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "a fresh install is ready for production: {stdout}");
    for problem in [
        "sandbox on",
        "captcha off",
        "no public URL",
        "demo service is on sale",
        "no merchant name",
        "SMTP not set",
        "no administrator",
    ] {
        assert!(stdout.contains(problem), "check-config --production does not name {problem:?}:\n{stdout}");
    }
    let http = [("KEYTURN_DATA_DIR", data.as_str()), ("KEYTURN_PUBLIC_URL", "http://shop.example")];
    let stdout = String::from_utf8_lossy(&keyturn(&["check-config", "--production"], &http).stdout).into_owned();
    assert!(stdout.contains("public URL is http, not https"), "{stdout}");

    // Everything done: an owner, the demo off sale, the settings of a real shop.
    let mut create = Command::new(env!("CARGO_BIN_EXE_keyturn"));
    create.args(["admin", "create", "--username", "owner", "--role", "owner", "--password-stdin"]);
    create.env_clear().env("KEYTURN_DATA_DIR", &data).stdin(std::process::Stdio::piped());
    let mut child = create.spawn().unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(format!("{}\n", strong_password()).as_bytes()).unwrap();
    assert!(child.wait().unwrap().success());
    let db = dir.path().join("keyturn.db");
    let mut c = <diesel::SqliteConnection as diesel::Connection>::establish(&db.to_string_lossy()).unwrap();
    let off = "INSERT INTO services (slug, name, price_minor, currency, period_days, active, created_at, updated_at) \
               VALUES ('demo', 'Demo', 1990, 'EUR', 30, FALSE, 0, 0)";
    diesel::RunQueryDsl::execute(diesel::sql_query(off), &mut c).unwrap();
    let ready = [
        ("KEYTURN_DATA_DIR", data.as_str()),
        ("KEYTURN_PUBLIC_URL", "https://account.shop.example"),
        ("KEYTURN_SANDBOX_ENABLED", "false"),
        ("KEYTURN_HCAPTCHA_SECRET", "0x0000000000000000000000000000000000000000"),
        ("KEYTURN_HCAPTCHA_SITEKEY", "10000000-ffff-ffff-ffff-000000000001"),
        ("KEYTURN_MERCHANT_NAME", "Shop"),
        ("KEYTURN_SMTP_URL", "smtp://127.0.0.1:2525"),
    ];
    let out = keyturn(&["check-config", "--production"], &ready);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("ready for production"), "{stdout}");
}

//! Pay-by-link invoices: an operator invoices a customer, the customer opens the link, accepts
//! the terms and pays; the order is provisioned like any other and the merchant gets a copy.

use reqwest::Response;
use serde_json::{json, Value};

use crate::harness::sandbox::path_of;
use crate::harness::*;

const TERMS: &str = "Work starts after payment. No refunds once delivered.";

async fn app_with_merchant(merchant_email: &str) -> TestApp {
    TestApp::builder()
        .set("merchant_name", "Acme Studio")
        .set("merchant_email", merchant_email)
        .set("invoice_terms", TERMS)
        .set("terms_url", "https://shop.example/terms")
        .start()
        .await
}

/// Creates an invoice as `admin`; returns `{invoice_id, order_id, link}`.
async fn invoice(admin: &AdminActor, body: Value) -> Value {
    json_status(admin.post("/invoices", &body).await, 201).await
}

/// The path of the invoice's link, checked against the public URL.
fn link_path(app: &TestApp, created: &Value) -> String {
    let link = created["link"].as_str().unwrap();
    assert_eq!(link, format!("{}/invoice/{}", app.public_url, created["invoice_id"].as_str().unwrap()));
    path_of(link)
}

async fn page(resp: Response, status: u16) -> String {
    let got = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    assert_eq!(got, status, "page: {text}");
    text
}

async fn submit(app: &TestApp, path: &str, form: &[(&str, &str)]) -> Response {
    app.client.post(app.url(path)).form(form).send().await.unwrap()
}

fn redirect_path(resp: &Response) -> String {
    assert_eq!(resp.status(), 303);
    path_of(resp.headers()["location"].to_str().unwrap())
}

/// The newest invoice in `GET /admin/invoices`.
async fn newest(admin: &AdminActor) -> Value {
    json_status(admin.get("/invoices").await, 200).await["invoices"][0].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invoice_for_a_service_is_paid_through_its_link() {
    let merchant = unique_email();
    let app = app_with_merchant(&merchant).await;
    let operator = app.admin("operator").await;
    let viewer = app.admin("viewer").await;
    let demo = app.demo().await;
    let email = unique_email();

    let created = invoice(&operator, json!({"name": "Grace Hopper", "email": email, "service": "demo"})).await;
    let (invoice_id, order_id) = (created["invoice_id"].as_str().unwrap(), created["order_id"].as_str().unwrap());
    let path = link_path(&app, &created);

    // The link shows the merchant, the customer, the item, the amount, the terms and the choice.
    let html = page(app.get(&path).await, 200).await;
    let amount = keyturn::i18n::format::amount(keyturn::i18n::Locale::En, demo.price_minor, &demo.currency);
    for shown in ["Acme Studio", "Grace Hopper", demo.name.as_str(), &amount, TERMS, "https://shop.example/terms"] {
        assert!(html.contains(shown), "{shown:?} missing from {html}");
    }
    assert!(html.contains("name=\"accept_terms\"") && html.contains("required"), "{html}");
    assert!(html.contains("name=\"gateway\" value=\"sandbox\""), "{html}");

    // Paying around the invoice page leads back to it until the terms are accepted.
    assert_eq!(redirect_path(&app.get(&format!("/pay/{order_id}")).await), path);
    assert_eq!(redirect_path(&app.get(&format!("/pay/{order_id}/sandbox")).await), path);
    let refused = page(submit(&app, &path, &[("gateway", "sandbox")]).await, 422).await;
    assert!(refused.contains("Please accept the terms"), "{refused}");
    let bad_gateway = submit(&app, &path, &[("accept_terms", "yes"), ("gateway", "nope")]).await;
    page(bad_gateway, 422).await;
    assert!(newest(&viewer).await["terms_accepted_at"].is_null(), "nothing accepted yet");

    // Accepting the terms sends the customer on to the chosen gateway.
    let go = page(submit(&app, &path, &[("accept_terms", "yes"), ("gateway", "sandbox")]).await, 200).await;
    let checkout = format!("/sandbox/checkout/{order_id}");
    assert!(go.contains(&format!("http-equiv=\"refresh\" content=\"0;url={checkout}\"")), "{go}");
    assert_eq!(app.get(&format!("/pay/{order_id}")).await.status(), 200, "the pay page opens now");
    app.pay_with_card(order_id, "4242424242424242", "").await;

    // The same provisioning as an order: confirmation, credentials, access to the service.
    let confirmation = app.mail.wait_for(&email, Kind::Confirmation, 1, MAIL_TIMEOUT).await;
    let (service, period) = (format!("Service:  {}", demo.name), format!("Period:   {} days", demo.period_days));
    assert!(confirmation.text.contains(&service) && confirmation.text.contains(&period), "{}", confirmation.text);
    let creds = app.mail.credentials(&email, 1).await;
    app.wait_for_status(order_id, "provisioned").await;
    let account = json_status(viewer.get(&format!("/accounts?q={email}")).await, 200).await;
    assert_eq!(account[0]["services"][0]["slug"], "demo", "{account}");

    // The merchant's copy: who paid what and how, never the customer's secrets.
    let copy = app.mail.wait_for(&merchant, Kind::Any, 1, MAIL_TIMEOUT).await;
    assert!(copy.subject.contains("invoice paid by Grace Hopper"), "{}", copy.subject);
    for shown in [invoice_id, order_id, demo.name.as_str(), &amount, "Grace Hopper", email.as_str(), "sandbox"] {
        assert!(copy.text.contains(shown), "{shown:?} missing from the copy: {}", copy.text);
    }
    let raw = String::from_utf8_lossy(&copy.raw);
    assert!(!raw.contains(&creds.password) && !raw.contains(&creds.token), "a secret in the copy");
    assert_eq!(copy.header("to").as_deref().map(|t| t.contains(&merchant)), Some(true));

    // The link now says it is paid; the listing agrees.
    let paid = page(app.get(&path).await, 200).await;
    assert!(paid.contains("This invoice is paid") && paid.contains("/cabinet"), "{paid}");
    let listed = newest(&viewer).await;
    assert_eq!(listed["invoice_id"], invoice_id);
    assert_eq!(listed["status"], "provisioned");
    assert_eq!(listed["item"], demo.name.as_str());
    assert_eq!(listed["service"], "demo");
    assert_eq!(listed["amount_minor"], demo.price_minor);
    assert_eq!(listed["created_by"], operator.username.as_str());
    assert!(listed["terms_accepted_at"].is_string() && listed["paid_at"].is_string(), "{listed}");

    let entry = &viewer.audit("action=invoice.create").await[0];
    assert_eq!(entry["actor"], operator.username.as_str());
    assert_eq!(entry["target"], invoice_id);
    assert_eq!(entry["after"]["order_id"], order_id);
    app.assert_mail_count(&merchant, Kind::Any, 1).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn free_description_invoice_creates_an_account_without_service_access() {
    // No merchant_email: the copy is skipped, everything else is the same.
    let app = TestApp::builder().start().await;
    let operator = app.admin("operator").await;
    let email = unique_email();
    let body = json!({"name": "Ada", "email": email, "phone": "+44 20 7946 0000", "description": "Logo design",
                      "amount_minor": 125000, "currency": "eur", "expires_in_days": 3});
    let created = invoice(&operator, body).await;
    let order_id = created["order_id"].as_str().unwrap();
    let path = link_path(&app, &created);

    let listed = newest(&operator).await;
    assert_eq!(listed["item"], "Logo design");
    assert_eq!(listed["currency"], "EUR");
    assert!(listed["service"].is_null(), "{listed}");
    assert_eq!(listed["status"], "pending_payment");
    let ts = |v: &Value| chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap().timestamp();
    assert_eq!(ts(&listed["expires_at"]) - ts(&listed["created_at"]), 3 * 86_400);

    let html = page(app.get(&path).await, 200).await;
    assert!(html.contains("Logo design") && html.contains("€1,250.00"), "{html}");
    page(submit(&app, &path, &[("accept_terms", "on"), ("gateway", "sandbox")]).await, 200).await;
    app.pay_with_card(order_id, "4242424242424242", "").await;

    let confirmation = app.mail.wait_for(&email, Kind::Confirmation, 1, MAIL_TIMEOUT).await;
    assert!(confirmation.text.contains("Logo design") && confirmation.text.contains("€1,250.00"));
    assert!(!confirmation.text.contains("days)"), "no access period for a free item: {}", confirmation.text);
    let creds = app.mail.credentials(&email, 1).await;
    app.wait_for_status(order_id, "provisioned").await;
    let orders = json_status(operator.get("/orders").await, 200).await;
    assert_eq!(orders["orders"][0]["item"], "Logo design");

    // An account, but no service access: the cabinet lists nothing.
    json_status(app.verify(&creds.token).await, 200).await;
    let customer = app.customer();
    json_status(customer.login(&creds.login, &creds.password).await, 200).await;
    let password = strong_password();
    assert_eq!(customer.change_password(&creds.password, &password).await.status(), 204);
    let me = json_status(customer.me().await, 200).await;
    assert_eq!(me["services"], json!([]), "{me}");
    assert!(page(app.get(&path).await, 200).await.contains("This invoice is paid"));

    // A second free invoice to the same customer is recorded in the existing account.
    let body =
        json!({"name": "Ada", "email": email, "description": "Print run", "amount_minor": 900, "currency": "EUR"});
    let second = invoice(&operator, body).await;
    let second_path = link_path(&app, &second);
    page(submit(&app, &second_path, &[("accept_terms", "yes"), ("gateway", "sandbox")]).await, 200).await;
    app.pay_with_card(second["order_id"].as_str().unwrap(), "4242424242424242", "").await;
    let again = app.mail.wait_for(&email, Kind::Confirmation, 2, MAIL_TIMEOUT).await;
    assert!(again.text.contains(&format!("recorded in your existing account ({})", creds.login)), "{}", again.text);
    // The confirmation says it all: no "access extended" email for an item that grants no access.
    app.assert_mail_count(&email, Kind::Other, 0).await;
    app.assert_mail_count(&email, Kind::Credentials, 1).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_and_unknown_links_say_so() {
    let app = TestApp::builder().start().await;
    let operator = app.admin("operator").await;
    let created = invoice(
        &operator,
        json!({"name": "Ann", "email": unique_email(), "service": "demo",
                                            "expires_in_days": 1}),
    )
    .await;
    let order_id = created["order_id"].as_str().unwrap();
    let path = link_path(&app, &created);
    app.clock.advance(86_400 - 60);
    page(app.get(&path).await, 200).await;

    // From its expiry on the link is dead, even before the sweep moves the order.
    app.clock.advance(60);
    let gone = page(app.get(&path).await, 410).await;
    assert!(gone.contains("This payment link has expired; ask the seller for a new one"), "{gone}");
    // A day later the operator's session is long gone: a fresh admin reads the listing.
    let viewer = app.admin("viewer").await;
    assert_eq!(newest(&viewer).await["status"], "expired");
    app.clock.advance(1);
    app.sweep().await;
    assert_eq!(app.order_status(order_id).await, "expired");
    page(app.get(&path).await, 410).await;
    page(submit(&app, &path, &[("accept_terms", "yes"), ("gateway", "sandbox")]).await, 410).await;
    assert_eq!(newest(&viewer).await["status"], "expired");

    let unknown = format!("/invoice/inv_{}", "0".repeat(32));
    for bad in [unknown.as_str(), "/invoice/nonsense", &format!("/invoice/{order_id}"), "/invoice/inv_%00"] {
        page(app.get(bad).await, 404).await;
    }
    page(submit(&app, &unknown, &[("accept_terms", "yes"), ("gateway", "sandbox")]).await, 404).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_invoice_requests_get_stable_codes() {
    let app = TestApp::builder().start().await;
    let operator = app.admin("operator").await;
    let base = || json!({"name": "Ann", "email": unique_email()});
    let with = |extra: Value| {
        let mut b = base();
        b.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        b
    };
    let free = json!({"description": "Consulting", "amount_minor": 5000, "currency": "EUR"});
    let cases: Vec<(Value, u16, &str)> = vec![
        (base(), 422, "item_required"),
        (with(json!({"amount_minor": 5000, "currency": "EUR"})), 422, "item_required"),
        (
            with(json!({"service": "demo", "description": "x", "amount_minor": 1, "currency": "EUR"})),
            422,
            "item_ambiguous",
        ),
        (with(json!({"service": "nope"})), 422, "unknown_service"),
        (with(json!({"service": "no such/slug"})), 422, "unknown_service"),
        (with(json!({"description": "x"})), 422, "validation_failed"),
        (with(json!({"service": "demo", "currency": "EUR"})), 422, "validation_failed"),
        (with(json!({"description": "x", "amount_minor": 5000, "currency": "EURO"})), 422, "validation_failed"),
        (with(json!({"description": "x", "amount_minor": 5000, "currency": "€"})), 422, "validation_failed"),
        (with(json!({"description": "x", "amount_minor": 0, "currency": "EUR"})), 422, "validation_failed"),
        (
            with(json!({"description": "x", "amount_minor": 10_000_000_001i64, "currency": "EUR"})),
            422,
            "validation_failed",
        ),
        (with(json!({"description": "a\nb", "amount_minor": 1, "currency": "EUR"})), 422, "validation_failed"),
        (with(json!({"service": "demo", "expires_in_days": 0})), 422, "validation_failed"),
        (with(json!({"service": "demo", "expires_in_days": 91})), 422, "validation_failed"),
        (json!({"name": "Ann", "email": "not an address", "service": "demo"}), 422, "validation_failed"),
        (json!({"name": "", "email": unique_email(), "service": "demo"}), 422, "validation_failed"),
        (with(json!({"service": "demo", "phone": "'; DROP TABLE"})), 422, "validation_failed"),
        (with(json!({"service": "demo", "coupon": "FREE"})), 400, "invalid_body"),
        (with(json!({"description": "x", "amount_minor": "5000", "currency": "EUR"})), 400, "invalid_body"),
        (with(json!({"description": "x", "amount_minor": 50.5, "currency": "EUR"})), 400, "invalid_body"),
        (json!({"name": 42, "email": unique_email(), "service": "demo"}), 400, "invalid_body"),
        (json!({"email": unique_email(), "service": "demo"}), 400, "invalid_body"),
        (json!([]), 400, "invalid_body"),
    ];
    for (body, status, code) in cases {
        let resp = operator.post("/invoices", &body).await;
        let got = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        assert_eq!((got, text.contains(&format!("\"error\":\"{code}\""))), (status, true), "{body}: {text}");
    }
    assert!(json_status(operator.get("/invoices").await, 200).await["invoices"].as_array().unwrap().is_empty());
    assert_error(operator.get("/invoices?cursor=nope").await, 400, "invalid_query").await;
    assert_error(operator.get("/invoices?limit=0").await, 400, "invalid_query").await;

    // A catalog service at a custom price is allowed; the price and currency are the invoice's.
    let custom = invoice(&operator, with(json!({"service": "demo", "amount_minor": 777, "currency": "usd"}))).await;
    let listed = newest(&operator).await;
    assert_eq!(
        (listed["invoice_id"].clone(), listed["amount_minor"].clone()),
        (custom["invoice_id"].clone(), json!(777))
    );
    assert_eq!(listed["currency"], "USD");
    invoice(&operator, with(free)).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn who_may_create_and_list_invoices_and_paging() {
    let app = TestApp::builder().start().await;
    let operator = app.admin("operator").await;
    let owner = app.admin("owner").await;
    let viewer = app.admin("viewer").await;
    let support = app.admin("support").await;
    let body = json!({"name": "Ann", "email": unique_email(), "service": "demo"});

    assert_error(viewer.post("/invoices", &body).await, 403, "forbidden").await;
    assert_error(support.post("/invoices", &body).await, 403, "forbidden").await;
    assert_error(support.get("/invoices").await, 403, "forbidden").await;
    assert_error(AdminActor::new(&app.base, "nobody", "x", "none").get("/invoices").await, 401, "unauthenticated")
        .await;

    // Newest first, a page at a time (one second apart so the order is unambiguous).
    let mut ids = vec![];
    for admin in [&operator, &owner, &operator] {
        ids.push(invoice(admin, body.clone()).await["invoice_id"].as_str().unwrap().to_string());
        app.clock.advance(1);
    }
    let first = json_status(viewer.get("/invoices?limit=2").await, 200).await;
    let got: Vec<&str> =
        first["invoices"].as_array().unwrap().iter().map(|i| i["invoice_id"].as_str().unwrap()).collect();
    assert_eq!(got, [ids[2].as_str(), ids[1].as_str()]);
    assert_eq!(first["invoices"][1]["created_by"], owner.username.as_str());
    let cursor = first["next_cursor"].as_str().unwrap();
    let rest = json_status(viewer.get(&format!("/invoices?limit=2&cursor={cursor}")).await, 200).await;
    assert_eq!(rest["invoices"].as_array().unwrap().len(), 1);
    assert_eq!(rest["invoices"][0]["invoice_id"], ids[0].as_str());
    assert!(rest["next_cursor"].is_null());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_click_with_the_same_idempotency_key_creates_one_invoice() {
    let app = TestApp::builder().start().await;
    let operator = app.admin("operator").await;
    let email = unique_email();
    let body = json!({"name": "Ada", "email": email, "service": "demo"});
    let post = |key: &'static str, body: Value| {
        let url = format!("{}/api/v1/admin/invoices", operator.base());
        let req = operator.client.post(url).header("Idempotency-Key", key).json(&body);
        async move { req.send().await.unwrap() }
    };
    let first = json_status(post("inv-click-1", body.clone()).await, 201).await;
    let again = json_status(post("inv-click-1", body.clone()).await, 201).await;
    assert_eq!(first, again, "the first answer is replayed");
    let other = json!({"name": "Ada", "email": email, "service": "demo", "expires_in_days": 3});
    assert_error(post("inv-click-1", other).await, 422, "idempotency_key_reused").await;
    let listed = json_status(operator.get("/invoices?limit=100").await, 200).await;
    let mine = listed["invoices"].as_array().unwrap().iter().filter(|i| i["email"] == email.as_str()).count();
    assert_eq!(mine, 1);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_link_can_be_emailed_to_the_customer() {
    let app = app_with_merchant("owner@acme.example").await;
    let operator = app.admin("operator").await;
    let email = unique_email();
    let created =
        invoice(&operator, json!({"name": "Grace", "email": email, "service": "demo", "send_email": true})).await;
    let mail = app.mail.wait_for(&email, Kind::Other, 1, MAIL_TIMEOUT).await;
    assert!(mail.subject.contains("Acme Studio") && mail.subject.contains("payment link"), "{}", mail.subject);
    let link = created["link"].as_str().unwrap();
    assert!(mail.text.contains(link), "{}", mail.text);
    // The emailed link is the invoice page.
    assert!(page(app.get(&link_path(&app, &created)).await, 200).await.contains("Acme Studio"));
    // Without send_email nothing is sent: the admin copies the link.
    let quiet = unique_email();
    invoice(&operator, json!({"name": "Alan", "email": quiet, "service": "demo"})).await;
    app.assert_mail_count(&quiet, Kind::Any, 0).await;
    let entry = &app.admin("owner").await.audit("action=invoice.create").await[1];
    assert_eq!(entry["after"]["link_emailed"], true, "{entry}");
    app.stop().await;
}

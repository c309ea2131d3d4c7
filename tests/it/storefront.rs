//! The storefront over HTTP: the hosted order page and its errors, the home page, the embed
//! snippet, Tilda's form webhook and its success redirect, the return page's promises and the
//! error pages' way back.

use crate::harness::*;

const TILDA_KEY: &str = "tilda-key-0123456789abcdef";

async fn text(resp: reqwest::Response, status: u16) -> String {
    let got = resp.status().as_u16();
    let body = resp.text().await.unwrap();
    assert_eq!(got, status, "unexpected status; page: {body}");
    body
}

fn location(resp: &reqwest::Response) -> String {
    resp.headers().get("location").map(|l| l.to_str().unwrap().to_string()).unwrap_or_default()
}

fn header(resp: &reqwest::Response, name: &str) -> String {
    resp.headers().get(name).map(|l| l.to_str().unwrap().to_string()).unwrap_or_default()
}

/// The order id a `/pay/{order_id}` location names.
fn paid_order(location: &str) -> String {
    location.rsplit("/pay/").next().unwrap().to_string()
}

async fn buy(app: &TestApp, slug: &str, form: &[(&str, &str)]) -> reqwest::Response {
    app.client.post(app.url(&format!("/buy/{slug}"))).form(form).send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_order_page_sells_one_service_and_keeps_the_fields_when_it_refuses() {
    let app = TestApp::builder().start().await;

    // The home page offers what is on sale, not the API documentation.
    let home = text(app.get("/").await, 200).await;
    assert!(home.contains("Demo service") && home.contains("href=\"/buy/demo\""), "{home}");
    assert!(!home.contains("/docs"), "customers are not shown the API docs: {home}");

    let resp = app.get("/buy/demo").await;
    let csp = header(&resp, "content-security-policy");
    assert!(csp.contains("frame-ancestors 'none'") && !csp.contains("script-src"), "{csp}");
    let page = text(resp, 200).await;
    for shown in ["Demo service", "€19.90", "30 days", "name=\"name\"", "name=\"email\"", "Phone (optional)"] {
        assert!(page.contains(shown), "the order page lacks {shown}: {page}");
    }
    assert!(!page.contains("h-captcha"), "no captcha widget when captcha is off");

    // A wrong address: the form again, 422, with the reason and everything as typed.
    let resp = buy(&app, "demo", &[("name", "Ann <O'Neil>"), ("email", "not-an-address"), ("phone", "+7 777")]).await;
    let page = text(resp, 422).await;
    assert!(page.contains("Email is not a valid address."), "{page}");
    assert!(
        page.contains("value=\"Ann &lt;O&#x27;Neil&gt;\"") || page.contains("value=\"Ann &lt;O&#39;Neil&gt;\""),
        "{page}"
    );
    assert!(page.contains("value=\"not-an-address\"") && page.contains("value=\"+7 777\""), "{page}");
    let page = text(buy(&app, "demo", &[("name", ""), ("email", "a@example.test")]).await, 422).await;
    assert!(page.contains("Please enter your name.") && page.contains("value=\"a@example.test\""), "{page}");
    let page =
        text(buy(&app, "demo", &[("name", "Ann"), ("email", "a@example.test"), ("phone", "call me")]).await, 422).await;
    assert!(page.contains("Phone may hold digits"), "{page}");

    // A good one: 303 to the payment page of a new order for this service.
    let email = unique_email();
    let resp = buy(&app, "demo", &[("name", "Ann"), ("email", &email), ("phone", "")]).await;
    assert_eq!(resp.status(), 303);
    let to = location(&resp);
    assert!(to.starts_with(&format!("{}/pay/ord", app.public_url)), "{to}");
    assert_eq!(app.order_status(&paid_order(&to)).await, "pending_payment");
    let pay = text(app.get(&format!("/pay/{}", paid_order(&to))).await, 200).await;
    assert!(pay.contains("€19.90"), "{pay}");

    // Not a form post: the form again, never a 500.
    let resp = app
        .client
        .post(app.url("/buy/demo"))
        .body("{}")
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert!(text(resp, 415).await.contains("could not be read"));

    // Unknown or off-sale items: a 404 page.
    for slug in ["nope", "a%20b", "x".repeat(80).as_str()] {
        let page = text(app.get(&format!("/buy/{slug}")).await, 404).await;
        assert!(page.contains("not on sale"), "{page}");
        assert_eq!(buy(&app, slug, &[("name", "Ann"), ("email", &email)]).await.status(), 404);
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_merchant_decides_which_fields_the_order_page_asks_for() {
    let app = TestApp::builder().set("buy_name", "hidden").set("buy_phone", "required").captcha().start().await;
    let resp = app.get("/buy/demo?lang=pl").await;
    let csp = header(&resp, "content-security-policy");
    assert!(csp.contains("script-src https://hcaptcha.com https://*.hcaptcha.com"), "{csp}");
    let page = text(resp, 200).await;
    assert!(!page.contains("name=\"name\""), "the name field is hidden: {page}");
    assert!(page.contains("name=\"phone\"") && page.contains(" required>"), "{page}");
    assert!(page.contains("class=\"h-captcha\"") && page.contains("name=\"lang\" value=\"pl\""), "{page}");
    assert_eq!(inline_scripts(&page), 0, "{page}");

    let email = unique_email();
    let page =
        text(buy(&app, "demo", &[("email", &email), ("h-captcha-response", captcha::GOOD_TOKEN)]).await, 422).await;
    assert!(page.contains("Please enter your phone number."), "{page}");
    // The same captcha rules as /forms/order: no token, no order.
    let page = text(buy(&app, "demo", &[("email", &email), ("phone", "+48 600 100 200")]).await, 400).await;
    assert!(page.contains("Please complete the captcha."), "{page}");
    let form = [("email", email.as_str()), ("phone", "+48 600 100 200"), ("h-captcha-response", captcha::GOOD_TOKEN)];
    let resp = buy(&app, "demo", &form).await;
    assert_eq!(resp.status(), 303, "{}", resp.text().await.unwrap());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_home_page_says_try_again_when_the_database_does_not_answer() {
    let app = TestApp::builder().set("database_pool_size", "2").start().await;
    let outage = app.hold_all_connections().await;
    let page = text(app.get("/").await, 503).await;
    assert!(page.contains("Please try again in a moment.") && !page.contains("Nothing is on sale"), "{page}");
    outage.release().await;
    let home = text(app.get("/").await, 200).await;
    assert!(home.contains("Demo service"), "{home}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embed_snippet_is_served_for_any_site() {
    let app = TestApp::builder().set("embed_target", "same_window").start().await;
    let resp = app.get("/embed.js").await;
    assert_eq!(resp.status(), 200);
    assert!(header(&resp, "content-type").starts_with("text/javascript"));
    assert_eq!(header(&resp, "access-control-allow-origin"), "*");
    assert_eq!(header(&resp, "cross-origin-resource-policy"), "cross-origin");
    let js = resp.text().await.unwrap();
    assert!(js.contains(&format!("var BASE = \"{}\";", app.public_url)), "the snippet knows where to send buyers");
    assert!(js.contains("var TARGET = \"same_window\";"));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_pages_go_back_without_inline_script() {
    let app = TestApp::builder().start().await;
    let resp = app.get("/pay/ord_unknown").await;
    let csp = header(&resp, "content-security-policy");
    // Scripts from our own origin only: no inline code, no eval, no other host.
    assert_eq!(csp_directive(&csp, "script-src").as_deref(), Some("'self'"), "{csp}");
    assert_eq!(csp_directive(&csp, "default-src").as_deref(), Some("'none'"), "{csp}");
    let page = text(resp, 404).await;
    assert!(page.contains("<a href=\"/\" data-back>Go back</a>"), "{page}");
    assert!(page.contains("<script src=\"/assets/back.js\"></script>") && !page.contains("javascript:"), "{page}");
    assert_eq!(inline_scripts(&page), 0, "an inline script the CSP would block: {page}");
    let js = app.get("/assets/back.js").await;
    assert_eq!(js.status(), 200);
    assert!(js.text().await.unwrap().contains("history.back()"));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_return_page_promises_what_this_order_brings() {
    let app = TestApp::builder().start().await;
    let email = unique_email();
    let first = app.order(&email).await;
    app.pay_by_callback(&first, "authenticated").await;
    app.mail.credentials(&email, 1).await;
    let page = text(app.get(&format!("/orders/{first}/return")).await, 200).await;
    assert!(page.contains("a temporary password") && page.contains("href=\"/cabinet\""), "a new customer: {page}");
    assert!(!page.contains("existing account"), "{page}");

    // The same address again (maybe typed by someone else): the page neither confirms that an
    // account exists nor shows its dates, and promises no new password.
    let second = app.order(&email).await;
    app.pay_by_callback(&second, "authenticated").await;
    app.wait_for_status(&second, "provisioned").await;
    let page = text(app.get(&format!("/orders/{second}/return")).await, 200).await;
    assert!(page.contains("if that address already has an account, the access has been added to it"), "{page}");
    assert!(!page.contains("existing account") && !page.contains("runs until"), "{page}");
    assert!(!page.contains(&email) && page.contains("href=\"/cabinet\""), "the address is masked: {page}");
    assert!(!page.contains("temporary password"), "a returning customer is promised no password: {page}");
    app.stop().await;
}

fn multipart(fields: &[(&str, &str)]) -> (String, Vec<u8>) {
    let boundary = "----keyturnTildaBoundary7MA4YWxk";
    let mut body = String::new();
    for (k, v) in fields {
        body.push_str(&format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n"));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    (format!("multipart/form-data; boundary={boundary}"), body.into_bytes())
}

async fn tilda(app: &TestApp, query: &str, content_type: &str, body: Vec<u8>, key: Option<&str>) -> reqwest::Response {
    let mut req =
        app.client.post(app.url(&format!("/forms/tilda{query}"))).header("content-type", content_type).body(body);
    if let Some(k) = key {
        req = req.header("Api-Key", k);
    }
    req.send().await.unwrap()
}

fn urlencoded(fields: &[(&str, &str)]) -> Vec<u8> {
    serde_urlencoded::to_string(fields).unwrap().into_bytes()
}

const FORM: &str = "application/x-www-form-urlencoded";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tilda_form_becomes_an_order_and_its_success_redirect_leads_to_payment() {
    let app = TestApp::builder().set("tilda_key", TILDA_KEY).set("tilda_fields", "name=Your_name").start().await;

    // The ping Tilda sends when the webhook is added.
    let resp = tilda(&app, "", FORM, b"test=test".to_vec(), None).await;
    assert_eq!(text(resp, 200).await, "ok");

    // Form-encoded, the key as a form field, Tilda's standard names and technical fields.
    let email = unique_email();
    let tranid = "3862245:4582716532";
    let first_ref = "fedcba9876543210fedcba9876543210";
    let fields = [
        ("Name", "Tilda Buyer"),
        ("Email", email.as_str()),
        ("Phone", "+7 (777) 123-45-67"),
        ("tranid", tranid),
        ("keyturn_ref", first_ref),
        ("formid", "form123456789"),
        ("utm_source", "ads"),
        ("api_key", TILDA_KEY),
    ];
    let resp = tilda(&app, "?service=demo", FORM, urlencoded(&fields), None).await;
    assert_eq!(text(resp, 200).await, "ok", "Tilda gets its 200 and no redirect");
    // Tilda repeats a call it got no answer to in time: still one order.
    assert_eq!(text(tilda(&app, "?service=demo", FORM, urlencoded(&fields), None).await, 200).await, "ok");

    // Tilda's success redirect (carrying the snippet's token) brings the browser to payment.
    let resp = app.get(&format!("/forms/tilda/continue?ref={first_ref}")).await;
    assert_eq!(resp.status(), 303);
    let order = paid_order(&location(&resp));
    let pay = text(app.get(&format!("/pay/{order}")).await, 200).await;
    assert!(pay.contains("Demo service") && pay.contains("€19.90"), "{pay}");
    let admin = app.admin("viewer").await;
    let listed = admin.get(&format!("/orders?email={email}")).await;
    let listed: serde_json::Value = listed.json().await.unwrap();
    assert_eq!(listed["orders"].as_array().map(Vec::len), Some(1), "the repeated call made a second order: {listed}");
    // Tilda's tranid is predictable: it never leads to anyone's payment page.
    for by_tranid in [format!("tranid={}", tranid.replace(':', "%3A")), format!("tranid={tranid}&try=5")] {
        let resp = app.get(&format!("/forms/tilda/continue?{by_tranid}")).await;
        assert!(resp.headers().get("location").is_none(), "{by_tranid} redirected");
        let page = text(resp, 404).await;
        assert!(page.contains("could not find an order waiting for payment") && !page.contains(&order), "{page}");
    }
    // Nor does a short (guessable) ref.
    let page = text(app.get("/forms/tilda/continue?ref=0123456789abcdef&try=5").await, 404).await;
    assert!(page.contains("could not find an order waiting for payment"), "{page}");

    // Multipart, the merchant's own field name, the key in a header, the embed snippet's token.
    let second = unique_email();
    let reference = "0123456789abcdef0123456789abcdef";
    let (ct, body) = multipart(&[
        ("Your_name", "Multi Part"),
        ("Email", &second),
        ("tranid", "3862245:4582716533"),
        ("keyturn_ref", reference),
        ("service", "demo"),
    ]);
    let resp = tilda(&app, "", &ct, body, Some(TILDA_KEY)).await;
    assert_eq!(text(resp, 200).await, "ok");
    let resp = app.get(&format!("/forms/tilda/continue?ref={reference}")).await;
    assert_eq!(resp.status(), 303);
    let multi = paid_order(&location(&resp));
    assert_ne!(multi, order);

    // A wrong or missing key is refused and stores nothing.
    let stranger = [("Email", "x@example.test"), ("tranid", "999:1"), ("api_key", "tilda-key-0123456789abcdeX")];
    assert_error(tilda(&app, "?service=demo", FORM, urlencoded(&stranger), None).await, 401, "invalid_key").await;
    assert_error(tilda(&app, "?service=demo", FORM, urlencoded(&stranger[..2]), None).await, 401, "invalid_key").await;
    assert_error(
        tilda(&app, "?service=demo", FORM, urlencoded(&stranger[..2]), Some("wrong")).await,
        401,
        "invalid_key",
    )
    .await;
    let unknown = "00000000000000000000000000000001";
    let miss = text(app.get(&format!("/forms/tilda/continue?ref={unknown}&try=5")).await, 404).await;
    assert!(miss.contains("could not find an order waiting for payment"), "{miss}");
    // Before Tilda's call arrives, the page waits a little instead of failing at once.
    let page = text(app.get(&format!("/forms/tilda/continue?ref={unknown}")).await, 200).await;
    assert!(page.contains("http-equiv=\"refresh\"") && page.contains("try=1"), "{page}");

    // Bad input is refused with the documented codes, never a 500.
    let bad = [("Email", "not-an-address"), ("tranid", "5:5"), ("api_key", TILDA_KEY)];
    assert_error(tilda(&app, "?service=demo", FORM, urlencoded(&bad), None).await, 422, "validation_failed").await;
    let nameless = [("Email", "a@example.test"), ("tranid", "5:6"), ("api_key", TILDA_KEY)];
    assert_error(tilda(&app, "", FORM, urlencoded(&nameless), None).await, 422, "unknown_service").await;
    assert_error(tilda(&app, "", "text/plain", b"x".to_vec(), Some(TILDA_KEY)).await, 415, "unsupported_media_type")
        .await;

    // A paid order's link no longer leads to payment.
    app.pay_by_callback(&order, "authenticated").await;
    // ... and answers exactly as a link to no order does: the order's status is not revealed.
    let page = text(app.get(&format!("/forms/tilda/continue?ref={first_ref}&try=5")).await, 404).await;
    assert_eq!(page.replace(first_ref, unknown), miss.replace(first_ref, unknown));
    assert!(!page.contains("Nothing to pay"), "{page}");
    let page = text(app.get(&format!("/forms/tilda/continue?ref={first_ref}")).await, 200).await;
    assert!(page.contains("http-equiv=\"refresh\""), "{page}");
    app.stop().await;
}

/// Orders the admin sees for `email`.
async fn orders_of(app: &TestApp, email: &str) -> usize {
    let admin = app.admin("viewer").await;
    let listed: serde_json::Value = admin.get(&format!("/orders?email={email}")).await.json().await.unwrap();
    listed["orders"].as_array().map(Vec::len).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tilda_delivery_repeated_many_times_at_once_makes_one_order() {
    let app = TestApp::builder().set("tilda_key", TILDA_KEY).start().await;
    let email = unique_email();
    let fields = [("Email", email.as_str()), ("tranid", "4242:1"), ("api_key", TILDA_KEY)];
    let body = urlencoded(&fields);
    let sends = (0..8).map(|_| tilda(&app, "?service=demo", FORM, body.clone(), None));
    for resp in futures_util::future::join_all(sends).await {
        assert_eq!(text(resp, 200).await, "ok", "every delivery is answered as the first");
    }
    assert_eq!(orders_of(&app, &email).await, 1, "Tilda's repeated delivery made a second order");
    // The same submission again later: still one order.
    assert_eq!(text(tilda(&app, "?service=demo", FORM, body.clone(), None).await, 200).await, "ok");
    assert_eq!(orders_of(&app, &email).await, 1);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tilda_phone_keyturn_cannot_use_does_not_cost_the_order_unless_the_merchant_requires_one() {
    // The key as pasted into the settings, with stray whitespace; Tilda sends it as typed there.
    let app = TestApp::builder().set("tilda_key", &format!(" {TILDA_KEY}\n")).start().await;
    let email = unique_email();
    let padded = format!("{TILDA_KEY} ");
    let fields =
        [("Email", email.as_str()), ("Phone", "call me after 6pm"), ("tranid", "77:1"), ("api_key", padded.as_str())];
    let resp = tilda(&app, "?service=demo", FORM, urlencoded(&fields), None).await;
    assert_eq!(text(resp, 200).await, "ok", "the order is kept without the unusable phone");
    assert_eq!(orders_of(&app, &email).await, 1);
    app.stop().await;

    let app = TestApp::builder().set("tilda_key", TILDA_KEY).set("buy_phone", "required").start().await;
    let email = unique_email();
    let fields =
        [("Email", email.as_str()), ("Phone", "call me after 6pm"), ("tranid", "77:2"), ("api_key", TILDA_KEY)];
    let refused =
        assert_error(tilda(&app, "?service=demo", FORM, urlencoded(&fields), None).await, 422, "validation_failed")
            .await;
    assert!(refused["message"].as_str().unwrap().contains("phone is required"), "{refused}");
    let fields = [("Email", email.as_str()), ("tranid", "77:3"), ("api_key", TILDA_KEY)];
    let refused =
        assert_error(tilda(&app, "?service=demo", FORM, urlencoded(&fields), None).await, 422, "validation_failed")
            .await;
    assert!(refused["message"].as_str().unwrap().contains("phone is required"), "{refused}");
    assert_eq!(orders_of(&app, &email).await, 0);
    let fields = [("Email", email.as_str()), ("Phone", "+7 777 123"), ("tranid", "77:4"), ("api_key", TILDA_KEY)];
    assert_eq!(text(tilda(&app, "?service=demo", FORM, urlencoded(&fields), None).await, 200).await, "ok");
    assert_eq!(orders_of(&app, &email).await, 1);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tilda_webhook_is_off_until_its_key_is_set() {
    let app = TestApp::builder().start().await;
    let resp = tilda(&app, "?service=demo", FORM, b"test=test".to_vec(), None).await;
    assert_error(resp, 404, "not_found").await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_types_prices_as_people_write_them() {
    let app = TestApp::builder().start().await;
    let admin = app.admin("owner").await;
    let body = serde_json::json!({"slug": "course", "name": "Course", "price": "12 990,00", "currency": "RUB", "period_days": 30});
    let v = json_status(admin.post("/services", &body).await, 201).await;
    assert_eq!(v["price_minor"], 1_299_000);
    for (typed, minor) in [("12,990.00", 1_299_000), ("12990", 1_299_000), ("12 990.5", 1_299_050)] {
        let v = json_status(admin.patch("/services/course", serde_json::json!({"price": typed})).await, 200).await;
        assert_eq!(v["price_minor"], minor, "{typed}");
    }
    let refused = assert_error(
        admin.patch("/services/course", serde_json::json!({"price": "1,500"})).await,
        422,
        "validation_failed",
    )
    .await;
    assert!(refused["message"].as_str().unwrap().contains("ambiguous"), "{refused}");
    // Both forms at once: refused unless they name the same amount, and nothing changes.
    let both = serde_json::json!({"price": "99,00", "price_minor": 1_299_000});
    let refused = assert_error(admin.patch("/services/course", both).await, 422, "price_conflict").await;
    assert!(refused["message"].as_str().unwrap().contains("price_minor"), "{refused}");
    let both = serde_json::json!({"slug": "dup", "name": "Dup", "price": "10.00", "price_minor": 1001,
        "currency": "EUR", "period_days": 30});
    assert_error(admin.post("/services", &both).await, 422, "price_conflict").await;
    let agreeing = serde_json::json!({"price": "12 990,50", "price_minor": 1_299_050});
    let v = json_status(admin.patch("/services/course", agreeing).await, 200).await;
    assert_eq!(v["price_minor"], 1_299_050);
    let doc = json_status(app.get("/api/v1/openapi.json").await, 200).await.to_string();
    assert!(doc.contains("price_conflict"), "the OpenAPI document names the refusal");
    let missing = serde_json::json!({"slug": "free", "name": "Free", "currency": "EUR", "period_days": 30});
    assert_error(admin.post("/services", &missing).await, 422, "validation_failed").await;
    // The order page shows the new price.
    let page = text(app.get("/buy/course").await, 200).await;
    assert!(page.contains(&keyturn::i18n::format::amount(keyturn::i18n::Locale::En, 1_299_050, "RUB")), "{page}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invoice_amount_is_read_as_typed() {
    let app = TestApp::builder().start().await;
    let admin = app.admin("owner").await;
    let body = serde_json::json!({"name": "Ann", "email": unique_email(), "description": "Consulting",
        "amount": "12 990,50", "currency": "RUB"});
    let v = json_status(admin.post("/invoices", &body).await, 201).await;
    let page = text(app.get(&format!("/invoice/{}", v["invoice_id"].as_str().unwrap())).await, 200).await;
    assert!(page.contains(&keyturn::i18n::format::amount(keyturn::i18n::Locale::En, 1_299_050, "RUB")), "{page}");
    let ambiguous = serde_json::json!({"name": "Ann", "email": unique_email(), "description": "Consulting",
        "amount": "1.500", "currency": "EUR"});
    let refused = assert_error(admin.post("/invoices", &ambiguous).await, 422, "validation_failed").await;
    assert!(refused["message"].as_str().unwrap().contains("ambiguous"), "{refused}");
    app.stop().await;
}

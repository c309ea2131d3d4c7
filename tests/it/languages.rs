//! Languages (DESIGN §8): an order placed in Russian (its `locale`), in Polish (the browser's
//! `Accept-Language` only) and in Serbian (a full language tag) gets every email and page in
//! that language, amounts and dates written the language's way, and the login and password
//! read from the localised email work.

use serde_json::json;

use crate::harness::*;

/// What each language's customer sees: the greeting of every email, a word of the credentials
/// email's subject, the payment's amount as the language writes it, and a piece of a date.
struct Expected {
    locale: &'static str,
    greeting: &'static str,
    subject_word: &'static str,
    amount: &'static str,
    date_piece: &'static str,
    /// The return page's title for a paid order.
    paid_title: &'static str,
    /// The demo's 30 days with the language's plural form.
    period: &'static str,
}

const RU: Expected = Expected {
    locale: "ru",
    greeting: "Здравствуйте, Ada Lovelace!",
    subject_word: "логин",
    amount: "19,90\u{a0}€",
    date_piece: "\u{a0}г., ",
    paid_title: "Оплата получена",
    period: "30 дней",
};
const PL: Expected = Expected {
    locale: "pl",
    greeting: "Dzień dobry Ada Lovelace,",
    subject_word: "logowania",
    amount: "19,90\u{a0}€",
    date_piece: " 20",
    paid_title: "Płatność otrzymana",
    period: "30 dni",
};
const SR: Expected = Expected {
    locale: "sr",
    greeting: "Dobar dan, Ada Lovelace,",
    subject_word: "korisničko ime",
    amount: "19,90\u{a0}€",
    date_piece: ". u ",
    paid_title: "Uplata je primljena",
    period: "30 dana",
};

/// Places an order for `email` the way `how` says, returns its id.
async fn order(app: &TestApp, email: &str, how: &str) -> String {
    let client = reqwest::Client::new();
    let mut body = json!({"service": "demo", "name": "Ada Lovelace", "email": email});
    let mut req = client.post(app.url("/api/v1/orders"));
    match how {
        "field" => body["locale"] = "ru".into(),
        // Nothing in the order: the browser's languages decide (German is not spoken here).
        "header" => req = req.header("Accept-Language", "de-DE,de;q=0.9,pl;q=0.8,en;q=0.5"),
        _ => body["locale"] = "sr-Latn-RS".into(),
    }
    let resp = req.json(&body).send().await.unwrap();
    json_status(resp, 201).await["order_id"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_email_and_page_speaks_the_orders_language_and_its_credentials_work() {
    let app = TestApp::builder().start().await;
    let owner = app.admin("owner").await;
    for (how, want) in [("field", &RU), ("header", &PL), ("tag", &SR)] {
        let email = unique_email();
        let order_id = order(&app, &email, how).await;

        // The payment page, before paying: the order's language, the amount its way, a switcher.
        let pay = app.get(&format!("/pay/{order_id}")).await;
        assert_eq!(pay.headers()["content-language"], want.locale, "{how}");
        let html = pay.text().await.unwrap();
        assert!(html.contains(&format!("<html lang=\"{}\">", want.locale)), "{html}");
        assert!(html.contains(want.amount), "the amount as {} writes it: {html}", want.locale);
        assert!(!html.contains("Pay for your order"), "English on the {} page: {html}", want.locale);
        assert!(html.contains("hreflang=\"en\""), "no language switcher: {html}");

        app.pay_by_callback(&order_id, "authenticated").await;
        let creds_mail = app.mail.wait_for(&email, Kind::Credentials, 1, MAIL_TIMEOUT).await;
        let confirmation = app.mail.wait_for(&email, Kind::Confirmation, 1, MAIL_TIMEOUT).await;
        for mail in [&creds_mail, &confirmation] {
            assert_eq!(mail.header("content-language").as_deref(), Some(want.locale));
            assert!(mail.text.starts_with(want.greeting), "{}: {}", want.locale, mail.text);
            assert!(!mail.text.contains("Hello"), "English in a {} email: {}", want.locale, mail.text);
            let html = mail.html.as_deref().unwrap_or_default();
            assert!(html.contains(&format!("<html lang=\"{}\">", want.locale)), "{html}");
        }
        assert!(creds_mail.subject.to_lowercase().contains(want.subject_word), "{}", creds_mail.subject);
        assert!(confirmation.text.contains(want.amount), "{}", confirmation.text);
        let today = keyturn::i18n::format::date(
            keyturn::i18n::Locale::from_stored(want.locale),
            chrono::Utc::now().timestamp(),
        );
        let dated = confirmation.text.contains(want.date_piece) && confirmation.text.contains(&today);
        assert!(dated, "the paid date as {} writes it: {}", want.locale, confirmation.text);
        assert!(confirmation.text.contains(want.period), "the period's plural: {}", confirmation.text);

        // The return page speaks the order's language, even to an English browser.
        let path = app.url(&format!("/orders/{order_id}/return"));
        let back = app.client.get(path).header("Accept-Language", "en").send().await.unwrap();
        let html = back.text().await.unwrap();
        assert!(html.contains(want.paid_title), "{}: {html}", want.locale);

        // The login and password read from the localised email work.
        let creds = creds_mail.credentials().expect("login, password and link in the text part");
        let page = app.get(&format!("/verify-email?token={}", creds.token)).await;
        let html = page.text().await.unwrap();
        assert!(html.contains(&format!("<html lang=\"{}\">", want.locale)), "the verify page: {html}");
        json_status(app.verify(&creds.token).await, 200).await;
        let customer = app.customer();
        json_status(customer.login(&creds.login, &creds.password).await, 200).await;
        let password = strong_password();
        assert_eq!(customer.change_password(&creds.password, &password).await.status(), 204);
        let me = json_status(customer.me().await, 200).await;
        assert_eq!(me["locale"], want.locale, "{me}");

        // The activation email too, and the admin sees the customer's language.
        let activation = app.mail.wait_for(&email, Kind::Activation, 1, MAIL_TIMEOUT).await;
        assert_eq!(activation.header("content-language").as_deref(), Some(want.locale));
        let listed = json_status(owner.get(&format!("/accounts?q={}", creds.login)).await, 200).await;
        assert_eq!(listed[0]["locale"], want.locale, "{listed}");
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_changes_the_language_of_their_emails_and_pages_remember_a_chosen_language() {
    let app = TestApp::builder().start().await;
    let a = app.active().await;
    let me = json_status(a.customer.me().await, 200).await;
    assert_eq!(me["locale"], "en");
    let put = |body: serde_json::Value| a.customer.client.put(app.url("/api/v1/me/preferences")).json(&body).send();
    let saved = json_status(put(json!({"renewal_reminders": true, "locale": "pl"})).await.unwrap(), 200).await;
    assert_eq!(saved["locale"], "pl");
    assert_error(put(json!({"renewal_reminders": true, "locale": "de"})).await.unwrap(), 400, "invalid_body").await;
    // The next account email is Polish.
    json_status(app.post_json("/api/v1/password-reset", &json!({"email": a.email})).await, 202).await;
    let reset = app.mail.wait_for(&a.email, Kind::PasswordReset, 1, MAIL_TIMEOUT).await;
    assert_eq!(reset.header("content-language").as_deref(), Some("pl"));
    // Its page too, for a browser that asks for English.
    let link = reset.link_to("/reset-password?token=").unwrap();
    let path = &link[link.find("/reset-password").unwrap()..];
    let page = app.client.get(app.url(path)).header("Accept-Language", "en").send().await.unwrap();
    assert!(page.text().await.unwrap().contains("<html lang=\"pl\">"));
    // An expired renewal link's page too.
    let old = app.renewal_link(&a.login, "demo", 60).await;
    app.clock.advance(120);
    let gone = app.client.get(app.url(&old)).header("Accept-Language", "en").send().await.unwrap();
    assert_eq!(gone.status(), 410);
    assert!(gone.text().await.unwrap().contains("<html lang=\"pl\">"));

    // A page asked for in a language (`?lang=`) keeps it on the next visit (cookie), over the
    // browser's; an unknown one changes nothing.
    let client = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let first = client.get(app.url("/buy/demo?lang=sr")).header("Accept-Language", "ru").send().await.unwrap();
    assert_eq!(first.headers()["content-language"], "sr");
    let html = first.text().await.unwrap();
    assert!(html.contains("Nastavite na plaćanje") && html.contains("hreflang=\"ru\""), "{html}");
    let again = client.get(app.url("/buy/demo")).header("Accept-Language", "ru").send().await.unwrap();
    assert_eq!(again.headers()["content-language"], "sr");
    let fresh = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let asked = fresh.get(app.url("/buy/demo?lang=xx")).header("Accept-Language", "ru-RU,ru;q=0.9");
    let browser = asked.send().await.unwrap();
    assert_eq!(browser.headers()["content-language"], "ru");
    // An order placed from the Serbian page is Serbian.
    let form = [("name", "Ada"), ("email", "ada.sr@example.com"), ("lang", "sr")];
    let placed = fresh.post(app.url("/buy/demo")).form(&form).send().await.unwrap();
    let location = placed.headers()["location"].to_str().unwrap().to_string();
    let order_id = location.rsplit('/').next().unwrap();
    let pay = fresh.get(app.url(&format!("/pay/{order_id}"))).send().await.unwrap();
    assert_eq!(pay.headers()["content-language"], "sr");
    app.stop().await;
}

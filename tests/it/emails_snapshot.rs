//! The customer's emails, snapshot-tested: each is rendered through the real pipeline (order,
//! callback, outbox, SMTP), and its subject, text and HTML parts are compared with
//! `tests/it/snapshots/<kind>.txt` after masking what changes per run (address, login,
//! password, token, ids, URL, dates), so a template change shows as a diff.
//! `KEYTURN_UPDATE_SNAPSHOTS=1 cargo test --test it -- emails_snapshot` rewrites the files.
//! Every kind of email is covered in every locale (`snapshots/<locale>/<kind>.txt`): each flow
//! runs once per locale, its orders placed in that language.
//! Each email is also scored by SpamAssassin (Debian package `spamassassin`, local tests only,
//! `spamassassin -L -t`): above 0.0 points fails.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use serde_json::json;

use crate::harness::*;

/// The locales every email is written in.
const LOCALES: [&str; 4] = ["en", "ru", "pl", "sr"];

/// Dates as `locale` writes them (`December 2, 2026`, `2 декабря 2026 г.`) from two days ago to
/// two years ahead → `<DATE>`; then `dddd-dd-dd` → `<DATE>` and `dd:dd[:dd]` → `<TIME>`.
fn mask_dates(s: &str, locale: &str) -> String {
    let locale = keyturn::i18n::Locale::from_stored(locale);
    let today = chrono::Utc::now().timestamp();
    let mut dates: Vec<String> = (-2..730).map(|d| keyturn::i18n::format::date(locale, today + d * 86_400)).collect();
    // `12 декабря` before `2 декабря`, which it contains.
    dates.sort_by_key(|d| std::cmp::Reverse(d.len()));
    let mut s = s.to_string();
    for d in &dates {
        s = s.replace(d.as_str(), "<DATE>");
    }
    let shape = |at: &[char], pattern: &str| {
        at.len() >= pattern.len()
            && pattern.chars().zip(at).all(|(p, c)| if p == 'd' { c.is_ascii_digit() } else { p == *c })
    };
    let chars: Vec<char> = s.chars().collect();
    let (mut out, mut i) = (String::new(), 0);
    while i < chars.len() {
        let rest = &chars[i..];
        if shape(rest, "dddd-dd-dd") {
            out.push_str("<DATE>");
            i += 10;
        } else if shape(rest, "dd:dd:dd") {
            out.push_str("<TIME>");
            i += 8;
        } else if shape(rest, "dd:dd") {
            out.push_str("<TIME>");
            i += 5;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// The email as a snapshot: subject, text and HTML, with `values` masked by their names.
fn render(mail: &Mail, values: &[(&str, &str)], locale: &str) -> String {
    let mut s = format!(
        "Subject: {}\n\n--- text ---\n{}\n--- html ---\n{}\n",
        mail.subject,
        mail.text,
        mail.html.as_deref().unwrap_or("(none)")
    );
    for (name, value) in values {
        // As written in the text part, and as the HTML part escapes it.
        let escaped = value.replace('&', "&amp;").replace('/', "&#x2f;");
        s = s.replace(value, &format!("<{name}>")).replace(&escaped, &format!("<{name}>"));
    }
    mask_dates(&s, locale)
}

/// SpamAssassin's score of each `(name, mail)`, all scored at once (each run loads the rules for
/// seconds); any above 0.0 fails with SpamAssassin's report. Skipped when SpamAssassin is not
/// installed (a failure when KEYTURN_REQUIRE_TOOLS is set, as in `.ci/run`) and on the other
/// backends (the score does not depend on the database).
fn assert_not_spam(mails: &[(&str, &Mail)]) {
    if std::env::var_os("KEYTURN_TEST_DATABASE_URL").is_some() {
        return;
    }
    if Command::new("spamassassin").arg("--version").output().is_err() {
        assert!(
            std::env::var_os("KEYTURN_REQUIRE_TOOLS").is_none(),
            "KEYTURN_REQUIRE_TOOLS is set but spamassassin is missing"
        );
        eprintln!("SpamAssassin scoring skipped: apt-get install spamassassin");
        return;
    }
    std::thread::scope(|scope| {
        let runs: Vec<_> = mails.iter().map(|(name, mail)| (name, scope.spawn(|| spam_report(&mail.raw)))).collect();
        for (name, run) in runs {
            let (score, report) = run.join().unwrap();
            assert!(score <= 0.0, "SpamAssassin scores the {name} email {score}:\n{report}");
        }
    });
}

/// Names the demo service as a shop selling in `locale` names what it sells, and returns a
/// customer's name of that language: the emails are scored as that shop's customers get them.
/// (SpamAssassin's MIXED_ES counts a Cyrillic `е` as a look-alike of a Latin `e`: a Russian
/// email that also carries more than 20 Latin `e` — an English product name, a Latin customer
/// name, long links — scores 1.0 with it, whatever its wording. README, "Mail that lands".)
async fn shop_in(app: &TestApp, locale: &str) -> &'static str {
    let (customer, service) = match locale {
        "ru" => ("Анна Павлова", "Онлайн-курс"),
        "pl" => ("Anna Nowak", "Kurs online"),
        "sr" => ("Ana Petrović", "Onlajn kurs"),
        _ => ("Ada Lovelace", "Demo service"),
    };
    app.execute_sql(&format!("UPDATE services SET name = '{service}' WHERE slug = 'demo'")).await;
    customer
}

/// A customer's address at a mail provider of `locale`'s country (`.test`: never delivered).
fn email_in(locale: &str) -> String {
    let provider = match locale {
        "ru" => "pochta",
        "pl" => "poczta",
        "sr" => "posta",
        _ => "example",
    };
    format!("kt-{}@{provider}.test", hex::encode(rand::random::<[u8; 6]>()))
}

/// An app of a shop selling in `locale`: its name (product and merchant) in that language (the
/// default is `keyturn`).
fn shop_app(locale: &str) -> TestAppBuilder {
    let name = match locale {
        "ru" => "Ателье Анны",
        "pl" => "Szkoła Anny",
        "sr" => "Anina škola",
        _ => "keyturn",
    };
    TestApp::builder().set("product_name", name).set("merchant_name", name)
}

/// `(score, report)` of `spamassassin -L -t` for `raw`.
fn spam_report(raw: &[u8]) -> (f64, String) {
    let mut child = Command::new("spamassassin")
        .args(["-L", "-t"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spamassassin");
    child.stdin.take().unwrap().write_all(raw).unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let at = text.find("Content analysis details:").unwrap_or_else(|| panic!("no SpamAssassin report:\n{text}"));
    let report = text[at..].to_string();
    let score = report.split('(').nth(1).and_then(|r| r.split_whitespace().next()).and_then(|n| n.parse().ok());
    (score.unwrap_or_else(|| panic!("no score in {report}")), report)
}

/// Compares with (or, when asked, rewrites) `snapshots/<locale>/<name>.txt`.
fn check(locale: &str, name: &str, got: &str) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/it/snapshots").join(locale);
    let path = dir.join(format!("{name}.txt"));
    if std::env::var("KEYTURN_UPDATE_SNAPSHOTS").is_ok() {
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(&path, got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("no snapshot {}: run with KEYTURN_UPDATE_SNAPSHOTS=1", path.display()));
    assert!(want == got, "email {name} differs from {}:\n--- want\n{want}\n--- got\n{got}", path.display());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emails_snapshot() {
    for locale in LOCALES {
        let app = shop_app(locale).start().await;
        account_emails(&app, locale).await;
        app.stop().await;
    }
}

/// The first emails of a customer: the payment's confirmation, the credentials, the credentials
/// again (asked for before the first were used) and "your account is active".
async fn account_emails(app: &TestApp, locale: &str) {
    let email = email_in(locale);
    let body = json!({"service": "demo", "name": shop_in(app, locale).await, "email": email, "locale": locale});
    let order = json_status(app.post_json("/api/v1/orders", &body).await, 201).await;
    let order_id = order["order_id"].as_str().unwrap().to_string();
    app.pay_by_callback(&order_id, "authenticated").await;
    let confirmation = app.mail.wait_for(&email, Kind::Confirmation, 1, MAIL_TIMEOUT).await;
    let credentials = app.mail.wait_for(&email, Kind::Credentials, 1, MAIL_TIMEOUT).await;
    let first = credentials.credentials().unwrap();
    // A new link and temporary password, asked for before the first was used.
    assert_eq!(app.resend(&email).await.status(), 202);
    let reset = app.mail.wait_for(&email, Kind::Credentials, 2, MAIL_TIMEOUT).await;
    let second = reset.credentials().unwrap();
    json_status(app.verify(&second.token).await, 200).await;
    let activation = app.mail.wait_for(&email, Kind::Activation, 1, MAIL_TIMEOUT).await;

    let values: Vec<(&str, &str)> = vec![
        ("TOKEN", &first.token),
        ("TOKEN", &second.token),
        ("PASSWORD", &first.password),
        ("PASSWORD", &second.password),
        ("LOGIN", &first.login),
        ("ORDER", &order_id),
        ("EMAIL", &email),
        ("URL", &app.public_url),
    ];
    let mails = [
        ("payment_confirmation", &confirmation),
        ("credentials", &credentials),
        ("credentials_reset", &reset),
        ("activation", &activation),
    ];
    for (name, mail) in mails {
        assert_eq!(mail.header("content-language").as_deref(), Some(locale), "{name}");
        check(locale, name, &render(mail, &values, locale));
    }
    assert_not_spam(&mails);
}

/// The emails around a pay-by-link invoice and a renewal: the invoice's link to the customer,
/// the merchant's copy of the paid invoice (in the shop's language), and "access extended" when
/// a known customer pays for the service again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invoice_and_renewal_emails_snapshot() {
    for locale in LOCALES {
        let merchant = unique_email();
        let app = shop_app(locale).set("merchant_email", &merchant).set("default_locale", locale).start().await;
        invoice_emails(&app, &merchant, locale).await;
        app.stop().await;
    }
}

async fn invoice_emails(app: &TestApp, merchant: &str, locale: &str) {
    let operator = app.admin("operator").await;
    let email = email_in(locale);
    let body = json!({"name": shop_in(app, locale).await, "email": email, "phone": "+1 555 0100", "service": "demo",
                      "send_email": true, "locale": locale});
    let created = json_status(operator.post("/invoices", &body).await, 201).await;
    let (invoice_id, order_id) = (created["invoice_id"].as_str().unwrap(), created["order_id"].as_str().unwrap());
    let link = app.mail.wait_for(&email, Kind::Other, 1, MAIL_TIMEOUT).await;
    assert_eq!(link.template(), "invoice_link");

    app.pay_by_callback(order_id, "authenticated").await;
    let creds = app.mail.credentials(&email, 1).await;
    let copy = app.mail.wait_for(merchant, Kind::Any, 1, MAIL_TIMEOUT).await;
    json_status(app.verify(&creds.token).await, 200).await;

    // The same customer pays for the service again (no locale named: the account's stays):
    // the access is extended.
    let again = app.order(&email).await;
    app.pay_by_callback(&again, "authenticated").await;
    let extended = app.mail.wait_for(&email, Kind::Other, 2, MAIL_TIMEOUT).await;
    assert_eq!(extended.template(), "access_extended");

    let values: Vec<(&str, &str)> = vec![
        ("INVOICE", invoice_id),
        ("ORDER", order_id),
        ("ORDER", &again),
        ("ADMIN", &operator.username),
        ("LOGIN", &creds.login),
        ("MERCHANT_EMAIL", merchant),
        ("EMAIL", &email),
        ("URL", &app.public_url),
    ];
    let mails = [("invoice_link", &link), ("merchant_copy", &copy), ("access_extended", &extended)];
    for (name, mail) in mails {
        check(locale, name, &render(mail, &values, locale));
    }
    assert_not_spam(&mails);
    app.run_pending_jobs().await;
    app.assert_no_pending_jobs().await;
}

/// A verified customer whose account speaks `locale`, on their own password, logged in.
async fn active_in(app: &TestApp, locale: &str) -> Active {
    let email = email_in(locale);
    let body = json!({"service": "demo", "name": shop_in(app, locale).await, "email": email, "locale": locale});
    let order = json_status(app.post_json("/api/v1/orders", &body).await, 201).await;
    app.pay_by_callback(order["order_id"].as_str().unwrap(), "authenticated").await;
    let creds = app.mail.credentials(&email, 1).await;
    json_status(app.verify(&creds.token).await, 200).await;
    let customer = app.customer();
    json_status(customer.login(&creds.login, &creds.password).await, 200).await;
    let password = strong_password();
    assert_eq!(customer.change_password(&creds.password, &password).await.status(), 204);
    Active { email, login: creds.login, password, customer }
}

/// The forgot-password emails: the reset link, and "your password was changed" after using it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_reset_emails_snapshot() {
    for locale in LOCALES {
        let app = shop_app(locale).start().await;
        let a = active_in(&app, locale).await;
        json_status(app.post_json("/api/v1/password-reset", &json!({"email": a.email})).await, 202).await;
        let reset = app.mail.wait_for(&a.email, Kind::PasswordReset, 1, MAIL_TIMEOUT).await;
        let link = reset.link_to("/reset-password?token=").unwrap();
        let token = link.split("token=").nth(1).unwrap().to_string();
        let body = json!({"token": token, "new_password": strong_password()});
        assert_eq!(app.post_json("/api/v1/password-reset/confirm", &body).await.status(), 204);
        let changed = app.mail.wait_for(&a.email, Kind::PasswordChanged, 1, MAIL_TIMEOUT).await;

        let values: Vec<(&str, &str)> =
            vec![("TOKEN", &token), ("LOGIN", &a.login), ("EMAIL", &a.email), ("URL", &app.public_url)];
        let mails = [("password_reset", &reset), ("password_changed", &changed)];
        for (name, mail) in mails {
            check(locale, name, &render(mail, &values, locale));
        }
        assert_not_spam(&mails);
        app.run_pending_jobs().await;
        app.assert_no_pending_jobs().await;
        app.stop().await;
    }
}

/// The expiry sweep's emails: the renewal reminder (with its renewal link) a week before the
/// end, and "access ended" when the grace is over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reminder_and_expiry_emails_snapshot() {
    for locale in LOCALES {
        let app = shop_app(locale).start().await;
        let email = email_in(locale);
        let body = json!({"service": "demo", "name": shop_in(&app, locale).await, "email": email, "locale": locale});
        let order = json_status(app.post_json("/api/v1/orders", &body).await, 201).await;
        app.pay_by_callback(order["order_id"].as_str().unwrap(), "authenticated").await;
        let creds = app.mail.credentials(&email, 1).await;
        json_status(app.verify(&creds.token).await, 200).await;
        let demo = app.demo().await;

        app.clock.advance((demo.period_days - 7) * 86_400 + 60);
        app.sweep().await;
        app.run_pending_jobs().await;
        let reminder =
            app.mail.to(&email).into_iter().find(|m| m.template() == "renewal_reminder").expect("a reminder");
        let link_at = reminder.text.find("/renew/").unwrap() + "/renew/".len();
        let token: String = reminder.text[link_at..].chars().take_while(|c| !c.is_whitespace()).collect();
        app.clock.advance(11 * 86_400);
        app.sweep().await;
        app.run_pending_jobs().await;
        let expired =
            app.mail.to(&email).into_iter().find(|m| m.template() == "access_expired").expect("an expiry email");

        let values: Vec<(&str, &str)> =
            vec![("TOKEN", &token), ("LOGIN", &creds.login), ("EMAIL", &email), ("URL", &app.public_url)];
        let mails = [("renewal_reminder", &reminder), ("access_expired", &expired)];
        for (name, mail) in mails {
            check(locale, name, &render(mail, &values, locale));
        }
        assert_not_spam(&mails);
        app.assert_no_pending_jobs().await;
        app.stop().await;
    }
}

/// The emails about money given back: `refund` (a full refund ends the access) and
/// `cancellation` (a voided authorisation).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refund_and_cancellation_emails_snapshot() {
    for locale in LOCALES {
        let app = shop_app(locale).set("capture", "manual").start().await;
        let operator = app.admin("operator").await;
        let (refunded, voided) = (email_in(locale), email_in(locale));
        let mut orders = Vec::new();
        for email in [&refunded, &voided] {
            let body =
                json!({"service": "demo", "name": shop_in(&app, locale).await, "email": email, "locale": locale});
            let order = json_status(app.post_json("/api/v1/orders", &body).await, 201).await;
            let order_id = order["order_id"].as_str().unwrap().to_string();
            app.pay_with_card(&order_id, "4242424242424242", "").await;
            let pay =
                operator.payment_reaching(&order_id, "authorized").await["payment_id"].as_str().unwrap().to_string();
            orders.push((order_id, pay));
        }
        json_status(operator.operate(&orders[0].1, "capture", json!({}), None).await, 200).await;
        json_status(operator.operate(&orders[0].1, "refund", json!({}), None).await, 200).await;
        json_status(operator.operate(&orders[1].1, "cancel", json!({}), None).await, 200).await;
        let refund = app.mail.wait_for(&refunded, Kind::Other, 1, MAIL_TIMEOUT).await;
        let cancellation = app.mail.wait_for(&voided, Kind::Other, 1, MAIL_TIMEOUT).await;
        assert_eq!((refund.template().as_str(), cancellation.template().as_str()), ("refund", "cancellation"));
        let values: Vec<(&str, &str)> =
            vec![("ORDER", &orders[0].0), ("ORDER", &orders[1].0), ("URL", &app.public_url)];
        check(locale, "refund", &render(&refund, &values, locale));
        check(locale, "cancellation", &render(&cancellation, &values, locale));
        assert_not_spam(&[("refund", &refund), ("cancellation", &cancellation)]);
        app.stop().await;
    }
}

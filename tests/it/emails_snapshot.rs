//! The customer's emails, snapshot-tested: each is rendered through the real pipeline (order,
//! callback, outbox, SMTP), and its subject, text and HTML parts are compared with
//! `tests/it/snapshots/<kind>.txt` after masking what changes per run (address, login,
//! password, token, ids, URL, dates), so a template change shows as a diff.
//! `KEYTURN_UPDATE_SNAPSHOTS=1 cargo test --test it -- emails_snapshot` rewrites the files.

use std::path::PathBuf;

use serde_json::json;

use crate::harness::*;

/// `dddd-dd-dd` → `<DATE>` and `dd:dd[:dd]` → `<TIME>`.
fn mask_dates(s: &str) -> String {
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
fn render(mail: &Mail, values: &[(&str, &str)]) -> String {
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
    mask_dates(&s)
}

/// Compares with (or, when asked, rewrites) `snapshots/<name>.txt`.
fn check(name: &str, got: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/it/snapshots").join(format!("{name}.txt"));
    if std::env::var("KEYTURN_UPDATE_SNAPSHOTS").is_ok() {
        std::fs::write(&path, got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("no snapshot {}: run with KEYTURN_UPDATE_SNAPSHOTS=1", path.display()));
    assert!(want == got, "email {name} differs from {}:\n--- want\n{want}\n--- got\n{got}", path.display());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emails_snapshot() {
    let app = TestApp::builder().start().await;
    let email = unique_email();
    let body = json!({"service": "demo", "name": "Ada Lovelace", "email": email, "locale": "en"});
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
    for (name, mail) in [
        ("payment_confirmation", &confirmation),
        ("credentials", &credentials),
        ("credentials_reset", &reset),
        ("activation", &activation),
    ] {
        check(name, &render(mail, &values));
    }
    app.stop().await;
}

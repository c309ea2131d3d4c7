//! Mail that lands in the inbox: the headers mailbox providers look for, the envelope sender,
//! DKIM signatures an independent verifier (PyPI `dkimpy`, tests/interop/dkim_verify.py)
//! accepts, and every email scored by SpamAssassin (see emails_snapshot.rs, which scores each
//! one it renders).

use std::path::Path;
use std::process::Command;

use crate::harness::*;

/// A key from `openssl genpkey` (`algorithm`: RSA or ed25519), as PEM.
fn openssl_key(dir: &Path, algorithm: &str) -> String {
    let path = dir.join(format!("{algorithm}.pem"));
    let mut args = vec!["genpkey", "-algorithm", algorithm, "-out", path.to_str().unwrap()];
    if algorithm == "RSA" {
        args.extend(["-pkeyopt", "rsa_keygen_bits:2048"]);
    }
    let status = Command::new("openssl").args(&args).status().expect("openssl (Debian package openssl)");
    assert!(status.success(), "openssl genpkey {algorithm}");
    std::fs::read_to_string(path).unwrap()
}

/// dkimpy's verdict on `raw` with `record` as the DNS answer: `pass <name>` or `fail <name>`;
/// `None` when dkimpy is not installed (a skip unless KEYTURN_INTEROP is set).
fn dkimpy(dir: &Path, raw: &[u8], record: &str) -> Option<String> {
    let ready = Command::new("python3").args(["-c", "import dkim, nacl"]).status().is_ok_and(|s| s.success());
    if !ready {
        assert!(std::env::var("KEYTURN_INTEROP").is_err(), "KEYTURN_INTEROP is set but dkimpy is not installed");
        eprintln!("DKIM interop skipped: pip install -r tests/interop/requirements.txt");
        return None;
    }
    let file = dir.join(format!("m{}.eml", rand::random::<u32>()));
    std::fs::write(&file, raw).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/dkim_verify.py");
    let out = Command::new("python3").arg(script).arg(&file).arg(record).output().expect("python3");
    assert!(out.status.success(), "dkim_verify.py: {}", String::from_utf8_lossy(&out.stderr));
    Some(String::from_utf8(out.stdout).unwrap().trim().to_string())
}

/// The headers of `raw`, unfolded, as `(lower-case name, value)`.
fn headers(raw: &[u8]) -> Vec<(String, String)> {
    let text = String::from_utf8_lossy(raw);
    let head = text.split("\r\n\r\n").next().unwrap_or_default().replace("\r\n ", " ").replace("\r\n\t", " ");
    head.lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect()
}

fn one<'a>(h: &'a [(String, String)], name: &str) -> &'a str {
    let found: Vec<&str> = h.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str()).collect();
    assert_eq!(found.len(), 1, "{name}: {found:?} in {h:?}");
    found[0]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emails_carry_the_sending_domain_a_date_and_a_bounce_address() {
    let app = TestApp::builder()
        .set("mail_from", "Shop <no-reply@shop.example>")
        .set("mail_envelope_from", "bounces@mail.shop.example")
        .start()
        .await;
    let email = unique_email();
    let order = app.order(&email).await;
    app.pay_by_callback(&order, "authenticated").await;
    for kind in [Kind::Confirmation, Kind::Credentials] {
        let mail = app.mail.wait_for(&email, kind, 1, MAIL_TIMEOUT).await;
        let h = headers(&mail.raw);
        let id = one(&h, "message-id");
        assert!(id.starts_with('<') && id.ends_with("@shop.example>"), "Message-ID {id}");
        let date = one(&h, "date");
        assert!(chrono::DateTime::parse_from_rfc2822(date).is_ok(), "Date {date}");
        assert_eq!(one(&h, "auto-submitted"), "auto-generated");
        assert!(one(&h, "content-type").starts_with("multipart/alternative"), "{h:?}");
        assert!(one(&h, "from").contains("<no-reply@shop.example>"));
        assert_eq!(mail.from, "bounces@mail.shop.example", "the envelope sender");
        assert!(!mail.text.trim().is_empty() && mail.html.is_some(), "a text part and an HTML part");
    }
    // Without the setting, bounces go to the From address.
    let plain = TestApp::builder().set("mail_from", "Shop <no-reply@shop.example>").start().await;
    let email = unique_email();
    let order = plain.order(&email).await;
    plain.pay_by_callback(&order, "authenticated").await;
    let mail = plain.mail.wait_for(&email, Kind::Credentials, 1, MAIL_TIMEOUT).await;
    assert_eq!(mail.from, "no-reply@shop.example");
    assert!(headers(&mail.raw).iter().all(|(k, _)| k != "dkim-signature"), "signed without a key");
    plain.stop().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dkim_signatures_with_rsa_and_ed25519_keys_verify_with_dkimpy() {
    let dir = tempfile::tempdir().unwrap();
    for algorithm in ["RSA", "ed25519"] {
        let pem = openssl_key(dir.path(), algorithm);
        let record = keyturn::mail::dkim::read_key(&pem).unwrap().dns_record();
        let key_file = dir.path().join(format!("{algorithm}.pem"));
        let app = TestApp::builder()
            .set("mail_from", "Shop <no-reply@shop.example>")
            .set("dkim_selector", "kt2026")
            .set("dkim_key", &pem)
            .start()
            .await;
        let email = unique_email();
        let order = app.order(&email).await;
        app.pay_by_callback(&order, "authenticated").await;
        let mail = app.mail.wait_for(&email, Kind::Credentials, 1, MAIL_TIMEOUT).await;
        let h = headers(&mail.raw);
        let sig = one(&h, "dkim-signature");
        assert!(sig.contains("d=shop.example") && sig.contains("s=kt2026"), "{sig}");
        let want = if algorithm == "RSA" { "a=rsa-sha256" } else { "a=ed25519-sha256" };
        assert!(sig.contains(want), "{sig}");
        let Some(verdict) = dkimpy(dir.path(), &mail.raw, &record) else {
            app.stop().await;
            return;
        };
        assert_eq!(verdict, "pass kt2026._domainkey.shop.example.", "{algorithm}: {sig}");
        // A message changed on the way fails: the body (the password line) and the subject.
        let raw = String::from_utf8(mail.raw.clone()).unwrap();
        let body = raw.replacen("Password:", "Passw0rd:", 1);
        assert_ne!(body, raw);
        assert!(dkimpy(dir.path(), body.as_bytes(), &record).unwrap().starts_with("fail"), "{algorithm} body");
        let subject = raw.replacen("Subject: ", "Subject: Re: ", 1);
        assert!(dkimpy(dir.path(), subject.as_bytes(), &record).unwrap().starts_with("fail"), "{algorithm} subject");
        // Someone else's key does not verify it.
        let other = keyturn::mail::dkim::read_key(&openssl_key(dir.path(), algorithm)).unwrap().dns_record();
        assert!(dkimpy(dir.path(), &mail.raw, &other).unwrap().starts_with("fail"), "{algorithm} other key");
        let _ = std::fs::remove_file(key_file);
        app.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_dkim_setting_is_named_at_start() {
    let cases: [(&[(&str, &str)], &str); 4] = [
        (&[("dkim_selector", "kt")], "dkim_key"),
        (&[("dkim_key", "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----")], "dkim_selector"),
        (&[("dkim_selector", "kt"), ("dkim_key", "not a key")], "dkim_key"),
        (&[("mail_envelope_from", "not an address")], "mail_envelope_from"),
    ];
    for (pairs, key) in cases {
        let err = keyturn::config::Settings::from_pairs(pairs.iter().copied()).unwrap_err().to_string();
        assert!(err.contains(key), "{pairs:?}: {err}");
    }
}

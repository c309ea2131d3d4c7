//! Settings parsing and validation.

use super::*;

#[test]
fn pairs_override_defaults_and_unknown_keys_are_refused() {
    let s = Settings::from_pairs([("listen", "0.0.0.0:9000"), ("resend_per_hour", "5")]).unwrap();
    assert_eq!(s.listen, "0.0.0.0:9000");
    assert_eq!(s.resend_per_hour, 5);
    assert!(matches!(Settings::from_pairs([("nope", "1")]), Err(ConfigError::Unknown(_))));
    let err = Settings::from_pairs([("resend_per_hour", "many")]).unwrap_err();
    assert!(err.to_string().contains("resend_per_hour"));
}

#[test]
fn the_sandbox_is_off_by_default_next_to_postgres_or_a_real_gateway() {
    assert!(Settings::from_pairs::<&str, &str>([]).unwrap().sandbox_enabled);
    let pg = Settings::from_pairs([("database_url", "postgres://u@h/db")]).unwrap();
    assert!(!pg.sandbox_enabled);
    let stripe = Settings::from_pairs([("stripe_webhook_secret", "whsec_x")]).unwrap();
    assert!(!stripe.sandbox_enabled);
    let asked = Settings::from_pairs([("database_url", "postgres://u@h/db"), ("sandbox_enabled", "true")]).unwrap();
    assert!(asked.sandbox_enabled);
}

#[test]
fn a_mysql_url_needs_the_mysql_build_and_turns_the_sandbox_off() {
    let mysql = Settings::from_pairs([("database_url", "mysql://u:p@h/db")]);
    if cfg!(feature = "mysql") {
        assert!(!mysql.unwrap().sandbox_enabled, "a MariaDB shop is a production one");
    } else {
        let err = mysql.unwrap_err().to_string();
        assert!(err.contains("--features mysql"), "{err}");
    }
}

#[test]
fn bad_urls_are_refused_with_the_setting_named() {
    let err = Settings::from_pairs([("database_url", "redis://x")]).unwrap_err();
    assert!(err.to_string().contains("database_url"));
    let err = Settings::from_pairs([("public_url", "ftp://x")]).unwrap_err();
    assert!(err.to_string().contains("public_url"));
}

#[test]
fn a_sandbox_callback_url_at_a_live_gateway_route_is_refused() {
    for ok in [
        "http://127.0.0.1:8080/api/v1/payments/sandbox/callback",
        "https://shop.example/api/v1/payments/sandbox/freedompay/callback",
        "https://hooks.example/relay",
    ] {
        assert!(Settings::from_pairs([("sandbox_callback_url", ok)]).is_ok(), "{ok}");
    }
    for bad in ["https://shop.example/api/v1/payments/stripe/callback", "http://h/api/v1/payments/freedompay/callback/"]
    {
        let err = Settings::from_pairs([("sandbox_callback_url", bad)]).unwrap_err().to_string();
        assert!(err.contains("sandbox_callback_url") && err.contains("live"), "{bad}: {err}");
    }
    let err = Settings::from_pairs([("sandbox_callback_url", "ftp://h/x")]).unwrap_err().to_string();
    assert!(err.contains("sandbox_callback_url"), "{err}");
}

#[test]
fn the_readme_documents_every_setting() {
    let readme = include_str!("../../README.md");
    for s in all_settings() {
        let var = format!("`KEYTURN_{}`", s.name.to_ascii_uppercase());
        assert!(readme.contains(&var), "README.md does not document {var}");
    }
}

#[test]
fn secrets_are_never_printed() {
    let s = Settings::from_pairs([
        ("database_url", "postgres://keyturn:db-pass-123@h/db"),
        ("smtp_url", "smtps://u:smtp-pass-123@mail.example:465"),
        ("hcaptcha_secret", "captcha-secret-123"),
        ("stripe_webhook_secret", "whsec_stripe-secret-123"),
        ("paypal_client_secret", "paypal-secret-123"),
        ("listen", "127.0.0.1:9999"),
    ])
    .unwrap();
    let shown = format!("{s:?} {s:#?}");
    for secret in ["db-pass-123", "smtp-pass-123", "captcha-secret-123", "stripe-secret-123", "paypal-secret-123"] {
        assert!(!shown.contains(secret), "Debug printed {secret}");
    }
    assert!(shown.contains("127.0.0.1:9999"), "ordinary settings are still shown");
    assert!(shown.contains("hcaptcha_secret: \"***\""));
    assert!(shown.contains("hcaptcha_sitekey: None"), "an unset value says so");
}

#[test]
fn every_documented_setting_is_read_and_every_word_setting_names_its_choices() {
    for doc in all_settings() {
        // Each documented name is accepted by the reader (a value error is fine, Unknown is not).
        let r = Settings::from_pairs([(doc.name, "x")]);
        assert!(!matches!(r, Err(ConfigError::Unknown(_))), "{} is documented but not read", doc.name);
    }
    let err = Settings::from_pairs([("capture", "later")]).unwrap_err().to_string();
    assert!(err.contains("capture") && err.contains("automatic, manual"), "{err}");
    let err = Settings::from_pairs([("three_ds_not_performed", "maybe")]).unwrap_err().to_string();
    assert!(err.contains("reject, accept"), "{err}");
    let s = Settings::from_pairs([("public_url", "https://shop.example/")]).unwrap();
    assert_eq!(s.public_url.as_deref(), Some("https://shop.example"));
}

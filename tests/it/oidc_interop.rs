//! Sign in with keyturn against an independent relying party: PyPI `authlib` (pinned in
//! tests/interop/requirements.txt) runs tests/interop/oidc_client.py against a running keyturn
//! (discovery, code + PKCE + nonce, the ID token checked against the JWKS, userinfo, refresh
//! rotation; each refusal with its exact error: a reused code, a missing or wrong PKCE verifier,
//! another redirect URI at the token endpoint, missing or `plain` PKCE at authorize, a wrong
//! redirect URI never redirected to, a bound client refusing an unpaid customer, also under
//! `prompt=none`), then validates a token signed before a key rotation. Like interop.rs:
//! `.ci/run` sets KEYTURN_INTEROP=1, which turns a missing library into a failure; a plain
//! `cargo test` without it skips and says so.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

use crate::harness::*;

fn interop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop")
}

/// Runs the script; `None` when authlib is not installed (skip unless required).
fn run(args: &[&str]) -> Option<String> {
    let ready = Command::new("python3").args(["-c", "import authlib, requests"]).status().is_ok_and(|s| s.success());
    if !ready {
        assert!(
            std::env::var("KEYTURN_INTEROP").is_err(),
            "KEYTURN_INTEROP is set but authlib is not installed (pip install -r tests/interop/requirements.txt)"
        );
        eprintln!("OIDC interop test skipped: run `pip install -r requirements.txt` in tests/interop");
        return None;
    }
    let out =
        Command::new("python3").arg("oidc_client.py").args(args).current_dir(interop_dir()).output().expect("python3");
    assert!(
        out.status.success(),
        "oidc_client.py {} failed:\n{}",
        args.first().unwrap_or(&""),
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8(out.stdout).expect("utf-8").trim().to_string())
}

fn side(c: &RpClient) -> Value {
    json!({"id": c.id, "secret": c.secret, "redirect": c.redirect})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authlib_signs_in_and_validates_tokens_across_a_key_rotation() {
    let app = TestApp::builder().start().await;
    let owner = app.admin("owner").await;
    let slug = format!("lms-{}", hex::encode(rand::random::<[u8; 3]>()));
    let svc = json!({"slug": slug, "name": "Course site", "price_minor": 900, "currency": "EUR", "period_days": 30});
    json_status(owner.post("/services", &svc).await, 201).await;
    let confidential = app.oidc_client(&owner, json!({})).await;
    let public = app.oidc_client(&owner, json!({"public": true})).await;
    let bound = app.oidc_client(&owner, json!({"service": slug})).await;
    let c = app.active().await;
    let issuer = app.public_url.trim_end_matches('/').to_string();
    let config = json!({
        "issuer": issuer, "login": c.login, "password": c.password,
        "confidential": side(&confidential), "public": side(&public), "bound": side(&bound),
    });
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("config.json");
    std::fs::write(&file, config.to_string()).unwrap();
    let Some(out) = run(&["flow", &file.to_string_lossy()]) else { return };
    let out: Value = serde_json::from_str(&out).unwrap_or_else(|_| panic!("script output: {out}"));
    let old_token = out["id_token"].as_str().unwrap().to_string();

    // Rotation: the token signed by the previous key still validates while it is published.
    app.rotate_oidc_keys().await;
    assert_eq!(run(&["verify", &issuer, &confidential.id, &old_token]).unwrap(), "valid");
    // A token for another client, and a tampered one, do not.
    assert!(run(&["verify", &issuer, &public.id, &old_token]).unwrap().starts_with("invalid"));
    let mut parts: Vec<String> = old_token.split('.').map(String::from).collect();
    parts[2] = parts[2].chars().rev().collect();
    assert!(run(&["verify", &issuer, &confidential.id, &parts.join(".")]).unwrap().starts_with("invalid"));
    // Once the old key is unpublished (its tokens expired, the next rotation), it no longer validates.
    app.clock.advance(3600 + 301);
    app.rotate_oidc_keys().await;
    assert!(run(&["verify", &issuer, &confidential.id, &old_token]).unwrap().starts_with("invalid"));
    app.stop().await;
}

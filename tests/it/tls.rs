//! HTTPS on our own listener (DESIGN §9): curl verifies the served certificate against the CA
//! that issued it, answers carry HSTS, the plain-HTTP listener redirects to https, and a renewed
//! certificate written over the files is served without a restart, or at once on SIGHUP.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use keyturn::config::Settings;

use crate::harness::pebble::issue;

/// `curl` present, or the test is skipped (a failure when `.ci/run` requires the tools).
fn have_curl() -> bool {
    let ok = Command::new("curl").arg("--version").output().is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var_os("KEYTURN_REQUIRE_TOOLS").is_none(),
            "KEYTURN_REQUIRE_TOOLS is set but curl is missing"
        );
        eprintln!("skipping: curl is not installed");
    }
    ok
}

/// curl's `(exit code, response head)` for `url`, trusting only `ca`.
fn curl(url: &str, ca: &Path) -> (i32, String) {
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "10", "-o", "/dev/null", "-D", "-", "--cacert"])
        .arg(ca)
        .arg(url)
        .output()
        .unwrap();
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).to_ascii_lowercase())
}

#[tokio::test]
async fn https_with_certificate_files_hsts_redirect_and_reload() {
    if !have_curl() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (ca1, cert1, key1) = issue("keyturn test CA one");
    let (ca_path, cert_path, key_path) =
        (dir.path().join("ca1.pem"), dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&ca_path, &ca1).unwrap();
    std::fs::write(&cert_path, &cert1).unwrap();
    std::fs::write(&key_path, &key1).unwrap();
    let data = dir.path().join("data");
    let settings = Settings::from_pairs([
        ("data_dir", data.to_string_lossy().as_ref()),
        ("listen", "127.0.0.1:0"),
        ("tls_cert_file", cert_path.to_string_lossy().as_ref()),
        ("tls_key_file", key_path.to_string_lossy().as_ref()),
        ("http_listen", "127.0.0.1:0"),
    ])
    .unwrap();
    let app = keyturn::app::start(settings, keyturn::clock::Clock::system()).await.unwrap();
    let port = app.addr.port();
    assert_eq!(app.public_url(), format!("https://127.0.0.1:{port}"), "links are built on https");
    let url = format!("https://127.0.0.1:{port}/healthz");

    let (code, head) = tokio::task::spawn_blocking({
        let (url, ca) = (url.clone(), ca_path.clone());
        move || curl(&url, &ca)
    })
    .await
    .unwrap();
    assert_eq!(code, 0, "curl verifies the certificate against its CA: {head}");
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(head.contains("strict-transport-security: max-age="), "HSTS on every answer: {head}");

    // Another CA's trust is not enough: the certificate really is checked.
    let (other_ca, _, _) = issue("keyturn unrelated CA");
    let other_path = dir.path().join("other.pem");
    std::fs::write(&other_path, other_ca).unwrap();
    let (code, _) = tokio::task::spawn_blocking({
        let (url, ca) = (url.clone(), other_path.clone());
        move || curl(&url, &ca)
    })
    .await
    .unwrap();
    assert_eq!(code, 60, "curl refuses a certificate its CA did not issue");

    // The plain listener sends every request to https, path and query kept.
    let plain = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let http_addr = app.http_addr.expect("http_listen is bound");
    let resp = plain.get(format!("http://{http_addr}/buy/demo?lang=ru")).send().await.unwrap();
    assert_eq!(resp.status(), 301);
    assert_eq!(resp.headers()["location"], format!("https://127.0.0.1:{port}/buy/demo?lang=ru").as_str());
    let resp = plain.post(format!("http://{http_addr}/api/v1/orders")).body("{}").send().await.unwrap();
    assert_eq!(resp.status(), 308, "a POST is redirected as a POST");
    assert_eq!(resp.headers()["location"], format!("https://127.0.0.1:{port}/api/v1/orders").as_str());

    // A renewed certificate from another CA, written over the files: served without a restart.
    let (ca2, cert2, key2) = issue("keyturn test CA two");
    let ca2_path = dir.path().join("ca2.pem");
    std::fs::write(&ca2_path, &ca2).unwrap();
    std::fs::write(&key_path, &key2).unwrap();
    std::fs::write(&cert_path, &cert2).unwrap();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (code, _) = tokio::task::spawn_blocking({
            let (url, ca) = (url.clone(), ca2_path.clone());
            move || curl(&url, &ca)
        })
        .await
        .unwrap();
        if code == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "the renewed certificate is not served (curl exit {code})");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let (code, _) = tokio::task::spawn_blocking({
        let url = url.clone();
        move || curl(&url, &ca_path)
    })
    .await
    .unwrap();
    assert_eq!(code, 60, "the old certificate is no longer served");

    // A third pair put in place with the old files' sizes and times (as `cp -p` or a restore
    // may leave it): the watcher cannot tell, SIGHUP (what the binary's handler calls) can.
    let (ca3, cert3, key3) = loop {
        let (ca, cert, key) = issue("keyturn test CA three");
        if cert.len() <= cert2.len() && key.len() <= key2.len() {
            break (ca, cert, key);
        }
    };
    let ca3_path = dir.path().join("ca3.pem");
    std::fs::write(&ca3_path, &ca3).unwrap();
    put_unseen(&key_path, &key3);
    put_unseen(&cert_path, &cert3);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let served_by = |ca: std::path::PathBuf| {
        let url = url.clone();
        tokio::task::spawn_blocking(move || curl(&url, &ca).0)
    };
    assert_eq!(served_by(ca2_path.clone()).await.unwrap(), 0, "unchanged-looking files are not re-read by themselves");
    app.reload();
    assert_eq!(served_by(ca3_path).await.unwrap(), 0, "after the reload the third certificate is served");
    assert_eq!(served_by(ca2_path).await.unwrap(), 60);
    app.stop().await;
}

/// Replaces `path` with `content` padded (PEM allows trailing blank lines) to the old file's
/// length and given its modification time, in one rename.
fn put_unseen(path: &Path, content: &str) {
    let old = std::fs::metadata(path).unwrap();
    let padding = usize::try_from(old.len()).unwrap() - content.len();
    let tmp = path.with_extension("new");
    std::fs::write(&tmp, format!("{content}{}", "\n".repeat(padding))).unwrap();
    std::fs::File::options().write(true).open(&tmp).unwrap().set_modified(old.modified().unwrap()).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

#[test]
fn certificate_settings_are_checked_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let (_, cert, key) = issue("keyturn test CA");
    let (_, _, other_key) = issue("keyturn other CA");
    let (cert_path, key_path, other_path) =
        (dir.path().join("cert.pem"), dir.path().join("key.pem"), dir.path().join("other-key.pem"));
    std::fs::write(&cert_path, cert).unwrap();
    std::fs::write(&key_path, key).unwrap();
    std::fs::write(&other_path, other_key).unwrap();
    let (cert_s, key_s, other_s) =
        (cert_path.to_string_lossy(), key_path.to_string_lossy(), other_path.to_string_lossy());

    let err = Settings::from_pairs([("tls_cert_file", cert_s.as_ref())]).unwrap_err().to_string();
    assert!(err.contains("tls_key_file"), "{err}");
    let err = Settings::from_pairs([("tls_cert_file", cert_s.as_ref()), ("tls_key_file", other_s.as_ref())])
        .unwrap_err()
        .to_string();
    assert!(err.contains("is not the key of"), "a key of another certificate is refused: {err}");
    let err = Settings::from_pairs([("tls_cert_file", "/nonexistent/cert.pem"), ("tls_key_file", key_s.as_ref())])
        .unwrap_err()
        .to_string();
    assert!(err.contains("/nonexistent/cert.pem"), "{err}");
    let err = Settings::from_pairs([("http_listen", "127.0.0.1:0")]).unwrap_err().to_string();
    assert!(err.contains("http_listen"), "{err}");
    let ok = Settings::from_pairs([("tls_cert_file", cert_s.as_ref()), ("tls_key_file", key_s.as_ref())]).unwrap();
    assert!(ok.is_https(), "cookies are Secure and __Host- prefixed, HSTS is sent");
}

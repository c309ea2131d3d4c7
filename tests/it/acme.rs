//! HTTPS through ACME (DESIGN §9), end to end against Pebble: the real `keyturn serve` gets a
//! certificate for `localhost` (Pebble really validates the HTTP-01 or TLS-ALPN-01 challenge on
//! keyturn's ports), serves it with HSTS, redirects plain HTTP to https, renews it before it
//! expires without a restart, and keeps it (and its ACME account) on disk for the next start.
//! keyturn trusts Pebble's own HTTPS through `KEYTURN_ACME_CA_FILE`, as for a private ACME server.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use keyturn::config::Settings;

use crate::harness::pebble::{self, Pebble};
use crate::harness::process::free_port;

/// One life of `keyturn serve` with ACME on, its output in a file.
struct Served {
    child: Child,
    log: PathBuf,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("--- keyturn's log ---\n{}", self.logs());
        }
    }
}

impl Served {
    fn start(data: &Path, pebble: &Pebble, settings: &[(&str, String)]) -> Served {
        std::fs::create_dir_all(data).unwrap();
        let parent = data.parent().unwrap();
        let log = (1..).map(|n| parent.join(format!("keyturn-{n}.log"))).find(|p| !p.exists()).unwrap();
        let out = std::fs::File::create(&log).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_keyturn"));
        cmd.arg("serve")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("KEYTURN_ACME_CA_FILE", &pebble.listener_ca)
            .env("KEYTURN_DATA_DIR", data)
            .env("KEYTURN_ACME_DIRECTORY", &pebble.directory)
            .env("KEYTURN_ACME_DOMAINS", "localhost")
            .env("KEYTURN_ACME_EMAIL", "ops@shop.example")
            .env("KEYTURN_LOG_LEVEL", "info")
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out);
        for (k, v) in settings {
            cmd.env(format!("KEYTURN_{}", k.to_ascii_uppercase()), v);
        }
        Served { child: cmd.spawn().expect("spawn keyturn serve"), log }
    }

    fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }
}

/// The certificate (leaf, DER) `localhost:port` presents in a handshake verified against `root`
/// only, or why there is none.
async fn served_cert(port: u16, root: &Path) -> Result<Vec<u8>, String> {
    let mut roots = rustls::RootCertStore::empty();
    let pem = std::fs::read_to_string(root).unwrap();
    let (_, der) = x509_cert::der::pem::decode_vec(pem.as_bytes()).unwrap();
    roots.add(der.into()).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.map_err(|e| e.to_string())?;
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config)).connect(name, tcp).await.map_err(|e| e.to_string())?;
    let leaf = tls.get_ref().1.peer_certificates().and_then(|c| c.first().cloned()).ok_or("no certificate")?;
    Ok(leaf.to_vec())
}

/// Waits for a verified certificate on `port` that is not `old`.
async fn wait_for_cert(app: &mut Served, port: u16, root: &Path, old: Option<&[u8]>, within: Duration) -> Vec<u8> {
    let deadline = Instant::now() + within;
    loop {
        let got = served_cert(port, root).await;
        match &got {
            Ok(der) if Some(der.as_slice()) != old => return der.clone(),
            _ => {}
        }
        assert!(app.running(), "keyturn exited:\n{}", app.logs());
        assert!(Instant::now() < deadline, "no (new) certificate after {within:?}: {got:?}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// curl's `(exit code, response head)` for `https://localhost:port/healthz`, trusting only `root`.
async fn curl_https(port: u16, root: &Path) -> (i32, String) {
    let root = root.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let out = Command::new("curl")
            .args(["-sS", "--max-time", "10", "-o", "/dev/null", "-D", "-", "--resolve"])
            .arg(format!("localhost:{port}:127.0.0.1"))
            .arg("--cacert")
            .arg(&root)
            .arg(format!("https://localhost:{port}/healthz"))
            .output()
            .unwrap();
        (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).to_ascii_lowercase())
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn http01_certificate_is_issued_served_with_hsts_and_renewed_without_restart() {
    if !pebble::available() {
        return;
    }
    let (port, http_port) = (free_port(), free_port());
    // Certificates live 30 s: renewal is due when 10 s are left.
    let pebble = Pebble::start(http_port, port, 30).await;
    let dir = tempfile::tempdir().unwrap();
    let mut app = Served::start(
        &dir.path().join("data"),
        &pebble,
        &[
            ("listen", format!("127.0.0.1:{port}")),
            ("http_listen", format!("127.0.0.1:{http_port}")),
            ("acme_challenge", "http-01".into()),
        ],
    );
    let first = wait_for_cert(&mut app, port, &pebble.root, None, Duration::from_secs(60)).await;

    let (code, head) = curl_https(port, &pebble.root).await;
    assert_eq!(code, 0, "curl verifies the certificate against Pebble's root: {head}");
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(head.contains("strict-transport-security: max-age="), "HSTS on every answer: {head}");

    // Plain HTTP: everything goes to https on the domain (the public URL's default with ACME)...
    let plain = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let resp = plain.get(format!("http://127.0.0.1:{http_port}/buy/demo?lang=ru")).send().await.unwrap();
    assert_eq!(resp.status(), 301);
    assert_eq!(resp.headers()["location"], format!("https://localhost:{port}/buy/demo?lang=ru").as_str());
    // ...except the challenge path, answered only for a token being validated.
    let resp = plain.get(format!("http://127.0.0.1:{http_port}/.well-known/acme-challenge/nope")).send().await.unwrap();
    assert_eq!(resp.status(), 404);

    // Renewed in the background: another certificate on the same process.
    let second = wait_for_cert(&mut app, port, &pebble.root, Some(&first), Duration::from_secs(90)).await;
    assert_ne!(first, second);
    let (code, head) = curl_https(port, &pebble.root).await;
    assert_eq!(code, 0, "the renewed certificate verifies too: {head}");
    let logs = app.logs();
    assert_eq!(logs.matches("acme_certificate_issued").count(), 2, "{logs}");
}

#[tokio::test]
async fn tls_alpn01_certificate_is_cached_and_served_again_after_a_restart() {
    if !pebble::available() {
        return;
    }
    let port = free_port();
    let pebble = Pebble::start(free_port(), port, 90 * 24 * 3600).await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let settings = [("listen", format!("127.0.0.1:{port}"))];
    let mut app = Served::start(&data, &pebble, &settings);
    let first = wait_for_cert(&mut app, port, &pebble.root, None, Duration::from_secs(60)).await;
    let (code, head) = curl_https(port, &pebble.root).await;
    assert_eq!(code, 0, "{head}");
    assert!(head.contains("strict-transport-security: max-age="), "{head}");

    use std::os::unix::fs::PermissionsExt;
    let key_mode = std::fs::metadata(data.join("acme/key.pem")).unwrap().permissions().mode();
    assert_eq!(key_mode & 0o777, 0o600, "the cached key is readable by keyturn only");
    assert!(data.join("acme/cert.pem").exists());

    drop(app);
    let mut app = Served::start(&data, &pebble, &settings);
    let again = wait_for_cert(&mut app, port, &pebble.root, None, Duration::from_secs(15)).await;
    assert_eq!(first, again, "the cached certificate is served after a restart");
    let logs = app.logs();
    assert!(logs.contains("acme_certificate_loaded"), "{logs}");
    assert!(!logs.contains("acme_ordering"), "no new certificate is ordered while the cached one is good: {logs}");
    let accounts = std::fs::read_dir(data.join("acme"))
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().starts_with("account-"));
    assert_eq!(accounts.count(), 1, "the ACME account is kept for the next order");
}

#[tokio::test]
async fn a_failed_validation_is_logged_with_the_servers_reason_and_retried() {
    if !pebble::available() {
        return;
    }
    let (port, http_port) = (free_port(), free_port());
    // Pebble validates HTTP-01 on a port where nobody listens.
    let pebble = Pebble::start(free_port(), port, 90 * 24 * 3600).await;
    let dir = tempfile::tempdir().unwrap();
    let mut app = Served::start(
        &dir.path().join("data"),
        &pebble,
        &[
            ("listen", format!("127.0.0.1:{port}")),
            ("http_listen", format!("127.0.0.1:{http_port}")),
            ("acme_challenge", "http-01".into()),
        ],
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while !app.logs().contains("acme_order_failed") {
        assert!(app.running(), "keyturn exited:\n{}", app.logs());
        assert!(Instant::now() < deadline, "no failure logged:\n{}", app.logs());
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let logs = app.logs();
    let line = logs.lines().find(|l| l.contains("acme_order_failed")).unwrap();
    assert!(line.contains("/.well-known/acme-challenge/") && line.contains("retry_in_secs=60"), "{line}");
    let err = served_cert(port, &pebble.root).await.unwrap_err();
    assert!(!err.is_empty(), "no certificate is served without one issued");
    assert!(app.running(), "keyturn keeps serving (and retrying)");
}

#[test]
fn acme_settings_are_checked_at_start() {
    let err = Settings::from_pairs([("acme_domains", "shop.example"), ("tls_cert_file", "/x/cert.pem")])
        .unwrap_err()
        .to_string();
    assert!(err.contains("acme_domains") && err.contains("not both"), "{err}");
    let err = Settings::from_pairs([("acme_domains", "shop.example"), ("acme_challenge", "http-01")])
        .unwrap_err()
        .to_string();
    assert!(err.contains("http_listen"), "http-01 needs the plain listener: {err}");
    let err = Settings::from_pairs([("acme_domains", "*.shop.example")]).unwrap_err().to_string();
    assert!(err.contains("*.shop.example"), "{err}");
    let err =
        Settings::from_pairs([("acme_domains", "shop.example"), ("acme_challenge", "dns-01")]).unwrap_err().to_string();
    assert!(err.contains("acme_challenge"), "{err}");
    let ok = Settings::from_pairs([("acme_domains", "shop.example, www.shop.example"), ("http_listen", "0.0.0.0:80")])
        .unwrap();
    assert!(ok.is_https(), "ACME turns HTTPS on: Secure cookies, HSTS");
    assert_eq!(ok.acme_cache_dir(), Path::new("./data/acme"));
}

//! Pebble, Let's Encrypt's ACME test server (`/usr/bin/pebble`, Debian package `pebble`), in
//! the foreground on loopback ports with its own config and its own HTTPS certificate, killed
//! on drop. Challenges are really validated (`PEBBLE_VA_ALWAYS_VALID=0`), against the HTTP-01
//! and TLS-ALPN-01 ports given, without the random sleeps. Without pebble (or curl, used to read
//! its management API) the caller skips its test, unless KEYTURN_REQUIRE_TOOLS is set.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::process::free_port;

const BINARY: &str = "/usr/bin/pebble";

/// A running pebble.
pub struct Pebble {
    child: Child,
    /// The ACME directory URL.
    pub directory: String,
    /// The CA that signed pebble's own HTTPS certificate (what an ACME client must trust).
    pub listener_ca: PathBuf,
    /// Pebble's issuing root (new at every start): what a browser would trust.
    pub root: PathBuf,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Pebble {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("--- pebble's log ---\n{}", std::fs::read_to_string(&self.log).unwrap_or_default());
        }
    }
}

/// pebble and curl installed, or the test is skipped (a failure when `.ci/run` requires the tools).
pub fn available() -> bool {
    let curl = Command::new("curl").arg("--version").output().is_ok_and(|o| o.status.success());
    let ok = curl && Path::new(BINARY).exists();
    if !ok {
        assert!(
            std::env::var_os("KEYTURN_REQUIRE_TOOLS").is_none(),
            "KEYTURN_REQUIRE_TOOLS is set but pebble or curl is missing"
        );
        eprintln!("skipping: pebble or curl is not installed");
    }
    ok
}

/// A CA and a leaf it signed for 127.0.0.1 and localhost: `(ca_pem, leaf_pem, leaf_key_pem)`.
pub fn issue(ca_name: &str) -> (String, String, String) {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(rcgen::DnType::CommonName, ca_name);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let mut leaf_params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    leaf_params.subject_alt_names.push(rcgen::SanType::IpAddress("127.0.0.1".parse().unwrap()));
    let leaf = leaf_params.signed_by(&leaf_key, &ca, &ca_key).unwrap();
    (ca.pem(), leaf.pem(), leaf_key.serialize_pem())
}

impl Pebble {
    /// Starts pebble validating HTTP-01 on `http_port` and TLS-ALPN-01 on `tls_port` (of the
    /// domain's address), issuing certificates valid `validity_secs`, and waits until it answers.
    pub async fn start(http_port: u16, tls_port: u16, validity_secs: u64) -> Pebble {
        let dir = tempfile::tempdir().unwrap();
        let (ca, cert, key) = issue("pebble listener test CA");
        let file = |name: &str, body: &str| {
            let p = dir.path().join(name);
            std::fs::write(&p, body).unwrap();
            p
        };
        let (listener_ca, cert, key) = (file("ca.pem", &ca), file("cert.pem", &cert), file("key.pem", &key));
        let (acme_port, mgmt_port) = (free_port(), free_port());
        let config = serde_json::json!({"pebble": {
            "listenAddress": format!("127.0.0.1:{acme_port}"),
            "managementListenAddress": format!("127.0.0.1:{mgmt_port}"),
            "certificate": cert,
            "privateKey": key,
            "httpPort": http_port,
            "tlsPort": tls_port,
            "ocspResponderURL": "",
            "externalAccountBindingRequired": false,
            "certificateValidityPeriod": validity_secs,
        }});
        let config = file("pebble-config.json", &config.to_string());
        let log = dir.path().join("pebble.log");
        let out = std::fs::File::create(&log).unwrap();
        let child = Command::new(BINARY)
            .arg("-config")
            .arg(&config)
            // Validation really happens, at once, and every order gets fresh authorizations (a
            // renewal is validated again). Pebble still rejects 5% of nonces, and finalizes orders
            // asynchronously (`processing`), as an ACME server may.
            .env("PEBBLE_VA_ALWAYS_VALID", "0")
            .env("PEBBLE_VA_NOSLEEP", "1")
            .env("PEBBLE_AUTHZREUSE", "0")
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .expect("start pebble");
        let root = dir.path().join("pebble-root.pem");
        let mut pebble = Pebble {
            child,
            directory: format!("https://127.0.0.1:{acme_port}/dir"),
            listener_ca,
            root: root.clone(),
            log,
            _dir: dir,
        };
        let url = format!("https://127.0.0.1:{mgmt_port}/roots/0");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let (ca, root) = (pebble.listener_ca.clone(), root.clone());
            let got = tokio::task::spawn_blocking({
                let url = url.clone();
                move || {
                    Command::new("curl")
                        .args(["-sf", "--max-time", "5", "--cacert"])
                        .arg(&ca)
                        .arg("-o")
                        .arg(&root)
                        .arg(&url)
                        .status()
                }
            })
            .await
            .unwrap();
            if got.is_ok_and(|s| s.success()) {
                return pebble;
            }
            assert!(pebble.child.try_wait().unwrap().is_none(), "pebble exited at start");
            assert!(Instant::now() < deadline, "pebble did not answer at {url}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

//! In-process SMTP servers (mailin-embedded) that capture every message.
//!
//! One plain server is shared by the whole test binary; tests tell their
//! messages apart by unique recipient addresses. A one-off STARTTLS server with
//! a self-signed certificate for "localhost" is available for the TLS test.

use std::io;
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use mailin_embedded::{response, Handler, Response, Server, SslConfig};

/// One message as the SMTP server received it.
#[derive(Clone, Debug)]
pub struct Captured {
    /// Envelope recipients (RCPT TO), lower-cased.
    pub to: Vec<String>,
    /// The raw message (headers + body), dot-unstuffed.
    pub raw: Vec<u8>,
}

/// Shared, append-only list of captured messages.
pub type Store = Arc<Mutex<Vec<Captured>>>;

#[derive(Clone)]
struct Collector {
    store: Store,
    to: Vec<String>,
    buf: Vec<u8>,
}

impl Handler for Collector {
    fn data_start(&mut self, _domain: &str, _from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.to = to.iter().map(|t| t.trim_matches(|c| c == '<' || c == '>').to_ascii_lowercase()).collect();
        self.buf.clear();
        response::OK
    }

    fn data(&mut self, buf: &[u8]) -> io::Result<()> {
        self.buf.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        let msg = Captured { to: std::mem::take(&mut self.to), raw: std::mem::take(&mut self.buf) };
        self.store.lock().unwrap().push(msg);
        response::OK
    }
}

/// A running SMTP server: where it listens and what it caught.
#[derive(Clone)]
pub struct SmtpServer {
    pub addr: SocketAddr,
    pub store: Store,
}

fn spawn(ssl: SslConfig) -> SmtpServer {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind smtp listener");
    spawn_with(listener, ssl, Store::default())
}

/// A plain SMTP server on an existing listener, collecting into `store`.
pub fn spawn_on(listener: TcpListener, store: Store) -> SmtpServer {
    spawn_with(listener, SslConfig::None, store)
}

fn spawn_with(listener: TcpListener, ssl: SslConfig, store: Store) -> SmtpServer {
    let addr = listener.local_addr().unwrap();
    let handler = Collector { store: store.clone(), to: vec![], buf: vec![] };
    let mut server = Server::new(handler);
    server
        .with_name("localhost")
        // Each app may keep pooled SMTP connections open: allow plenty of sessions.
        .with_num_threads(256)
        .with_ssl(ssl)
        .expect("smtp tls config")
        .with_tcp_listener(listener);
    std::thread::Builder::new()
        .name(format!("smtp-{}", addr.port()))
        .spawn(move || {
            let _ = server.serve();
        })
        .unwrap();
    SmtpServer { addr, store }
}

/// The plain SMTP server shared by all tests in this binary.
pub fn shared() -> &'static SmtpServer {
    static SHARED: OnceLock<SmtpServer> = OnceLock::new();
    SHARED.get_or_init(|| spawn(SslConfig::None))
}

/// A one-off STARTTLS server; keep the value alive while the test runs (its
/// temp dir holds the certificate the app is told to trust).
pub struct TlsSmtp {
    pub server: SmtpServer,
    pub cert_path: PathBuf,
    _dir: tempfile::TempDir,
}

pub fn start_tls() -> TlsSmtp {
    let dir = tempfile::tempdir().unwrap();
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let cert_path = dir.path().join("smtp-cert.pem");
    let key_path = dir.path().join("smtp-key.pem");
    std::fs::write(&cert_path, ck.cert.pem()).unwrap();
    // rtls.rs reads the key with rustls_pemfile::private_key: PKCS#8 PEM is fine.
    std::fs::write(&key_path, ck.key_pair.serialize_pem()).unwrap();
    let ssl = SslConfig::SelfSigned {
        cert_path: cert_path.to_string_lossy().into_owned(),
        key_path: key_path.to_string_lossy().into_owned(),
    };
    // rustls needs a process-wide CryptoProvider when both ring and aws-lc-rs are
    // compiled in (they are: lettre/reqwest/hcaptcha pull both). That takes the
    // dev-dependency `rustls = { version = "0.23", default-features = false,
    // features = ["ring"] }` and this line:
    let _ = rustls::crypto::ring::default_provider().install_default();
    let server = std::panic::catch_unwind(|| spawn(ssl)).unwrap_or_else(|_| {
        panic!(
            "could not build the STARTTLS SMTP server: rustls has no process-wide \
             CryptoProvider (both ring and aws-lc-rs are enabled). Add the dev-dependency \
             rustls (features = [\"ring\"]) and uncomment the install_default line in \
             tests/it/harness/smtp.rs"
        )
    });
    TlsSmtp { server, cert_path, _dir: dir }
}

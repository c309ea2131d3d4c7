//! In-process SMTP servers (mailin-embedded) that capture every message.
//!
//! One plain server is shared by the whole test binary; tests tell their
//! messages apart by unique recipient addresses. A one-off STARTTLS server with
//! a self-signed certificate for "localhost" is available for the TLS test; it sits behind a
//! relay that watches the wire, so each message records whether it came over TLS.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::Duration;

use mailin_embedded::{response, Handler, Response, Server, SslConfig};

/// One message as the SMTP server received it.
#[derive(Clone, Debug)]
pub struct Captured {
    /// The envelope sender (MAIL FROM), without angle brackets.
    pub from: String,
    /// Envelope recipients (RCPT TO), lower-cased.
    pub to: Vec<String>,
    /// The raw message (headers + body), dot-unstuffed.
    pub raw: Vec<u8>,
    /// It came inside a TLS session: STARTTLS was negotiated and its envelope never crossed
    /// the wire in clear text. Always false on plain servers.
    pub tls: bool,
}

/// Shared, append-only list of captured messages.
pub type Store = Arc<Mutex<Vec<Captured>>>;

/// Everything clients sent in clear text to one server, across its connections.
type Wire = Arc<Mutex<Vec<u8>>>;

/// Where a gated server holds a delivery (to stop the sender at a chosen step).
#[derive(Clone, Copy, PartialEq, Debug)]
pub enum Hold {
    /// Deliver normally.
    Nothing,
    /// At `MAIL FROM`: the sender has handed the message over, nothing is received yet.
    BeforeMail,
    /// After a credentials email: it is stored (the customer has it), the final `250` is
    /// withheld. Other emails pass.
    AfterCredentials,
}

#[derive(Debug)]
struct GateState {
    hold: Hold,
    waiting: usize,
}

/// Holds deliveries of a gated server at one step until told otherwise.
#[derive(Clone)]
pub struct Gate(Arc<(Mutex<GateState>, Condvar)>);

impl Gate {
    fn new() -> Gate {
        Gate(Arc::new((Mutex::new(GateState { hold: Hold::Nothing, waiting: 0 }), Condvar::new())))
    }

    /// From now on, hold deliveries at `hold` (`Hold::Nothing` releases the held ones).
    pub fn set(&self, hold: Hold) {
        self.0 .0.lock().unwrap().hold = hold;
        self.0 .1.notify_all();
    }

    /// Sessions held right now.
    pub fn waiting(&self) -> usize {
        self.0 .0.lock().unwrap().waiting
    }

    fn pass(&self, at: Hold) {
        let (lock, cv) = &*self.0;
        let mut s = lock.lock().unwrap();
        if s.hold != at {
            return;
        }
        s.waiting += 1;
        let (mut s, _) = cv.wait_timeout_while(s, Duration::from_secs(120), |s| s.hold == at).unwrap();
        s.waiting -= 1;
    }
}

#[derive(Clone)]
struct Collector {
    store: Store,
    from: String,
    to: Vec<String>,
    buf: Vec<u8>,
    /// What the relay in front of a STARTTLS server saw in clear text; `None` on plain servers.
    clear: Option<Wire>,
    gate: Option<Gate>,
}

impl Collector {
    /// The message to `to` came over TLS: the client asked for STARTTLS and none of its
    /// recipients was ever written in clear text.
    fn came_over_tls(&self, to: &[String]) -> bool {
        let Some(clear) = &self.clear else { return false };
        let seen = String::from_utf8_lossy(&clear.lock().unwrap()).to_ascii_lowercase();
        seen.contains("starttls") && to.iter().all(|t| !seen.contains(t.as_str()))
    }
}

impl Handler for Collector {
    fn mail(&mut self, _ip: std::net::IpAddr, _domain: &str, _from: &str) -> Response {
        if let Some(g) = &self.gate {
            g.pass(Hold::BeforeMail);
        }
        response::OK
    }

    fn data_start(&mut self, _domain: &str, from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.from = from.trim_matches(|c| c == '<' || c == '>').to_string();
        self.to = to.iter().map(|t| t.trim_matches(|c| c == '<' || c == '>').to_ascii_lowercase()).collect();
        self.buf.clear();
        response::OK
    }

    fn data(&mut self, buf: &[u8]) -> io::Result<()> {
        self.buf.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        let to = std::mem::take(&mut self.to);
        let tls = self.came_over_tls(&to);
        let msg = Captured { from: std::mem::take(&mut self.from), to, raw: std::mem::take(&mut self.buf), tls };
        let credentials = self.gate.is_some() && super::Mail::from_captured(&msg).credentials().is_some();
        self.store.lock().unwrap().push(msg);
        if let (Some(g), true) = (&self.gate, credentials) {
            g.pass(Hold::AfterCredentials);
        }
        response::OK
    }
}

/// A running SMTP server: where it listens and what it caught.
#[derive(Clone)]
pub struct SmtpServer {
    pub addr: SocketAddr,
    pub store: Store,
}

fn spawn(ssl: SslConfig, clear: Option<Wire>) -> SmtpServer {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind smtp listener");
    spawn_with(listener, ssl, Store::default(), clear, None)
}

/// A plain SMTP server on an existing listener, collecting into `store`.
pub fn spawn_on(listener: TcpListener, store: Store) -> SmtpServer {
    spawn_with(listener, SslConfig::None, store, None, None)
}

/// A plain SMTP server of its own whose deliveries can be held at a chosen step.
pub fn gated() -> (SmtpServer, Gate) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind smtp listener");
    let gate = Gate::new();
    (spawn_with(listener, SslConfig::None, Store::default(), None, Some(gate.clone())), gate)
}

fn spawn_with(
    listener: TcpListener,
    ssl: SslConfig,
    store: Store,
    clear: Option<Wire>,
    gate: Option<Gate>,
) -> SmtpServer {
    let addr = listener.local_addr().unwrap();
    let handler = Collector { store: store.clone(), from: String::new(), to: vec![], buf: vec![], clear, gate };
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
    SHARED.get_or_init(|| spawn(SslConfig::None, None))
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
    let clear = Wire::default();
    let inner = clear.clone();
    let server = std::panic::catch_unwind(move || spawn(ssl, Some(inner))).unwrap_or_else(|_| {
        panic!(
            "could not build the STARTTLS SMTP server: rustls has no process-wide \
             CryptoProvider (both ring and aws-lc-rs are enabled). Add the dev-dependency \
             rustls (features = [\"ring\"]) and uncomment the install_default line in \
             tests/it/harness/smtp.rs"
        )
    });
    // The app talks to the relay, which passes everything on to the server.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind relay listener");
    let addr = listener.local_addr().unwrap();
    relay(listener, server.addr, clear);
    TlsSmtp { server: SmtpServer { addr, store: server.store }, cert_path, _dir: dir }
}

/// Passes every connection on `listener` to `server` unchanged, appending to `clear` what each
/// client writes in clear text: everything up to STARTTLS, and everything after it unless a
/// TLS handshake record (0x16) comes next.
fn relay(listener: TcpListener, server: SocketAddr, clear: Wire) {
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { continue };
            let Ok(upstream) = TcpStream::connect(server) else { continue };
            let (Ok(mut from_client), Ok(mut to_server)) = (client.try_clone(), upstream.try_clone()) else { continue };
            let (mut from_server, mut to_client) = (upstream, client);
            std::thread::spawn(move || {
                let _ = io::copy(&mut from_server, &mut to_client);
                let _ = to_client.shutdown(Shutdown::Both);
            });
            let clear = clear.clone();
            std::thread::spawn(move || {
                let (mut buf, mut mine, mut encrypted) = ([0u8; 16 * 1024], Vec::new(), false);
                loop {
                    let n = match from_client.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => n,
                    };
                    let asked_for_tls = mine.to_ascii_lowercase().ends_with(b"starttls\r\n");
                    encrypted = encrypted || (asked_for_tls && buf[0] == 0x16);
                    if !encrypted {
                        mine.extend_from_slice(&buf[..n]);
                        // Logged before the server sees it: its verdict on a message is final.
                        clear.lock().unwrap().extend_from_slice(&buf[..n]);
                    }
                    if to_server.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
                let _ = to_server.shutdown(Shutdown::Both);
            });
        }
    });
}

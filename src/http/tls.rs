//! HTTPS on our own listener: the certificate and key files (`tls_cert_file`, `tls_key_file`)
//! are read at start and re-read when either file changes, so a renewed certificate (certbot,
//! an ACME client, a secret store) is served without a restart. A renewed pair that does not
//! load (half-written, mismatched) is logged and the previous one kept.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::ServerConfig;

/// How often a handshake looks at the files' modification times.
const CHECK_EVERY: Duration = Duration::from_secs(1);

pub(crate) fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Reads and checks a certificate chain and its key.
pub fn read_pair(cert: &Path, key: &Path) -> Result<Arc<CertifiedKey>, String> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| format!("{}: {e}", cert.display()))?
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{}: {e}", cert.display()))?;
    if chain.is_empty() {
        return Err(format!("{}: no certificate in the file", cert.display()));
    }
    let der = PrivateKeyDer::from_pem_file(key).map_err(|e| format!("{}: {e}", key.display()))?;
    let signing = provider().key_provider.load_private_key(der).map_err(|e| format!("{}: {e}", key.display()))?;
    let certified = CertifiedKey::new(chain, signing);
    certified.keys_match().map_err(|e| format!("{} is not the key of {}: {e}", key.display(), cert.display()))?;
    Ok(Arc::new(certified))
}

/// A certificate chain and its key from PEM text (an ACME server's answer and our key).
pub fn pair_from_pem(cert: &[u8], key: &[u8]) -> Result<Arc<CertifiedKey>, String> {
    let chain: Vec<CertificateDer<'static>> =
        CertificateDer::pem_slice_iter(cert).collect::<Result<_, _>>().map_err(|e| e.to_string())?;
    if chain.is_empty() {
        return Err("no certificate in the chain".into());
    }
    let der = PrivateKeyDer::from_pem_slice(key).map_err(|e| e.to_string())?;
    let signing = provider().key_provider.load_private_key(der).map_err(|e| e.to_string())?;
    let certified = CertifiedKey::new(chain, signing);
    certified.keys_match().map_err(|e| format!("the key is not the certificate's: {e}"))?;
    Ok(Arc::new(certified))
}

/// When a file last changed and how long it was: a renewal changes one or both.
type Stamp = Option<(SystemTime, u64)>;

fn stamp(path: &Path) -> Stamp {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

struct Current {
    key: Arc<CertifiedKey>,
    stamps: (Stamp, Stamp),
    checked: Instant,
}

/// The served certificate, following its files.
pub struct CertFiles {
    cert: PathBuf,
    key: PathBuf,
    current: Mutex<Current>,
}

impl std::fmt::Debug for CertFiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertFiles").field("cert", &self.cert).field("key", &self.key).finish()
    }
}

impl CertFiles {
    pub fn load(cert: &Path, key: &Path) -> anyhow::Result<Arc<CertFiles>> {
        let stamps = (stamp(cert), stamp(key));
        let certified = read_pair(cert, key).map_err(|e| anyhow::anyhow!("tls_cert_file: {e}"))?;
        Ok(Arc::new(CertFiles {
            cert: cert.to_path_buf(),
            key: key.to_path_buf(),
            current: Mutex::new(Current { key: certified, stamps, checked: Instant::now() }),
        }))
    }

    /// The pair to serve, re-read first when a file changed since the last look.
    fn get(&self) -> Arc<CertifiedKey> {
        let mut cur = self.current.lock().unwrap_or_else(|p| p.into_inner());
        if cur.checked.elapsed() >= CHECK_EVERY {
            cur.checked = Instant::now();
            let stamps = (stamp(&self.cert), stamp(&self.key));
            if stamps != cur.stamps {
                match read_pair(&self.cert, &self.key) {
                    Ok(key) => {
                        cur.key = key;
                        cur.stamps = stamps;
                        tracing::info!(event = "tls_certificate_reloaded", cert = %self.cert.display(), "serving the renewed certificate");
                    }
                    // Perhaps half-written: looked at again at the next change, or the next second.
                    Err(e) => {
                        tracing::warn!(event = "tls_certificate_reload_failed", error = %e, "keeping the certificate served so far")
                    }
                }
            }
        }
        cur.key.clone()
    }
}

impl CertFiles {
    /// Reads both files again now (SIGHUP), whether or not they look changed; a pair that does
    /// not load leaves the served one in place and says why.
    pub fn reload(&self) -> Result<(), String> {
        let stamps = (stamp(&self.cert), stamp(&self.key));
        let key = read_pair(&self.cert, &self.key)?;
        let mut cur = self.current.lock().unwrap_or_else(|p| p.into_inner());
        *cur = Current { key, stamps, checked: Instant::now() };
        Ok(())
    }
}

impl ResolvesServerCert for CertFiles {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.get())
    }
}

/// The ALPN protocol of an ACME TLS-ALPN-01 challenge handshake (RFC 8737): the connection
/// carries no HTTP and is closed once the handshake is done.
pub const ACME_TLS_ALPN: &[u8] = b"acme-tls/1";

/// The server's TLS configuration over `certs` (certificate files or ACME; TLS 1.2 and 1.3,
/// HTTP/1.1, and `acme-tls/1` handshakes when `acme_tls_alpn`).
pub fn acceptor(certs: Arc<dyn ResolvesServerCert>, acme_tls_alpn: bool) -> anyhow::Result<tokio_rustls::TlsAcceptor> {
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_cert_resolver(certs);
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    if acme_tls_alpn {
        config.alpn_protocols.push(ACME_TLS_ALPN.to_vec());
    }
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

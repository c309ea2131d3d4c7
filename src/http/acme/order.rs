//! One ACME certificate order (RFC 8555 §7.4) with instant-acme: the account (its credentials
//! kept on disk per directory URL, so a restart does not open another), the challenges answered
//! through [`Challenges`] (HTTP-01 tokens on `http_listen`, TLS-ALPN-01 certificates on `listen`),
//! finalization with a fresh key, and the chain polled until the server has issued it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use bytes::Bytes;
use instant_acme::{
    Account, AccountCredentials, AuthorizationStatus, BodyWrapper, ChallengeType, HttpClient, Identifier, NewAccount,
    NewOrder, OrderStatus, RetryPolicy,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_platform_verifier::BuilderVerifierExt;
use sha2::Digest;

use crate::config::http::AcmeChallenge;
use crate::http::tls::ACME_TLS_ALPN;

/// How long the server may take to validate the challenges, and then to issue the certificate.
const POLL: RetryPolicy = RetryPolicy::new().timeout(Duration::from_secs(120));

/// The served certificate and the answers to challenges in progress.
#[derive(Debug, Default)]
pub struct Challenges {
    pub(super) cert: RwLock<Option<Arc<CertifiedKey>>>,
    /// TLS-ALPN-01: domain → self-signed certificate carrying the key authorization's digest.
    tls_alpn: RwLock<HashMap<String, Arc<CertifiedKey>>>,
    /// HTTP-01: token → key authorization.
    http: RwLock<HashMap<String, String>>,
}

impl Challenges {
    pub(super) fn served(&self) -> Option<Arc<CertifiedKey>> {
        self.cert.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub(super) fn serve(&self, key: Arc<CertifiedKey>) {
        *self.cert.write().unwrap_or_else(|p| p.into_inner()) = Some(key);
    }

    /// The answer to `GET /.well-known/acme-challenge/<token>`, while it is being validated.
    pub fn http01(&self, token: &str) -> Option<String> {
        self.http.read().unwrap_or_else(|p| p.into_inner()).get(token).cloned()
    }

    fn clear(&self) {
        self.http.write().unwrap_or_else(|p| p.into_inner()).clear();
        self.tls_alpn.write().unwrap_or_else(|p| p.into_inner()).clear();
    }
}

impl ResolvesServerCert for Challenges {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        // A validation handshake offers acme-tls/1 alone (RFC 8737 §3) and gets the challenge
        // certificate of the name it asks for; anybody else gets the issued certificate.
        if hello.alpn().is_some_and(|mut offered| offered.any(|p| p == ACME_TLS_ALPN)) {
            let name = hello.server_name()?.to_ascii_lowercase();
            return self.tls_alpn.read().unwrap_or_else(|p| p.into_inner()).get(&name).cloned();
        }
        self.served()
    }
}

/// Where to order from, and as whom.
pub(super) struct Orderer {
    pub directory: String,
    pub contacts: Vec<String>,
    pub ca_file: Option<PathBuf>,
    pub cache: PathBuf,
    pub challenge: AcmeChallenge,
    pub domains: Vec<String>,
}

/// An issued certificate: the chain and its key, in PEM.
pub(super) struct Issued {
    pub chain_pem: String,
    pub key_pem: String,
}

impl Orderer {
    /// The account's credentials file, one per directory URL.
    fn account_file(&self) -> PathBuf {
        let id = hex::encode(&sha2::Sha256::digest(self.directory.as_bytes())[..8]);
        self.cache.join(format!("account-{id}.json"))
    }

    /// The account kept on disk for this directory, or a new one (then kept).
    pub async fn account(&self) -> Result<Account, String> {
        let builder = Account::builder_with_http(http_client(self.ca_file.as_deref())?);
        let file = self.account_file();
        if let Ok(json) = std::fs::read(&file) {
            let creds: AccountCredentials =
                serde_json::from_slice(&json).map_err(|e| format!("{}: {e}", file.display()))?;
            return builder.from_credentials(creds).await.map_err(|e| format!("directory {}: {e}", self.directory));
        }
        let contacts: Vec<&str> = self.contacts.iter().map(String::as_str).collect();
        let new = NewAccount { contact: &contacts, terms_of_service_agreed: true, only_return_existing: false };
        let (account, creds) = builder
            .create(&new, self.directory.clone(), None)
            .await
            .map_err(|e| format!("new account at {}: {e}", self.directory))?;
        let json = serde_json::to_vec(&creds).map_err(|e| e.to_string())?;
        super::write_private(&file, &json).map_err(|e| format!("{}: {e}", file.display()))?;
        tracing::info!(event = "acme_account_created", id = account.id(), directory = %self.directory, "ACME account created");
        Ok(account)
    }

    /// Orders a certificate for the domains, answering the challenges through `answers`.
    pub async fn order(&self, account: &Account, answers: &Challenges) -> Result<Issued, String> {
        let result = self.order_inner(account, answers).await;
        answers.clear();
        result
    }

    async fn order_inner(&self, account: &Account, answers: &Challenges) -> Result<Issued, String> {
        let ids: Vec<Identifier> = self.domains.iter().cloned().map(Identifier::Dns).collect();
        let mut order = match account.new_order(&NewOrder::new(&ids)).await {
            Ok(order) => order,
            Err(instant_acme::Error::Api(p))
                if p.r#type.as_deref() == Some("urn:ietf:params:acme:error:accountDoesNotExist") =>
            {
                // The server forgot the account (a test server restarted): a new one next time.
                let _ = std::fs::remove_file(self.account_file());
                return Err(format!("new order: {p}; a new account is made at the next attempt"));
            }
            Err(e) => return Err(format!("new order: {e}")),
        };
        let kind = match self.challenge {
            AcmeChallenge::TlsAlpn01 => ChallengeType::TlsAlpn01,
            AcmeChallenge::Http01 => ChallengeType::Http01,
        };
        let mut authorizations = order.authorizations();
        while let Some(authz) = authorizations.next().await {
            let mut authz = authz.map_err(|e| format!("authorization: {e}"))?;
            let domain = authz.identifier().to_string();
            match authz.status {
                AuthorizationStatus::Pending => {}
                AuthorizationStatus::Valid => continue,
                other => return Err(format!("{domain}: authorization {other:?}")),
            }
            let mut challenge = authz
                .challenge(kind.clone())
                .ok_or_else(|| format!("{domain}: the ACME server offers no {kind:?} challenge"))?;
            let key_auth = challenge.key_authorization();
            match kind {
                ChallengeType::TlsAlpn01 => {
                    let cert = tls_alpn01_cert(&domain, key_auth.digest().as_ref())?;
                    answers
                        .tls_alpn
                        .write()
                        .unwrap_or_else(|p| p.into_inner())
                        .insert(domain.to_ascii_lowercase(), cert);
                }
                _ => {
                    let token = challenge.token.clone();
                    answers.http.write().unwrap_or_else(|p| p.into_inner()).insert(token, key_auth.as_str().into());
                }
            }
            challenge.set_ready().await.map_err(|e| format!("{domain}: challenge: {e}"))?;
        }
        let status = order.poll_ready(&POLL).await.map_err(|e| format!("validation: {e}"))?;
        if status != OrderStatus::Ready {
            return Err(format!("validation failed: {}", why_invalid(&mut order).await));
        }
        let key_pem = order.finalize().await.map_err(|e| format!("finalize: {e}"))?;
        let chain_pem = order.poll_certificate(&POLL).await.map_err(|e| format!("certificate: {e}"))?;
        Ok(Issued { chain_pem, key_pem })
    }
}

/// The HTTPS client to the ACME server, on our crypto provider: the system's roots, or only
/// `ca_file`'s (a private ACME server).
fn http_client(ca_file: Option<&Path>) -> Result<Box<dyn HttpClient>, String> {
    let builder = rustls::ClientConfig::builder_with_provider(crate::http::tls::provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?;
    let tls = match ca_file {
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            for cert in CertificateDer::pem_file_iter(ca).map_err(|e| format!("{}: {e}", ca.display()))? {
                roots.add(cert.map_err(|e| format!("{}: {e}", ca.display()))?).map_err(|e| e.to_string())?;
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
        None => builder.with_platform_verifier().map_err(|e| format!("system roots: {e}"))?.with_no_client_auth(),
    };
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_only()
        .enable_http1()
        .enable_http2()
        .build();
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build::<_, BodyWrapper<Bytes>>(https);
    Ok(Box::new(client))
}

/// What the server said about the challenges of an invalid order.
async fn why_invalid(order: &mut instant_acme::Order) -> String {
    let mut why = vec![];
    let mut authorizations = order.authorizations();
    while let Some(Ok(mut authz)) = authorizations.next().await {
        let domain = authz.identifier().to_string();
        if let Ok(state) = authz.refresh().await {
            why.extend(state.challenges.iter().filter_map(|c| c.error.as_ref()).map(|e| format!("{domain}: {e}")));
        }
    }
    if why.is_empty() {
        "the order is invalid".into()
    } else {
        why.join("; ")
    }
}

/// The self-signed certificate for `domain` that answers a TLS-ALPN-01 challenge (RFC 8737 §3).
fn tls_alpn01_cert(domain: &str, digest: &[u8]) -> Result<Arc<CertifiedKey>, String> {
    let key = rcgen::KeyPair::generate().map_err(|e| e.to_string())?;
    let mut params = rcgen::CertificateParams::new(vec![domain.to_string()]).map_err(|e| e.to_string())?;
    params.custom_extensions = vec![rcgen::CustomExtension::new_acme_identifier(digest)];
    let cert = params.self_signed(&key).map_err(|e| e.to_string())?;
    let der = PrivateKeyDer::try_from(key.serialize_der()).map_err(|e| e.to_string())?;
    let signing = crate::http::tls::provider().key_provider.load_private_key(der).map_err(|e| e.to_string())?;
    Ok(Arc::new(CertifiedKey::new(vec![CertificateDer::from(cert.der().to_vec())], signing)))
}

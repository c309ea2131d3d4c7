//! DKIM: reading the operator's key, the signing configuration, and the DNS record to publish.
//! lettre signs (its `dkim` feature); it wants RSA keys as PKCS#1 PEM and Ed25519 keys as the
//! base64 of the 32-byte seed, so the PEM files people have (`openssl genpkey`, PKCS#8) are
//! converted here.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use lettre::message::dkim::{
    DkimCanonicalization, DkimCanonicalizationType, DkimConfig, DkimSigningAlgorithm, DkimSigningKey,
};
use lettre::message::header::HeaderName;
use rsa::pkcs1::{DecodeRsaPrivateKey, EncodeRsaPrivateKey};
use rsa::pkcs8::{DecodePrivateKey, EncodePublicKey};
use rsa::traits::PublicKeyParts;
use rsa::RsaPrivateKey;

/// The DER prefix of a PKCS#8 Ed25519 private key (RFC 8410): the 32-byte seed follows.
const ED25519_PKCS8_PREFIX: [u8; 16] =
    [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];

/// A DKIM private key as read from the operator's PEM.
pub enum DkimKey {
    Rsa(Box<RsaPrivateKey>),
    Ed25519([u8; 32]),
}

impl std::fmt::Debug for DkimKey {
    /// The kind only: never the key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            DkimKey::Rsa(_) => "DkimKey::Rsa(***)",
            DkimKey::Ed25519(_) => "DkimKey::Ed25519(***)",
        })
    }
}

/// The headers signed (each once; a header a message lacks is signed as absent). Not
/// Content-Type: lettre writes a multipart's Content-Type with the body, after the signature,
/// and would sign it as absent.
const SIGNED: [&str; 7] = ["From", "To", "Subject", "Date", "Message-ID", "MIME-Version", "Auto-Submitted"];

/// Reads an RSA (PKCS#1 or PKCS#8) or Ed25519 (PKCS#8) PEM key.
pub fn read_key(pem: &str) -> Result<DkimKey, String> {
    let pem = pem.trim();
    if pem.starts_with("-----BEGIN RSA PRIVATE KEY-----") {
        let key = RsaPrivateKey::from_pkcs1_pem(pem).map_err(|e| format!("not a PKCS#1 RSA key: {e}"))?;
        return rsa_checked(key);
    }
    if !pem.starts_with("-----BEGIN PRIVATE KEY-----") {
        return Err(
            "expected a PEM private key (-----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----)".into()
        );
    }
    if let Ok(key) = RsaPrivateKey::from_pkcs8_pem(pem) {
        return rsa_checked(key);
    }
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).map(str::trim).collect();
    let der = B64.decode(body).map_err(|_| "the PEM body is not base64".to_string())?;
    match der.strip_prefix(&ED25519_PKCS8_PREFIX[..]) {
        Some(seed) if seed.len() == 32 => Ok(DkimKey::Ed25519(seed.try_into().expect("32 bytes"))),
        _ => Err("neither an RSA nor an Ed25519 private key".into()),
    }
}

fn rsa_checked(key: RsaPrivateKey) -> Result<DkimKey, String> {
    if key.size() * 8 < 2048 {
        return Err(format!("the RSA key has {} bits; DKIM verifiers want 2048 or more (RFC 8301)", key.size() * 8));
    }
    Ok(DkimKey::Rsa(Box::new(key)))
}

impl DkimKey {
    /// lettre's signing configuration for `selector` and `domain`.
    pub fn config(&self, selector: &str, domain: &str) -> Result<DkimConfig, String> {
        let signing = match self {
            DkimKey::Rsa(k) => {
                let pem = k.to_pkcs1_pem(rsa::pkcs1::LineEnding::LF).map_err(|e| e.to_string())?;
                DkimSigningKey::new(&pem, DkimSigningAlgorithm::Rsa)
            }
            DkimKey::Ed25519(seed) => DkimSigningKey::new(&B64.encode(seed), DkimSigningAlgorithm::Ed25519),
        }
        .map_err(|e| e.to_string())?;
        let headers = SIGNED.iter().map(|h| HeaderName::new_from_ascii_str(h)).collect();
        let relaxed =
            DkimCanonicalization { header: DkimCanonicalizationType::Relaxed, body: DkimCanonicalizationType::Relaxed };
        Ok(DkimConfig::new(selector.to_string(), domain.to_string(), signing, headers, relaxed))
    }

    /// The TXT record to publish at `<selector>._domainkey.<domain>`.
    pub fn dns_record(&self) -> String {
        match self {
            DkimKey::Rsa(k) => {
                let der = k.to_public_key().to_public_key_der().map(|d| B64.encode(d.as_bytes())).unwrap_or_default();
                format!("v=DKIM1; k=rsa; p={der}")
            }
            DkimKey::Ed25519(seed) => {
                let public = ed25519_dalek::SigningKey::from_bytes(seed).verifying_key().to_bytes();
                format!("v=DKIM1; k=ed25519; p={}", B64.encode(public))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_in_the_usual_pem_forms_are_read_and_others_refused() {
        // `openssl genpkey -algorithm ed25519` (RFC 8410 §10.3's example key).
        let ed = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n-----END PRIVATE KEY-----\n";
        let key = read_key(ed).unwrap();
        assert!(matches!(key, DkimKey::Ed25519(_)));
        // RFC 8410's example public key for that private key.
        assert_eq!(key.dns_record(), "v=DKIM1; k=ed25519; p=Gb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=");
        assert!(key.config("s1", "shop.example").is_ok());
        assert!(read_key("hello").unwrap_err().contains("PEM"));
        let junk = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----";
        assert!(read_key(junk).unwrap_err().contains("neither"));
    }
}

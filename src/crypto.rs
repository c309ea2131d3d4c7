//! Randomness, identifiers, token hashing and the bounded argon2id pool.
//!
//! Every secret here comes from the OS CSPRNG. Tokens and session ids are 256-bit and only
//! their SHA-256 is stored; passwords only as argon2id PHC strings.

use std::sync::Arc;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use rand::rngs::OsRng;
use rand::{Rng, RngCore};
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

/// Letters and digits that cannot be confused when read from an email.
const UNAMBIGUOUS: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
const PASSWORD_CHARS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghjkmnpqrstuvwxyz23456789";

/// An unguessable identifier like `ord_3f9c…` (128 random bits).
pub fn random_id(prefix: &str) -> String {
    let mut bytes = [0u8; 16];
    OsRng.fill_bytes(&mut bytes);
    format!("{prefix}_{}", hex::encode(bytes))
}

/// A secret token for links and cookies: 256 random bits, URL-safe.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn random_from(alphabet: &[u8], len: usize) -> String {
    (0..len).map(|_| alphabet[OsRng.gen_range(0..alphabet.len())] as char).collect()
}

/// A customer login: random, not derived from the name or a sequence (~49 bits), e.g. `kt-x7m2q9ab4c`.
pub fn random_login() -> String {
    format!("kt-{}", random_from(UNAMBIGUOUS, 10))
}

/// A temporary password: 18 characters from a 55-letter alphabet (~104 bits).
pub fn temporary_password() -> String {
    random_from(PASSWORD_CHARS, 18)
}

/// SHA-256 hex of a token: what the database stores instead of the token.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// True for an identifier we issue or accept as a key (order ids, slugs, payment ids):
/// 1–64 ASCII letters, digits, `_` or `-`. Anything else never reaches a query (PostgreSQL
/// refuses NUL bytes, and such input cannot name one of our rows anyway).
pub fn is_key(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Masks every email address inside a text (SMTP servers quote recipients in errors).
pub fn mask_emails_in(text: &str) -> String {
    text.split_inclusive(|c: char| c.is_whitespace() || matches!(c, '<' | '>' | '"' | '\'' | ',' | ';' | ':'))
        .map(|part| {
            let (word, sep) = match part.char_indices().last() {
                Some((i, c)) if c.is_whitespace() || "<>\"',;:".contains(c) => part.split_at(i),
                _ => (part, ""),
            };
            if word.contains('@') {
                format!("{}{sep}", mask_email(word))
            } else {
                part.to_string()
            }
        })
        .collect()
}

/// Masks an email address for logs: only the domain is kept.
pub fn mask_email(email: &str) -> String {
    match email.rsplit_once('@') {
        Some((_, domain)) => format!("***@{domain}"),
        None => "***".into(),
    }
}

/// The password hashing work could not start at once: the queue is full.
#[derive(Debug, thiserror::Error)]
#[error("password hashing is saturated")]
pub struct HasherBusy;

/// Argon2id on a bounded pool: at most `workers` hashes run at once and at most `queue`
/// wait; beyond that callers are turned away at once so a login flood cannot starve
/// callbacks and pages.
#[derive(Clone)]
pub struct PasswordHasherPool {
    running: Arc<Semaphore>,
    admitted: Arc<Semaphore>,
    dummy_hash: Arc<String>,
}

/// argon2id with the OWASP/ASVS minimum: m=19456 KiB, t=2, p=1.
fn argon() -> Argon2<'static> {
    let params = Params::new(19456, 2, 1, None).expect("valid argon2 params");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn hash_blocking(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    argon().hash_password(password.as_bytes(), &salt).expect("argon2 hashing cannot fail with valid params").to_string()
}

/// Verifies; also reports whether the stored hash uses weaker parameters than today's.
fn verify_blocking(password: &str, phc: &str) -> (bool, bool) {
    let Ok(parsed) = PasswordHash::new(phc) else { return (false, false) };
    let ok = argon().verify_password(password.as_bytes(), &parsed).is_ok();
    let current = Params::try_from(&parsed).map(|p| p.m_cost() >= 19456 && p.t_cost() >= 2).unwrap_or(false);
    (ok, ok && !current)
}

/// The result of checking a password.
pub struct Verified {
    pub ok: bool,
    /// The stored hash should be replaced with one made with today's parameters.
    pub needs_rehash: bool,
}

impl PasswordHasherPool {
    pub fn new(workers: usize, queue: usize) -> Self {
        PasswordHasherPool {
            running: Arc::new(Semaphore::new(workers.max(1))),
            admitted: Arc::new(Semaphore::new(workers.max(1) + queue)),
            dummy_hash: Arc::new(hash_blocking(&temporary_password())),
        }
    }

    async fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> Result<T, HasherBusy> {
        let _admitted = self.admitted.clone().try_acquire_owned().map_err(|_| HasherBusy)?;
        let _running = self.running.clone().acquire_owned().await.map_err(|_| HasherBusy)?;
        tokio::task::spawn_blocking(f).await.map_err(|_| HasherBusy)
    }

    /// Hashes a password (argon2id, fresh salt).
    pub async fn hash(&self, password: String) -> Result<String, HasherBusy> {
        self.run(move || hash_blocking(&password)).await
    }

    /// Hashes without the admission queue (background jobs wait their turn instead of
    /// being turned away).
    pub async fn hash_unqueued(&self, password: String) -> Result<String, HasherBusy> {
        let _running = self.running.clone().acquire_owned().await.map_err(|_| HasherBusy)?;
        tokio::task::spawn_blocking(move || hash_blocking(&password)).await.map_err(|_| HasherBusy)
    }

    /// Verifies a password against a stored hash; with `None` it verifies against a dummy
    /// hash so unknown logins cost the same time as known ones.
    pub async fn verify(&self, password: String, phc: Option<String>) -> Result<Verified, HasherBusy> {
        let real = phc.is_some();
        let phc = phc.unwrap_or_else(|| self.dummy_hash.as_str().to_string());
        let (ok, needs_rehash) = self.run(move || verify_blocking(&password, &phc)).await?;
        Ok(Verified { ok: ok && real, needs_rehash })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_ids_are_long_and_distinct() {
        let a = random_token();
        assert_eq!(a.len(), 43);
        assert_ne!(a, random_token());
        assert!(random_id("ord").starts_with("ord_"));
        assert_eq!(random_id("ord").len(), 4 + 32);
        assert_eq!(token_hash("abc").len(), 64);
        assert!(temporary_password().len() >= 12);
    }

    #[tokio::test]
    async fn hash_verifies_and_dummy_never_matches() {
        let pool = PasswordHasherPool::new(1, 1);
        let h = pool.hash("correct horse battery".into()).await.unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(pool.verify("correct horse battery".into(), Some(h.clone())).await.unwrap().ok);
        assert!(!pool.verify("wrong".into(), Some(h)).await.unwrap().ok);
        assert!(!pool.verify("anything".into(), None).await.unwrap().ok);
    }

    #[test]
    fn email_is_masked_to_its_domain() {
        assert_eq!(mask_email("jane.doe@example.com"), "***@example.com");
        assert_eq!(
            mask_emails_in("550 5.1.1 <jane.doe@example.com>: Recipient address rejected"),
            "550 5.1.1 <***@example.com>: Recipient address rejected"
        );
    }
}

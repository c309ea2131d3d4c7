//! Randomness, identifiers, token hashing and (in `hasher`) the bounded argon2id pool.
//!
//! Every secret here comes from the OS CSPRNG. Tokens and session ids are 256-bit and only
//! their SHA-256 is stored; passwords only as argon2id PHC strings.

mod hasher;

use base64::Engine;
use rand::rngs::OsRng;
use rand::{Rng, RngCore};
use sha2::{Digest, Sha256};

pub use hasher::{HashTicket, HasherBusy, PasswordHasherPool, Verified};

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

    #[test]
    fn email_is_masked_to_its_domain() {
        assert_eq!(mask_email("jane.doe@example.com"), "***@example.com");
        assert_eq!(
            mask_emails_in("550 5.1.1 <jane.doe@example.com>: Recipient address rejected"),
            "550 5.1.1 <***@example.com>: Recipient address rejected"
        );
    }
}

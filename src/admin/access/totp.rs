//! RFC 6238 TOTP (HMAC-SHA1, 30-second steps, 6 digits) and RFC 4648 base32 for secrets.

use hmac::{Hmac, Mac};
use rand::rngs::OsRng;
use rand::RngCore;
use sha1::Sha1;

/// Seconds per step.
pub const STEP_SECS: i64 = 30;
/// Digits per code.
pub const DIGITS: u32 = 6;
/// Steps accepted either side of now (clock drift).
pub const WINDOW: i64 = 1;

const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// Base32 without padding.
pub fn base32_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(5) * 8);
    let (mut buf, mut bits) = (0u32, 0u32);
    for &b in data {
        buf = (buf << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((buf >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((buf << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// Base32, case-insensitive, ignoring padding and spaces; `None` on any other character.
pub fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    let (mut buf, mut bits) = (0u32, 0u32);
    for c in text.bytes().filter(|c| !matches!(c, b'=' | b' ')) {
        let v = ALPHABET.iter().position(|&a| a == c.to_ascii_uppercase())? as u32;
        buf = (buf << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
        }
        buf &= (1 << bits) - 1;
    }
    Some(out)
}

/// A fresh 160-bit secret, base32.
pub fn new_secret() -> String {
    let mut key = [0u8; 20];
    OsRng.fill_bytes(&mut key);
    base32_encode(&key)
}

/// RFC 4226 HOTP, truncated to `digits`.
pub fn hotp(key: &[u8], counter: u64, digits: u32) -> u32 {
    let mut mac = Hmac::<Sha1>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(&counter.to_be_bytes());
    let h = mac.finalize().into_bytes();
    let offset = (h[19] & 0x0f) as usize;
    let bin = u32::from_be_bytes([h[offset] & 0x7f, h[offset + 1], h[offset + 2], h[offset + 3]]);
    bin % 10u32.pow(digits)
}

/// The step a unix time falls in.
pub fn step_of(unix: i64) -> i64 {
    unix.div_euclid(STEP_SECS)
}

/// The 6-digit code of a base32 secret at a unix time (zero-padded).
pub fn code_at(secret_b32: &str, unix: i64) -> Option<String> {
    let key = base32_decode(secret_b32)?;
    Some(format!("{:0width$}", hotp(&key, step_of(unix) as u64, DIGITS), width = DIGITS as usize))
}

/// The step a code matches within ±[`WINDOW`] steps of `now`, newest first; `None` if none.
/// Callers refuse a step at or below the last one used (replay).
pub fn matching_step(secret_b32: &str, code: &str, now: i64) -> Option<i64> {
    let code = code.trim();
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let key = base32_decode(secret_b32)?;
    let wanted: u32 = code.parse().ok()?;
    let now_step = step_of(now);
    let mut found = None;
    // Every candidate is computed, so the time taken does not reveal which step matched.
    for step in (now_step - WINDOW..=now_step + WINDOW).rev() {
        let ok = step >= 0 && subtle::ConstantTimeEq::ct_eq(&hotp(&key, step as u64, DIGITS), &wanted).into();
        if ok && found.is_none() {
            found = Some(step);
        }
    }
    found
}

/// The `otpauth://` URI authenticator apps read (usually from a QR code).
pub fn otpauth_uri(issuer: &str, account: &str, secret_b32: &str) -> String {
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>().replace('+', "%20");
    format!(
        "otpauth://totp/{}:{}?secret={secret_b32}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}",
        enc(issuer),
        enc(account),
        enc(issuer)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const RFC_SECRET: &[u8] = b"12345678901234567890";

    #[test]
    fn rfc6238_sha1_vectors() {
        // RFC 6238 appendix B (SHA-1), 8 digits, and the same truncated to 6 digits.
        let vectors = [
            (59, 94287082),
            (1111111109, 7081804),
            (1111111111, 14050471),
            (1234567890, 89005924),
            (2000000000, 69279037),
            (20000000000, 65353130),
        ];
        let secret = base32_encode(RFC_SECRET);
        assert_eq!(secret, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        for (t, expected) in vectors {
            assert_eq!(hotp(RFC_SECRET, (t / 30) as u64, 8), expected, "T={t}");
            assert_eq!(code_at(&secret, t).unwrap(), format!("{:06}", expected % 1_000_000), "T={t}");
        }
        assert_eq!(code_at(&secret, 59).unwrap(), "287082");
        assert_eq!(code_at(&secret, 1111111109).unwrap(), "081804");
        assert_eq!(code_at(&secret, 1234567890).unwrap(), "005924");
    }

    #[test]
    fn rfc4226_hotp_vectors() {
        let expected = [755224, 287082, 359152, 969429, 338314, 254676, 287922, 162583, 399871, 520489];
        for (counter, code) in expected.into_iter().enumerate() {
            assert_eq!(hotp(RFC_SECRET, counter as u64, 6), code);
        }
    }

    #[test]
    fn base32_round_trips_and_refuses_junk() {
        assert_eq!(base32_encode(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32_decode("MZXW6YTBOI======").unwrap(), b"foobar");
        assert_eq!(base32_decode("mzxw6ytboi").unwrap(), b"foobar");
        assert_eq!(base32_decode("MZXW6YTB01"), None);
        for n in 0..25 {
            let data: Vec<u8> = (0..n).map(|i| (i * 37 + 11) as u8).collect();
            assert_eq!(base32_decode(&base32_encode(&data)).unwrap(), data);
        }
        assert_eq!(base32_decode(&new_secret()).unwrap().len(), 20);
    }

    #[test]
    fn window_is_one_step_either_side() {
        let secret = base32_encode(RFC_SECRET);
        let t = 1_700_000_000;
        let code = code_at(&secret, t).unwrap();
        assert_eq!(matching_step(&secret, &code, t), Some(step_of(t)));
        assert_eq!(matching_step(&secret, &code, t + 30), Some(step_of(t)));
        assert_eq!(matching_step(&secret, &code, t - 30), Some(step_of(t)));
        assert_eq!(matching_step(&secret, &code, t + 90), None);
        assert_eq!(matching_step(&secret, "12345", t), None);
        assert_eq!(matching_step(&secret, "12345a", t), None);
    }

    #[test]
    fn uri_names_issuer_account_and_secret() {
        let uri = otpauth_uri("keyturn", "alice", "ABC");
        assert!(uri.starts_with("otpauth://totp/keyturn:alice?secret=ABC&issuer=keyturn"), "{uri}");
    }
}

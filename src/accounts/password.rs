//! The password policy (NIST 800-63B): at least 12 characters, at most 1024 bytes, no
//! composition rules, no truncation, common and guessable passwords refused (zxcvbn).

/// Longest password accepted, in bytes, so that hashing cost stays bounded.
pub const MAX_BYTES: usize = 1024;
/// Shortest password accepted, in characters.
pub const MIN_CHARS: usize = 12;

/// Why a new password was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Weak {
    TooLong,
    TooShort,
    Guessable(String),
}

/// Checks a proposed password; `context` holds words the password must not lean on
/// (login, email, name).
pub fn check(password: &str, context: &[&str]) -> Result<(), Weak> {
    if password.len() > MAX_BYTES {
        return Err(Weak::TooLong);
    }
    if password.chars().count() < MIN_CHARS {
        return Err(Weak::TooShort);
    }
    let entropy = zxcvbn::zxcvbn(password, context);
    if (entropy.score() as u8) < 3 {
        let hint = entropy
            .feedback()
            .and_then(|f| f.warning().map(|w| w.to_string()))
            .unwrap_or_else(|| "It is too easy to guess.".into());
        return Err(Weak::Guessable(hint));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy() {
        assert_eq!(check("short", &[]), Err(Weak::TooShort));
        assert!(matches!(check("password1234", &[]), Err(Weak::Guessable(_))));
        assert!(matches!(check("qwertyuiop123", &[]), Err(Weak::Guessable(_))));
        assert_eq!(check(&"x".repeat(2000), &[]), Err(Weak::TooLong));
        assert!(check("correct horse battery staple", &[]).is_ok());
        assert!(check("tangerine-viaduct-92-lopsided", &[]).is_ok());
    }
}

//! Mail that lands: the envelope sender (bounces) and DKIM signing.

use super::declare::{settings_group, together};
use super::{invalid, ConfigError};

settings_group! {
    /// Envelope sender and DKIM (all optional).
    pub struct MailSettings, docs MAIL_SETTINGS, apply apply;
    mail_envelope_from: Option<String> = Default::default(),
        "(the mail_from address)",
        "The envelope sender (SMTP MAIL FROM, the Return-Path bounces go to), e.g. bounces@shop.example; its domain is the one SPF checks.";
    dkim_selector: Option<String> = Default::default(),
        "(none: unsigned)",
        "DKIM selector: the key is published at <selector>._domainkey.<dkim_domain>. Set it together with dkim_key.";
    dkim_domain: Option<String> = Default::default(),
        "(the mail_from domain)",
        "The signing domain (d=); for DMARC it is the mail_from domain or a parent of it.";
    @secret dkim_key: Option<String> = Default::default(),
        "(none)",
        "The DKIM private key, PEM: RSA (PKCS#1 or PKCS#8, 2048 bits or more) or Ed25519 (PKCS#8); usually given as KEYTURN_DKIM_KEY_FILE=/path/to/key.pem.";
}

impl MailSettings {
    pub fn validate(&self) -> Result<(), ConfigError> {
        together(("dkim_selector", self.dkim_selector.is_some()), ("dkim_key", self.dkim_key.is_some()))?;
        if let Some(s) = &self.dkim_selector {
            if !is_dns_label_list(s) {
                return Err(invalid("dkim_selector", "letters, digits, - and . only, e.g. keyturn2026"));
            }
        }
        if let Some(d) = &self.dkim_domain {
            if !is_dns_label_list(d) || !d.contains('.') {
                return Err(invalid("dkim_domain", "a domain name, e.g. shop.example"));
            }
        }
        if let Some(k) = &self.dkim_key {
            crate::mail::dkim::read_key(k).map_err(|e| invalid("dkim_key", e))?;
        }
        if let Some(e) = &self.mail_envelope_from {
            if e.parse::<lettre::Address>().is_err() {
                return Err(invalid("mail_envelope_from", "not an email address, e.g. bounces@shop.example"));
            }
        }
        Ok(())
    }
}

fn is_dns_label_list(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        })
}

//! Reading captured emails the way a customer would: subject and text part.

use std::time::{Duration, Instant};

use base64::Engine as _;

use super::smtp::{Captured, Store};

/// A received email, decoded enough to read it.
#[derive(Clone, Debug)]
pub struct Mail {
    /// The envelope sender (MAIL FROM).
    pub from: String,
    pub to: Vec<String>,
    pub raw: Vec<u8>,
    pub subject: String,
    /// The decoded text/plain part (the whole body for a single-part message).
    pub text: String,
    /// The decoded text/html part, if any.
    pub html: Option<String>,
    /// It came over TLS (see [`Captured::tls`]).
    pub tls: bool,
}

/// What the customer got in the credentials email.
#[derive(Clone, Debug, PartialEq)]
pub struct Credentials {
    pub login: String,
    pub password: String,
    pub token: String,
    /// The full verification link as written in the email.
    pub link: String,
}

/// The credentials email's labels in en, ru, pl and sr.
pub const LOGIN_LABELS: [&str; 4] = ["Login:", "Логин:", "Login:", "Korisničko ime:"];
pub const PASSWORD_LABELS: [&str; 4] = ["Password:", "Пароль:", "Hasło:", "Lozinka:"];

/// Which kind of email a test waits for.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kind {
    /// Carries `Login:` and `Password:` lines.
    Credentials,
    /// "payment received for <service>".
    Confirmation,
    /// "your account is active".
    Activation,
    /// "choose a new password": a forgot-password link.
    PasswordReset,
    /// "your password was changed".
    PasswordChanged,
    /// Anything else.
    Other,
    Any,
}

impl Mail {
    pub fn from_captured(c: &Captured) -> Mail {
        let raw = String::from_utf8_lossy(&c.raw).into_owned();
        let (headers, body) = split_head(&raw);
        let subject = decode_words(&header(headers, "subject").unwrap_or_default());
        let mut text = None;
        let mut html = None;
        collect_parts(headers, body, &mut text, &mut html);
        Mail {
            from: c.from.clone(),
            to: c.to.clone(),
            raw: c.raw.clone(),
            subject,
            text: text.unwrap_or_default(),
            html,
            tls: c.tls,
        }
    }

    pub fn kind(&self) -> Kind {
        let subject = self.subject.to_lowercase();
        // `Feedback-ID: <email>:keyturn` names the template, whatever the language.
        let template = self.header("feedback-id").and_then(|v| v.split(':').next().map(str::to_string));
        if let Some(t) = template {
            return match t.as_str() {
                "credentials" | "credentials_reset" if self.credentials().is_some() => Kind::Credentials,
                "payment_confirmation" => Kind::Confirmation,
                "activation" => Kind::Activation,
                "password_reset" => Kind::PasswordReset,
                "password_changed" => Kind::PasswordChanged,
                _ => Kind::Other,
            };
        }
        if self.credentials().is_some() {
            Kind::Credentials
        } else if subject.contains("payment received") {
            Kind::Confirmation
        } else if subject.contains("account is active") {
            Kind::Activation
        } else if subject.contains("choose a new password") {
            Kind::PasswordReset
        } else if subject.contains("password was changed") {
            Kind::PasswordChanged
        } else {
            Kind::Other
        }
    }

    /// The template it was made from (`Feedback-ID: <template>:keyturn`).
    pub fn template(&self) -> String {
        self.header("feedback-id").and_then(|v| v.split(':').next().map(str::to_string)).unwrap_or_default()
    }

    pub fn header(&self, name: &str) -> Option<String> {
        let raw = String::from_utf8_lossy(&self.raw);
        header(split_head(&raw).0, name)
    }

    /// The first link in the text part whose path starts with `path` (e.g. `/reset-password?token=`).
    pub fn link_to(&self, path: &str) -> Option<String> {
        let word = self.text.split_whitespace().find(|w| w.contains(path))?;
        Some(word.trim_matches(|c: char| matches!(c, '<' | '>' | '(' | ')' | '"')).to_string())
    }

    /// Login, password and verification link from the text part, read as DESIGN §8 promises
    /// in every locale: each value on its own line after its label and a colon.
    pub fn credentials(&self) -> Option<Credentials> {
        let line = |labels: &[&str]| {
            self.text
                .lines()
                .find_map(|l| labels.iter().find_map(|p| l.trim().strip_prefix(p).map(|v| v.trim().to_string())))
        };
        let login = line(&LOGIN_LABELS)?;
        let password = line(&PASSWORD_LABELS)?;
        let start = self.text.find("/verify-email?token=")?;
        let link_start =
            self.text[..start].rfind(|c: char| c.is_whitespace() || c == '<' || c == '(').map(|i| i + 1).unwrap_or(0);
        let link: String = self.text[link_start..]
            .chars()
            .take_while(|c| !c.is_whitespace() && !matches!(c, '>' | ')' | '"'))
            .collect();
        let token = link.split("token=").nth(1)?.to_string();
        Some(Credentials { login, password, token, link })
    }
}

fn split_head(raw: &str) -> (&str, &str) {
    match raw.find("\r\n\r\n") {
        Some(i) => (&raw[..i], &raw[i + 4..]),
        None => match raw.find("\n\n") {
            Some(i) => (&raw[..i], &raw[i + 2..]),
            None => (raw, ""),
        },
    }
}

/// Unfolded value of the first header with this name.
fn header(headers: &str, name: &str) -> Option<String> {
    let mut value: Option<String> = None;
    for line in headers.lines() {
        if let Some(v) = value.as_mut() {
            if line.starts_with(' ') || line.starts_with('\t') {
                v.push(' ');
                v.push_str(line.trim());
                continue;
            }
            break;
        }
        if let Some((n, v)) = line.split_once(':') {
            if n.trim().eq_ignore_ascii_case(name) {
                value = Some(v.trim().to_string());
            }
        }
    }
    value
}

fn param(value: &str, name: &str) -> Option<String> {
    value.split(';').skip(1).find_map(|p| {
        let (k, v) = p.trim().split_once('=')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim().trim_matches('"').to_string())
    })
}

fn collect_parts(headers: &str, body: &str, text: &mut Option<String>, html: &mut Option<String>) {
    let ctype = header(headers, "content-type").unwrap_or_else(|| "text/plain".into());
    let lower = ctype.to_ascii_lowercase();
    if lower.starts_with("multipart/") {
        let Some(boundary) = param(&ctype, "boundary") else { return };
        let delim = format!("--{boundary}");
        for part in body.split(delim.as_str()).skip(1) {
            if part.starts_with("--") {
                break;
            }
            let part = part.strip_prefix("\r\n").or_else(|| part.strip_prefix('\n')).unwrap_or(part);
            let (h, b) = split_head(part);
            collect_parts(h, b, text, html);
        }
        return;
    }
    let cte = header(headers, "content-transfer-encoding").unwrap_or_default().to_ascii_lowercase();
    let decoded = match cte.as_str() {
        "quoted-printable" => String::from_utf8_lossy(&qp_decode(body)).into_owned(),
        "base64" => {
            let compact: String = body.chars().filter(|c| !c.is_whitespace()).collect();
            let bytes = base64::engine::general_purpose::STANDARD.decode(compact).unwrap_or_default();
            String::from_utf8_lossy(&bytes).into_owned()
        }
        _ => body.to_string(),
    };
    let decoded = decoded.replace("\r\n", "\n");
    if lower.starts_with("text/html") {
        html.get_or_insert(decoded);
    } else if lower.starts_with("text/plain") {
        text.get_or_insert(decoded);
    }
}

/// Quoted-printable decoding (RFC 2045 §6.7), soft line breaks included.
pub fn qp_decode(s: &str) -> Vec<u8> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'=' {
            if b[i + 1..].starts_with(b"\r\n") {
                i += 3;
                continue;
            }
            if b[i + 1..].starts_with(b"\n") {
                i += 2;
                continue;
            }
            let hex = |c: u8| (c as char).to_digit(16);
            if i + 2 < b.len() {
                if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                    out.push((h * 16 + l) as u8);
                    i += 3;
                    continue;
                }
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

/// Decodes RFC 2047 encoded words (`=?utf-8?b?..?=` / `=?utf-8?q?..?=`).
fn decode_words(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(start) = rest.find("=?") {
        let Some(end) = rest[start + 2..].find("?=").map(|e| e + start + 2) else { break };
        let word = &rest[start + 2..end];
        let mut it = word.splitn(3, '?');
        let (_cs, enc, data) = (it.next(), it.next().unwrap_or(""), it.next().unwrap_or(""));
        let between = &rest[..start];
        if !between.trim().is_empty() || out.is_empty() {
            out.push_str(between);
        }
        let bytes = match enc.to_ascii_lowercase().as_str() {
            "b" => base64::engine::general_purpose::STANDARD.decode(data).unwrap_or_default(),
            _ => qp_decode(&data.replace('_', " ")),
        };
        out.push_str(&String::from_utf8_lossy(&bytes));
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    out
}

/// The messages one app sent, read from the SMTP server it talks to.
#[derive(Clone)]
pub struct MailBox {
    store: Store,
}

impl MailBox {
    pub fn new(store: Store) -> Self {
        MailBox { store }
    }

    /// All messages sent to `to` so far, in arrival order.
    pub fn to(&self, to: &str) -> Vec<Mail> {
        let to = to.to_ascii_lowercase();
        let got: Vec<Captured> = self.store.lock().unwrap().iter().filter(|c| c.to.contains(&to)).cloned().collect();
        got.iter().map(Mail::from_captured).collect()
    }

    pub fn count(&self, to: &str, kind: Kind) -> usize {
        self.to(to).iter().filter(|m| kind == Kind::Any || m.kind() == kind).count()
    }

    /// Waits for the `nth` (1-based) message of `kind` to `to`.
    pub async fn wait_for(&self, to: &str, kind: Kind, nth: usize, timeout: Duration) -> Mail {
        let deadline = Instant::now() + timeout;
        loop {
            let mut matching: Vec<Mail> =
                self.to(to).into_iter().filter(|m| kind == Kind::Any || m.kind() == kind).collect();
            if matching.len() >= nth {
                return matching.swap_remove(nth - 1);
            }
            if Instant::now() > deadline {
                let subjects: Vec<String> = self.to(to).iter().map(|m| m.subject.clone()).collect();
                panic!("no {kind:?} email #{nth} to {to} within {timeout:?}; got: {subjects:?}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The credentials from the `nth` credentials email to `to`.
    pub async fn credentials(&self, to: &str, nth: usize) -> Credentials {
        self.wait_for(to, Kind::Credentials, nth, super::MAIL_TIMEOUT).await.credentials().unwrap()
    }
}

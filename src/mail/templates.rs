//! Email templates: embedded in the binary from `email-templates/`, overridable file by file
//! from `templates_dir`. Each email has `subject.txt.j2`, `body.txt.j2` and `body.html.j2`.

use std::path::{Path, PathBuf};

use minijinja::{AutoEscape, Environment};

macro_rules! embedded {
    ($($name:literal),* $(,)?) => {
        &[ $( ($name, include_str!(concat!("../../email-templates/", $name))) ),* ]
    };
}

/// The templates shipped in the binary.
const EMBEDDED: &[(&str, &str)] = embedded![
    "base.html.j2",
    "payment_confirmation/subject.txt.j2",
    "payment_confirmation/body.txt.j2",
    "payment_confirmation/body.html.j2",
    "credentials/subject.txt.j2",
    "credentials/body.txt.j2",
    "credentials/body.html.j2",
    "activation/subject.txt.j2",
    "activation/body.txt.j2",
    "activation/body.html.j2",
    "access_extended/subject.txt.j2",
    "access_extended/body.txt.j2",
    "access_extended/body.html.j2",
    "credentials_reset/subject.txt.j2",
    "credentials_reset/body.txt.j2",
    "credentials_reset/body.html.j2",
    "invoice_link/subject.txt.j2",
    "invoice_link/body.txt.j2",
    "invoice_link/body.html.j2",
    "merchant_copy/subject.txt.j2",
    "merchant_copy/body.txt.j2",
    "merchant_copy/body.html.j2",
    "password_reset/subject.txt.j2",
    "password_reset/body.txt.j2",
    "password_reset/body.html.j2",
    "password_changed/subject.txt.j2",
    "password_changed/body.txt.j2",
    "password_changed/body.html.j2",
    "renewal_reminder/subject.txt.j2",
    "renewal_reminder/body.txt.j2",
    "renewal_reminder/body.html.j2",
    "access_expired/subject.txt.j2",
    "access_expired/body.txt.j2",
    "access_expired/body.html.j2",
    "refund/subject.txt.j2",
    "refund/body.txt.j2",
    "refund/body.html.j2",
    "cancellation/subject.txt.j2",
    "cancellation/body.txt.j2",
    "cancellation/body.html.j2",
];

/// A rendered email.
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// The template environment.
pub struct Templates {
    env: Environment<'static>,
}

impl Templates {
    /// Loads the embedded templates, each replaced by a file of the same name under
    /// `override_dir` when one exists.
    pub fn load(override_dir: Option<&Path>) -> anyhow::Result<Templates> {
        let mut env = Environment::new();
        env.set_auto_escape_callback(
            |name| {
                if name.ends_with(".html.j2") {
                    AutoEscape::Html
                } else {
                    AutoEscape::None
                }
            },
        );
        env.set_keep_trailing_newline(true);
        for (name, source) in EMBEDDED {
            let custom: Option<PathBuf> = override_dir.map(|d| d.join(name)).filter(|p| p.exists());
            let text = match custom {
                Some(p) => std::fs::read_to_string(&p)?,
                None => (*source).to_string(),
            };
            env.add_template_owned(*name, text).map_err(|e| anyhow::anyhow!("email template {name}: {e}"))?;
        }
        Ok(Templates { env })
    }

    /// Renders the three parts of email `name` with `ctx`.
    pub fn render(&self, name: &str, ctx: &serde_json::Value) -> anyhow::Result<Rendered> {
        let part = |p: &str| -> anyhow::Result<String> {
            let t = self.env.get_template(&format!("{name}/{p}"))?;
            Ok(t.render(ctx)?)
        };
        Ok(Rendered {
            subject: part("subject.txt.j2")?.trim().replace(['\r', '\n'], " "),
            text: part("body.txt.j2")?,
            html: part("body.html.j2")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_escaped_and_text_is_not() {
        let t = Templates::load(None).unwrap();
        let r = t
            .render(
                "activation",
                &serde_json::json!({"product": "Shop", "name": "<b>Ann</b>", "login": "kt-x", "login_url": "http://x"}),
            )
            .unwrap();
        assert!(r.html.contains("&lt;b&gt;Ann"));
        assert!(!r.html.contains("<b>Ann"));
        assert!(r.text.contains("Hello <b>Ann</b>"));
        assert_eq!(r.subject, "Shop: your account is active");
    }
}

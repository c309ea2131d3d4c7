//! Email templates, one set per locale: embedded in the binary from
//! `email-templates/<locale>/`, overridable file by file from `templates_dir`. Each email has
//! `subject.txt.j2`, `body.txt.j2` and `body.html.j2`; each locale has its `base.html.j2`.
//!
//! Emails are whole documents written per locale (not stitched from catalogue phrases) so each
//! reads as a native speaker would write it. A merchant overrides a file as
//! `templates_dir/<locale>/<email>/<part>` (`templates_dir/<email>/<part>`, the layout from
//! before there were locales, is English). The two body parts of an email are overridden
//! together or not at all: a customer whose mail client shows the text part must read what the
//! HTML part says.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use minijinja::{AutoEscape, Environment};

use crate::i18n::{Catalog, Locale};

/// Every email, by its template folder.
pub const EMAILS: [&str; 13] = [
    "payment_confirmation",
    "credentials",
    "activation",
    "access_extended",
    "credentials_reset",
    "invoice_link",
    "merchant_copy",
    "password_reset",
    "password_changed",
    "renewal_reminder",
    "access_expired",
    "refund",
    "cancellation",
];

/// The files of an email.
pub const PARTS: [&str; 3] = ["subject.txt.j2", "body.txt.j2", "body.html.j2"];

macro_rules! locale_files {
    ($locale:literal) => {
        locale_files!(@ $locale;
            "base.html.j2",
            "payment_confirmation/subject.txt.j2", "payment_confirmation/body.txt.j2", "payment_confirmation/body.html.j2",
            "credentials/subject.txt.j2", "credentials/body.txt.j2", "credentials/body.html.j2",
            "activation/subject.txt.j2", "activation/body.txt.j2", "activation/body.html.j2",
            "access_extended/subject.txt.j2", "access_extended/body.txt.j2", "access_extended/body.html.j2",
            "credentials_reset/subject.txt.j2", "credentials_reset/body.txt.j2", "credentials_reset/body.html.j2",
            "invoice_link/subject.txt.j2", "invoice_link/body.txt.j2", "invoice_link/body.html.j2",
            "merchant_copy/subject.txt.j2", "merchant_copy/body.txt.j2", "merchant_copy/body.html.j2",
            "password_reset/subject.txt.j2", "password_reset/body.txt.j2", "password_reset/body.html.j2",
            "password_changed/subject.txt.j2", "password_changed/body.txt.j2", "password_changed/body.html.j2",
            "renewal_reminder/subject.txt.j2", "renewal_reminder/body.txt.j2", "renewal_reminder/body.html.j2",
            "access_expired/subject.txt.j2", "access_expired/body.txt.j2", "access_expired/body.html.j2",
            "refund/subject.txt.j2", "refund/body.txt.j2", "refund/body.html.j2",
            "cancellation/subject.txt.j2", "cancellation/body.txt.j2", "cancellation/body.html.j2")
    };
    (@ $locale:literal; $($name:literal),*) => {
        &[ $( ($name, include_str!(concat!("../../email-templates/", $locale, "/", $name))) ),* ]
    };
}

/// The templates shipped in the binary, of one locale.
fn embedded(locale: Locale) -> &'static [(&'static str, &'static str)] {
    match locale {
        Locale::En => locale_files!("en"),
        Locale::Ru => locale_files!("ru"),
        Locale::Pl => locale_files!("pl"),
        Locale::Sr => locale_files!("sr"),
    }
}

/// A rendered email.
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// The template environments, one per locale.
pub struct Templates {
    envs: Vec<(Locale, Environment<'static>)>,
    /// Emails the merchant customised, with the locales they customised them in.
    customised: BTreeMap<&'static str, Vec<Locale>>,
}

/// Where the merchant's version of `name` (`base.html.j2` or `<email>/<part>`) in `locale`
/// would be; English also reads the layout from before locales.
fn override_of(dir: &Path, locale: Locale, name: &str) -> Option<PathBuf> {
    let localised = dir.join(locale.code()).join(name);
    if localised.is_file() {
        return Some(localised);
    }
    let legacy = dir.join(name);
    (locale == Locale::En && legacy.is_file()).then_some(legacy)
}

/// `.j2` files under `dir` that no template is named by (a typo would otherwise be ignored).
fn unknown_files(dir: &Path) -> Vec<String> {
    let known = |rel: &str| {
        let rel = Locale::ALL.iter().find_map(|l| rel.strip_prefix(&format!("{}/", l.code()))).unwrap_or(rel);
        rel == "base.html.j2" || EMAILS.iter().any(|e| PARTS.iter().any(|p| rel == format!("{e}/{p}")))
    };
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(at) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&at) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "j2") {
                let rel = path.strip_prefix(dir).unwrap_or(&path).to_string_lossy().replace('\\', "/");
                if !known(&rel) {
                    found.push(rel);
                }
            }
        }
    }
    found.sort();
    found
}

impl Templates {
    /// Loads the embedded templates of every locale, each replaced by the merchant's file
    /// under `override_dir` when one exists. Refuses an email whose body is overridden in one
    /// part only, and a `.j2` file that names no template.
    pub fn load(override_dir: Option<&Path>, catalog: Arc<Catalog>) -> anyhow::Result<Templates> {
        if let Some(dir) = override_dir {
            let unknown = unknown_files(dir);
            anyhow::ensure!(
                unknown.is_empty(),
                "templates_dir {}: {} name no email template (expected <locale>/<email>/<part>, with locale one of \
                 en, ru, pl, sr, email one of {}, part one of {})",
                dir.display(),
                unknown.join(", "),
                EMAILS.join(", "),
                PARTS.join(", ")
            );
        }
        let mut envs = Vec::new();
        let mut customised: BTreeMap<&'static str, Vec<Locale>> = BTreeMap::new();
        for locale in Locale::ALL {
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
            let words = catalog.clone();
            env.add_filter("days", move |n: i64| words.tr(locale, "days", &[("count", n.into())]));
            for (name, source) in embedded(locale) {
                let custom = override_dir.and_then(|d| override_of(d, locale, name));
                let text = match &custom {
                    Some(p) => std::fs::read_to_string(p).map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?,
                    None => (*source).to_string(),
                };
                env.add_template_owned(*name, text)
                    .map_err(|e| anyhow::anyhow!("email template {}/{name}: {e}", locale.code()))?;
            }
            if let Some(dir) = override_dir {
                if override_of(dir, locale, "base.html.j2").is_some() {
                    customised.entry("base.html.j2").or_default().push(locale);
                }
                for email in EMAILS {
                    let has = |part: &str| override_of(dir, locale, &format!("{email}/{part}")).is_some();
                    let (text, html) = (has("body.txt.j2"), has("body.html.j2"));
                    anyhow::ensure!(
                        text == html,
                        "templates_dir {}: {}/{email} overrides {} but not {}: override both body parts or \
                         neither, so the text part says what the HTML part says",
                        dir.display(),
                        locale.code(),
                        if text { "body.txt.j2" } else { "body.html.j2" },
                        if text { "body.html.j2" } else { "body.txt.j2" },
                    );
                    if PARTS.iter().any(|p| has(p)) {
                        customised.entry(email).or_default().push(locale);
                    }
                }
            }
            envs.push((locale, env));
        }
        let templates = Templates { envs, customised };
        templates.check_renders()?;
        Ok(templates)
    }

    /// Renders every email in every locale with an empty context, so a merchant's syntax
    /// error or unknown filter stops the start rather than a customer's email.
    fn check_renders(&self) -> anyhow::Result<()> {
        for (locale, _) in &self.envs {
            for email in EMAILS {
                self.render(email, *locale, &serde_json::json!({"period_days": 30, "grace_days": 3}))
                    .map_err(|e| anyhow::anyhow!("email template {}/{email}: {e:#}", locale.code()))?;
            }
        }
        Ok(())
    }

    /// Emails the merchant customised in some locales but not in others: customers of the
    /// others read the stock text. `(email, customised in, not in)`.
    pub fn missing_translations(&self) -> Vec<(&'static str, Vec<Locale>, Vec<Locale>)> {
        self.customised
            .iter()
            .filter(|(_, done)| done.len() < Locale::ALL.len())
            .map(|(email, done)| {
                let missing = Locale::ALL.into_iter().filter(|l| !done.contains(l)).collect();
                (*email, done.clone(), missing)
            })
            .collect()
    }

    /// Renders the three parts of email `name` in `locale` with `ctx`.
    pub fn render(&self, name: &str, locale: Locale, ctx: &serde_json::Value) -> anyhow::Result<Rendered> {
        let env = &self.envs.iter().find(|(l, _)| *l == locale).unwrap_or(&self.envs[0]).1;
        let part = |p: &str| -> anyhow::Result<String> {
            let t = env.get_template(&format!("{name}/{p}"))?;
            Ok(t.render(ctx)?)
        };
        Ok(Rendered {
            subject: part("subject.txt.j2")?.trim().replace(['\r', '\n'], " "),
            text: part("body.txt.j2")?,
            html: part("body.html.j2")?,
        })
    }
}

/// The templates in use, replaced whole when they are loaded again (`SIGHUP`): a merchant edits
/// an override and reloads without a restart. A set that does not load (a syntax error, one body
/// part) is refused with the reason and the previous set stays in use.
pub struct LiveTemplates {
    current: std::sync::RwLock<Arc<Templates>>,
    override_dir: Option<std::path::PathBuf>,
    catalog: Arc<Catalog>,
}

impl LiveTemplates {
    pub fn load(override_dir: Option<&Path>, catalog: Arc<Catalog>) -> anyhow::Result<LiveTemplates> {
        let templates = Templates::load(override_dir, catalog.clone())?;
        Ok(LiveTemplates {
            current: std::sync::RwLock::new(Arc::new(templates)),
            override_dir: override_dir.map(Path::to_path_buf),
            catalog,
        })
    }

    /// The set to render with now.
    pub fn current(&self) -> Arc<Templates> {
        self.current.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Loads the embedded templates and the overrides again; on success they are used from
    /// the next email on.
    pub fn reload(&self) -> anyhow::Result<()> {
        let fresh = Templates::load(self.override_dir.as_deref(), self.catalog.clone())?;
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(fresh);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Arc<Catalog> {
        Arc::new(Catalog::load().unwrap())
    }

    fn write(dir: &Path, rel: &str, text: &str) {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn html_is_escaped_and_text_is_not() {
        let t = Templates::load(None, catalog()).unwrap();
        let r = t
            .render(
                "activation",
                Locale::En,
                &serde_json::json!({"product": "Shop", "name": "<b>Ann</b>", "login": "kt-x", "login_url": "http://x"}),
            )
            .unwrap();
        assert!(r.html.contains("&lt;b&gt;Ann"));
        assert!(!r.html.contains("<b>Ann"));
        assert!(r.text.contains("Hello <b>Ann</b>"));
        assert_eq!(r.subject, "Shop: your account is active");
    }

    #[test]
    fn every_locale_has_its_own_words_and_plural_forms() {
        let t = Templates::load(None, catalog()).unwrap();
        let ctx = serde_json::json!({"product": "Shop", "name": "Ann", "service_name": "VPN", "period_days": 5,
                                     "amount": "5,00 €", "new_account": true});
        let texts: Vec<String> =
            Locale::ALL.iter().map(|l| t.render("payment_confirmation", *l, &ctx).unwrap().text).collect();
        assert!(texts[0].contains("5 days"), "{}", texts[0]);
        assert!(texts[1].contains("5 дней"), "{}", texts[1]);
        assert!(texts[2].contains("5 dni"), "{}", texts[2]);
        assert!(texts[3].contains("5 dana"), "{}", texts[3]);
        for (i, a) in texts.iter().enumerate() {
            for b in &texts[i + 1..] {
                assert_ne!(a, b);
            }
        }
        let html = t.render("activation", Locale::Ru, &ctx).unwrap().html;
        assert!(html.contains("<html lang=\"ru\">"), "{html}");
    }

    #[test]
    fn overrides_are_per_locale_and_per_part_and_english_keeps_the_old_layout() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "ru/activation/subject.txt.j2", "{{ product }}: готово");
        write(dir.path(), "activation/subject.txt.j2", "{{ product }}: ready");
        let t = Templates::load(Some(dir.path()), catalog()).unwrap();
        let ctx = serde_json::json!({"product": "Shop", "name": "Ann", "login": "kt-x", "login_url": "http://x"});
        assert_eq!(t.render("activation", Locale::Ru, &ctx).unwrap().subject, "Shop: готово");
        assert_eq!(t.render("activation", Locale::En, &ctx).unwrap().subject, "Shop: ready");
        assert_ne!(t.render("activation", Locale::Pl, &ctx).unwrap().subject, "Shop: ready");
        let missing = t.missing_translations();
        assert_eq!(missing, vec![("activation", vec![Locale::En, Locale::Ru], vec![Locale::Pl, Locale::Sr])]);
    }

    #[test]
    fn one_body_part_alone_a_typo_or_a_broken_template_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "pl/credentials/body.html.j2", "<p>{{ login }}</p>");
        let err = Templates::load(Some(dir.path()), catalog()).err().unwrap().to_string();
        assert!(err.contains("pl/credentials overrides body.html.j2 but not body.txt.j2"), "{err}");

        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "ru/credential/body.txt.j2", "x");
        let err = Templates::load(Some(dir.path()), catalog()).err().unwrap().to_string();
        assert!(err.contains("ru/credential/body.txt.j2"), "{err}");

        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "sr/refund/subject.txt.j2", "{{ amount | nosuchfilter }}");
        let err = format!("{:#}", Templates::load(Some(dir.path()), catalog()).err().unwrap());
        assert!(err.contains("sr/refund"), "{err}");
    }
}

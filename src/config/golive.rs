//! Going live: what still stands between this instance and real customers. `keyturn
//! check-config --production` lists every problem and fails; `serve` logs each as a warning.

use crate::config::Settings;
use crate::db::{Backend, Db, DbConn};

/// The settings' problems for production, each named by what to change.
pub fn settings_problems(s: &Settings) -> Vec<String> {
    let mut out = Vec::new();
    if s.sandbox_enabled {
        out.push("sandbox on: anyone can \"pay\" with test cards (set KEYTURN_SANDBOX_ENABLED=false)".into());
    }
    if s.hcaptcha_secret.is_none() {
        out.push("captcha off: order forms are open to bots (set KEYTURN_HCAPTCHA_SECRET and _SITEKEY)".into());
    }
    match s.public_url.as_deref() {
        Some(u) if u.starts_with("https://") => {}
        Some(_) => out.push("public URL is http, not https (set KEYTURN_PUBLIC_URL=https://…)".into()),
        // With ACME the links are built on https://<first domain>.
        None if s.http.acme_enabled() => {}
        None => out.push("no public URL: links would use http://<listen> (set KEYTURN_PUBLIC_URL=https://…)".into()),
    }
    if s.merchant.merchant_name.as_deref().is_none_or(|n| n.trim().is_empty()) {
        out.push("no merchant name: pages and emails name no shop (set KEYTURN_MERCHANT_NAME)".into());
    }
    if s.smtp_url.is_none() {
        out.push("SMTP not set: emails are only written to files (set KEYTURN_SMTP_URL)".into());
    }
    out
}

/// The database's problems: the demo service on sale (or about to be, on a fresh embedded
/// database) and no administrator who can sign in.
pub fn db_problems(c: &mut DbConn, backend: Backend) -> diesel::QueryResult<Vec<String>> {
    let mut out = Vec::new();
    let demo = crate::catalog::model::find_by_slug(c, "demo")?;
    let fresh = crate::catalog::model::count(c)? == 0 && backend == Backend::Sqlite;
    if demo.is_some_and(|d| d.active) || fresh {
        out.push("the demo service is on sale (take it off sale or delete it in the admin portal)".into());
    }
    let admins = crate::admin::access::model::list(c)?;
    if !admins.iter().any(|a| a.status == crate::admin::access::model::ACTIVE) {
        out.push(
            "no administrator (create one: keyturn admin create --username … --role owner --password-stdin)".into(),
        );
    }
    Ok(out)
}

/// Every problem, settings first.
pub async fn problems(settings: &Settings, db: &Db) -> anyhow::Result<Vec<String>> {
    let mut out = settings_problems(settings);
    let backend = db.backend();
    out.extend(db.read(move |c| Ok(db_problems(c, backend)?)).await?);
    Ok(out)
}

//! Catalog rules: which service a slug names (old slugs of a renamed service included), and the
//! demo service on first start.

use crate::catalog::model::{self, Service};
use crate::db::{Db, DbConn, DbResult};

/// The service `slug` names: a service with that slug, else the service it is an old slug of
/// (a renamed service keeps its old slugs as aliases). Active or not: callers decide.
pub fn resolve_slug(c: &mut DbConn, slug: &str) -> diesel::QueryResult<Option<Service>> {
    if let Some(s) = model::find_by_slug(c, slug)? {
        return Ok(Some(s));
    }
    match crate::catalog::aliases::target_of(c, slug)? {
        Some(target) => model::find_by_slug(c, &target),
        None => Ok(None),
    }
}

/// Creates the demo service when the catalog is empty, so a fresh install can sell something.
pub async fn ensure_demo_service(db: &Db, now: i64) -> DbResult<bool> {
    db.write(move |c| {
        if model::count(c)? > 0 {
            return Ok(false);
        }
        model::insert(
            c,
            &Service {
                slug: "demo".into(),
                name: "Demo service".into(),
                price_minor: 1990,
                currency: "EUR".into(),
                period_days: 30,
                active: true,
                created_at: now,
                updated_at: now,
                grace_days: model::DEFAULT_GRACE_DAYS,
                access_url: None,
                reminder_days: model::DEFAULT_REMINDER_DAYS.into(),
            },
        )?;
        Ok(true)
    })
    .await
}

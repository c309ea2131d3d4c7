//! Catalog rules: the demo service on first start.

use crate::catalog::model::{self, Service};
use crate::db::{Db, DbResult};

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
                name: "Demo service (30 days)".into(),
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

//! Renaming a service's slug. The slug is the `services` primary key and is copied into other
//! tables; [`SLUG_COLUMNS`] is the one list of them (a new table that stores a service slug is
//! added there). A renamed service keeps its old slug as an alias (`slug_aliases`), which
//! [`crate::catalog::service::resolve_slug`] follows.

use diesel::prelude::*;
use diesel::sql_types::Text;

use crate::catalog::model::{self, Service};
use crate::db::schema::slug_aliases;
use crate::db::DbConn;

/// Every `(table, column)` outside `services` that stores a service's slug: a rename rewrites
/// them all in its transaction. `slug_aliases.service_slug` is here so older aliases follow.
pub const SLUG_COLUMNS: &[(&str, &str)] = &[
    ("orders", "service_slug"),
    ("access_grants", "service_slug"),
    ("access_notices", "service_slug"),
    ("renewal_tokens", "service_slug"),
    // A gateway subscription's later charges make renewal orders for this slug.
    ("gateway_subscriptions", "service_slug"),
    // An OIDC client checks access to this slug.
    ("oidc_clients", "service_slug"),
    ("slug_aliases", "service_slug"),
];

/// The service slug `alias` stands for, if it is an alias.
pub fn target_of(conn: &mut DbConn, alias: &str) -> QueryResult<Option<String>> {
    slug_aliases::table.find(alias).select(slug_aliases::service_slug).first(conn).optional()
}

/// The slug `slug` stands for now: the service it is an old slug of, else itself. Grants,
/// orders and subscriptions carry the current slug, so a caller that compares slugs (forward
/// auth, the access API) compares this one.
pub fn current_slug(conn: &mut DbConn, slug: &str) -> QueryResult<String> {
    Ok(target_of(conn, slug)?.unwrap_or_else(|| slug.to_string()))
}

/// Why a rename did not happen.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    NoSuchService,
    /// Another service has this slug, or has it as an alias.
    Taken,
}

/// Renames service `old` to `new` in the caller's transaction: a copy of the row under the new
/// slug, every [`SLUG_COLUMNS`] rewritten, the old row removed, and `old` kept as an alias.
/// An alias `new` of this same service is taken back (a rename back to an earlier slug).
pub fn rename(conn: &mut DbConn, old: &str, new: &str, now: i64) -> QueryResult<Result<Service, Refused>> {
    let Some(before) = model::find_by_slug(conn, old)? else { return Ok(Err(Refused::NoSuchService)) };
    if model::find_by_slug(conn, new)?.is_some() {
        return Ok(Err(Refused::Taken));
    }
    match target_of(conn, new)? {
        Some(target) if target != old => return Ok(Err(Refused::Taken)),
        Some(_) => {
            diesel::delete(slug_aliases::table.find(new)).execute(conn)?;
        }
        None => {}
    }
    let after = Service { slug: new.to_string(), updated_at: now, ..before };
    model::insert(conn, &after)?;
    for (table, column) in SLUG_COLUMNS {
        let (sqlite, pg) = (
            format!("UPDATE {table} SET {column} = ?1 WHERE {column} = ?2"),
            format!("UPDATE {table} SET {column} = $1 WHERE {column} = $2"),
        );
        match conn {
            DbConn::Sqlite(c) => diesel::sql_query(sqlite).bind::<Text, _>(new).bind::<Text, _>(old).execute(c)?,
            DbConn::Pg(c) => diesel::sql_query(pg).bind::<Text, _>(new).bind::<Text, _>(old).execute(c)?,
            #[cfg(feature = "mysql")]
            DbConn::Mysql(c) => diesel::sql_query(format!("UPDATE {table} SET {column} = ? WHERE {column} = ?"))
                .bind::<Text, _>(new)
                .bind::<Text, _>(old)
                .execute(c)?,
        };
    }
    diesel::delete(crate::db::schema::services::table.find(old)).execute(conn)?;
    diesel::insert_into(slug_aliases::table)
        .values((slug_aliases::alias.eq(old), slug_aliases::service_slug.eq(new), slug_aliases::created_at.eq(now)))
        .execute(conn)?;
    Ok(Ok(after))
}

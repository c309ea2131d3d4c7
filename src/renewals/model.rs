//! Renewal links: `<public_url>/renew/<token>`. Only the token's SHA-256 is stored; a link
//! belongs to one account and one service and works until it expires (the end of the grace of
//! the period it was issued for).

use diesel::prelude::*;

use crate::crypto::{random_token, token_hash};
use crate::db::schema::renewal_tokens;
use crate::db::DbConn;

/// A stored renewal link (only its hash).
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Insertable)]
#[diesel(table_name = renewal_tokens)]
pub struct RenewalToken {
    pub token_hash: String,
    pub account_id: String,
    pub service_slug: String,
    /// The `active_until` the link was issued for.
    pub period_end: i64,
    pub expires_at: i64,
    pub created_at: i64,
    /// The outbox job (a `renewal_reminder`) whose email carries the link, if one does.
    pub outbox_id: Option<String>,
}

/// What a presented token turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// A live link.
    Valid(RenewalToken),
    /// A link we issued that has expired.
    Expired,
    /// Not a link we issued.
    Unknown,
}

/// Issues a renewal link for `(account, service)`; returns the plaintext token, which exists
/// only in the email that carries it. `job`: the outbox job that will mail it; a link an
/// earlier attempt of the same job issued expires now (a retried send leaves one live link).
pub fn issue(
    c: &mut DbConn,
    account_id: &str,
    slug: &str,
    period_end: i64,
    expires_at: i64,
    job: Option<&str>,
    now: i64,
) -> QueryResult<String> {
    if let Some(job) = job {
        diesel::update(
            renewal_tokens::table.filter(renewal_tokens::outbox_id.eq(job)).filter(renewal_tokens::expires_at.gt(now)),
        )
        .set(renewal_tokens::expires_at.eq(now))
        .execute(c)?;
    }
    let token = random_token();
    diesel::insert_into(renewal_tokens::table)
        .values(RenewalToken {
            token_hash: token_hash(&token),
            account_id: account_id.to_string(),
            service_slug: slug.to_string(),
            period_end,
            expires_at,
            created_at: now,
            outbox_id: job.map(str::to_string),
        })
        .execute(c)?;
    Ok(token)
}

/// Looks a presented token up (by its hash; the plaintext is never compared).
pub fn lookup(c: &mut DbConn, token: &str, now: i64) -> QueryResult<Lookup> {
    if token.is_empty() || token.len() > 128 {
        return Ok(Lookup::Unknown);
    }
    let found: Option<RenewalToken> = renewal_tokens::table.find(token_hash(token)).first(c).optional()?;
    Ok(match found {
        None => Lookup::Unknown,
        Some(t) if now >= t.expires_at => Lookup::Expired,
        Some(t) => Lookup::Valid(t),
    })
}

/// The language of the account a link (valid or expired) belongs to, for its page.
pub fn locale_of_link(c: &mut DbConn, token: &str) -> QueryResult<Option<String>> {
    if token.is_empty() || token.len() > 128 {
        return Ok(None);
    }
    renewal_tokens::table
        .inner_join(crate::db::schema::accounts::table)
        .filter(renewal_tokens::token_hash.eq(token_hash(token)))
        .select(crate::db::schema::accounts::locale)
        .first(c)
        .optional()
}

/// The link as it appears in an email.
pub fn url(public_url: &str, token: &str) -> String {
    format!("{}/renew/{token}", public_url.trim_end_matches('/'))
}

/// Deletes links that expired before `before` (housekeeping); returns how many.
pub fn purge_expired(c: &mut DbConn, before: i64) -> QueryResult<usize> {
    diesel::delete(renewal_tokens::table.filter(renewal_tokens::expires_at.lt(before))).execute(c)
}

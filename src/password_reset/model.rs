//! Reset links live in `email_tokens` with their own purpose (only the SHA-256 of the token).

use diesel::prelude::*;

use crate::db::schema::email_tokens;
use crate::db::DbConn;

/// `email_tokens.purpose` of a password-reset link.
pub const PASSWORD_RESET: &str = "password_reset";

/// How long a reset link works.
pub const LINK_TTL_SECS: i64 = 3600;

/// Ends the account's unused reset links because a newer email carries a fresh one (they then
/// answer `token_replaced`); the account's verification link is left alone.
pub fn replace_links(conn: &mut DbConn, account_id: &str, now: i64) -> QueryResult<usize> {
    end_unused(conn, account_id, now, Some(now))
}

/// Ends the account's unused reset links because its password changed or every sign-in ended
/// (they then answer `token_expired`); the verification link is left alone.
pub fn end_links(conn: &mut DbConn, account_id: &str, now: i64) -> QueryResult<usize> {
    end_unused(conn, account_id, now, None)
}

fn end_unused(conn: &mut DbConn, account_id: &str, now: i64, replaced_at: Option<i64>) -> QueryResult<usize> {
    diesel::update(
        email_tokens::table
            .filter(email_tokens::account_id.eq(account_id))
            .filter(email_tokens::purpose.eq(PASSWORD_RESET))
            .filter(email_tokens::used_at.is_null())
            .filter(email_tokens::expires_at.gt(now)),
    )
    .set((email_tokens::expires_at.eq(now), email_tokens::replaced_at.eq(replaced_at)))
    .execute(conn)
}

/// Spends a reset link in ONE statement that also requires it unspent, not replaced and not
/// expired: of two concurrent confirmations exactly one gets `true`.
pub fn spend_link(conn: &mut DbConn, hash: &str, now: i64) -> QueryResult<bool> {
    let n = diesel::update(
        email_tokens::table
            .find(hash)
            .filter(email_tokens::purpose.eq(PASSWORD_RESET))
            .filter(email_tokens::used_at.is_null())
            .filter(email_tokens::replaced_at.is_null())
            .filter(email_tokens::expires_at.gt(now)),
    )
    .set(email_tokens::used_at.eq(now))
    .execute(conn)?;
    Ok(n == 1)
}

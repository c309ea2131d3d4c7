//! `accounts`, `access_grants`, `email_tokens` and `throttles`.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use crate::db::schema::{access_grants, accounts, email_tokens, services};
use crate::db::DbConn;

crate::text_enum! {
    /// A customer account's state (`accounts.status`).
    pub enum AccountStatus("account status") {
        PendingVerification = "pending_verification",
        Active = "active",
        Suspended = "suspended",
        /// Final: an administrator ended the account; it can never log in again.
        Revoked = "revoked",
    }
}

pub const PENDING_VERIFICATION: AccountStatus = AccountStatus::PendingVerification;
pub const ACTIVE: AccountStatus = AccountStatus::Active;
pub const SUSPENDED: AccountStatus = AccountStatus::Suspended;
/// Final: an administrator ended the account; it can never log in again.
pub const REVOKED: AccountStatus = AccountStatus::Revoked;
pub const VERIFY_EMAIL: &str = "verify_email";

crate::text_id! {
    /// An account's id (`acc_…`).
    pub struct AccountId("account id");
}

/// A customer account.
#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = accounts)]
pub struct Account {
    pub id: AccountId,
    pub login: String,
    pub email: String,
    pub name: String,
    pub status: AccountStatus,
    pub password_hash: Option<String>,
    pub must_change_password: bool,
    pub temp_password_expires_at: Option<i64>,
    pub email_verified_at: Option<i64>,
    pub failed_logins: i32,
    pub failed_window_start: i64,
    pub created_at: i64,
    pub updated_at: i64,
    /// Whether renewal reminders are sent (the customer can turn them off in the cabinet).
    pub renewal_reminders: bool,
    /// The language of the customer's emails and cabinet: `en`, `ru`, `pl` or `sr`.
    pub locale: String,
}

/// A stored link token (only its hash).
#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = email_tokens)]
pub struct EmailToken {
    pub token_hash: String,
    pub account_id: String,
    pub purpose: String,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    pub created_at: i64,
    /// When a newer email's link replaced this one (its page says so, not "expired").
    pub replaced_at: Option<i64>,
}

pub fn insert(conn: &mut DbConn, a: &Account) -> QueryResult<usize> {
    diesel::insert_into(accounts::table).values(a).execute(conn)
}

pub fn find_by_id(conn: &mut DbConn, id: &str) -> QueryResult<Option<Account>> {
    accounts::table.find(id).first(conn).optional()
}

pub fn find_by_login(conn: &mut DbConn, login: &str) -> QueryResult<Option<Account>> {
    accounts::table.filter(accounts::login.eq(login)).first(conn).optional()
}

pub fn find_by_email(conn: &mut DbConn, email: &str) -> QueryResult<Option<Account>> {
    accounts::table.filter(accounts::email.eq(email)).first(conn).optional()
}

/// [`find_by_email`] holding the account's row lock for the rest of the transaction
/// (PostgreSQL; SQLite writers are already serialised): a suspension or revocation waits for
/// the transaction, or the transaction sees it.
pub fn find_by_email_locked(conn: &mut DbConn, email: &str) -> QueryResult<Option<Account>> {
    crate::with_row_locks!(conn,
        c => accounts::table.filter(accounts::email.eq(email)).for_update().first(c).optional(),
        other => find_by_email(other, email))
}

/// [`find_by_id`] holding the account's row lock for the rest of the transaction (PostgreSQL).
pub fn find_by_id_locked(conn: &mut DbConn, id: &str) -> QueryResult<Option<Account>> {
    crate::with_row_locks!(conn, c => accounts::table.find(id).for_update().first(c).optional(), other => find_by_id(other, id))
}

/// Stores a new temporary password hash, only while the account's status is `status` (a
/// suspension, revocation or erasure meanwhile wins); returns the rows changed.
pub fn set_temporary_password(
    conn: &mut DbConn,
    id: &str,
    status: AccountStatus,
    hash: &str,
    expires_at: i64,
    now: i64,
) -> QueryResult<usize> {
    diesel::update(accounts::table.find(id).filter(accounts::status.eq(status)))
        .set((
            accounts::password_hash.eq(hash),
            accounts::must_change_password.eq(true),
            accounts::temp_password_expires_at.eq(expires_at),
            accounts::updated_at.eq(now),
        ))
        .execute(conn)
}

/// Turns the account's renewal reminders on or off.
pub fn set_renewal_reminders(conn: &mut DbConn, id: &str, on: bool, now: i64) -> QueryResult<usize> {
    diesel::update(accounts::table.find(id))
        .set((accounts::renewal_reminders.eq(on), accounts::updated_at.eq(now)))
        .execute(conn)
}

/// Sets the language of the account's emails and cabinet.
pub fn set_locale(conn: &mut DbConn, id: &str, locale: crate::i18n::Locale, now: i64) -> QueryResult<usize> {
    diesel::update(accounts::table.find(id))
        .set((accounts::locale.eq(locale.code()), accounts::updated_at.eq(now)))
        .execute(conn)
}

/// Stores the customer's own password; the temporary one is gone with it.
pub fn set_password(conn: &mut DbConn, id: &str, hash: &str, now: i64) -> QueryResult<usize> {
    diesel::update(accounts::table.find(id))
        .set((
            accounts::password_hash.eq(hash),
            accounts::must_change_password.eq(false),
            accounts::temp_password_expires_at.eq(None::<i64>),
            accounts::updated_at.eq(now),
        ))
        .execute(conn)
}

/// Stores the customer's own password only while `old` is still the account's hash (a
/// password changed meanwhile wins); returns the rows changed.
pub fn set_password_from(conn: &mut DbConn, id: &str, old: &str, hash: &str, now: i64) -> QueryResult<usize> {
    diesel::update(accounts::table.find(id).filter(accounts::password_hash.eq(old)))
        .set((
            accounts::password_hash.eq(hash),
            accounts::must_change_password.eq(false),
            accounts::temp_password_expires_at.eq(None::<i64>),
            accounts::updated_at.eq(now),
        ))
        .execute(conn)
}

/// Replaces the hash only (rehash on login with stronger parameters), and only while `old` is
/// still the stored hash: a password changed meanwhile is never overwritten.
pub fn replace_hash(conn: &mut DbConn, id: &str, old: &str, hash: &str) -> QueryResult<usize> {
    diesel::update(accounts::table.find(id).filter(accounts::password_hash.eq(old)))
        .set(accounts::password_hash.eq(hash))
        .execute(conn)
}

/// Moves the account to `to` if its status is one of `from`; true when it moved.
pub fn set_status(
    conn: &mut DbConn,
    id: &str,
    from: &[AccountStatus],
    to: AccountStatus,
    now: i64,
) -> QueryResult<bool> {
    let n = diesel::update(accounts::table.find(id).filter(accounts::status.eq_any(from)))
        .set((accounts::status.eq(to), accounts::updated_at.eq(now)))
        .execute(conn)?;
    Ok(n == 1)
}

/// Forgets the password hash (a revoked account keeps no way in).
pub fn clear_password(conn: &mut DbConn, id: &str, now: i64) -> QueryResult<usize> {
    diesel::update(accounts::table.find(id))
        .set((accounts::password_hash.eq(None::<String>), accounts::updated_at.eq(now)))
        .execute(conn)
}

/// Accounts whose email or login contains `q` (lower-cased), newest first; all when `q` is `None`.
pub fn search(conn: &mut DbConn, q: Option<&str>, limit: i64) -> QueryResult<Vec<Account>> {
    let mut query = accounts::table.into_boxed();
    if let Some(q) = q {
        let escaped: String = q
            .to_lowercase()
            .chars()
            .flat_map(|c| if matches!(c, '%' | '_' | '\\') { vec!['\\', c] } else { vec![c] })
            .collect();
        let pattern = format!("%{escaped}%");
        query = query
            .filter(accounts::email.like(pattern.clone()).escape('\\').or(accounts::login.like(pattern).escape('\\')));
    }
    query.order((accounts::created_at.desc(), accounts::id.desc())).limit(limit).load(conn)
}

/// `pending_verification` → `active`.
pub fn activate(conn: &mut DbConn, id: &str, now: i64) -> QueryResult<usize> {
    diesel::update(accounts::table.find(id).filter(accounts::status.eq(PENDING_VERIFICATION)))
        .set((accounts::status.eq(ACTIVE), accounts::email_verified_at.eq(now), accounts::updated_at.eq(now)))
        .execute(conn)
}

/// Sets the failed-login counter (window start and count).
pub fn set_failed_logins(conn: &mut DbConn, id: &str, count: i32, window_start: i64) -> QueryResult<usize> {
    diesel::update(accounts::table.find(id))
        .set((accounts::failed_logins.eq(count), accounts::failed_window_start.eq(window_start)))
        .execute(conn)
}

/// Counts one failed login within the hour window, atomically (concurrent failures on
/// several instances all count); returns the new count.
pub fn record_failed_login(conn: &mut DbConn, account_id: &str, now: i64) -> QueryResult<i32> {
    diesel::update(accounts::table.find(account_id).filter(accounts::failed_window_start.le(now - 3600)))
        .set((accounts::failed_logins.eq(0), accounts::failed_window_start.eq(now)))
        .execute(conn)?;
    diesel::update(accounts::table.find(account_id))
        .set(accounts::failed_logins.eq(accounts::failed_logins + 1))
        .execute(conn)?;
    accounts::table.find(account_id).select(accounts::failed_logins).first(conn)
}

pub fn insert_token(conn: &mut DbConn, t: &EmailToken) -> QueryResult<usize> {
    diesel::insert_into(email_tokens::table).values(t).execute(conn)
}

/// The language of the account a link (verification or password reset) belongs to.
pub fn locale_of_token(conn: &mut DbConn, hash: &str) -> QueryResult<Option<String>> {
    email_tokens::table
        .inner_join(accounts::table.on(accounts::id.eq(email_tokens::account_id)))
        .filter(email_tokens::token_hash.eq(hash))
        .select(accounts::locale)
        .first(conn)
        .optional()
}

pub fn find_token(conn: &mut DbConn, hash: &str) -> QueryResult<Option<EmailToken>> {
    email_tokens::table.find(hash).first(conn).optional()
}

/// Consumes a token once: true only for the caller that consumed it.
pub fn consume_token(conn: &mut DbConn, hash: &str, now: i64) -> QueryResult<bool> {
    let n = diesel::update(email_tokens::table.find(hash).filter(email_tokens::used_at.is_null()))
        .set(email_tokens::used_at.eq(now))
        .execute(conn)?;
    Ok(n == 1)
}

/// Ends every unused token of an account (a fresh one replaces them).
pub fn expire_tokens(conn: &mut DbConn, account_id: &str, now: i64) -> QueryResult<usize> {
    end_tokens(conn, account_id, now, None)
}

/// Ends every unused token of an account because a newer email carries a fresh one: the
/// older links then answer `token_replaced` rather than `token_expired`.
pub fn replace_tokens(conn: &mut DbConn, account_id: &str, now: i64) -> QueryResult<usize> {
    end_tokens(conn, account_id, now, Some(now))
}

fn end_tokens(conn: &mut DbConn, account_id: &str, now: i64, replaced_at: Option<i64>) -> QueryResult<usize> {
    diesel::update(
        email_tokens::table
            .filter(email_tokens::account_id.eq(account_id))
            .filter(email_tokens::used_at.is_null())
            .filter(email_tokens::expires_at.gt(now)),
    )
    .set((email_tokens::expires_at.eq(now), email_tokens::replaced_at.eq(replaced_at)))
    .execute(conn)
}

/// Extends (or starts) access to a service by `days` in ONE statement, so concurrent paid
/// orders for the same service each add their period (no lost update); returns the new end.
pub fn extend_access(conn: &mut DbConn, account_id: &str, slug: &str, days: i32, now: i64) -> QueryResult<i64> {
    let add = i64::from(days) * 86_400;
    let (sqlite, pg) = (
        "INSERT INTO access_grants (account_id, service_slug, active_until, updated_at) VALUES (?1, ?2, ?3 + ?4, ?3) \
         ON CONFLICT (account_id, service_slug) DO UPDATE \
         SET active_until = MAX(access_grants.active_until, ?3) + ?4, updated_at = ?3, taken_back_at = NULL RETURNING active_until AS value",
        "INSERT INTO access_grants (account_id, service_slug, active_until, updated_at) VALUES ($1, $2, $3 + $4, $3) \
         ON CONFLICT (account_id, service_slug) DO UPDATE \
         SET active_until = GREATEST(access_grants.active_until, $3) + $4, updated_at = $3, taken_back_at = NULL RETURNING active_until AS value",
    );
    let row: BigValue = match conn {
        DbConn::Sqlite(c) => diesel::sql_query(sqlite)
            .bind::<Text, _>(account_id)
            .bind::<Text, _>(slug)
            .bind::<BigInt, _>(now)
            .bind::<BigInt, _>(add)
            .get_result(c)?,
        DbConn::Pg(c) => diesel::sql_query(pg)
            .bind::<Text, _>(account_id)
            .bind::<Text, _>(slug)
            .bind::<BigInt, _>(now)
            .bind::<BigInt, _>(add)
            .get_result(c)?,
        // ON DUPLICATE KEY UPDATE names the existing row's columns bare; one `?` per use. The
        // upsert holds the row's lock to the end of the transaction, so the read after it sees
        // this payment's end (MariaDB gives a prepared INSERT … RETURNING no result metadata).
        #[cfg(feature = "mysql")]
        DbConn::Mysql(c) => {
            diesel::sql_query(
                "INSERT INTO access_grants (account_id, service_slug, active_until, updated_at) VALUES (?, ?, ? + ?, ?) \
                 ON DUPLICATE KEY UPDATE active_until = GREATEST(active_until, ?) + ?, updated_at = ?, taken_back_at = NULL",
            )
            .bind::<Text, _>(account_id)
            .bind::<Text, _>(slug)
            .bind::<BigInt, _>(now)
            .bind::<BigInt, _>(add)
            .bind::<BigInt, _>(now)
            .bind::<BigInt, _>(now)
            .bind::<BigInt, _>(add)
            .bind::<BigInt, _>(now)
            .execute(c)?;
            diesel::sql_query(
                "SELECT active_until AS value FROM access_grants WHERE account_id = ? AND service_slug = ? FOR UPDATE",
            )
            .bind::<Text, _>(account_id)
            .bind::<Text, _>(slug)
            .get_result(c)?
        }
    };
    Ok(row.value)
}

#[derive(QueryableByName)]
struct BigValue {
    #[diesel(sql_type = BigInt)]
    value: i64,
}

/// When the account's access to a service runs until, if it has one.
pub fn access_until(conn: &mut DbConn, account_id: &str, slug: &str) -> QueryResult<Option<i64>> {
    access_grants::table.find((account_id, slug)).select(access_grants::active_until).first(conn).optional()
}

/// Takes back `days` of access to a service (a refunded period); the grant may end in the past,
/// and then it is marked taken back: no grace days for it (a later payment clears the mark).
pub fn shorten_access(conn: &mut DbConn, account_id: &str, slug: &str, days: i32, now: i64) -> QueryResult<usize> {
    let n = diesel::update(access_grants::table.find((account_id, slug)))
        .set((
            access_grants::active_until.eq(access_grants::active_until - i64::from(days) * 86_400),
            access_grants::updated_at.eq(now),
        ))
        .execute(conn)?;
    diesel::update(access_grants::table.find((account_id, slug)).filter(access_grants::active_until.le(now)))
        .set(access_grants::taken_back_at.eq(now))
        .execute(conn)?;
    Ok(n)
}

/// `(slug, name, active_until)` of every service the account has.
pub fn access_of(conn: &mut DbConn, account_id: &str) -> QueryResult<Vec<(String, String, i64)>> {
    access_grants::table
        .inner_join(services::table)
        .filter(access_grants::account_id.eq(account_id))
        .select((services::slug, services::name, access_grants::active_until))
        .order(services::slug.asc())
        .load(conn)
}

/// Counts one use of `key` in a window of `window_secs`, atomically (one upsert: concurrent
/// first uses on several instances neither fail nor lose a count); returns the count so far.
pub fn bump(conn: &mut DbConn, key: &str, window_secs: i64, now: i64) -> QueryResult<i64> {
    let (sqlite, pg) = (
        "INSERT INTO throttles (key, window_start, count) VALUES (?1, ?2, 1) ON CONFLICT (key) DO UPDATE SET \
         count = CASE WHEN throttles.window_start <= ?2 - ?3 THEN 1 ELSE throttles.count + 1 END, \
         window_start = CASE WHEN throttles.window_start <= ?2 - ?3 THEN ?2 ELSE throttles.window_start END \
         RETURNING CAST(count AS BIGINT) AS value",
        "INSERT INTO throttles (key, window_start, count) VALUES ($1, $2, 1) ON CONFLICT (key) DO UPDATE SET \
         count = CASE WHEN throttles.window_start <= $2 - $3 THEN 1 ELSE throttles.count + 1 END, \
         window_start = CASE WHEN throttles.window_start <= $2 - $3 THEN $2 ELSE throttles.window_start END \
         RETURNING CAST(count AS BIGINT) AS value",
    );
    let row: BigValue = match conn {
        DbConn::Sqlite(c) => diesel::sql_query(sqlite)
            .bind::<Text, _>(key)
            .bind::<BigInt, _>(now)
            .bind::<BigInt, _>(window_secs)
            .get_result(c)?,
        DbConn::Pg(c) => diesel::sql_query(pg)
            .bind::<Text, _>(key)
            .bind::<BigInt, _>(now)
            .bind::<BigInt, _>(window_secs)
            .get_result(c)?,
        // Assignments run left to right and see the columns already set: `count` first. Read
        // back under the upsert's row lock (no RETURNING through a prepared statement).
        #[cfg(feature = "mysql")]
        DbConn::Mysql(c) => {
            diesel::sql_query(
                "INSERT INTO throttles (`key`, window_start, count) VALUES (?, ?, 1) ON DUPLICATE KEY UPDATE \
                 count = CASE WHEN window_start <= ? - ? THEN 1 ELSE count + 1 END, \
                 window_start = CASE WHEN window_start <= ? - ? THEN ? ELSE window_start END",
            )
            .bind::<Text, _>(key)
            .bind::<BigInt, _>(now)
            .bind::<BigInt, _>(now)
            .bind::<BigInt, _>(window_secs)
            .bind::<BigInt, _>(now)
            .bind::<BigInt, _>(window_secs)
            .bind::<BigInt, _>(now)
            .execute(c)?;
            diesel::sql_query("SELECT CAST(count AS SIGNED) AS value FROM throttles WHERE `key` = ? FOR UPDATE")
                .bind::<Text, _>(key)
                .get_result(c)?
        }
    };
    Ok(row.value)
}

/// Counts one use of `key`; false once more than `limit` uses were made in the window.
pub fn throttle(conn: &mut DbConn, key: &str, limit: i64, window_secs: i64, now: i64) -> QueryResult<bool> {
    Ok(bump(conn, key, window_secs, now)? <= limit)
}

//! `admins`, `admin_sessions` and `admin_settings`.

use diesel::prelude::*;

use crate::db::schema::{admin_sessions, admin_settings, admins, throttles};
use crate::db::DbConn;

crate::text_enum! {
    /// Whether an administrator may sign in (`admins.status`).
    pub enum AdminStatus("admin status") {
        Active = "active",
        Disabled = "disabled",
    }
}

pub const ACTIVE: AdminStatus = AdminStatus::Active;
pub const DISABLED: AdminStatus = AdminStatus::Disabled;
/// `admin_settings` key: "true" when every admin must use TOTP.
pub const REQUIRE_TOTP: &str = "require_totp";

/// An administrator.
#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = admins)]
pub struct Admin {
    pub id: String,
    pub username: String,
    pub role: String,
    pub password_hash: String,
    pub status: AdminStatus,
    /// Base32 secret once enrolment is confirmed.
    pub totp_secret: Option<String>,
    /// Base32 secret handed out, waiting for a confirmation code.
    pub totp_pending_secret: Option<String>,
    /// The last TOTP step accepted (a code is good once).
    pub totp_last_step: i64,
    pub failed_logins: i32,
    pub failed_window_start: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A live admin session (only the SHA-256 of its token).
#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = admin_sessions)]
pub struct AdminSession {
    pub id_hash: String,
    pub admin_id: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub absolute_expires_at: i64,
    /// Last time the admin proved their password (login or re-authentication).
    pub reauth_at: i64,
}

pub fn insert(conn: &mut DbConn, a: &Admin) -> QueryResult<usize> {
    diesel::insert_into(admins::table).values(a).execute(conn)
}

pub fn find_by_id(conn: &mut DbConn, id: &str) -> QueryResult<Option<Admin>> {
    admins::table.find(id).first(conn).optional()
}

pub fn find_by_username(conn: &mut DbConn, username: &str) -> QueryResult<Option<Admin>> {
    admins::table.filter(admins::username.eq(username)).first(conn).optional()
}

/// `(window_start, failures)` counted for a username that names no admin (`key` hides it).
pub fn unknown_failures(conn: &mut DbConn, key: &str) -> QueryResult<Option<(i64, i32)>> {
    throttles::table.find(key).select((throttles::window_start, throttles::count)).first(conn).optional()
}

/// Counts one failed login in the hour window, atomically; returns the new count.
pub fn record_failed_login(conn: &mut DbConn, id: &str, now: i64) -> QueryResult<i32> {
    diesel::update(admins::table.find(id).filter(admins::failed_window_start.le(now - 3600)))
        .set((admins::failed_logins.eq(0), admins::failed_window_start.eq(now)))
        .execute(conn)?;
    diesel::update(admins::table.find(id)).set(admins::failed_logins.eq(admins::failed_logins + 1)).execute(conn)?;
    admins::table.find(id).select(admins::failed_logins).first(conn)
}

pub fn reset_failed_logins(conn: &mut DbConn, id: &str) -> QueryResult<usize> {
    diesel::update(admins::table.find(id))
        .set((admins::failed_logins.eq(0), admins::failed_window_start.eq(0)))
        .execute(conn)
}

pub fn replace_hash(conn: &mut DbConn, id: &str, hash: &str) -> QueryResult<usize> {
    diesel::update(admins::table.find(id)).set(admins::password_hash.eq(hash)).execute(conn)
}

/// Marks a TOTP step as used; true only for the one caller that moved it forward (replay
/// and concurrent use of one code both lose).
pub fn consume_totp_step(conn: &mut DbConn, id: &str, step: i64) -> QueryResult<bool> {
    let n = diesel::update(admins::table.find(id).filter(admins::totp_last_step.lt(step)))
        .set(admins::totp_last_step.eq(step))
        .execute(conn)?;
    Ok(n == 1)
}

pub fn set_pending_totp(conn: &mut DbConn, id: &str, secret: &str, now: i64) -> QueryResult<usize> {
    diesel::update(admins::table.find(id))
        .set((admins::totp_pending_secret.eq(secret), admins::updated_at.eq(now)))
        .execute(conn)
}

/// Pending secret → active secret, with the confirming step already used.
pub fn enable_totp(conn: &mut DbConn, id: &str, secret: &str, step: i64, now: i64) -> QueryResult<usize> {
    diesel::update(admins::table.find(id).filter(admins::totp_pending_secret.eq(secret)))
        .set((
            admins::totp_secret.eq(secret),
            admins::totp_pending_secret.eq(None::<String>),
            admins::totp_last_step.eq(step),
            admins::updated_at.eq(now),
        ))
        .execute(conn)
}

/// Sets an admin's status; returns the rows changed.
pub fn set_status(conn: &mut DbConn, id: &str, status: AdminStatus, now: i64) -> QueryResult<usize> {
    diesel::update(admins::table.find(id)).set((admins::status.eq(status), admins::updated_at.eq(now))).execute(conn)
}

/// How many owners can still log in.
pub fn active_owners(conn: &mut DbConn) -> QueryResult<i64> {
    admins::table.filter(admins::role.eq("owner")).filter(admins::status.eq(ACTIVE)).count().get_result(conn)
}

/// Every administrator, by username.
pub fn list(conn: &mut DbConn) -> QueryResult<Vec<Admin>> {
    admins::table.order(admins::username.asc()).load(conn)
}

pub fn insert_session(conn: &mut DbConn, s: &AdminSession) -> QueryResult<usize> {
    diesel::insert_into(admin_sessions::table).values(s).execute(conn)
}

pub fn find_session(conn: &mut DbConn, id_hash: &str) -> QueryResult<Option<AdminSession>> {
    admin_sessions::table.find(id_hash).first(conn).optional()
}

pub fn touch_session(conn: &mut DbConn, id_hash: &str, now: i64) -> QueryResult<usize> {
    diesel::update(admin_sessions::table.find(id_hash)).set(admin_sessions::last_seen_at.eq(now)).execute(conn)
}

/// The session's admin just proved their password again.
pub fn mark_reauthenticated(conn: &mut DbConn, id_hash: &str, now: i64) -> QueryResult<usize> {
    diesel::update(admin_sessions::table.find(id_hash)).set(admin_sessions::reauth_at.eq(now)).execute(conn)
}

/// Ends every session of an admin (disabled).
pub fn delete_sessions_of(conn: &mut DbConn, admin_id: &str) -> QueryResult<usize> {
    diesel::delete(admin_sessions::table.filter(admin_sessions::admin_id.eq(admin_id))).execute(conn)
}

pub fn delete_session(conn: &mut DbConn, id_hash: &str) -> QueryResult<usize> {
    diesel::delete(admin_sessions::table.find(id_hash)).execute(conn)
}

/// Removes admin sessions past their absolute or idle limit.
pub fn delete_expired_sessions(conn: &mut DbConn, now: i64, idle_secs: i64) -> QueryResult<usize> {
    diesel::delete(
        admin_sessions::table
            .filter(admin_sessions::absolute_expires_at.le(now).or(admin_sessions::last_seen_at.le(now - idle_secs))),
    )
    .execute(conn)
}

pub fn setting(conn: &mut DbConn, key: &str) -> QueryResult<Option<String>> {
    admin_settings::table.find(key).select(admin_settings::value).first(conn).optional()
}

pub fn put_setting(conn: &mut DbConn, key: &str, value: &str) -> QueryResult<usize> {
    if setting(conn, key)?.is_some() {
        diesel::update(admin_settings::table.find(key)).set(admin_settings::value.eq(value)).execute(conn)
    } else {
        diesel::insert_into(admin_settings::table)
            .values((admin_settings::key.eq(key), admin_settings::value.eq(value)))
            .execute(conn)
    }
}

/// True when the owner requires TOTP of every admin.
pub fn totp_required_for_all(conn: &mut DbConn) -> QueryResult<bool> {
    Ok(setting(conn, REQUIRE_TOTP)?.as_deref() == Some("true"))
}

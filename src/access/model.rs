//! `api_keys`: server keys, stored only as the SHA-256 of the key.

use diesel::prelude::*;

use crate::db::schema::{admins, api_keys};
use crate::db::DbConn;

/// May read a customer's access (`GET /access`).
pub const SCOPE_READ: &str = "access:read";
/// May check a customer's login and password (`POST /access/check`).
pub const SCOPE_CHECK: &str = "access:check";
/// Every scope a key can hold.
pub const SCOPES: [&str; 2] = [SCOPE_READ, SCOPE_CHECK];

/// A stored key.
#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = api_keys)]
pub struct ApiKey {
    pub id: String,
    pub name: String,
    pub key_hash: String,
    /// The first characters of the key (`kt_` and four more), to tell keys apart in lists.
    pub key_prefix: String,
    /// Comma-separated scopes.
    pub scopes: String,
    /// The admin who created it; the key stops working when that admin is disabled.
    pub created_by: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

impl ApiKey {
    /// True when the key holds `scope`.
    pub fn allows(&self, scope: &str) -> bool {
        self.scopes.split(',').any(|s| s == scope)
    }
}

pub fn insert(conn: &mut DbConn, k: &ApiKey) -> QueryResult<usize> {
    diesel::insert_into(api_keys::table).values(k).execute(conn)
}

/// A live key by hash, with its creator's status: `(key, admin_status)`.
pub fn find_by_hash(conn: &mut DbConn, hash: &str) -> QueryResult<Option<(ApiKey, String, String)>> {
    api_keys::table
        .inner_join(admins::table)
        .filter(api_keys::key_hash.eq(hash))
        .select((api_keys::all_columns, admins::status, admins::role))
        .first(conn)
        .optional()
}

pub fn find_by_id(conn: &mut DbConn, id: &str) -> QueryResult<Option<ApiKey>> {
    api_keys::table.find(id).first(conn).optional()
}

/// Every key with its creator's username, newest first.
pub fn list(conn: &mut DbConn) -> QueryResult<Vec<(ApiKey, String)>> {
    api_keys::table
        .inner_join(admins::table)
        .select((api_keys::all_columns, admins::username))
        .order((api_keys::created_at.desc(), api_keys::id.desc()))
        .load(conn)
}

/// Revokes a live key; true when it was live.
pub fn revoke(conn: &mut DbConn, id: &str, now: i64) -> QueryResult<bool> {
    let n = diesel::update(api_keys::table.find(id).filter(api_keys::revoked_at.is_null()))
        .set(api_keys::revoked_at.eq(now))
        .execute(conn)?;
    Ok(n == 1)
}

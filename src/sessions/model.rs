//! The `sessions` table: only SHA-256 of the session token is stored.

use diesel::prelude::*;

use crate::db::schema::sessions;
use crate::db::DbConn;

/// A live session.
#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = sessions)]
pub struct Session {
    pub id_hash: String,
    pub account_id: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub absolute_expires_at: i64,
}

pub fn insert(conn: &mut DbConn, s: &Session) -> QueryResult<usize> {
    diesel::insert_into(sessions::table).values(s).execute(conn)
}

pub fn find(conn: &mut DbConn, id_hash: &str) -> QueryResult<Option<Session>> {
    sessions::table.find(id_hash).first(conn).optional()
}

pub fn touch(conn: &mut DbConn, id_hash: &str, now: i64) -> QueryResult<usize> {
    diesel::update(sessions::table.find(id_hash)).set(sessions::last_seen_at.eq(now)).execute(conn)
}

pub fn delete(conn: &mut DbConn, id_hash: &str) -> QueryResult<usize> {
    diesel::delete(sessions::table.find(id_hash)).execute(conn)
}

pub fn delete_all_for_account(conn: &mut DbConn, account_id: &str) -> QueryResult<usize> {
    diesel::delete(sessions::table.filter(sessions::account_id.eq(account_id))).execute(conn)
}

/// Removes sessions past their absolute or idle limit.
pub fn delete_expired(conn: &mut DbConn, now: i64, idle_secs: i64) -> QueryResult<usize> {
    diesel::delete(
        sessions::table.filter(sessions::absolute_expires_at.le(now).or(sessions::last_seen_at.le(now - idle_secs))),
    )
    .execute(conn)
}

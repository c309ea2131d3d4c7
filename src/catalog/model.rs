//! The `services` table.

use diesel::prelude::*;

use crate::db::schema::services;
use crate::db::DbConn;

/// A service in the catalog.
#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = services)]
pub struct Service {
    pub slug: String,
    pub name: String,
    pub price_minor: i64,
    pub currency: String,
    pub period_days: i32,
    pub active: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

pub fn list_active(conn: &mut DbConn) -> QueryResult<Vec<Service>> {
    services::table.filter(services::active.eq(true)).order(services::slug.asc()).load(conn)
}

pub fn find_by_slug(conn: &mut DbConn, slug: &str) -> QueryResult<Option<Service>> {
    services::table.find(slug).first(conn).optional()
}

pub fn count(conn: &mut DbConn) -> QueryResult<i64> {
    services::table.count().get_result(conn)
}

pub fn insert(conn: &mut DbConn, s: &Service) -> QueryResult<usize> {
    diesel::insert_into(services::table).values(s).execute(conn)
}

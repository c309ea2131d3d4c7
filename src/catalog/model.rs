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
    /// Days an access keeps opening the doors after `active_until` (DESIGN §7).
    pub grace_days: i32,
    /// Where the customer uses the service (shown in the cabinet).
    pub access_url: Option<String>,
    /// Days before `active_until` at which a renewal reminder goes out: a JSON array of
    /// distinct positive integers, largest first (DESIGN §7; default `[7,1]`).
    pub reminder_days: String,
}

/// Grace days of a new service.
pub const DEFAULT_GRACE_DAYS: i32 = 3;
/// Reminder days of a new service (stored as JSON text).
pub const DEFAULT_REMINDER_DAYS: &str = "[7,1]";

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

/// Every service, inactive ones included (admins).
pub fn list_all(conn: &mut DbConn) -> QueryResult<Vec<Service>> {
    services::table.order(services::slug.asc()).load(conn)
}

/// Stores every field of `s` but its slug and creation time.
pub fn update(conn: &mut DbConn, s: &Service) -> QueryResult<usize> {
    diesel::update(services::table.find(&s.slug))
        .set((
            services::name.eq(&s.name),
            services::price_minor.eq(s.price_minor),
            services::currency.eq(&s.currency),
            services::period_days.eq(s.period_days),
            services::active.eq(s.active),
            services::updated_at.eq(s.updated_at),
            services::grace_days.eq(s.grace_days),
            services::access_url.eq(&s.access_url),
        ))
        .execute(conn)
}

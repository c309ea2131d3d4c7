//! `gateway_subscriptions`: a subscription at a gateway, the account and service its charges
//! renew, and the terms agreed when it started.

use diesel::prelude::*;

use crate::db::schema::gateway_subscriptions as subs;
use crate::db::DbConn;
use crate::payments::gateways::GatewayId;

/// Charging at the gateway.
pub const ACTIVE: &str = "active";
/// Cancelled (or expired) at the gateway: no more charges; the access runs to its end.
pub const CANCELLED: &str = "cancelled";

/// A remembered subscription.
#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = subs)]
pub struct Subscription {
    pub gateway: GatewayId,
    /// The gateway's id (`sub_…`, `I-…`).
    pub subscription_id: String,
    /// The order its first charge paid.
    pub order_id: String,
    /// The account its charges renew (always set for the rows this code writes).
    pub account_id: Option<String>,
    pub service_slug: String,
    /// What each charge must be: the first order's amount and currency.
    pub amount_minor: i64,
    pub currency: String,
    /// Days of access each charge buys (the first order's period).
    pub period_days: i32,
    pub status: String,
    pub created_at: i64,
    pub cancelled_at: Option<i64>,
}

/// The subscription, holding its row lock for the rest of the transaction (PostgreSQL;
/// SQLite writers are already serialised): two charges of one subscription are applied one
/// after the other, so the second sees what the first wrote.
pub fn find_locked(conn: &mut DbConn, gateway: GatewayId, id: &str) -> QueryResult<Option<Subscription>> {
    let q = subs::table.filter(subs::gateway.eq(gateway)).filter(subs::subscription_id.eq(id));
    crate::with_row_locks!(conn, c => q.for_update().first(c).optional(), other => q.first(other).optional())
}

/// Remembers a subscription; false when it was already remembered (the row is left alone).
pub fn insert(conn: &mut DbConn, s: &Subscription) -> QueryResult<bool> {
    let q = diesel::insert_into(subs::table).values(s).on_conflict_do_nothing();
    let n = match conn {
        DbConn::Sqlite(c) => q.execute(c)?,
        DbConn::Pg(c) => q.execute(c)?,
        #[cfg(feature = "mysql")]
        DbConn::Mysql(c) => crate::db::unless_duplicate(diesel::insert_into(subs::table).values(s).execute(c))?,
    };
    Ok(n == 1)
}

/// Marks it cancelled at the gateway; false when it already was.
pub fn mark_cancelled(conn: &mut DbConn, gateway: GatewayId, id: &str, now: i64) -> QueryResult<bool> {
    let n = diesel::update(
        subs::table
            .filter(subs::gateway.eq(gateway))
            .filter(subs::subscription_id.eq(id))
            .filter(subs::status.ne(CANCELLED)),
    )
    .set((subs::status.eq(CANCELLED), subs::cancelled_at.eq(now)))
    .execute(conn)?;
    Ok(n == 1)
}

/// The subscriptions that renew an account's access (newest first), for admins and support.
pub fn for_account(conn: &mut DbConn, account_id: &str) -> QueryResult<Vec<Subscription>> {
    subs::table.filter(subs::account_id.eq(account_id)).order(subs::created_at.desc()).load(conn)
}

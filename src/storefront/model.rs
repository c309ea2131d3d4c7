//! The `form_refs` table: which order a site builder's form submission became.

use diesel::prelude::*;

use crate::db::schema::{form_refs, orders};
use crate::db::DbConn;
use crate::orders::model::Order;

/// The order a reference (`tilda:<tranid>` or `ref:<token>`) belongs to.
pub fn find_order(conn: &mut DbConn, reference: &str) -> QueryResult<Option<Order>> {
    form_refs::table
        .inner_join(orders::table)
        .filter(form_refs::ref_.eq(reference))
        .select(orders::all_columns)
        .first(conn)
        .optional()
}

/// Records that `reference` became `order_id`; a unique violation means it already did.
pub fn insert(conn: &mut DbConn, reference: &str, order_id: &str, now: i64) -> QueryResult<usize> {
    diesel::insert_into(form_refs::table)
        .values((form_refs::ref_.eq(reference), form_refs::order_id.eq(order_id), form_refs::created_at.eq(now)))
        .execute(conn)
}

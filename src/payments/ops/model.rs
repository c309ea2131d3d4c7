//! `payment_operations`: every capture, void and refund an admin started, with its outcome.

use diesel::prelude::*;

use crate::db::schema::payment_operations;
use crate::db::DbConn;

pub const PENDING: &str = "pending";
pub const SUCCEEDED: &str = "succeeded";
pub const FAILED: &str = "failed";

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = payment_operations)]
pub struct Operation {
    pub id: String,
    pub payment_id: String,
    pub kind: String,
    pub amount_minor: i64,
    pub status: String,
    pub gateway_reference: Option<String>,
    pub detail: String,
    pub actor: String,
    pub created_at: i64,
    pub updated_at: i64,
}

pub fn insert(conn: &mut DbConn, op: &Operation) -> QueryResult<usize> {
    diesel::insert_into(payment_operations::table).values(op).execute(conn)
}

pub fn finish(
    conn: &mut DbConn,
    id: &str,
    status: &str,
    reference: Option<&str>,
    detail: &str,
    now: i64,
) -> QueryResult<usize> {
    diesel::update(payment_operations::table.find(id))
        .set((
            payment_operations::status.eq(status),
            payment_operations::gateway_reference.eq(reference),
            payment_operations::detail.eq(detail),
            payment_operations::updated_at.eq(now),
        ))
        .execute(conn)
}

/// A pending operation older than this was cut off (the process stopped mid-call): it no longer
/// blocks a new attempt, which the gateway refuses if the first one did go through.
pub const ABANDONED_SECS: i64 = 120;

/// A capture or void of the payment still waiting for the gateway's answer.
pub fn capture_or_void_pending(conn: &mut DbConn, payment_id: &str, now: i64) -> QueryResult<bool> {
    let n: i64 = payment_operations::table
        .filter(payment_operations::payment_id.eq(payment_id))
        .filter(payment_operations::kind.eq_any(["capture", "cancel"]))
        .filter(payment_operations::status.eq(PENDING))
        .filter(payment_operations::created_at.gt(now - ABANDONED_SECS))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// The gateway's reference of the payment's successful capture, if we captured it.
pub fn capture_reference(conn: &mut DbConn, payment_id: &str) -> QueryResult<Option<String>> {
    Ok(payment_operations::table
        .filter(payment_operations::payment_id.eq(payment_id))
        .filter(payment_operations::kind.eq("capture"))
        .filter(payment_operations::status.eq(SUCCEEDED))
        .select(payment_operations::gateway_reference)
        .first::<Option<String>>(conn)
        .optional()?
        .flatten())
}

pub fn for_payment(conn: &mut DbConn, payment_id: &str) -> QueryResult<Vec<Operation>> {
    payment_operations::table
        .filter(payment_operations::payment_id.eq(payment_id))
        .order(payment_operations::created_at.asc())
        .load(conn)
}

//! `payment_operations`: every capture, void and refund an admin started, with its outcome.

use diesel::prelude::*;

use crate::db::schema::payment_operations;
use crate::db::DbConn;
use crate::payments::ops::OpKind;

crate::text_enum! {
    /// Where an admin's payment operation stands (`payment_operations.status`).
    pub enum OpStatus("payment operation status") {
        Pending = "pending",
        Succeeded = "succeeded",
        Failed = "failed",
        /// The gateway could not be asked or did not answer: the money may have moved. A refund
        /// keeps its reservation; a repeat with the same Idempotency-Key resumes the operation.
        Unknown = "unknown",
    }
}

pub const PENDING: OpStatus = OpStatus::Pending;
pub const SUCCEEDED: OpStatus = OpStatus::Succeeded;
pub const FAILED: OpStatus = OpStatus::Failed;
/// The gateway could not be asked or did not answer: the money may have moved. A refund keeps
/// its reservation; a repeat with the same Idempotency-Key resumes the operation.
pub const UNKNOWN: OpStatus = OpStatus::Unknown;

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = payment_operations)]
pub struct Operation {
    pub id: String,
    pub payment_id: String,
    pub kind: OpKind,
    pub amount_minor: i64,
    pub status: OpStatus,
    pub gateway_reference: Option<String>,
    pub detail: String,
    pub actor: String,
    /// The idempotency key the gateway was given (derived from the admin's Idempotency-Key).
    pub request_key: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

pub fn insert(conn: &mut DbConn, op: &Operation) -> QueryResult<usize> {
    diesel::insert_into(payment_operations::table).values(op).execute(conn)
}

pub fn finish(
    conn: &mut DbConn,
    id: &str,
    status: OpStatus,
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
        .filter(payment_operations::kind.eq_any([OpKind::Capture, OpKind::Cancel]))
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
        .filter(payment_operations::kind.eq(OpKind::Capture))
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

/// An earlier attempt of the same request (same idempotency key) whose outcome is unknown, or
/// that was cut off: resume it (its refund reservation is still held) instead of starting anew.
pub fn resumable(conn: &mut DbConn, payment_id: &str, request_key: &str, now: i64) -> QueryResult<Option<Operation>> {
    payment_operations::table
        .filter(payment_operations::payment_id.eq(payment_id))
        .filter(payment_operations::request_key.eq(request_key))
        .filter(
            payment_operations::status.eq(UNKNOWN).or(payment_operations::status
                .eq(PENDING)
                .and(payment_operations::created_at.le(now - ABANDONED_SECS))),
        )
        .first(conn)
        .optional()
}

/// Refunds of the payment that the gateway confirmed for us.
pub fn confirmed_refunds(conn: &mut DbConn, payment_id: &str) -> QueryResult<i64> {
    let amounts: Vec<i64> = payment_operations::table
        .filter(payment_operations::payment_id.eq(payment_id))
        .filter(payment_operations::kind.eq(OpKind::Refund))
        .filter(payment_operations::status.eq(SUCCEEDED))
        .select(payment_operations::amount_minor)
        .load(conn)?;
    Ok(amounts.iter().sum())
}

/// Re-arms a resumed operation.
pub fn restart(conn: &mut DbConn, id: &str, now: i64) -> QueryResult<usize> {
    diesel::update(payment_operations::table.find(id))
        .set((
            payment_operations::status.eq(PENDING),
            payment_operations::created_at.eq(now),
            payment_operations::updated_at.eq(now),
        ))
        .execute(conn)
}

/// Operations still `pending` long after any gateway call would have ended (the process stopped
/// mid-call) become `unknown`: visible to admins, a refund's reservation still held, and a
/// repeat with the same Idempotency-Key resumes them.
pub fn mark_abandoned(conn: &mut DbConn, now: i64) -> QueryResult<usize> {
    diesel::update(
        payment_operations::table
            .filter(payment_operations::status.eq(PENDING))
            .filter(payment_operations::created_at.lt(now - 5 * ABANDONED_SECS)),
    )
    .set((
        payment_operations::status.eq(UNKNOWN),
        payment_operations::detail.eq("no answer was recorded (the process stopped during the gateway call?)"),
        payment_operations::updated_at.eq(now),
    ))
    .execute(conn)
}

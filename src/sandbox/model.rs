//! The sandbox's own payment records (the part a real gateway keeps on its side).

use diesel::prelude::*;

use crate::db::schema::sandbox_payments;
use crate::db::DbConn;
use crate::payments::model::PaymentStatus;

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = sandbox_payments)]
pub struct SandboxPayment {
    pub id: String,
    pub order_id: String,
    pub amount_minor: i64,
    pub currency: String,
    /// Last four digits of the test card (never the number).
    pub card_last4: String,
    pub status: PaymentStatus,
    pub three_ds: Option<String>,
    pub created_at: i64,
    pub refunded_minor: i64,
}

pub fn insert(conn: &mut DbConn, p: &SandboxPayment) -> QueryResult<usize> {
    diesel::insert_into(sandbox_payments::table).values(p).execute(conn)
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<SandboxPayment>> {
    sandbox_payments::table.find(id).first(conn).optional()
}

/// Moves a payment out of `requires_action` once: true for the one caller that did.
pub fn finish_challenge(conn: &mut DbConn, id: &str, status: PaymentStatus, three_ds: &str) -> QueryResult<bool> {
    let n = diesel::update(
        sandbox_payments::table.find(id).filter(sandbox_payments::status.eq(PaymentStatus::RequiresAction)),
    )
    .set((sandbox_payments::status.eq(status), sandbox_payments::three_ds.eq(three_ds)))
    .execute(conn)?;
    Ok(n == 1)
}

/// The sandbox's side of an admin operation on one of its payments: capture or void an
/// authorisation, refund captured money. `Err(reason)` when the "gateway" declines.
pub fn operate(
    conn: &mut DbConn,
    id: &str,
    kind: crate::payments::ops::OpKind,
    amount: i64,
) -> QueryResult<Result<SandboxPayment, String>> {
    use crate::payments::ops::OpKind;
    let Some(p) = find(conn, id)? else { return Ok(Err("no such sandbox payment".into())) };
    use PaymentStatus::{Authorized, PartiallyRefunded, Succeeded};
    let (from, to, refunded): (&[PaymentStatus], PaymentStatus, i64) = match kind {
        OpKind::Capture => (&[Authorized], Succeeded, p.refunded_minor),
        OpKind::Cancel => (&[Authorized], PaymentStatus::Cancelled, p.refunded_minor),
        OpKind::Refund => {
            let total = p.refunded_minor + amount;
            if amount <= 0 || total > p.amount_minor {
                return Ok(Err(format!(
                    "refund of {amount} exceeds the {} left on the payment",
                    p.amount_minor - p.refunded_minor
                )));
            }
            let to = if total == p.amount_minor { PaymentStatus::Refunded } else { PartiallyRefunded };
            (&[Succeeded, PartiallyRefunded], to, total)
        }
    };
    let n = diesel::update(
        sandbox_payments::table
            .find(id)
            .filter(sandbox_payments::status.eq_any(from))
            .filter(sandbox_payments::refunded_minor.eq(p.refunded_minor)),
    )
    .set((sandbox_payments::status.eq(to), sandbox_payments::refunded_minor.eq(refunded)))
    .execute(conn)?;
    if n != 1 {
        return Ok(Err(format!("the payment is {}", p.status.as_str().replace('_', " "))));
    }
    Ok(Ok(SandboxPayment { status: to, refunded_minor: refunded, ..p }))
}

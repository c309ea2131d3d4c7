//! The sandbox's own payment records (the part a real gateway keeps on its side).

use diesel::prelude::*;

use crate::db::schema::sandbox_payments;
use crate::db::DbConn;

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = sandbox_payments)]
pub struct SandboxPayment {
    pub id: String,
    pub order_id: String,
    pub amount_minor: i64,
    pub currency: String,
    /// Last four digits of the test card (never the number).
    pub card_last4: String,
    pub status: String,
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
pub fn finish_challenge(conn: &mut DbConn, id: &str, status: &str, three_ds: &str) -> QueryResult<bool> {
    let n = diesel::update(sandbox_payments::table.find(id).filter(sandbox_payments::status.eq("requires_action")))
        .set((sandbox_payments::status.eq(status), sandbox_payments::three_ds.eq(three_ds)))
        .execute(conn)?;
    Ok(n == 1)
}

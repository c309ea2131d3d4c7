//! `payment_starts`: where each payment was started — the gateway and the gateway's own id for
//! what we created there — so the reconciliation sweep can ask that gateway about it when no
//! callback came. A row is claimed (its `checked_at` moved forward with a conditional update)
//! before it is asked about, so instances sharing a database do not ask twice at once.

use diesel::prelude::*;

use crate::db::schema::{orders, payment_starts};
use crate::db::DbConn;
use crate::orders::model::{EXPIRED, PENDING_PAYMENT};
use crate::payments::gateways::GatewayId;

/// One payment started at a gateway.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Insertable)]
#[diesel(table_name = payment_starts)]
pub struct PaymentStart {
    pub gateway: GatewayId,
    /// The gateway's id: Stripe checkout session, PayPal order, FreedomPay payment id,
    /// AllSecure transaction uuid, Square order id.
    pub reference: String,
    pub order_id: String,
    pub created_at: i64,
    /// When the sweep last asked about it (0: never).
    pub checked_at: i64,
}

/// True for a gateway id we store and later put into a status URL: 1 to 255 characters
/// of `A-Z a-z 0-9 _ - . :`.
pub fn is_reference(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 255
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':'))
}

/// Starts remembered per order: reloading `/pay/{order}/{gateway}` creates a new payment at
/// some gateways, and each is asked about; beyond this many, more are not recorded.
pub const MAX_PER_ORDER: i64 = 10;

/// Records a start unless its order already has [`MAX_PER_ORDER`]; false when it did. A unique
/// violation means the gateway handed out the same id again (an idempotent retry).
pub fn insert(conn: &mut DbConn, s: &PaymentStart) -> QueryResult<bool> {
    let recorded: i64 =
        payment_starts::table.filter(payment_starts::order_id.eq(&s.order_id)).count().get_result(conn)?;
    if recorded >= MAX_PER_ORDER {
        return Ok(false);
    }
    diesel::insert_into(payment_starts::table).values(s).execute(conn)?;
    Ok(true)
}

/// How long after expiry an order's starts are still asked about.
pub const EXPIRED_GRACE_SECS: i64 = 3 * 86_400;
/// How often an expired order's start is asked about during that grace.
pub const EXPIRED_EVERY_SECS: i64 = 4 * 3600;

/// Starts of still-unpaid orders that are due a question, at most `limit`, claimed for this
/// caller (`checked_at` set to `now`). First the orders past their expiry (the last question
/// before the sweep expires them), then starts older than `after` secs not asked about for
/// `after` secs, least recently asked first. Returns the rows as they were before the claim.
pub fn claim_due(conn: &mut DbConn, now: i64, after: i64, limit: i64) -> QueryResult<Vec<PaymentStart>> {
    let cutoff = now - after;
    let pending = payment_starts::table.inner_join(orders::table).filter(orders::status.eq(PENDING_PAYMENT));
    let mut due: Vec<PaymentStart> = pending
        .filter(orders::expires_at.lt(now))
        .order((orders::expires_at.asc(), payment_starts::created_at.asc()))
        .limit(limit)
        .select(payment_starts::all_columns)
        .load(conn)?;
    let room = limit - due.len() as i64;
    if room > 0 {
        due.extend(
            pending
                .filter(orders::expires_at.ge(now))
                .filter(payment_starts::created_at.le(cutoff))
                .filter(payment_starts::checked_at.le(cutoff))
                .order((payment_starts::checked_at.asc(), payment_starts::created_at.asc()))
                .limit(room)
                .select(payment_starts::all_columns)
                .load::<PaymentStart>(conn)?,
        );
    }
    // Orders that expired while their last question failed, or whose customer paid at the
    // last minute, are still asked about (less often) for a while: a late "paid" provisions.
    let room = limit - due.len() as i64;
    if room > 0 {
        due.extend(
            payment_starts::table
                .inner_join(orders::table)
                .filter(orders::status.eq(EXPIRED))
                .filter(orders::expires_at.ge(now - EXPIRED_GRACE_SECS))
                .filter(payment_starts::checked_at.le(now - EXPIRED_EVERY_SECS))
                .order(payment_starts::checked_at.asc())
                .limit(room)
                .select(payment_starts::all_columns)
                .load::<PaymentStart>(conn)?,
        );
    }
    let mut claimed = Vec::with_capacity(due.len());
    for s in due {
        // Another instance that claimed it first has moved `checked_at`: 0 rows here.
        let n = diesel::update(
            payment_starts::table
                .filter(payment_starts::gateway.eq(&s.gateway))
                .filter(payment_starts::reference.eq(&s.reference))
                .filter(payment_starts::checked_at.eq(s.checked_at)),
        )
        .set(payment_starts::checked_at.eq(now))
        .execute(conn)?;
        if n == 1 {
            claimed.push(s);
        }
    }
    Ok(claimed)
}

/// The order we started `reference` at `gateway` for (a PayPal subscription `I-…`).
pub fn order_of(conn: &mut DbConn, gateway: GatewayId, reference: &str) -> QueryResult<Option<String>> {
    payment_starts::table
        .filter(payment_starts::gateway.eq(gateway))
        .filter(payment_starts::reference.eq(reference))
        .select(payment_starts::order_id)
        .first(conn)
        .optional()
}

/// True when we started `reference` at `gateway` for `order_id`.
pub fn belongs_to(conn: &mut DbConn, gateway: &str, reference: &str, order_id: &str) -> QueryResult<bool> {
    let n: i64 = payment_starts::table
        .filter(payment_starts::gateway.eq(gateway))
        .filter(payment_starts::reference.eq(reference))
        .filter(payment_starts::order_id.eq(order_id))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// Sets when a start was last asked about (a failed question is set back so the next sweep
/// asks again).
pub fn set_checked(conn: &mut DbConn, gateway: GatewayId, reference: &str, at: i64) -> QueryResult<usize> {
    diesel::update(
        payment_starts::table
            .filter(payment_starts::gateway.eq(gateway))
            .filter(payment_starts::reference.eq(reference)),
    )
    .set(payment_starts::checked_at.eq(at))
    .execute(conn)
}

#[cfg(test)]
mod tests {
    use super::is_reference;

    #[test]
    fn references_are_url_safe_ids() {
        for ok in ["cs_test_a1B2c3", "PP1", "777", "d94c0d72-f3a3", "CAISEB.x:1"] {
            assert!(is_reference(ok), "{ok}");
        }
        for bad in ["", "a/b", "a?b", "a b", "a%2F", &"x".repeat(256)] {
            assert!(!is_reference(bad), "{bad}");
        }
    }
}

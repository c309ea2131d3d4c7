//! `payments` (one row per gateway payment) and `payment_events` (every verified callback,
//! unique per gateway event id: the dedupe record and the history admins read).

use diesel::prelude::*;

use crate::db::schema::{payment_events, payments};
use crate::db::DbConn;
use crate::orders::model::OrderId;
use crate::payments::gateways::GatewayId;

crate::text_enum! {
    /// A gateway payment's state (`payments.status`, and the sandbox's own `sandbox_payments.status`).
    pub enum PaymentStatus("payment status") {
        Pending = "pending",
        RequiresAction = "requires_action",
        Authorized = "authorized",
        Succeeded = "succeeded",
        Failed = "failed",
        Cancelled = "cancelled",
        PartiallyRefunded = "partially_refunded",
        Refunded = "refunded",
    }
}

crate::text_id! {
    /// A payment's id (`pay_…`).
    pub struct PaymentId("payment id");
}

/// A payment attempt at a gateway.
#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = payments)]
pub struct Payment {
    pub id: PaymentId,
    pub order_id: OrderId,
    pub gateway: GatewayId,
    pub gateway_payment_id: String,
    pub status: PaymentStatus,
    pub amount_minor: i64,
    pub currency: String,
    pub three_ds: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// Money taken (0 while only authorised).
    pub captured_minor: i64,
    /// Money given back by refunds started here (reserved before the gateway is asked).
    pub refunded_minor: i64,
}

/// A verified callback as recorded.
#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = payment_events)]
pub struct PaymentEvent {
    pub id: String,
    pub gateway: GatewayId,
    pub event_id: String,
    pub order_id: Option<String>,
    pub gateway_payment_id: Option<String>,
    pub kind: String,
    pub outcome: String,
    pub detail: String,
    pub amount_minor: Option<i64>,
    pub currency: Option<String>,
    pub received_at: i64,
}

/// Payment statuses ordered so that a status only ever moves up.
pub fn status_rank(status: PaymentStatus) -> u8 {
    match status {
        PaymentStatus::Pending => 0,
        PaymentStatus::RequiresAction => 1,
        PaymentStatus::Authorized => 2,
        PaymentStatus::Failed | PaymentStatus::Cancelled => 3,
        // A gateway may report success after a failed attempt of the same payment.
        PaymentStatus::Succeeded => 4,
        PaymentStatus::PartiallyRefunded => 5,
        PaymentStatus::Refunded => 6,
    }
}

/// Inserts the event; a unique violation means it was seen before.
pub fn insert_event(conn: &mut DbConn, e: &PaymentEvent) -> QueryResult<usize> {
    diesel::insert_into(payment_events::table).values(e).execute(conn)
}

/// The outcome recorded for the gateway's event `event_id`, if it was seen.
pub fn find_event_outcome(conn: &mut DbConn, gateway: GatewayId, event_id: &str) -> QueryResult<Option<String>> {
    payment_events::table
        .filter(payment_events::gateway.eq(gateway))
        .filter(payment_events::event_id.eq(event_id))
        .select(payment_events::outcome)
        .first(conn)
        .optional()
}

pub fn set_event_outcome(conn: &mut DbConn, id: &str, outcome: &str, detail: &str) -> QueryResult<usize> {
    diesel::update(payment_events::table.find(id))
        .set((payment_events::outcome.eq(outcome), payment_events::detail.eq(detail)))
        .execute(conn)
}

/// Files a recorded event under an order (a renewal's event under the renewal order it created).
pub fn set_event_order(conn: &mut DbConn, id: &str, order_id: &str) -> QueryResult<usize> {
    diesel::update(payment_events::table.find(id)).set(payment_events::order_id.eq(order_id)).execute(conn)
}

/// True when a payment of the order at `gateway` took the customer's money.
pub fn paid_through(conn: &mut DbConn, order_id: &str, gateway: GatewayId) -> QueryResult<bool> {
    let n: i64 = payments::table
        .filter(payments::order_id.eq(order_id))
        .filter(payments::gateway.eq(gateway))
        .filter(payments::captured_minor.gt(0))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

pub fn find_by_gateway_id(
    conn: &mut DbConn,
    gateway: GatewayId,
    gateway_payment_id: &str,
) -> QueryResult<Option<Payment>> {
    payments::table
        .filter(payments::gateway.eq(gateway))
        .filter(payments::gateway_payment_id.eq(gateway_payment_id))
        .first(conn)
        .optional()
}

/// [`find_by_gateway_id`] holding the payment's row lock for the rest of the transaction
/// (PostgreSQL; SQLite writers are already serialised): what is read is what gets updated.
pub fn find_by_gateway_id_locked(
    conn: &mut DbConn,
    gateway: GatewayId,
    gateway_payment_id: &str,
) -> QueryResult<Option<Payment>> {
    crate::with_row_locks!(conn,
        c => payments::table
            .filter(payments::gateway.eq(gateway))
            .filter(payments::gateway_payment_id.eq(gateway_payment_id))
            .for_update()
            .first(c)
            .optional(),
        other => find_by_gateway_id(other, gateway, gateway_payment_id))
}

pub fn insert(conn: &mut DbConn, p: &Payment) -> QueryResult<usize> {
    diesel::insert_into(payments::table).values(p).execute(conn)
}

/// Moves the payment to `status` only from a status of lower rank (the rank is in the SQL, so
/// whatever was read before, a payment never moves back); returns the rows changed.
pub fn update_status(
    conn: &mut DbConn,
    id: &str,
    status: PaymentStatus,
    three_ds: Option<&str>,
    now: i64,
) -> QueryResult<usize> {
    let lower: Vec<PaymentStatus> =
        PaymentStatus::ALL.iter().copied().filter(|s| status_rank(*s) < status_rank(status)).collect();
    diesel::update(payments::table.find(id).filter(payments::status.eq_any(lower)))
        .set((payments::status.eq(status), payments::three_ds.eq(three_ds), payments::updated_at.eq(now)))
        .execute(conn)
}

/// A success we refused and the gateway reverses (told `rejected`): the payment is `failed`
/// and holds no money, whatever it reached before.
pub fn mark_refused(conn: &mut DbConn, gateway: GatewayId, gateway_payment_id: &str, now: i64) -> QueryResult<usize> {
    diesel::update(
        payments::table
            .filter(payments::gateway.eq(gateway))
            .filter(payments::gateway_payment_id.eq(gateway_payment_id)),
    )
    .set((payments::status.eq(PaymentStatus::Failed), payments::captured_minor.eq(0), payments::updated_at.eq(now)))
    .execute(conn)
}

/// Records the money taken when a payment reaches `succeeded` (once).
pub fn set_captured(conn: &mut DbConn, id: &str, amount_minor: i64) -> QueryResult<usize> {
    diesel::update(payments::table.find(id).filter(payments::captured_minor.eq(0)))
        .set(payments::captured_minor.eq(amount_minor))
        .execute(conn)
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<Payment>> {
    payments::table.find(id).first(conn).optional()
}

/// Takes the payment's row lock for the rest of the transaction (PostgreSQL; SQLite writers
/// are already serialised).
pub fn lock(conn: &mut DbConn, id: &str) -> QueryResult<()> {
    crate::with_row_locks!(conn, c => payments::table.find(id).select(payments::id).for_update().load::<String>(c)?, _c => Vec::new());
    Ok(())
}

/// Reserves `amount` of the captured money for a refund; false when it would exceed it.
pub fn reserve_refund(conn: &mut DbConn, id: &str, amount: i64) -> QueryResult<bool> {
    let n = diesel::update(
        payments::table.find(id).filter((payments::refunded_minor + amount).le(payments::captured_minor)),
    )
    .set(payments::refunded_minor.eq(payments::refunded_minor + amount))
    .execute(conn)?;
    Ok(n == 1)
}

/// Gives back a reservation whose refund did not happen.
pub fn release_refund(conn: &mut DbConn, id: &str, amount: i64) -> QueryResult<usize> {
    diesel::update(payments::table.find(id))
        .set(payments::refunded_minor.eq(payments::refunded_minor - amount))
        .execute(conn)
}

/// Payments of an order that still hold (or have authorised) the customer's money.
pub fn holding_count(conn: &mut DbConn, order_id: &str) -> QueryResult<i64> {
    payments::table
        .filter(payments::order_id.eq(order_id))
        .filter(payments::status.eq_any([
            PaymentStatus::Succeeded,
            PaymentStatus::PartiallyRefunded,
            PaymentStatus::Authorized,
        ]))
        .count()
        .get_result(conn)
}

/// True when this payment's own event provisioned its order.
pub fn provisioned_by(conn: &mut DbConn, p: &Payment) -> QueryResult<bool> {
    let n: i64 = payment_events::table
        .filter(payment_events::gateway.eq(&p.gateway))
        .filter(payment_events::gateway_payment_id.eq(&p.gateway_payment_id))
        .filter(payment_events::outcome.eq("provisioned"))
        .count()
        .get_result(conn)?;
    Ok(n > 0)
}

/// A refund we did not start (the gateway's dashboard, a chargeback): the payment has given back
/// `refunded` in all (at most what was captured, as judged by the caller), so our own refunds
/// stay within what is left. Never lowers what was counted before.
pub fn note_outside_refund(conn: &mut DbConn, id: &str, refunded: i64) -> QueryResult<usize> {
    diesel::update(payments::table.find(id).filter(payments::refunded_minor.lt(refunded)))
        .set(payments::refunded_minor.eq(refunded))
        .execute(conn)
}

/// What the order's payments have given back so far (minor units).
pub fn refunded_for_order(conn: &mut DbConn, order_id: &str) -> QueryResult<i64> {
    let all: Vec<i64> =
        payments::table.filter(payments::order_id.eq(order_id)).select(payments::refunded_minor).load(conn)?;
    Ok(all.into_iter().sum())
}

/// Authorisations of the order waiting for an admin's capture or cancel.
pub fn authorized_count(conn: &mut DbConn, order_id: &str) -> QueryResult<i64> {
    payments::table
        .filter(payments::order_id.eq(order_id))
        .filter(payments::status.eq(PaymentStatus::Authorized))
        .count()
        .get_result(conn)
}

/// Payments of an order that still hold the customer's money.
pub fn paid_count(conn: &mut DbConn, order_id: &str) -> QueryResult<i64> {
    payments::table
        .filter(payments::order_id.eq(order_id))
        .filter(payments::status.eq_any([PaymentStatus::Succeeded, PaymentStatus::PartiallyRefunded]))
        .count()
        .get_result(conn)
}

pub fn events_for_order(conn: &mut DbConn, order_id: &str) -> QueryResult<Vec<PaymentEvent>> {
    payment_events::table
        .filter(payment_events::order_id.eq(order_id))
        .order(payment_events::received_at.asc())
        .load(conn)
}

/// Remembers that the gateway also names its payment `gateway_payment_id` as `alias`. True
/// when it was new; an existing link is left alone (see [`mark_alias_ambiguous`]).
pub fn insert_alias(
    conn: &mut DbConn,
    gateway: GatewayId,
    alias: &str,
    gateway_payment_id: &str,
    now: i64,
) -> QueryResult<bool> {
    use crate::db::schema::payment_aliases as a;
    let row = (
        a::gateway.eq(gateway),
        a::alias.eq(alias),
        a::gateway_payment_id.eq(gateway_payment_id),
        a::created_at.eq(now),
    );
    let n = match conn {
        DbConn::Sqlite(c) => diesel::insert_into(a::table).values(row).on_conflict_do_nothing().execute(c)?,
        DbConn::Pg(c) => diesel::insert_into(a::table).values(row).on_conflict_do_nothing().execute(c)?,
        #[cfg(feature = "mysql")]
        DbConn::Mysql(c) => crate::db::unless_duplicate(diesel::insert_into(a::table).values(row).execute(c))?,
    };
    Ok(n == 1)
}

/// What `alias` was linked to: a payment id, or `""` when it named several ([`mark_alias_ambiguous`]).
pub fn find_alias_link(conn: &mut DbConn, gateway: GatewayId, alias: &str) -> QueryResult<Option<String>> {
    use crate::db::schema::payment_aliases as a;
    a::table
        .filter(a::gateway.eq(gateway))
        .filter(a::alias.eq(alias))
        .select(a::gateway_payment_id)
        .first(conn)
        .optional()
}

/// The one gateway payment id that `alias` is another name for, if it was told so (an alias
/// that named several payments stands for none).
pub fn find_alias(conn: &mut DbConn, gateway: GatewayId, alias: &str) -> QueryResult<Option<String>> {
    Ok(find_alias_link(conn, gateway, alias)?.filter(|id| !id.is_empty()))
}

/// `alias` named a second payment: from now on it stands for none (`""`).
pub fn mark_alias_ambiguous(conn: &mut DbConn, gateway: GatewayId, alias: &str) -> QueryResult<usize> {
    use crate::db::schema::payment_aliases as a;
    diesel::update(a::table.filter(a::gateway.eq(gateway)).filter(a::alias.eq(alias)))
        .set(a::gateway_payment_id.eq(""))
        .execute(conn)
}

/// Events with `outcome` that named only the gateway's payment `gateway_payment_id` (no
/// order), oldest first.
pub fn unfiled_events_naming(
    conn: &mut DbConn,
    gateway: GatewayId,
    gateway_payment_id: &str,
    outcome: &str,
) -> QueryResult<Vec<PaymentEvent>> {
    payment_events::table
        .filter(payment_events::gateway.eq(gateway))
        .filter(payment_events::gateway_payment_id.eq(gateway_payment_id))
        .filter(payment_events::order_id.is_null())
        .filter(payment_events::outcome.eq(outcome))
        .order((payment_events::received_at.asc(), payment_events::id.asc()))
        .load(conn)
}

/// Locks the recorded event `id` for the rest of the transaction; true when it still names no
/// order and has `outcome` (another transaction did not apply it meanwhile).
pub fn lock_unfiled_event(conn: &mut DbConn, id: &str, outcome: &str) -> QueryResult<bool> {
    let q = payment_events::table
        .find(id)
        .filter(payment_events::order_id.is_null())
        .filter(payment_events::outcome.eq(outcome))
        .select(payment_events::id);
    let found: Option<String> = crate::with_row_locks!(conn,
        c => q.for_update().first(c).optional(),
        other => q.first(other).optional())?;
    Ok(found.is_some())
}

/// `(gateway, gateway payment id)` of recent events with `outcome` that named no order.
pub fn unfiled_payment_ids(
    conn: &mut DbConn,
    outcome: &str,
    since: i64,
) -> QueryResult<Vec<(GatewayId, Option<String>)>> {
    payment_events::table
        .filter(payment_events::order_id.is_null())
        .filter(payment_events::outcome.eq(outcome))
        .filter(payment_events::received_at.ge(since))
        .select((payment_events::gateway, payment_events::gateway_payment_id))
        .distinct()
        .load(conn)
}

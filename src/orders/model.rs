//! The `orders` table and its state transitions. Transitions are conditional updates, so
//! concurrent callers cannot both move an order (the loser sees 0 rows).

use diesel::prelude::*;

use crate::db::schema::orders;
use crate::db::DbConn;

crate::text_enum! {
    /// An order's state (`orders.status`; docs/architecture.md, State machines).
    #[oai(rename = "OrderState")]
    pub enum OrderStatus("order status") {
        PendingPayment = "pending_payment",
        Paid = "paid",
        Provisioned = "provisioned",
        /// Named in the API; no code sets it today.
        Failed = "failed",
        Expired = "expired",
        Cancelled = "cancelled",
        Refunded = "refunded",
    }
}

crate::text_id! {
    /// An order's id (`ord_…`, unguessable).
    pub struct OrderId("order id");
}

pub const PENDING_PAYMENT: OrderStatus = OrderStatus::PendingPayment;
pub const PAID: OrderStatus = OrderStatus::Paid;
pub const PROVISIONED: OrderStatus = OrderStatus::Provisioned;
pub const EXPIRED: OrderStatus = OrderStatus::Expired;
pub const REFUNDED: OrderStatus = OrderStatus::Refunded;
pub const CANCELLED: OrderStatus = OrderStatus::Cancelled;

/// An order.
#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = orders)]
pub struct Order {
    pub id: OrderId,
    /// The catalog service it buys; `None` for an invoice with a free description.
    pub service_slug: Option<String>,
    pub customer_name: String,
    pub email: String,
    pub phone: Option<String>,
    pub locale: String,
    pub amount_minor: i64,
    pub currency: String,
    pub status: OrderStatus,
    pub account_id: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub paid_at: Option<i64>,
    pub expires_at: i64,
    /// What the customer sees instead of the service's name (invoices).
    pub item_name: Option<String>,
    /// Days of access bought (snapshot at order time); `None`: the service's current period.
    pub period_days: Option<i32>,
    /// Why the order, though paid, was given to no account (`account_revoked`,
    /// `account_suspended`): held for an admin, who refunds it.
    pub hold_reason: Option<String>,
}

/// Who a new order is for.
pub struct Buyer {
    pub name: String,
    pub email: String,
    pub phone: Option<String>,
    pub locale: String,
    /// Set for a renewal: the account whose access the payment extends.
    pub account_id: Option<String>,
}

impl Order {
    /// A new `pending_payment` order for a catalog service at its current price and period,
    /// payable for `ttl` seconds.
    pub fn for_service(service: crate::catalog::model::Service, buyer: Buyer, now: i64, ttl: i64) -> Order {
        Order {
            id: crate::crypto::random_id("ord").into(),
            service_slug: Some(service.slug),
            customer_name: buyer.name,
            email: buyer.email,
            phone: buyer.phone,
            locale: buyer.locale,
            amount_minor: service.price_minor,
            currency: service.currency,
            status: PENDING_PAYMENT,
            account_id: buyer.account_id,
            created_at: now,
            updated_at: now,
            paid_at: None,
            expires_at: now + ttl,
            item_name: None,
            period_days: Some(service.period_days),
            hold_reason: None,
        }
    }
}

/// What the customer sees as the item: the invoice's description, else the service's name.
pub fn item_label(conn: &mut DbConn, o: &Order) -> QueryResult<String> {
    if let Some(name) = &o.item_name {
        return Ok(name.clone());
    }
    let Some(slug) = &o.service_slug else { return Ok(String::new()) };
    Ok(crate::catalog::model::find_by_slug(conn, slug)?.map(|s| s.name).unwrap_or_else(|| slug.clone()))
}

/// Days of access the order buys: its snapshot, else the service's period (0 without a service).
pub fn period_of(conn: &mut DbConn, o: &Order) -> QueryResult<i32> {
    if let Some(days) = o.period_days {
        return Ok(days);
    }
    let Some(slug) = &o.service_slug else { return Ok(0) };
    Ok(crate::catalog::model::find_by_slug(conn, slug)?.map(|s| s.period_days).unwrap_or(0))
}

pub fn insert(conn: &mut DbConn, o: &Order) -> QueryResult<usize> {
    diesel::insert_into(orders::table).values(o).execute(conn)
}

/// Takes the order's row lock for the rest of the transaction (PostgreSQL; SQLite writers are
/// already serialised).
pub fn lock(conn: &mut DbConn, id: &str) -> QueryResult<()> {
    crate::with_row_locks!(conn, c => orders::table.find(id).select(orders::id).for_update().load::<String>(c)?, _c => Vec::new());
    Ok(())
}

pub fn find_by_id(conn: &mut DbConn, id: &str) -> QueryResult<Option<Order>> {
    orders::table.find(id).first(conn).optional()
}

/// `pending_payment`/`expired` → `paid`. Returns true for the one caller that moved it.
/// A late payment for an expired order is still honoured: the customer's money was taken.
/// A hold reason left by an earlier refused payment is cleared.
pub fn mark_paid(conn: &mut DbConn, id: &str, now: i64) -> QueryResult<bool> {
    let n = diesel::update(
        orders::table.filter(orders::id.eq(id)).filter(orders::status.eq_any([PENDING_PAYMENT, EXPIRED])),
    )
    .set((
        orders::status.eq(PAID),
        orders::paid_at.eq(now),
        orders::hold_reason.eq(None::<String>),
        orders::updated_at.eq(now),
    ))
    .execute(conn)?;
    Ok(n == 1)
}

/// Records why a payment of a still unpaid (`pending_payment`/`expired`) order was refused
/// (the gateway reversed it): the order stays as it is, the reason is shown to admins.
pub fn note_refusal(conn: &mut DbConn, id: &str, reason: &str, now: i64) -> QueryResult<usize> {
    diesel::update(orders::table.filter(orders::id.eq(id)).filter(orders::status.eq_any([PENDING_PAYMENT, EXPIRED])))
        .set((orders::hold_reason.eq(reason), orders::updated_at.eq(now)))
        .execute(conn)
}

/// `pending_payment`/`expired` → `paid` with a hold `reason`: the money is recorded, nothing is
/// provisioned. Returns true for the one caller that moved it.
pub fn mark_held(conn: &mut DbConn, id: &str, reason: &str, now: i64) -> QueryResult<bool> {
    let n = diesel::update(
        orders::table.filter(orders::id.eq(id)).filter(orders::status.eq_any([PENDING_PAYMENT, EXPIRED])),
    )
    .set((orders::status.eq(PAID), orders::paid_at.eq(now), orders::hold_reason.eq(reason), orders::updated_at.eq(now)))
    .execute(conn)?;
    Ok(n == 1)
}

/// Links the order to the account it paid for.
pub fn set_account(conn: &mut DbConn, id: &str, account_id: &str) -> QueryResult<usize> {
    diesel::update(orders::table.find(id)).set(orders::account_id.eq(account_id)).execute(conn)
}

/// `paid` → `provisioned` for every paid order of an account whose credentials went out.
pub fn mark_provisioned_for_account(conn: &mut DbConn, account_id: &str, now: i64) -> QueryResult<usize> {
    diesel::update(orders::table.filter(orders::account_id.eq(account_id)).filter(orders::status.eq(PAID)))
        .set((orders::status.eq(PROVISIONED), orders::updated_at.eq(now)))
        .execute(conn)
}

/// `paid` → `provisioned` for one order.
pub fn mark_provisioned(conn: &mut DbConn, id: &str, now: i64) -> QueryResult<usize> {
    diesel::update(orders::table.filter(orders::id.eq(id)).filter(orders::status.eq(PAID)))
        .set((orders::status.eq(PROVISIONED), orders::updated_at.eq(now)))
        .execute(conn)
}

/// `paid`/`provisioned` → `refunded` (a side exit). True for the one caller that moved it.
pub fn mark_refunded(conn: &mut DbConn, id: &str, now: i64) -> QueryResult<bool> {
    let n = diesel::update(orders::table.filter(orders::id.eq(id)).filter(orders::status.eq_any([PAID, PROVISIONED])))
        .set((orders::status.eq(REFUNDED), orders::updated_at.eq(now)))
        .execute(conn)?;
    Ok(n == 1)
}

/// An order whose only authorisation was voided → `cancelled` (from any state but a final one).
/// True for the one caller that moved it.
pub fn mark_cancelled(conn: &mut DbConn, id: &str, now: i64) -> QueryResult<bool> {
    let n = diesel::update(orders::table.filter(orders::id.eq(id)).filter(orders::status.eq_any([
        PENDING_PAYMENT,
        EXPIRED,
        PAID,
        PROVISIONED,
    ])))
    .set((orders::status.eq(CANCELLED), orders::updated_at.eq(now)))
    .execute(conn)?;
    Ok(n == 1)
}

/// Unpaid orders past their TTL → `expired`.
pub fn expire_stale(conn: &mut DbConn, now: i64) -> QueryResult<usize> {
    diesel::update(orders::table.filter(orders::status.eq(PENDING_PAYMENT)).filter(orders::expires_at.lt(now)))
        .set((orders::status.eq(EXPIRED), orders::updated_at.eq(now)))
        .execute(conn)
}

/// The unpaid renewal order of an account for a service, if one is open (at most one is: a
/// unique index on `(account_id, service_slug)` of `pending_payment` orders with an account).
pub fn find_open_renewal(conn: &mut DbConn, account_id: &str, slug: &str) -> QueryResult<Option<Order>> {
    orders::table
        .filter(orders::account_id.eq(account_id))
        .filter(orders::service_slug.eq(slug))
        .filter(orders::status.eq(PENDING_PAYMENT))
        .first(conn)
        .optional()
}

/// `pending_payment` → `expired` for one order (a renewal order that can no longer be offered:
/// past its TTL, or priced before the service's price changed). A late payment is still honoured.
pub fn expire_one(conn: &mut DbConn, id: &str, now: i64) -> QueryResult<usize> {
    diesel::update(orders::table.filter(orders::id.eq(id)).filter(orders::status.eq(PENDING_PAYMENT)))
        .set((orders::status.eq(EXPIRED), orders::updated_at.eq(now)))
        .execute(conn)
}

//! The `invoices` table: a pay-by-link invoice is an order plus who created it, when its link
//! expires and when the customer accepted the terms. Also the queries the payment pages and
//! the payment transaction ask about invoices.

use diesel::prelude::*;

use crate::db::schema::{invoices, orders, payments, services};
use crate::db::DbConn;
use crate::mail::outbox;
use crate::orders::model::{self as order_model, Order};
use crate::payments::model::PaymentStatus;

/// An invoice row.
#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = invoices)]
pub struct Invoice {
    pub id: String,
    pub order_id: String,
    /// The administrator's username.
    pub created_by: String,
    /// First time the customer ticked "I accept the terms".
    pub terms_accepted_at: Option<i64>,
    pub created_at: i64,
    /// Same as the order's `expires_at`.
    pub expires_at: i64,
}

/// An invoice with its order and the item as the customer sees it.
#[derive(Debug, Clone)]
pub struct Listed {
    pub invoice: Invoice,
    pub order: Order,
    pub item: String,
}

impl Listed {
    /// The order's status, or `expired` for an unpaid invoice at or past its expiry (the order
    /// stays `pending_payment` until the next sweep; the link is dead from its expiry on).
    pub fn status(&self, now: i64) -> order_model::OrderStatus {
        if self.order.status == order_model::PENDING_PAYMENT && now >= self.invoice.expires_at {
            order_model::EXPIRED
        } else {
            self.order.status
        }
    }
}

/// An invoice id as we issue them (`inv_` + 32 hex digits); anything else never reaches a query.
pub fn is_invoice_id(id: &str) -> bool {
    id.len() == 36 && id.starts_with("inv_") && id[4..].bytes().all(|b| b.is_ascii_hexdigit())
}

pub fn insert(conn: &mut DbConn, i: &Invoice) -> QueryResult<usize> {
    diesel::insert_into(invoices::table).values(i).execute(conn)
}

fn item_of(order: &Order, service_name: Option<String>) -> String {
    order.item_name.clone().or(service_name).or_else(|| order.service_slug.clone()).unwrap_or_default()
}

/// One invoice with its order.
pub fn find_by_id(conn: &mut DbConn, id: &str) -> QueryResult<Option<Listed>> {
    let found: Option<(Invoice, Order)> =
        invoices::table.inner_join(orders::table).filter(invoices::id.eq(id)).first(conn).optional()?;
    let Some((invoice, order)) = found else { return Ok(None) };
    let item = order_model::item_label(conn, &order)?;
    Ok(Some(Listed { invoice, order, item }))
}

/// Invoices newest first, after the cursor `(created_at, id)` when given.
pub fn list(conn: &mut DbConn, before: Option<&(i64, String)>, limit: i64) -> QueryResult<Vec<Listed>> {
    let mut q = invoices::table
        .inner_join(orders::table.left_join(services::table))
        .select((invoices::all_columns, orders::all_columns, services::name.nullable()))
        .into_boxed();
    if let Some((at, id)) = before {
        q = q.filter(invoices::created_at.lt(*at).or(invoices::created_at.eq(*at).and(invoices::id.lt(id.clone()))));
    }
    let rows: Vec<(Invoice, Order, Option<String>)> =
        q.order((invoices::created_at.desc(), invoices::id.desc())).limit(limit).load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(invoice, order, service_name)| {
            let item = item_of(&order, service_name);
            Listed { invoice, order, item }
        })
        .collect())
}

/// Records the customer's acceptance of the terms; the first time only.
pub fn accept_terms(conn: &mut DbConn, id: &str, now: i64) -> QueryResult<bool> {
    let n = diesel::update(invoices::table.filter(invoices::id.eq(id)).filter(invoices::terms_accepted_at.is_null()))
        .set(invoices::terms_accepted_at.eq(now))
        .execute(conn)?;
    Ok(n == 1)
}

/// The invoice of an order whose customer has not accepted the terms yet: the payment pages
/// send such a customer to the invoice page first.
pub fn unaccepted_invoice_of(conn: &mut DbConn, order_id: &str) -> QueryResult<Option<String>> {
    invoices::table
        .filter(invoices::order_id.eq(order_id))
        .filter(invoices::terms_accepted_at.is_null())
        .select(invoices::id)
        .first(conn)
        .optional()
}

/// Queues the merchant's copy of the payment confirmation when `order` is an invoice's; call
/// in the transaction that provisions the order. The email job skips it when no
/// `merchant_email` is set.
pub fn enqueue_merchant_copy(conn: &mut DbConn, order: &Order, now: i64) -> QueryResult<()> {
    let is_invoice: i64 = invoices::table.filter(invoices::order_id.eq(&order.id)).count().get_result(conn)?;
    if is_invoice > 0 {
        outbox::enqueue(conn, outbox::MERCHANT_COPY, None, Some(&order.id), now)?;
    }
    Ok(())
}

/// What the merchant's copy says: the invoice and the gateway of the payment that paid it.
pub struct CopyDetails {
    pub listed: Listed,
    pub gateway: Option<String>,
}

pub fn copy_details(conn: &mut DbConn, order_id: &str) -> QueryResult<Option<CopyDetails>> {
    let id: Option<String> =
        invoices::table.filter(invoices::order_id.eq(order_id)).select(invoices::id).first(conn).optional()?;
    let Some(listed) = (match id {
        Some(id) => find_by_id(conn, &id)?,
        None => None,
    }) else {
        return Ok(None);
    };
    let gateway = payments::table
        .filter(payments::order_id.eq(order_id))
        .filter(payments::status.ne_all([PaymentStatus::Pending, PaymentStatus::RequiresAction, PaymentStatus::Failed]))
        .order((payments::created_at.desc(), payments::id.desc()))
        .select(payments::gateway)
        .first(conn)
        .optional()?;
    Ok(Some(CopyDetails { listed, gateway }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invoice_ids_are_checked_before_any_query() {
        assert!(is_invoice_id(&crate::crypto::random_id("inv")));
        assert!(!is_invoice_id(&crate::crypto::random_id("ord")));
        assert!(!is_invoice_id("inv_"));
        assert!(!is_invoice_id("inv_zz000000000000000000000000000000"));
        assert!(!is_invoice_id("inv_00000000000000000000000000000000\0"));
    }
}

//! Everything keyturn holds about one customer, as JSON: what a data-access request (GDPR
//! art. 15/20) returns, to the customer (`GET /api/v1/me/export`) or to support.

use diesel::prelude::*;
use serde_json::{json, Value};

use crate::accounts::model::Account;
use crate::clock::rfc3339;
use crate::db::schema::{orders, outbox, payments};
use crate::db::DbConn;

/// The account, its services, its orders (also unpaid ones under its address), their payments
/// and which emails were sent.
pub fn gather(c: &mut DbConn, a: &Account) -> QueryResult<Value> {
    let own: Vec<crate::orders::model::Order> = orders::table
        .filter(orders::account_id.eq(&a.id).or(orders::email.eq(&a.email)))
        .order(orders::created_at.asc())
        .load(c)?;
    let ids: Vec<String> = own.iter().map(|o| o.id.to_string()).collect();
    let pays: Vec<crate::payments::model::Payment> =
        payments::table.filter(payments::order_id.eq_any(&ids)).order(payments::created_at.asc()).load(c)?;
    let mail: Vec<(String, String, i64, Option<i64>)> = outbox::table
        .filter(outbox::account_id.eq(&a.id))
        .select((outbox::kind, outbox::status, outbox::created_at, outbox::sent_at))
        .order(outbox::created_at.asc())
        .load(c)?;
    let access = crate::accounts::model::access_of(c, &a.id)?;
    Ok(json!({
        "account": {"login": a.login, "email": a.email, "name": a.name, "status": a.status,
                    "created_at": rfc3339(a.created_at), "email_verified_at": a.email_verified_at.map(rfc3339)},
        "services": access.iter().map(|(slug, name, until)| json!({"slug": slug, "name": name, "active_until": rfc3339(*until)})).collect::<Vec<_>>(),
        "orders": own.iter().map(|o| json!({"order_id": o.id, "item": o.item_name.clone().or(o.service_slug.clone()),
            "amount_minor": o.amount_minor, "currency": o.currency, "status": o.status, "name": o.customer_name,
            "email": o.email, "phone": o.phone, "created_at": rfc3339(o.created_at), "paid_at": o.paid_at.map(rfc3339)})).collect::<Vec<_>>(),
        "payments": pays.iter().map(|p| json!({"payment_id": p.id, "order_id": p.order_id, "gateway": p.gateway,
            "status": p.status, "amount_minor": p.amount_minor, "currency": p.currency,
            "refunded_minor": p.refunded_minor, "created_at": rfc3339(p.created_at)})).collect::<Vec<_>>(),
        "emails": mail.iter().map(|(kind, status, at, sent)| json!({"kind": kind, "status": status,
            "created_at": rfc3339(*at), "sent_at": sent.map(rfc3339)})).collect::<Vec<_>>(),
    }))
}

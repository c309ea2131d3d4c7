//! Reading orders for admins: a filtered, newest-first listing with each order's latest
//! gateway, and one order with its payments and the callback history (mismatches included).

use std::collections::HashMap;

use diesel::prelude::*;

use crate::db::schema::{orders, payments};
use crate::db::DbConn;
use crate::orders::model::Order;
use crate::payments::gateways::GatewayId;
use crate::payments::model::{self as pay, Payment, PaymentEvent};

/// Filters of `GET /admin/orders`.
#[derive(Default)]
pub struct Filter {
    pub status: Option<String>,
    pub email: Option<String>,
    pub from: Option<i64>,
    pub to: Option<i64>,
    pub before: Option<(i64, String)>,
    pub limit: i64,
}

/// Orders matching `f`, newest first, each with the gateway of its latest payment.
pub fn list(conn: &mut DbConn, f: &Filter) -> QueryResult<Vec<(Order, Option<GatewayId>)>> {
    let mut q = orders::table.into_boxed();
    if let Some(s) = &f.status {
        q = q.filter(orders::status.eq(s.clone()));
    }
    if let Some(e) = &f.email {
        q = q.filter(orders::email.eq(e.to_lowercase()));
    }
    if let Some(t) = f.from {
        q = q.filter(orders::created_at.ge(t));
    }
    if let Some(t) = f.to {
        q = q.filter(orders::created_at.le(t));
    }
    if let Some((at, id)) = &f.before {
        q = q.filter(orders::created_at.lt(*at).or(orders::created_at.eq(*at).and(orders::id.lt(id.clone()))));
    }
    let page: Vec<Order> = q.order((orders::created_at.desc(), orders::id.desc())).limit(f.limit).load(conn)?;
    let ids: Vec<&str> = page.iter().map(|o| o.id.as_str()).collect();
    let mut latest: HashMap<String, GatewayId> = HashMap::new();
    let rows: Vec<(String, GatewayId)> = payments::table
        .filter(payments::order_id.eq_any(&ids))
        .order((payments::created_at.asc(), payments::id.asc()))
        .select((payments::order_id, payments::gateway))
        .load(conn)?;
    for (order_id, gateway) in rows {
        latest.insert(order_id, gateway);
    }
    Ok(page
        .into_iter()
        .map(|o| {
            let g = latest.get(o.id.as_str()).copied();
            (o, g)
        })
        .collect())
}

/// One order with its payments (oldest first) and every recorded callback.
pub struct Detail {
    pub order: Order,
    pub payments: Vec<Payment>,
    pub events: Vec<PaymentEvent>,
    /// Admin operations on those payments, oldest first.
    pub operations: Vec<crate::payments::ops::model::Operation>,
}

pub fn detail(conn: &mut DbConn, order_id: &str) -> QueryResult<Option<Detail>> {
    let Some(order) = crate::orders::model::find_by_id(conn, order_id)? else { return Ok(None) };
    let payments: Vec<Payment> = payments::table
        .filter(payments::order_id.eq(order_id))
        .order((payments::created_at.asc(), payments::id.asc()))
        .load(conn)?;
    let events = pay::events_for_order(conn, order_id)?;
    let mut operations = Vec::new();
    for p in &payments {
        operations.extend(crate::payments::ops::model::for_payment(conn, &p.id)?);
    }
    Ok(Some(Detail { order, payments, events, operations }))
}

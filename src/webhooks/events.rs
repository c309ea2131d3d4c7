//! The event types and how they are written: each inside the transaction of the change it
//! reports, as one `webhook_events` row (the exact signed body) and one delivery per active
//! endpoint that wants it. `data` carries login, email, service, active_until and order_id as
//! they apply — never a password, a token or a secret.

use serde_json::{json, Map, Value};

use crate::accounts::model::{self as accounts, Account};
use crate::accounts::service::Provisioned;
use crate::clock::rfc3339;
use crate::crypto::random_id;
use crate::db::DbConn;
use crate::orders::model::Order;
use crate::webhooks::model::{self, StoredEvent};

pub const ORDER_PAID: &str = "order.paid";
pub const ORDER_REFUNDED: &str = "order.refunded";
pub const ACCOUNT_CREATED: &str = "account.created";
pub const ACCOUNT_ACTIVATED: &str = "account.activated";
pub const ACCOUNT_SUSPENDED: &str = "account.suspended";
pub const ACCOUNT_REINSTATED: &str = "account.reinstated";
pub const ACCESS_GRANTED: &str = "access.granted";
pub const ACCESS_EXTENDED: &str = "access.extended";
pub const ACCESS_EXPIRING: &str = "access.expiring";
pub const ACCESS_EXPIRED: &str = "access.expired";
pub const ACCESS_REVOKED: &str = "access.revoked";

/// Every event type, for validating an endpoint's filter.
pub const ALL: [&str; 11] = [
    ORDER_PAID,
    ORDER_REFUNDED,
    ACCOUNT_CREATED,
    ACCOUNT_ACTIVATED,
    ACCOUNT_SUSPENDED,
    ACCOUNT_REINSTATED,
    ACCESS_GRANTED,
    ACCESS_EXTENDED,
    ACCESS_EXPIRING,
    ACCESS_EXPIRED,
    ACCESS_REVOKED,
];

/// The `data` of an event, built from what applies.
#[derive(Default)]
pub struct Data {
    fields: Map<String, Value>,
}

impl Data {
    /// `login` and `email` of the account.
    pub fn account(a: &Account) -> Data {
        Data::default().with("login", a.login.as_str()).with("email", a.email.as_str())
    }

    pub fn with(mut self, key: &str, value: impl Into<Value>) -> Data {
        self.fields.insert(key.into(), value.into());
        self
    }

    /// `service` and `active_until` (RFC 3339).
    pub fn access(self, slug: &str, active_until: i64) -> Data {
        self.with("service", slug).with("active_until", rfc3339(active_until))
    }
}

/// Writes an event of `kind` for every active endpoint that wants it (nothing when none does).
/// Call it inside the transaction that made the change.
pub fn emit(c: &mut DbConn, kind: &str, account_id: Option<&str>, data: Data, now: i64) -> diesel::QueryResult<()> {
    let endpoints = model::active_endpoints(c)?;
    let to: Vec<&model::Endpoint> = endpoints.iter().filter(|e| e.wants(kind)).collect();
    if to.is_empty() {
        return Ok(());
    }
    let body = json!({"type": kind, "timestamp": rfc3339(now), "data": Value::Object(data.fields)});
    let event = StoredEvent {
        id: random_id("msg"),
        kind: kind.to_string(),
        account_id: account_id.map(String::from),
        payload: body.to_string(),
        created_at: now,
    };
    model::insert_event(c, &event, &to, now)
}

/// Writes an event about an account found by id (nothing when it is gone).
pub fn emit_for(
    c: &mut DbConn,
    kind: &str,
    account_id: &str,
    extra: impl FnOnce(Data) -> Data,
    now: i64,
) -> diesel::QueryResult<()> {
    let Some(a) = accounts::find_by_id(c, account_id)? else { return Ok(()) };
    emit(c, kind, Some(account_id), extra(Data::account(&a)), now)
}

/// `access.granted` when the account had no running access to the service before (`before`,
/// when that access was over with its grace, absent or past), else `access.extended`.
pub fn access_changed(
    c: &mut DbConn,
    account_id: &str,
    slug: &str,
    before: Option<i64>,
    until: i64,
    order_id: Option<&str>,
    now: i64,
) -> diesel::QueryResult<()> {
    let running = before.is_some_and(|b| !crate::jobs::access_expiry::has_ended(b, now));
    let kind = if running { ACCESS_EXTENDED } else { ACCESS_GRANTED };
    emit_for(
        c,
        kind,
        account_id,
        |d| {
            let d = d.access(slug, until);
            match order_id {
                Some(o) => d.with("order_id", o),
                None => d,
            }
        },
        now,
    )
}

/// `access.revoked` for every access the account holds (one without `service` when it holds
/// none), with `reason` (`revoked`, `erased`).
pub fn access_revoked(
    c: &mut DbConn,
    a: &Account,
    reason: &str,
    with_email: bool,
    now: i64,
) -> diesel::QueryResult<()> {
    let base = || {
        let d = Data::default().with("login", a.login.as_str()).with("reason", reason);
        if with_email {
            d.with("email", a.email.as_str())
        } else {
            d
        }
    };
    let grants = accounts::access_of(c, &a.id)?;
    if grants.is_empty() {
        return emit(c, ACCESS_REVOKED, Some(&a.id), base(), now);
    }
    for (slug, _, until) in grants {
        emit(c, ACCESS_REVOKED, Some(&a.id), base().access(&slug, until), now)?;
    }
    Ok(())
}

/// An erasure: stored events about the account, or about one of its orders (`order_ids`),
/// lose the address (a delivery still waiting then carries the erased placeholder, never the
/// address), and their deliveries forget what the receivers answered.
pub fn forget_account(
    c: &mut DbConn,
    account_id: &str,
    order_ids: &[String],
    email: &str,
    placeholder: &str,
) -> diesel::QueryResult<()> {
    let mut theirs = Vec::new();
    for e in model::events_of_customer(c, account_id)? {
        let Ok(mut body) = serde_json::from_str::<Value>(&e.payload) else { continue };
        let Some(data) = body.get_mut("data").and_then(Value::as_object_mut) else { continue };
        let about_order =
            data.get("order_id").and_then(Value::as_str).is_some_and(|o| order_ids.iter().any(|m| m == o));
        if e.account_id.as_deref() != Some(account_id) && !about_order {
            continue;
        }
        if data.get("email").and_then(Value::as_str) == Some(email) {
            data.insert("email".into(), placeholder.into());
            model::replace_payload(c, &e.id, &body.to_string())?;
        }
        theirs.push(e.id);
    }
    model::clear_delivery_errors(c, &theirs)?;
    Ok(())
}

/// A paid order that provisioned `p`: `order.paid`, `account.created` for a new account, and
/// `access.granted` or `access.extended` for the service it bought.
pub fn order_paid(c: &mut DbConn, order: &Order, p: &Provisioned, now: i64) -> diesel::QueryResult<()> {
    let Some(a) = accounts::find_by_id(c, &p.account_id)? else { return Ok(()) };
    let mut paid = Data::account(&a)
        .with("order_id", order.id.as_str())
        .with("amount_minor", order.amount_minor)
        .with("currency", order.currency.as_str());
    if let Some(slug) = &order.service_slug {
        paid = paid.with("service", slug.as_str());
    }
    emit(c, ORDER_PAID, Some(&a.id), paid, now)?;
    if p.new_account {
        emit(c, ACCOUNT_CREATED, Some(&a.id), Data::account(&a), now)?;
    }
    if let Some((slug, before, until)) = &p.access {
        access_changed(c, &a.id, slug, *before, *until, Some(&order.id), now)?;
    }
    Ok(())
}

/// A fully refunded order, or a voided authorisation that had provisioned it (`cancelled`):
/// `order.refunded`, with the access as it stands after the change. Nothing for an order
/// receivers never saw paid (held, or never linked to an account).
pub fn order_refunded(c: &mut DbConn, order: &Order, cancelled: bool, now: i64) -> diesel::QueryResult<()> {
    if order.hold_reason.is_some() {
        return Ok(());
    }
    let Some(a) = (match order.account_id.as_deref() {
        Some(id) => accounts::find_by_id(c, id)?,
        None => None,
    }) else {
        return Ok(());
    };
    let mut data = Data::account(&a)
        .with("order_id", order.id.as_str())
        .with("amount_minor", order.amount_minor)
        .with("currency", order.currency.as_str());
    if cancelled {
        data = data.with("reason", "cancelled");
    }
    if let Some(slug) = &order.service_slug {
        data = match accounts::access_until(c, &a.id, slug)? {
            Some(u) => data.access(slug, u),
            None => data.with("service", slug.as_str()),
        };
    }
    emit(c, ORDER_REFUNDED, Some(&a.id), data, now)
}

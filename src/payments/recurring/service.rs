//! A subscription's event, applied inside the payment transaction of `payments::service`
//! (after the event was recorded, so a repeated delivery never gets here):
//! - a charge that pays the order the subscription was started for is a payment like any
//!   other (same checks, same provisioning); once that order is paid the subscription is
//!   remembered with its account, service and terms;
//! - any later charge becomes a renewal order for the same account — at the agreed amount,
//!   with the agreed period — paid by that charge: the access is extended from
//!   `max(now, active_until)`, `access.extended` and `access_extended` go out; a charge for
//!   another amount or currency, or for a revoked or suspended account, is held (the order is
//!   `paid` with a hold reason, nothing extended) for an admin to refund;
//! - each charge counts once: a second event for the same invoice or sale is a duplicate (the
//!   subscription's row lock makes concurrent ones wait for the first);
//! - a renewal charge of a subscription we cannot place is kept (`unknown_subscription`);
//! - an ended subscription is marked cancelled; the access it bought runs to its end.

use crate::accounts::model as accounts;
use crate::crypto::{is_key, random_id};
use crate::db::DbConn;
use crate::orders::model::{self as orders, Order};
use crate::payments::gateways::{GatewayId, SubscriptionEvent, SubscriptionRef, VerifiedEvent};
use crate::payments::model::{self as payments, PaymentStatus};
use crate::payments::service::{decide as decide_payment, mismatch, pay_order, save_payment};
use crate::payments::service::{Emails, Outcome, Policy, TxError};

use super::model::{self, Subscription, ACTIVE};

/// The outcome, its detail, and the order the event belongs to when it is not the one the event
/// names (the renewal order a charge created).
pub(crate) type Decided = (Outcome, String, Option<String>);

/// Applies an event about subscription `sub`.
pub(crate) fn decide(
    c: &mut DbConn,
    gateway: GatewayId,
    ev: &VerifiedEvent,
    sub: &SubscriptionRef,
    policy: Policy,
    now: i64,
) -> Result<Decided, TxError> {
    let known = model::find_locked(c, gateway, &sub.id)?;
    if sub.event == SubscriptionEvent::Ended {
        return ended(c, gateway, sub, known, now);
    }
    let known = match known {
        Some(s) => Some(s),
        // Its first payment was settled without naming it (the reconciliation sweep): the
        // order we started it for tells who it belongs to.
        None => match started_for(c, gateway, ev, sub)? {
            Some(order) if order.account_id.is_some() && payments::paid_through(c, &order.id, gateway)? => {
                remember(c, gateway, &sub.id, &order, now)?
            }
            Some(order) => return first(c, gateway, ev, sub, Some(order.id.to_string()), policy, now),
            None => None,
        },
    };
    match known {
        Some(s) if is_renewal(c, gateway, ev, sub, &s)? => renew(c, gateway, ev, &s, policy, now),
        Some(s) => first(c, gateway, ev, sub, Some(s.order_id), policy, now),
        None if sub.event == SubscriptionEvent::FirstCharge => first(c, gateway, ev, sub, None, policy, now),
        None => {
            tracing::warn!(
                event = "subscription_unknown",
                gateway = gateway.as_str(),
                subscription_id = %sub.id,
                "a charge of a subscription keyturn does not know: nothing renewed, kept for an admin"
            );
            let detail = format!(
                "charge of unknown subscription {}: nothing renewed; find its customer, or refund it at the gateway",
                sub.id
            );
            Ok((Outcome::UnknownSubscription, detail, None))
        }
    }
}

/// The order the subscription was started for: the one we recorded creating it for (a PayPal
/// subscription is a recorded start) — whatever the event's metadata says — else, at a gateway
/// where only we can write a subscription's metadata (Stripe: the secret API key), the order
/// its metadata names. PayPal's `custom` is the subscription's `custom_id`, which whoever creates
/// the subscription chooses (its JavaScript SDK creates them in the browser): it never picks an
/// order, and so an account, on its own.
fn started_for(
    c: &mut DbConn,
    gateway: GatewayId,
    ev: &VerifiedEvent,
    sub: &SubscriptionRef,
) -> Result<Option<Order>, TxError> {
    let named = ev.order_id.clone().filter(|id| is_key(id));
    let recorded = crate::payments::starts::order_of(c, gateway, &sub.id)?;
    if let (Some(r), Some(n)) = (&recorded, &named) {
        if r != n {
            tracing::warn!(event = "subscription_metadata_mismatch", gateway = gateway.as_str(), subscription_id = %sub.id, order_id = %r, "the event names another order than the one the subscription was created for: ours is followed");
        }
    }
    let id = match recorded {
        Some(id) => Some(id),
        None if metadata_is_ours(gateway) => named,
        None => None,
    };
    Ok(match id {
        Some(id) => orders::find_by_id(c, &id)?,
        None => None,
    })
}

/// True when only keyturn can write the order id a gateway's subscription events carry.
fn metadata_is_ours(gateway: GatewayId) -> bool {
    gateway == GatewayId::Stripe
}

/// True when the charge renews rather than pays the subscription's first order.
fn is_renewal(
    c: &mut DbConn,
    gateway: GatewayId,
    ev: &VerifiedEvent,
    sub: &SubscriptionRef,
    s: &Subscription,
) -> Result<bool, TxError> {
    Ok(match sub.event {
        SubscriptionEvent::CycleCharge => true,
        SubscriptionEvent::FirstCharge | SubscriptionEvent::Ended => false,
        // The gateway does not say: a charge the first order already has is that payment again.
        SubscriptionEvent::Charge => {
            let same = payments::find_by_gateway_id(c, gateway, &ev.payment_id)?;
            same.is_none_or(|p| p.order_id.as_str() != s.order_id)
        }
    })
}

/// The charge that pays the order the subscription was started for: an ordinary payment; the
/// subscription is remembered once the order is paid.
fn first(
    c: &mut DbConn,
    gateway: GatewayId,
    ev: &VerifiedEvent,
    sub: &SubscriptionRef,
    order_id: Option<String>,
    policy: Policy,
    now: i64,
) -> Result<Decided, TxError> {
    let mut paying = ev.clone();
    paying.order_id = order_id.or_else(|| ev.order_id.clone().filter(|_| metadata_is_ours(gateway)));
    let (outcome, detail) = decide_payment(c, gateway, &paying, policy, now)?;
    let order = match paying.order_id.as_deref().filter(|id| is_key(id)) {
        Some(id) => orders::find_by_id(c, id)?,
        None => None,
    };
    if let Some(order) = &order {
        remember(c, gateway, &sub.id, order, now)?;
    }
    Ok((outcome, detail, order.map(|o| o.id.to_string())))
}

/// Remembers the subscription that paid `order` (once it is paid, for a service, by an account
/// we can name); returns the row (locked), new or already there.
fn remember(
    c: &mut DbConn,
    gateway: GatewayId,
    subscription_id: &str,
    order: &Order,
    now: i64,
) -> Result<Option<Subscription>, TxError> {
    let (true, Some(slug)) = (matches!(order.status, orders::PAID | orders::PROVISIONED), &order.service_slug) else {
        return Ok(None);
    };
    // A held order has no account: the address's (revoked or suspended) one is renewed — held too.
    let account_id = match &order.account_id {
        Some(id) => Some(id.clone()),
        None => accounts::find_by_email(c, &order.email)?.map(|a| a.id.to_string()),
    };
    let Some(account_id) = account_id else { return Ok(None) };
    let row = Subscription {
        gateway,
        subscription_id: subscription_id.to_string(),
        order_id: order.id.to_string(),
        account_id: Some(account_id),
        service_slug: slug.clone(),
        amount_minor: order.amount_minor,
        currency: order.currency.clone(),
        period_days: orders::period_of(c, order)?,
        status: ACTIVE.into(),
        created_at: now,
        cancelled_at: None,
    };
    if model::insert(c, &row)? {
        tracing::info!(event = "subscription_started", gateway = gateway.as_str(), order_id = %order.id, subscription_id, "gateway subscription remembered");
    }
    Ok(model::find_locked(c, gateway, subscription_id)?)
}

/// A renewal charge: a renewal order for the subscription's account at the agreed terms, paid by it.
fn renew(
    c: &mut DbConn,
    gateway: GatewayId,
    ev: &VerifiedEvent,
    s: &Subscription,
    policy: Policy,
    now: i64,
) -> Result<Decided, TxError> {
    if let Some(p) = payments::find_by_gateway_id_locked(c, gateway, &ev.payment_id)? {
        let detail = format!("charge {} was already applied", ev.payment_id);
        return Ok((Outcome::Duplicate, detail, Some(p.order_id.to_string())));
    }
    let account = match s.account_id.as_deref() {
        Some(id) => accounts::find_by_id(c, id)?,
        None => None,
    };
    let Some(account) = account else {
        tracing::warn!(event = "subscription_account_gone", gateway = gateway.as_str(), subscription_id = %s.subscription_id, "renewal charge for an account that no longer exists");
        let detail = format!(
            "subscription {}: its account no longer exists; nothing renewed, refund the charge at the gateway",
            s.subscription_id
        );
        return Ok((Outcome::HeldAccount, detail, Some(s.order_id.clone())));
    };
    let locale = orders::find_by_id(c, &s.order_id)?.map(|o| o.locale).unwrap_or_else(|| "en".into());
    let order = Order {
        id: random_id("ord").into(),
        service_slug: Some(s.service_slug.clone()),
        customer_name: account.name.clone(),
        email: account.email.clone(),
        phone: None,
        locale,
        amount_minor: s.amount_minor,
        currency: s.currency.clone(),
        status: orders::PENDING_PAYMENT,
        account_id: None,
        created_at: now,
        updated_at: now,
        paid_at: None,
        expires_at: now,
        item_name: None,
        period_days: Some(s.period_days),
        hold_reason: None,
    };
    orders::insert(c, &order)?;
    // The money was taken whatever we decide: the payment is on record, refundable.
    save_payment(c, gateway, &order, ev, None, (PaymentStatus::Succeeded, 0), now)?;
    let order_id = Some(order.id.to_string());
    if let Some(detail) = mismatch(&order, ev) {
        orders::mark_held(c, &order.id, "amount_mismatch", now)?;
        tracing::warn!(event = "payment_mismatch", order_id = %order.id, subscription_id = %s.subscription_id, detail = %detail, "renewal charge held");
        let detail = format!("renewal of subscription {}: {detail}; held, nothing extended", s.subscription_id);
        return Ok((Outcome::Mismatch, detail, order_id));
    }
    let (outcome, detail) = pay_order(c, gateway, &order, ev, policy, now, Emails::Renewal)?;
    if outcome == Outcome::Provisioned {
        tracing::info!(event = "subscription_renewed", gateway = gateway.as_str(), order_id = %order.id, subscription_id = %s.subscription_id, "access extended by a gateway renewal");
    }
    let detail = if detail.is_empty() { format!("renewal of subscription {}", s.subscription_id) } else { detail };
    Ok((outcome, detail, order_id))
}

/// The subscription ended at the gateway: recorded; the access it bought runs to its end.
fn ended(
    c: &mut DbConn,
    gateway: GatewayId,
    sub: &SubscriptionRef,
    known: Option<Subscription>,
    now: i64,
) -> Result<Decided, TxError> {
    let Some(s) = known else {
        return Ok((Outcome::Recorded, format!("subscription {} ended; keyturn does not know it", sub.id), None));
    };
    let detail = if model::mark_cancelled(c, gateway, &sub.id, now)? {
        tracing::info!(event = "subscription_cancelled", gateway = gateway.as_str(), order_id = %s.order_id, subscription_id = %sub.id, "subscription ended at the gateway");
        format!("subscription {} ended at the gateway; the access runs to its end", sub.id)
    } else {
        format!("subscription {} had already ended", sub.id)
    };
    Ok((Outcome::Recorded, detail, Some(s.order_id)))
}

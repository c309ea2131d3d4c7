//! Other names a gateway gives its payments (`payment_aliases`). Stripe, since API version
//! 2025-03-31.basil, names a subscription's charge by its invoice when it is paid and by its
//! PaymentIntent (or Charge) when it is refunded; `invoice_payment.paid` tells which invoice a
//! PaymentIntent paid. The link is kept, and an event naming a payment we do not know by that
//! name is applied to the payment the name stands for.

use std::borrow::Cow;

use super::{Outcome, TxError};
use crate::db::DbConn;
use crate::payments::gateways::{EventKind, GatewayId, VerifiedEvent};
use crate::payments::model;

/// `ev`, naming the payment it is about by the name keyturn stored it under: unchanged when a
/// payment has its name or none was ever linked to it.
pub(super) fn resolved<'a>(
    c: &mut DbConn,
    gateway: GatewayId,
    ev: &'a VerifiedEvent,
) -> Result<Cow<'a, VerifiedEvent>, TxError> {
    if matches!(ev.kind, EventKind::AlsoKnownAs(_)) || model::find_by_gateway_id(c, gateway, &ev.payment_id)?.is_some()
    {
        return Ok(Cow::Borrowed(ev));
    }
    Ok(match model::find_alias(c, gateway, &ev.payment_id)? {
        Some(payment_id) => Cow::Owned(VerifiedEvent { payment_id, ..ev.clone() }),
        None => Cow::Borrowed(ev),
    })
}

/// Records that `alias` names the gateway's payment `payment_id`. The first link stays.
pub(super) fn remember(
    c: &mut DbConn,
    gateway: GatewayId,
    alias: &str,
    payment_id: &str,
    now: i64,
) -> Result<(Outcome, String), TxError> {
    if alias == payment_id {
        return Ok((Outcome::Recorded, "names the payment by its own id".into()));
    }
    if model::insert_alias(c, gateway, alias, payment_id, now)? {
        return Ok((Outcome::Recorded, format!("{alias} names payment {payment_id}")));
    }
    let known = model::find_alias(c, gateway, alias)?.unwrap_or_default();
    let detail = if known == payment_id {
        format!("{alias} names payment {payment_id} (known)")
    } else {
        tracing::warn!(
            event = "payment_alias_conflict",
            gateway = gateway.as_str(),
            alias,
            "a second payment for one name"
        );
        format!("{alias} already names payment {known}: kept")
    };
    Ok((Outcome::Recorded, detail))
}

/// Files the event `record_id` under the order of the gateway's payment `payment_id`, if known.
pub(super) fn file_under_order(
    c: &mut DbConn,
    gateway: GatewayId,
    record_id: &str,
    payment_id: &str,
) -> Result<(), TxError> {
    if let Some(p) = model::find_by_gateway_id(c, gateway, payment_id)? {
        model::set_event_order(c, record_id, p.order_id.as_str())?;
    }
    Ok(())
}

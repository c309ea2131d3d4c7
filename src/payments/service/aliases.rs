//! Other names a gateway gives its payments (`payment_aliases`). Stripe, since API version
//! 2025-03-31.basil, names a subscription's charge by its invoice when it is paid and by its
//! PaymentIntent (or Charge) when it is refunded; `invoice_payment.paid` tells which invoice a
//! PaymentIntent paid. The link is kept, and an event that names only a payment we do not know
//! by that name is applied to the payment the name stands for. Events that came before the
//! link (a refund, the PaymentIntent's own success) are applied when it comes. A name that
//! turns out to stand for several payments (one PaymentIntent paying two invoices) stands for
//! none: what names only it is left to an admin. Events the link's own transaction cannot see
//! (one recorded at the same moment) or cannot place yet (the invoice's payment not recorded
//! yet) are applied by [`sweep`], which the minute sweep runs.

use std::borrow::Cow;

use super::{decide, Outcome, Policy, TxError};
use crate::db::{DbConn, DbError};
use crate::payments::gateways::{EventKind, GatewayId, VerifiedEvent};
use crate::payments::model::{self, PaymentStatus};
use crate::state::AppState;

/// `ev`, naming the payment it is about by the name keyturn stored it under: unchanged when it
/// names its order itself, a payment has its name, or no one payment was linked to the name.
pub(super) fn resolved<'a>(
    c: &mut DbConn,
    gateway: GatewayId,
    ev: &'a VerifiedEvent,
) -> Result<Cow<'a, VerifiedEvent>, TxError> {
    // The same rule as the record's `order_id`: an event naming an order is never redirected.
    if ev.order_id.as_deref().is_some_and(crate::crypto::is_key)
        || matches!(ev.kind, EventKind::AlsoKnownAs(_))
        || model::find_by_gateway_id(c, gateway, &ev.payment_id)?.is_some()
    {
        return Ok(Cow::Borrowed(ev));
    }
    Ok(match model::find_alias(c, gateway, &ev.payment_id)? {
        Some(payment_id) => Cow::Owned(VerifiedEvent { payment_id, ..ev.clone() }),
        None => Cow::Borrowed(ev),
    })
}

/// Records that `alias` names the gateway's payment `payment_id`, and applies the events that
/// named only `alias` before. A second, different payment for the same name makes it name none.
pub(super) fn remember(
    c: &mut DbConn,
    gateway: GatewayId,
    alias: &str,
    payment_id: &str,
    policy: Policy,
    now: i64,
) -> Result<(Outcome, String), TxError> {
    if alias == payment_id {
        return Ok((Outcome::Recorded, "names the payment by its own id".into()));
    }
    if model::insert_alias(c, gateway, alias, payment_id, now)? {
        let applied = apply_earlier(c, gateway, alias, payment_id, policy, now)?;
        let more = if applied > 0 { format!("; {applied} earlier event(s) naming it applied") } else { String::new() };
        return Ok((Outcome::Recorded, format!("{alias} names payment {payment_id}{more}")));
    }
    let detail = match model::find_alias_link(c, gateway, alias)?.as_deref() {
        None => format!("{alias} names payment {payment_id}: the link could not be stored"),
        Some(known) if known == payment_id => format!("{alias} names payment {payment_id} (known)"),
        Some("") => format!("{alias} names several payments: events naming only it are left for an admin"),
        Some(known) => {
            model::mark_alias_ambiguous(c, gateway, alias)?;
            tracing::warn!(
                event = "payment_alias_conflict",
                gateway = gateway.as_str(),
                alias,
                "one name for two payments"
            );
            format!(
                "{alias} names payments {known} and {payment_id}: events naming only it from now on are left for \
                 an admin (those before were applied to {known})"
            )
        }
    };
    Ok((Outcome::Recorded, detail))
}

/// Applies, oldest first, the events that named only `alias` and found no order: refunds as if
/// they had named `payment_id`, and the payment's own success (when it succeeded) as its
/// duplicate. How many were applied.
fn apply_earlier(
    c: &mut DbConn,
    gateway: GatewayId,
    alias: &str,
    payment_id: &str,
    policy: Policy,
    now: i64,
) -> Result<usize, TxError> {
    let mut applied = 0;
    let unknown = Outcome::UnknownOrder.as_str();
    for e in model::unfiled_events_naming(c, gateway, alias, unknown)? {
        // Another transaction (the sweep, a link delivered twice at once) may apply it first.
        if !model::lock_unfiled_event(c, &e.id, unknown)? {
            continue;
        }
        let (outcome, detail) = match e.kind.as_str() {
            "refunded" | "partially_refunded" => {
                let kind = if e.kind == "refunded" { EventKind::Refunded } else { EventKind::PartiallyRefunded };
                let ev = VerifiedEvent {
                    event_id: e.event_id.clone(),
                    kind,
                    order_id: None,
                    payment_id: payment_id.to_string(),
                    amount_minor: e.amount_minor,
                    currency: e.currency.clone(),
                    three_ds: None,
                    subscription: None,
                };
                match decide(c, gateway, &ev, policy, now)? {
                    // The payment is not recorded yet: the sweep tries again once it is.
                    (Outcome::UnknownOrder, _) => continue,
                    decided => decided,
                }
            }
            "succeeded" => match model::find_by_gateway_id(c, gateway, payment_id)? {
                Some(p)
                    if matches!(
                        p.status,
                        PaymentStatus::Succeeded | PaymentStatus::PartiallyRefunded | PaymentStatus::Refunded
                    ) =>
                {
                    (Outcome::Duplicate, "repeated success for the same payment".into())
                }
                _ => continue,
            },
            _ => continue,
        };
        let detail = format!("{alias} is {payment_id}, linked later: {detail}");
        model::set_event_outcome(c, &e.id, outcome.as_str(), &detail)?;
        file_under_order(c, gateway, &e.id, payment_id)?;
        applied += 1;
    }
    Ok(applied)
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

/// Applies the recent events that named only a name linked since to one payment (see the module
/// comment); how many. Safe to run again and on several instances: each event is applied once,
/// under its row lock.
pub async fn sweep(state: &AppState, now: i64) -> Result<usize, DbError> {
    const WINDOW_SECS: i64 = 30 * 86_400;
    let unknown = Outcome::UnknownOrder.as_str();
    let named = state.db.read(move |c| Ok(model::unfiled_payment_ids(c, unknown, now - WINDOW_SECS)?)).await?;
    let mut applied = 0;
    for (gateway, alias) in named {
        let Some(alias) = alias else { continue };
        let policy = Policy::of(state, gateway, false);
        applied += state
            .db
            .write_with(move |c| -> Result<usize, TxError> {
                match model::find_alias(c, gateway, &alias)? {
                    Some(payment_id) => apply_earlier(c, gateway, &alias, &payment_id, policy, now),
                    None => Ok(0),
                }
            })
            .await
            .map_err(|e| match e {
                TxError::Db(e) => e,
                TxError::Duplicate => DbError::Unavailable("unexpected duplicate".into()),
            })?;
    }
    if applied > 0 {
        tracing::info!(
            event = "linked_events_applied",
            count = applied,
            "events naming a payment's other name applied"
        );
    }
    Ok(applied)
}

//! How a refund event is judged — partial or full — and what it gave back, counted on the
//! payment so that our own refunds stay within what is left.

use crate::db::DbConn;
use crate::mail::outbox;
use crate::orders::model::Order;
use crate::payments::gateways::{EventKind, GatewayId, VerifiedEvent};
use crate::payments::model::{self, Payment};

/// A refund event, judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Judged {
    /// The payment is only partly refunded afterwards.
    pub partial: bool,
    /// What a payment first seen with this event has given back (its `refunded_minor` when
    /// inserted): a refund we did not start counts from the start.
    pub refunded_minor: i64,
}

/// Judges a refund event about `previous` (the payment, when known) and, for a refund we did
/// not start (the gateway's dashboard, a chargeback), notes what it gave back on the payment
/// (or, for a payment not seen before, returns it to insert the payment with).
/// `notices_add_up`: each of the gateway's refund notices reports one refund (2Checkout).
pub(super) fn judge(
    c: &mut DbConn,
    previous: Option<&Payment>,
    order: &Order,
    ev: &VerifiedEvent,
    notices_add_up: bool,
) -> diesel::QueryResult<Judged> {
    let ours = match previous {
        Some(p) => crate::payments::ops::model::confirmed_refunds(c, &p.id)?,
        None => 0,
    };
    // One captured amount for every comparison here and for what is written: a payment that
    // recorded none (first seen with this refund, or never seen succeed) is taken to have been
    // captured for the order's amount, as a payment inserted by a refund is.
    let captured = captured(previous, order);
    let outside = !ev.event_id.starts_with("op:");
    // Notices that each report one refund: what they gave back with this one counted.
    let summed = (outside && notices_add_up)
        .then(|| refunded_with_notice(previous.map_or(0, |p| p.refunded_minor), captured, &order.currency, ev));
    // Otherwise a gateway that says the refund is partial is believed whatever the amount it reports.
    let partial = match summed {
        Some(total) => total < captured,
        None => ev.kind == EventKind::PartiallyRefunded || refund_is_partial(captured, order, ev, ours),
    };
    // A partial refund counts what it reports only below what was captured (else nothing).
    let refunded = match (summed, ev.amount_minor) {
        _ if !partial => captured,
        (Some(total), _) => total,
        (None, Some(a)) if a <= captured => a.max(0),
        _ => 0,
    };
    if let (Some(p), true) = (previous, outside) {
        model::note_outside_refund(c, &p.id, refunded)?;
    }
    Ok(Judged { partial, refunded_minor: if outside { refunded } else { 0 } })
}

/// Queues the customer's `refund` email, in the transaction that recorded the refund: for each
/// refund we made (`op:` event), and for a refund we did not start once it gave back more than
/// was known before (so the gateway's echo of one of ours sends nothing twice).
pub(super) fn notify_customer(
    c: &mut DbConn,
    gateway: GatewayId,
    order: &Order,
    ev: &VerifiedEvent,
    refunded_before: i64,
    now: i64,
) -> diesel::QueryResult<()> {
    let ours = ev.event_id.starts_with("op:");
    let after = model::find_by_gateway_id(c, gateway, &ev.payment_id)?.map_or(0, |p| p.refunded_minor);
    if ours || after > refunded_before {
        outbox::enqueue(c, outbox::REFUND, order.account_id.as_deref(), Some(&order.id), now)?;
    }
    Ok(())
}

/// What the payment captured; the order's amount when it recorded nothing.
fn captured(previous: Option<&Payment>, order: &Order) -> i64 {
    previous.map(|p| p.captured_minor).filter(|c| *c > 0).unwrap_or(order.amount_minor)
}

/// A refund is partial while less than what was captured has been given back. `ours` is what
/// the gateway confirmed of the refunds we started (reservations of refunds still running do
/// not count). Our own refund (`op:` event) is judged by that sum; a gateway's refund callback —
/// which may be the echo of one of ours, or a refund made elsewhere — by the larger of the two,
/// so an echo is never counted twice (a partial refund elsewhere on top of ours may then be
/// under-counted: the customer keeps access rather than losing it wrongly).
fn refund_is_partial(captured: i64, order: &Order, ev: &VerifiedEvent, ours: i64) -> bool {
    if ev.event_id.starts_with("op:") {
        return ours < captured;
    }
    // An amount in another currency cannot be compared with what was captured: never "full".
    if ev.currency.as_deref().is_some_and(|c| !c.eq_ignore_ascii_case(&order.currency)) {
        return true;
    }
    ours.max(ev.amount_minor.unwrap_or(captured)) < captured
}

/// For a gateway whose refund notices each report one refund (2Checkout): the money given back
/// once this notice is added to `refunded_before` (at most `captured`). A notice in another
/// currency than the order's adds nothing (it cannot be compared); one that calls itself partial
/// counts only an amount below what was captured, and nothing when it names no amount; one
/// without an amount that does not call itself partial gives back everything.
/// Each notice is counted once: a repeat is a duplicate event and never gets here.
fn refunded_with_notice(refunded_before: i64, captured: i64, currency: &str, ev: &VerifiedEvent) -> i64 {
    let foreign = ev.currency.as_deref().is_some_and(|c| !c.eq_ignore_ascii_case(currency));
    let partial = ev.kind == EventKind::PartiallyRefunded;
    let amount = match ev.amount_minor {
        _ if foreign => 0,
        Some(a) if partial && a >= captured => 0,
        Some(a) => a.max(0),
        // "Partial" without saying how much: nothing is counted (never ends the order).
        None if partial => 0,
        None => captured,
    };
    refunded_before.saturating_add(amount).min(captured)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notice(kind: EventKind, amount_minor: Option<i64>, currency: &str) -> VerifiedEvent {
        VerifiedEvent {
            event_id: "1000037:REFUND:x".into(),
            kind,
            order_id: None,
            payment_id: "1000037".into(),
            amount_minor,
            currency: Some(currency.into()),
            three_ds: None,
            subscription: None,
        }
    }

    #[test]
    fn a_notice_adds_its_own_refund_up_to_what_was_captured() {
        let partial = |amount| notice(EventKind::PartiallyRefunded, amount, "USD");
        assert_eq!(refunded_with_notice(400, 1000, "USD", &partial(Some(100))), 500);
        assert_eq!(refunded_with_notice(400, 1000, "usd", &partial(Some(600))), 1000);
        assert_eq!(refunded_with_notice(400, 1000, "USD", &partial(Some(1000))), 400, "partial for everything");
        assert_eq!(refunded_with_notice(400, 1000, "USD", &partial(None)), 400, "partial without an amount");
        assert_eq!(refunded_with_notice(0, 1000, "USD", &partial(None)), 0);
        assert_eq!(refunded_with_notice(400, 1000, "EUR", &partial(Some(100))), 400, "another currency");
        let untyped = |amount| notice(EventKind::Refunded, amount, "USD");
        assert_eq!(refunded_with_notice(400, 1000, "USD", &untyped(Some(100))), 500);
        assert_eq!(refunded_with_notice(400, 1000, "USD", &untyped(None)), 1000, "full without an amount");
    }
}

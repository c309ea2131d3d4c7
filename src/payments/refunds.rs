//! How a refund event is judged — partial or full — and what it gave back, counted on the
//! payment so that our own refunds stay within what is left.

use crate::db::DbConn;
use crate::orders::model::Order;
use crate::payments::gateways::{EventKind, VerifiedEvent};
use crate::payments::model::{self, Payment};

/// Judges a refund event about `previous` (the payment, when known) and, for a refund we did
/// not start (the gateway's dashboard, a chargeback), notes what it gave back on the payment.
/// `notices_add_up`: each of the gateway's refund notices reports one refund (2Checkout).
/// Returns whether the payment is only partly refunded afterwards.
pub(super) fn judge(
    c: &mut DbConn,
    previous: Option<&Payment>,
    order: &Order,
    ev: &VerifiedEvent,
    notices_add_up: bool,
) -> diesel::QueryResult<bool> {
    let ours = match previous {
        Some(p) => crate::payments::ops::model::confirmed_refunds(c, &p.id)?,
        None => 0,
    };
    let outside = !ev.event_id.starts_with("op:");
    // Notices that each report one refund: what they gave back with this one counted.
    let summed = match previous {
        Some(p) if outside && notices_add_up => Some(refunded_with_notice(p, order, ev)),
        _ => None,
    };
    // Otherwise a gateway that says the refund is partial is believed whatever the amount it reports.
    let partial = match summed {
        Some((total, captured)) => total < captured,
        None => ev.kind == EventKind::PartiallyRefunded || refund_is_partial(previous, order, ev, ours),
    };
    if let (Some(p), true) = (previous, outside) {
        // A partial refund counts what it reports only below what was captured (else nothing).
        let amount = match (summed, ev.amount_minor) {
            (Some((total, _)), _) => total,
            (None, Some(a)) if !partial || a <= p.captured_minor => a,
            _ if partial => 0,
            _ => p.captured_minor,
        };
        model::note_outside_refund(c, &p.id, amount, !partial)?;
    }
    Ok(partial)
}

/// A refund is partial while less than what was captured has been given back. `ours` is what
/// the gateway confirmed of the refunds we started (reservations of refunds still running do
/// not count). Our own refund (`op:` event) is judged by that sum; a gateway's refund callback —
/// which may be the echo of one of ours, or a refund made elsewhere — by the larger of the two,
/// so an echo is never counted twice (a partial refund elsewhere on top of ours may then be
/// under-counted: the customer keeps access rather than losing it wrongly).
fn refund_is_partial(previous: Option<&Payment>, order: &Order, ev: &VerifiedEvent, ours: i64) -> bool {
    let captured = previous.map(|p| p.captured_minor).filter(|c| *c > 0).unwrap_or(order.amount_minor);
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
/// once this notice is counted (at most what was captured), and what was captured. A notice in
/// another currency adds nothing (it cannot be compared), one without an amount gives back
/// everything, and one that calls itself partial counts only an amount below what was captured.
/// Each notice is counted once: a repeat is a duplicate event and never gets here.
fn refunded_with_notice(p: &Payment, order: &Order, ev: &VerifiedEvent) -> (i64, i64) {
    let captured = Some(p.captured_minor).filter(|c| *c > 0).unwrap_or(order.amount_minor);
    let foreign = ev.currency.as_deref().is_some_and(|c| !c.eq_ignore_ascii_case(&order.currency));
    let amount = match ev.amount_minor {
        _ if foreign => 0,
        Some(a) if ev.kind == EventKind::PartiallyRefunded && a >= captured => 0,
        Some(a) => a.max(0),
        None => captured,
    };
    (p.refunded_minor.saturating_add(amount).min(captured), captured)
}

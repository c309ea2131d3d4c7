//! Reconciliation: callbacks get lost, so the sweep asks gateways with a status API about
//! payments it started for orders still `pending_payment` — once a start is older than
//! `reconcile_after_minutes` (then at most every that many minutes), and a last time when the
//! order's TTL has passed, just before the sweep expires it. A "paid" answer becomes a
//! synthetic [`VerifiedEvent`] (event id `reconcile:{reference}`) applied by the very same
//! [`apply_event`] as a callback: one transaction, dedupe, amount/currency/order cross-check,
//! exactly-once provisioning. Unpaid or unknown answers change nothing; failures are logged
//! (`reconcile_failed`) and asked again on the next sweep. Work per sweep is bounded.

use futures_util::stream::{self, StreamExt};

use crate::payments::gateways::{EventKind, VerifiedEvent};
use crate::payments::service::{apply_event, Outcome};
use crate::payments::start::status::Status;
use crate::payments::start::StartError;
use crate::payments::starts::{self, PaymentStart};
use crate::state::AppState;

/// Starts asked about per sweep.
pub const BATCH: i64 = 50;
/// Questions in flight at once.
const PARALLEL: usize = 4;

/// Asks the gateways about due starts; returns how many orders were provisioned.
pub async fn run(state: &AppState, now: i64) -> usize {
    let after = state.settings.reconcile_after_minutes.saturating_mul(60);
    let due = match state.db.write(move |c| starts::claim_due(c, now, after, BATCH).map_err(Into::into)).await {
        Ok(due) => due,
        Err(e) => {
            tracing::warn!(event = "reconcile_failed", error = %e, "could not load payments to reconcile");
            return 0;
        }
    };
    let provisioned = stream::iter(due)
        .map(|s| check(state, s, now - after))
        .buffer_unordered(PARALLEL)
        .filter(|done| std::future::ready(*done))
        .count()
        .await;
    if provisioned > 0 {
        tracing::info!(event = "payments_reconciled", count = provisioned, "lost callbacks repaired");
    }
    provisioned
}

/// Asks about one start; true when its order was provisioned. `retry_at` is the `checked_at`
/// that makes the next sweep ask again after a failure.
async fn check(state: &AppState, start: PaymentStart, retry_at: i64) -> bool {
    let PaymentStart { gateway: name, reference, order_id, .. } = &start;
    // Only enabled gateways, and the name as the registry spells it.
    let Some(gateway) = state.gateways.by_id(*name) else {
        tracing::debug!(event = "reconcile_skipped", gateway = %name, order_id = %order_id, "gateway not enabled");
        return false;
    };
    let gw = gateway.name();
    let paid = match gateway.status(state, reference).await {
        Ok(Status::Paid(paid)) => paid,
        Ok(Status::Unpaid(word)) => {
            tracing::debug!(event = "reconcile_unpaid", gateway = gw, order_id = %order_id, status = %word, "not paid");
            return false;
        }
        Err(e) => {
            tracing::warn!(event = "reconcile_failed", gateway = gw, order_id = %order_id, error = %e, "status API failed");
            if matches!(e, StartError::Gateway(_)) {
                retry_later(state, &start, retry_at).await;
            }
            return false;
        }
    };
    // We created it for this order: an answer naming another one is not believed.
    if paid.order_id.as_ref().is_some_and(|o| o != order_id) {
        tracing::warn!(event = "reconcile_failed", gateway = gw, order_id = %order_id, "status answer names another order");
        return false;
    }
    // The same bounds as a callback's ids: the answer is the gateway's, not signed by it.
    let Ok(payment_id) = crate::payments::gateways::checked_id("payment id", &paid.payment_id, 255) else {
        tracing::warn!(event = "reconcile_failed", gateway = gw, order_id = %order_id, "status answer has a malformed payment id");
        retry_later(state, &start, retry_at).await;
        return false;
    };
    let ev = VerifiedEvent {
        event_id: format!("reconcile:{reference}"),
        kind: EventKind::Succeeded,
        order_id: Some(order_id.clone()),
        payment_id,
        amount_minor: paid.amount_minor,
        currency: paid.currency,
        three_ds: paid.three_ds,
        subscription: None,
    };
    match apply_event(state, gateway.id(), ev).await {
        Ok(outcome) => {
            tracing::info!(
                event = "payment_reconciled",
                gateway = gw,
                order_id = %order_id,
                outcome = outcome.as_str(),
                "gateway reports the payment paid"
            );
            outcome == Outcome::Provisioned
        }
        Err(e) => {
            tracing::warn!(event = "reconcile_failed", gateway = gw, order_id = %order_id, error = %e, "could not apply");
            retry_later(state, &start, retry_at).await;
            false
        }
    }
}

async fn retry_later(state: &AppState, start: &PaymentStart, at: i64) {
    let (gateway, reference) = (start.gateway, start.reference.clone());
    let result = state.db.write(move |c| starts::set_checked(c, gateway, &reference, at).map_err(Into::into)).await;
    if let Err(e) = result {
        tracing::warn!(event = "reconcile_failed", order_id = %start.order_id, error = %e, "could not reschedule");
    }
}

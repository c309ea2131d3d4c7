//! Periodic housekeeping: ask gateways about stale payments (lost callbacks), expire unpaid
//! orders, drop dead sessions, shrink rate-limit maps, send the renewal reminders and expiry
//! notices (`access.expiring` / `access.expired` webhook events and their emails), purge
//! expired renewal links and spent OpenID Connect codes and tokens.

use std::time::Duration;

use tokio::sync::watch;

use crate::orders::model as orders;
use crate::sessions::model as sessions;
use crate::state::AppState;

/// How long an expired renewal link is kept (its page can still say "expired" rather than "unknown").
const PURGE_AFTER_SECS: i64 = 30 * 86_400;

/// One pass of every sweep; returns (orders expired, sessions deleted).
pub async fn sweep_once(state: &AppState) -> Result<(usize, usize), crate::db::DbError> {
    let now = state.clock.now();
    // Before expiring: a payment that did go through (its callback lost) is provisioned, not expired.
    crate::payments::reconcile::run(state, now).await;
    // Refunds and successes that named a payment by a name linked to it since (Stripe basil).
    if let Err(e) = crate::payments::service::apply_linked_events(state, now).await {
        tracing::warn!(event = "linked_events_failed", error = %e, "could not apply events to linked payments");
    }
    let idle = state.settings.session_idle_minutes * 60;
    let admin_idle = state.settings.admin_session_idle_minutes * 60;
    let (result, abandoned) = state
        .db
        .write(move |c| {
            crate::admin::access::model::delete_expired_sessions(c, now, admin_idle)?;
            crate::idempotency::delete_old(c, now)?;
            let abandoned = crate::payments::ops::model::mark_abandoned(c, now)?;
            crate::jobs::access_expiry::sweep(c, now)?;
            crate::renewals::model::purge_expired(c, now - PURGE_AFTER_SECS)?;
            crate::oidc::model::purge_codes(c, now)?;
            crate::oidc::model::purge_tokens(c, now)?;
            Ok(((orders::expire_stale(c, now)?, sessions::delete_expired(c, now, idle)?), abandoned))
        })
        .await?;
    if abandoned > 0 {
        tracing::warn!(
            event = "payment_operations_abandoned",
            count = abandoned,
            "admin payment operations got no answer; marked unknown (refund amounts stay reserved)"
        );
    }
    state.limiters.shrink();
    if result.0 > 0 {
        tracing::info!(event = "orders_expired", count = result.0, "unpaid orders expired");
    }
    Ok(result)
}

/// Runs the sweeps at start (an instance that was down catches up at once) and then every
/// minute until shutdown.
pub async fn run(state: AppState, mut shutdown: watch::Receiver<bool>) {
    let mut wait = Duration::ZERO;
    loop {
        tokio::select! {
            _ = shutdown.changed() => return,
            _ = tokio::time::sleep(wait) => {}
        }
        wait = Duration::from_secs(60);
        if let Err(e) = sweep_once(&state).await {
            tracing::warn!(event = "sweep_failed", error = %e, "sweep could not run");
        }
    }
}

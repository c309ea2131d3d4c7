//! The webhook delivery worker: claims due deliveries with a short lease renewed while the
//! attempt runs (a crashed worker's delivery is taken over within seconds; on PostgreSQL
//! `FOR UPDATE SKIP LOCKED` gives each delivery to one instance), signs and sends them, and
//! records the answer: 2xx delivered; 410 Gone disables the endpoint; anything else is tried
//! again after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h, then the delivery is dead.

use std::time::Duration;

use tokio::sync::watch;

use crate::db::DbError;
use crate::payments::gateways::standard_webhooks;
use crate::state::AppState;
use crate::webhooks::deliver;
use crate::webhooks::model::{self, Attempt, Claimed, Endpoint, StoredEvent};

/// Delay before each attempt: at once, then the retries. After the last one the delivery is dead.
pub const SCHEDULE: [i64; 8] = [0, 5, 300, 1800, 7200, 18_000, 36_000, 36_000];

/// When to try again after failed attempt number `attempts` (1-based); `None`: give up.
pub fn next_attempt(attempts: i32, now: i64) -> Option<i64> {
    SCHEDULE.get(usize::try_from(attempts).ok()?).map(|delay| now + delay)
}

/// Runs until `shutdown` turns true.
pub async fn run(state: AppState, mut shutdown: watch::Receiver<bool>) {
    let poll = Duration::from_millis(state.settings.worker_poll_ms.max(10));
    // Said once per outage, like the mail worker.
    let mut db_down = false;
    loop {
        loop {
            if *shutdown.borrow() {
                return;
            }
            match run_one(&state).await {
                Ok(ran) => {
                    if std::mem::take(&mut db_down) {
                        tracing::info!(
                            event = "webhook_worker_db_restored",
                            "webhook worker reaches the database again"
                        );
                    }
                    if !ran {
                        break;
                    }
                }
                Err(e) => {
                    if !std::mem::replace(&mut db_down, true) {
                        tracing::warn!(event = "webhook_worker_db_error", error = %e, "webhook worker cannot reach the database; retrying every poll");
                    }
                    break;
                }
            }
        }
        tokio::select! {
            _ = shutdown.changed() => {}
            _ = tokio::time::sleep(poll) => {}
        }
    }
}

/// Claims and attempts one due delivery; false when none is due.
pub async fn run_one(state: &AppState) -> Result<bool, DbError> {
    let now = state.clock.now();
    let lease = state.settings.outbox_lease_secs;
    let Some(claim) = state.db.write(move |c| Ok(model::claim(c, now, lease)?)).await? else {
        return Ok(false);
    };
    let (endpoint_id, event_id) = (claim.endpoint_id.clone(), claim.event_id.clone());
    let found =
        state.db.read(move |c| Ok((model::find_endpoint(c, &endpoint_id)?, model::find_event(c, &event_id)?))).await?;
    let (Some(endpoint), Some(event)) = found else {
        // The claim query joins an active endpoint and the event row exists with its delivery.
        return Ok(true);
    };
    let Some(answer) = attempt_with_heartbeat(state, &claim, endpoint.clone(), event).await else {
        tracing::warn!(event = "webhook_claim_lost", delivery_id = %claim.id, "another worker took this delivery over");
        return Ok(true);
    };
    record(state, &claim, &endpoint, answer).await?;
    Ok(true)
}

/// Runs the attempt on its own task, renewing the lease every third of it; `None` when the
/// claim was lost meanwhile (the attempt is stopped).
async fn attempt_with_heartbeat(
    state: &AppState,
    claim: &Claimed,
    endpoint: Endpoint,
    event: StoredEvent,
) -> Option<deliver::Answer> {
    let lease = state.settings.outbox_lease_secs;
    let mut task = tokio::spawn({
        let state = state.clone();
        async move { attempt(&state, &endpoint, &event).await }
    });
    let every = Duration::from_secs((lease / 3).max(1) as u64);
    let mut beat = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    loop {
        tokio::select! {
            joined = &mut task => {
                return Some(joined.unwrap_or_else(|e| deliver::Answer {
                    status: None,
                    error: Some(format!("the attempt failed on our side: {e}")),
                }));
            }
            _ = beat.tick() => {
                let (now, held) = (state.clock.now(), claim.clone());
                if let Ok(false) = state.db.write(move |c| Ok(model::heartbeat(c, &held, now, lease)?)).await {
                    task.abort();
                    return None;
                }
            }
        }
    }
}

/// Checks the target again (DNS may have changed since the endpoint was created), signs with
/// every current secret and sends.
async fn attempt(state: &AppState, endpoint: &Endpoint, event: &StoredEvent) -> deliver::Answer {
    let refused = |e: String| deliver::Answer { status: None, error: Some(e) };
    let url = match deliver::parse_url(&endpoint.url) {
        Ok(u) => u,
        Err(e) => return refused(e.to_string()),
    };
    let addrs = match deliver::resolve_checked(&url, state.settings.webhooks.webhook_allow_private).await {
        Ok(a) => a,
        Err(e) => return refused(format!("refused: {e}")),
    };
    let now = state.clock.now();
    let mut signatures = Vec::new();
    for secret in endpoint.signing_secrets(now) {
        match standard_webhooks::decode_secret(secret) {
            Ok(key) => signatures.push(standard_webhooks::sign(&key, &event.id, now, event.payload.as_bytes())),
            Err(_) => return refused("the endpoint's secret cannot be read".into()),
        }
    }
    let headers = [
        ("webhook-id", event.id.clone()),
        ("webhook-timestamp", now.to_string()),
        ("webhook-signature", signatures.join(" ")),
    ];
    deliver::post(&url, &addrs, &headers, &event.payload).await
}

async fn record(
    state: &AppState,
    claim: &Claimed,
    endpoint: &Endpoint,
    answer: deliver::Answer,
) -> Result<(), DbError> {
    let now = state.clock.now();
    let gone = answer.status == Some(410);
    let delivered = answer.error.is_none();
    let retry_at = if delivered || gone { None } else { next_attempt(claim.attempts, now) };
    let outcome = match (delivered, retry_at) {
        (true, _) => model::DELIVERED,
        (false, Some(_)) => model::PENDING,
        (false, None) => model::DEAD,
    };
    let (held, endpoint_id, kind) = (claim.clone(), endpoint.id.clone(), outcome);
    let error = answer.error.clone();
    let status = answer.status.map(i32::from);
    state
        .db
        .write(move |c| {
            let a = Attempt { status, error: error.as_deref(), outcome: kind, retry_at: retry_at.unwrap_or(now) };
            if model::record(c, &held, &a, now)? && gone {
                let reason = format!("the receiver answered 410 Gone at {}", crate::clock::rfc3339(now));
                model::set_endpoint_status(c, &endpoint_id, model::DISABLED, Some(&reason), now)?;
            }
            Ok(())
        })
        .await?;
    let (id, endpoint_id, attempt) = (&claim.id, &endpoint.id, claim.attempts);
    state.metrics.webhook_delivery(match outcome {
        model::DELIVERED => "delivered",
        model::PENDING => "retry",
        _ if gone => "gone",
        _ => "dead",
    });
    match outcome {
        model::DELIVERED => {
            tracing::info!(event = "webhook_delivered", delivery_id = %id, endpoint_id = %endpoint_id, attempt, "webhook delivered")
        }
        model::PENDING => {
            tracing::warn!(event = "webhook_retry", delivery_id = %id, endpoint_id = %endpoint_id, attempt, error = ?answer.error, "webhook will be retried")
        }
        _ if gone => {
            tracing::warn!(event = "webhook_endpoint_disabled", endpoint_id = %endpoint_id, "the receiver answered 410 Gone; endpoint disabled")
        }
        _ => {
            tracing::error!(event = "webhook_dead", delivery_id = %id, endpoint_id = %endpoint_id, error = ?answer.error, "webhook given up")
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_retry_schedule() {
        let delays: Vec<Option<i64>> = (1..=8).map(|n| next_attempt(n, 0)).collect();
        assert_eq!(
            delays,
            vec![Some(5), Some(300), Some(1800), Some(7200), Some(18_000), Some(36_000), Some(36_000), None]
        );
    }
}

//! The mail worker: claims due outbox jobs with a short lease that it renews while the job
//! runs (so a crashed worker's job is taken over within seconds), sends them, records the
//! result (retry with backoff, dead-letter after the cap). Each job runs under a panic guard
//! and a time limit: a panicking or hung job is logged and retried like a failure, the worker
//! goes on; a job whose claim was lost is abandoned at once. On shutdown it finishes the job
//! in hand and stops.

use std::time::Duration;

use tokio::sync::watch;

use crate::db::DbError;
use crate::jobs::emails::{send_job, Sent};
use crate::mail::outbox::{self, Job};
use crate::mail::transport::SendError;
use crate::state::AppState;

/// Runs until `shutdown` turns true.
pub async fn run(state: AppState, mut shutdown: watch::Receiver<bool>) {
    let poll = Duration::from_millis(state.settings.worker_poll_ms.max(10));
    // The pool logs the outage's cause; the worker says once that it waits, and once that it resumed.
    let mut db_down = false;
    loop {
        loop {
            if *shutdown.borrow() {
                return;
            }
            match run_one(&state).await {
                Ok(ran) => {
                    if std::mem::take(&mut db_down) {
                        tracing::info!(event = "worker_db_restored", "mail worker reaches the database again");
                    }
                    if !ran {
                        break;
                    }
                }
                Err(e) => {
                    if !std::mem::replace(&mut db_down, true) {
                        tracing::warn!(event = "worker_db_error", error = %e, "mail worker cannot reach the database; retrying every poll");
                    }
                    break;
                }
            }
        }
        tokio::select! {
            _ = shutdown.changed() => {}
            _ = state.worker_wake.notified() => {}
            _ = tokio::time::sleep(poll) => {}
        }
    }
}

/// Claims and processes one due job; false when none is due.
pub async fn run_one(state: &AppState) -> Result<bool, DbError> {
    let now = state.clock.now();
    let lease = state.settings.outbox_lease_secs;
    let Some(job) = state.db.write(move |c| Ok(outbox::claim(c, now, lease)?)).await? else {
        return Ok(false);
    };
    if job.handed_over_at.is_some() {
        tracing::warn!(
            event = "mail_possible_repeat",
            job_id = %job.id,
            kind = %job.kind,
            attempt = job.attempts,
            "an earlier attempt handed this email over and no answer was recorded; the customer may get a second copy"
        );
    }
    let result = run_guarded(state, &job, attempt_limit(state)).await;
    record(state, &job, result).await?;
    Ok(true)
}

/// The longest one attempt may run: an SMTP session is a handful of commands, each bounded
/// by `smtp_timeout_secs`, plus the hashing of a new password.
pub fn attempt_limit(state: &AppState) -> Duration {
    Duration::from_secs(state.settings.smtp_timeout_secs.saturating_mul(6).saturating_add(60))
}

/// Runs the job on its own task, renewing the lease every third of it. A panic inside the
/// job, or a job still running after `limit`, becomes a failure of this attempt; a job whose
/// claim was lost (or whose lease could not be renewed for a whole lease) is aborted.
async fn run_guarded(state: &AppState, job: &Job, limit: Duration) -> Result<Sent, SendError> {
    let lease = state.settings.outbox_lease_secs;
    let mut task = tokio::spawn({
        let (state, job) = (state.clone(), job.clone());
        async move { send_job(&state, &job).await }
    });
    let every = Duration::from_secs((lease / 3).max(1) as u64);
    let mut beat = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    let deadline = tokio::time::sleep(limit);
    tokio::pin!(deadline);
    let mut renewed = tokio::time::Instant::now();
    loop {
        tokio::select! {
            _ = &mut deadline => {
                task.abort();
                tracing::error!(event = "mail_job_timed_out", job_id = %job.id, kind = %job.kind, attempt = job.attempts, limit_secs = limit.as_secs(), "an email job ran past its time limit and was stopped; the attempt counts as failed");
                return Err(SendError::Transient(format!("the attempt ran past its time limit of {} s", limit.as_secs())));
            }
            joined = &mut task => {
                return match joined {
                    Ok(result) => result,
                    Err(e) if e.is_panic() => {
                        let message = crate::db::panic_message(e.into_panic().as_ref());
                        tracing::error!(event = "mail_job_panicked", job_id = %job.id, kind = %job.kind, attempt = job.attempts, panic = %message, "an email job panicked (a bug); the attempt counts as failed");
                        Err(SendError::Transient(format!("the job panicked: {message}")))
                    }
                    Err(e) => Err(SendError::Transient(format!("the job was cancelled: {e}"))),
                };
            }
            _ = beat.tick() => {
                let (now, held) = (state.clock.now(), job.clone());
                match state.db.write(move |c| Ok(outbox::heartbeat(c, &held, now, lease)?)).await {
                    Ok(true) => renewed = tokio::time::Instant::now(),
                    Ok(false) => {
                        task.abort();
                        return Err(SendError::ClaimLost);
                    }
                    Err(e) => {
                        tracing::warn!(event = "mail_heartbeat_failed", job_id = %job.id, error = %e, "could not renew the email's lease");
                        if renewed.elapsed() >= Duration::from_secs(lease.max(1) as u64) {
                            // The lease ran out unrenewed: another worker may hold the job now.
                            task.abort();
                            return Err(SendError::ClaimLost);
                        }
                    }
                }
            }
        }
    }
}

async fn record(state: &AppState, job: &Job, result: Result<Sent, SendError>) -> Result<(), DbError> {
    let now = state.clock.now();
    let held = job.clone();
    match result {
        Ok(provisions) => {
            tracing::info!(event = "mail_sent", job_id = %job.id, kind = %job.kind, attempt = job.attempts, "email sent");
            state.metrics.email("sent");
            state.db.write(move |c| Ok(outbox::mark_sent(c, &held, now, provisions.as_deref())?)).await?;
        }
        Err(SendError::ClaimLost) => {
            tracing::warn!(event = "mail_claim_lost", job_id = %job.id, kind = %job.kind, "another worker took this email over; this worker stopped it");
        }
        Err(e) => {
            let refused = matches!(e, SendError::Refused { .. });
            let give_up = matches!(e, SendError::Permanent(_) | SendError::Refused { permanent: true, .. })
                || job.attempts >= state.settings.outbox_max_attempts;
            let retry_at = (!give_up).then(|| now + outbox::backoff_secs(job.attempts));
            state.metrics.email(if give_up { "dead" } else { "retry" });
            if give_up {
                tracing::error!(event = "mail_dead_lettered", job_id = %job.id, kind = %job.kind, error = %e, "email given up");
            } else {
                tracing::warn!(event = "mail_retry", job_id = %job.id, kind = %job.kind, error = %e, attempt = job.attempts, "email will be retried");
            }
            let msg = e.to_string();
            state.db.write(move |c| Ok(outbox::mark_failed(c, &held, &msg, retry_at, refused)?)).await?;
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "worker_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "claim_tests.rs"]
mod claim_tests;

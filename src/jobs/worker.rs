//! The mail worker: claims due outbox jobs, sends them, records the result (retry with
//! backoff, dead-letter after the cap). On shutdown it finishes the job in hand and stops.

use std::time::Duration;

use tokio::sync::watch;

use crate::jobs::emails::send_job;
use crate::mail::outbox::{self, Job};
use crate::mail::transport::SendError;
use crate::state::AppState;

/// Runs until `shutdown` turns true.
pub async fn run(state: AppState, mut shutdown: watch::Receiver<bool>) {
    let poll = Duration::from_millis(state.settings.worker_poll_ms.max(10));
    loop {
        loop {
            if *shutdown.borrow() {
                return;
            }
            match run_one(&state).await {
                Ok(true) => continue,
                Ok(false) => break,
                Err(e) => {
                    tracing::warn!(event = "worker_db_error", error = %e, "mail worker cannot reach the database");
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
pub async fn run_one(state: &AppState) -> Result<bool, crate::db::DbError> {
    let now = state.clock.now();
    let Some(job) = state.db.write(move |c| Ok(outbox::claim(c, now)?)).await? else {
        return Ok(false);
    };
    let result = send_job(state, &job).await;
    record(state, &job, result).await?;
    Ok(true)
}

async fn record(state: &AppState, job: &Job, result: Result<(), SendError>) -> Result<(), crate::db::DbError> {
    let now = state.clock.now();
    let id = job.id.clone();
    match result {
        Ok(()) => {
            tracing::info!(event = "mail_sent", job_id = %job.id, kind = %job.kind, attempt = job.attempts, "email sent");
            state.db.write(move |c| Ok(outbox::mark_sent(c, &id, now)?)).await?;
        }
        Err(e) => {
            let give_up = matches!(e, SendError::Permanent(_)) || job.attempts >= state.settings.outbox_max_attempts;
            let retry_at = (!give_up).then(|| now + outbox::backoff_secs(job.attempts));
            if give_up {
                tracing::error!(event = "mail_dead_lettered", job_id = %job.id, kind = %job.kind, error = %e, "email given up");
            } else {
                tracing::warn!(event = "mail_retry", job_id = %job.id, kind = %job.kind, error = %e, attempt = job.attempts, "email will be retried");
            }
            let msg = e.to_string();
            state.db.write(move |c| Ok(outbox::mark_failed(c, &id, &msg, retry_at)?)).await?;
        }
    }
    Ok(())
}

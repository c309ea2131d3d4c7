//! The outbox on demand, as crates.io's `run_pending_background_jobs()`: a test runs every
//! due job now (and waits for the ones the app's own worker holds), then asserts what was
//! sent — instead of sleeping to conclude that nothing more will come.

use std::time::{Duration, Instant};

use keyturn::mail::outbox;

use super::{Kind, TestApp, MAIL_TIMEOUT};

impl TestApp {
    pub(super) fn app_state(&self) -> &keyturn::state::AppState {
        &self.app.as_ref().expect("an in-process app").state
    }

    /// Runs every outbox job and webhook delivery that is due now until none is left (sent,
    /// retried later or dead-lettered). Jobs the app's own worker holds are waited for; later ones (backoff)
    /// stay queued.
    pub async fn run_pending_jobs(&self) {
        let state = self.app_state();
        let deadline = Instant::now() + MAIL_TIMEOUT;
        loop {
            while keyturn::jobs::worker::run_one(state).await.expect("outbox reachable") {}
            while keyturn::jobs::webhook_worker::run_one(state).await.expect("webhook deliveries reachable") {}
            let now = state.clock.now();
            let due = state
                .db
                .read(move |c| Ok(outbox::due_count(c, now)? + keyturn::webhooks::model::due_count(c, now)?))
                .await
                .expect("outbox reachable");
            if due == 0 {
                return;
            }
            assert!(Instant::now() < deadline, "{due} due job(s) still held by a worker after {MAIL_TIMEOUT:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Asserts that no email waits in the outbox, not even one scheduled for later.
    pub async fn assert_no_pending_jobs(&self) {
        let pending = self.app_state().db.read(|c| Ok(outbox::pending_count(c)?)).await.expect("outbox reachable");
        assert_eq!(pending, 0, "emails still waiting in the outbox");
    }

    /// Runs the due jobs, then asserts that exactly `n` emails of `kind` went to `to`.
    pub async fn assert_mail_count(&self, to: &str, kind: Kind, n: usize) {
        self.run_pending_jobs().await;
        let got = self.mail.to(to);
        let subjects: Vec<&str> = got.iter().map(|m| m.subject.as_str()).collect();
        let count = got.iter().filter(|m| kind == Kind::Any || m.kind() == kind).count();
        assert_eq!(count, n, "expected {n} {kind:?} email(s) to {to}, got {count}: {subjects:?}");
    }
}

//! The worker's guards: a panicking job, lost and lapsed claims, the hand-over record.

use std::time::Duration;

use crate::accounts::model::{self as accounts, Account};
use crate::clock::Clock;
use crate::config::Settings;
use crate::mail::outbox;
use crate::state::AppState;

async fn state(dir: &std::path::Path, pairs: &[(&str, &str)]) -> AppState {
    let data = dir.to_string_lossy().into_owned();
    let mut all = vec![("data_dir", data.as_str()), ("outbox_max_attempts", "2")];
    all.extend_from_slice(pairs);
    let settings = Settings::from_pairs(all).expect("settings");
    crate::app::build_state(settings, Clock::system(), "http://127.0.0.1:9".into()).await.expect("state")
}

pub(super) fn account(now: i64) -> Account {
    Account {
        id: crate::crypto::random_id("acc").into(),
        login: crate::crypto::random_login(),
        email: "panic-test@example.test".into(),
        name: "Panic Test".into(),
        status: accounts::ACTIVE,
        password_hash: None,
        must_change_password: false,
        temp_password_expires_at: None,
        email_verified_at: Some(now),
        failed_logins: 0,
        failed_window_start: 0,
        created_at: now,
        updated_at: now,
        renewal_reminders: true,
        locale: "en".into(),
    }
}

pub(super) fn emails_written(state: &AppState) -> Vec<String> {
    std::fs::read_dir(state.settings.mail_dir())
        .map(|d| d.flatten().filter_map(|e| std::fs::read_to_string(e.path()).ok()).collect())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_job_is_retried_then_dead_lettered_and_the_worker_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let state = state(dir.path(), &[]).await;
    let now = state.clock.now();
    let acc = account(now);
    let panic_id = state
        .db
        .write(move |c| {
            accounts::insert(c, &acc)?;
            let id = outbox::enqueue_raw(c, "test_panic", None, None, now - 1)?;
            outbox::enqueue(c, outbox::ACTIVATION, Some(&acc.id), None, now)?;
            Ok(id)
        })
        .await
        .unwrap();

    let (stop, rx) = tokio::sync::watch::channel(false);
    let worker = tokio::spawn(super::run(state.clone(), rx));
    // The activation email, queued after the panicking job, still goes out.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !emails_written(&state).iter().any(|m| m.contains("panic-test@example.test")) {
        assert!(std::time::Instant::now() < deadline, "the worker stopped after a panicking job");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let read = |state: &AppState, id: &str| {
        let id = id.to_string();
        let db = state.db.clone();
        async move {
            use crate::db::schema::outbox::dsl as o;
            use diesel::prelude::*;
            db.read(move |c| {
                Ok(o::outbox.find(&id).select((o::status, o::last_error)).first::<(String, Option<String>)>(c)?)
            })
            .await
            .unwrap()
        }
    };
    let (status, error) = read(&state, &panic_id).await;
    assert_eq!(status, "pending", "a panic counts as a failed attempt, retried later");
    assert!(error.unwrap_or_default().contains("panicked"));

    // The second (last) attempt panics too: dead-lettered, and the worker still runs.
    state.clock.advance(outbox::backoff_secs(1) + 1);
    state.worker_wake.notify_one();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while read(&state, &panic_id).await.0 != "dead" {
        assert!(std::time::Instant::now() < deadline, "the panicking job was not dead-lettered");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!worker.is_finished(), "the worker ended");
    stop.send(true).unwrap();
    worker.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lapsed_claim_is_taken_over_and_the_old_worker_can_neither_send_nor_record() {
    let dir = tempfile::tempdir().unwrap();
    let state = state(dir.path(), &[]).await;
    let now = state.clock.now();
    let outcome = state
        .db
        .write(move |c| {
            outbox::enqueue(c, outbox::ACTIVATION, None, None, now)?;
            let first = outbox::claim(c, now, 3)?.expect("due");
            // Within the lease nobody else gets it; a heartbeat keeps it.
            assert!(outbox::claim(c, now + 2, 3)?.is_none());
            assert!(outbox::heartbeat(c, &first, now + 2, 3)?);
            assert!(outbox::claim(c, now + 4, 3)?.is_none());
            // The first worker hands over, then dies: the lease lapses, another takes over.
            assert!(outbox::record_handover(c, &first, now + 4, 3)?);
            let second = outbox::claim(c, now + 8, 3)?.expect("lapsed lease taken over");
            assert_eq!(second.handed_over_at, Some(now + 4), "the retry knows it may be a repeat");
            let stale = (
                outbox::heartbeat(c, &first, now + 8, 3)?,
                outbox::record_handover(c, &first, now + 8, 3)?,
                outbox::mark_sent(c, &first, now + 8, None)?,
            );
            assert!(outbox::record_handover(c, &second, now + 8, 3)?);
            assert_eq!(outbox::mark_sent(c, &second, now + 9, None)?, 1);
            Ok(stale)
        })
        .await
        .unwrap();
    assert_eq!(outcome, (false, false, 0), "a worker whose claim was taken over changed the job");
    let repeats = state
        .db
        .read(|c| {
            use crate::db::schema::outbox::dsl as o;
            use diesel::prelude::*;
            Ok(o::outbox
                .filter(o::possible_repeat.eq(true))
                .filter(o::status.eq("sent"))
                .count()
                .get_result::<i64>(c)?)
        })
        .await
        .unwrap();
    assert_eq!(repeats, 1, "the repeat is marked on the job");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_in_a_database_closure_is_a_500_bug_not_a_503_outage() {
    let dir = tempfile::tempdir().unwrap();
    let state = state(dir.path(), &[]).await;
    let e = state.db.write(|_| -> crate::db::DbResult<()> { panic!("bug in a query") }).await.unwrap_err();
    assert!(matches!(&e, crate::db::DbError::Panicked(m) if m.contains("bug in a query")), "{e}");
    let resp = poem::error::ResponseError::as_response(&crate::error::AppError::from(e));
    assert_eq!(resp.status(), 500);
    let body = resp.into_body().into_string().await.unwrap();
    assert!(body.contains("\"internal_error\""), "{body}");
    assert!(!body.contains("bug in a query"), "the panic's text reached the client: {body}");
    assert!(state.db.ping().await, "the pool serves on after the panic");
}

//! The claim's edges: a worker that lost its claim stores no credentials and is stopped, a
//! hung attempt is stopped by the time limit, the hand-over mark survives every failure but a
//! refusal, and claim identities never repeat after an admin's retry.

use std::time::Duration;

use diesel::prelude::*;

use super::tests::{account, emails_written};
use crate::accounts::model as accounts;
use crate::clock::Clock;
use crate::config::Settings;
use crate::mail::outbox::{self, Job};
use crate::mail::transport::SendError;
use crate::state::AppState;

async fn state(dir: &std::path::Path) -> AppState {
    let data = dir.to_string_lossy().into_owned();
    let pairs = [("data_dir", data.as_str()), ("outbox_lease_secs", "3")];
    let settings = Settings::from_pairs(pairs.to_vec()).expect("settings");
    crate::app::build_state(settings, Clock::system(), "http://127.0.0.1:9".into()).await.expect("state")
}

/// Inserts an account (waiting for verification unless `status` says otherwise); its id.
async fn insert_account(state: &AppState, status: accounts::AccountStatus) -> String {
    let mut acc = account(state.clock.now());
    if status == accounts::PENDING_VERIFICATION {
        acc.email_verified_at = None;
    }
    acc.status = status;
    let id = acc.id.clone();
    state.db.write(move |c| Ok(accounts::insert(c, &acc)?)).await.unwrap();
    id.into()
}

async fn password_hash(state: &AppState, id: &str) -> Option<String> {
    let id = id.to_string();
    state.db.read(move |c| Ok(accounts::find_by_id(c, &id)?)).await.unwrap().unwrap().password_hash
}

/// Queues a job of `kind` and claims it at `at`.
async fn claimed(state: &AppState, kind: &'static str, account: Option<String>, at: i64) -> Job {
    state
        .db
        .write(move |c| {
            outbox::enqueue_raw(c, kind, account.as_deref(), None, at)?;
            Ok(outbox::claim(c, at, 3)?.expect("due"))
        })
        .await
        .unwrap()
}

async fn claim_at(state: &AppState, at: i64) -> Option<Job> {
    state.db.write(move |c| Ok(outbox::claim(c, at, 3)?)).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_that_lost_its_claim_replaces_no_credentials_and_sends_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let state = state(dir.path()).await;
    let now = state.clock.now();
    let account_id = insert_account(&state, accounts::PENDING_VERIFICATION).await;
    // A claims; its database is away longer than the lease; B takes over and sends P2.
    let a = claimed(&state, outbox::CREDENTIALS.as_str(), Some(account_id.clone()), now).await;
    let b = claim_at(&state, now + 10).await.expect("the lapsed lease is taken over");
    super::run_guarded(&state, &b, Duration::from_secs(30)).await.expect("B sends");
    let mails = emails_written(&state);
    assert_eq!(mails.len(), 1);
    let p2_hash = password_hash(&state, &account_id).await;
    assert!(p2_hash.is_some());
    // A comes back: it must not overwrite P2 with a password nobody receives.
    let lost = crate::jobs::emails::send_job(&state, &a).await;
    assert!(matches!(lost, Err(SendError::ClaimLost)), "{lost:?}");
    assert_eq!(password_hash(&state, &account_id).await, p2_hash, "the emailed password was replaced");
    assert_eq!(emails_written(&state), mails, "the worker without a claim sent an email");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_heartbeat_that_finds_the_claim_lost_stops_the_job() {
    let dir = tempfile::tempdir().unwrap();
    let state = state(dir.path()).await;
    let now = state.clock.now();
    let a = claimed(&state, "test_hang", None, now).await;
    let run = tokio::spawn({
        let (state, a) = (state.clone(), a.clone());
        async move { super::run_guarded(&state, &a, Duration::from_secs(600)).await }
    });
    // Another worker takes the job over (as if A's lease had lapsed).
    let taken_at = state.clock.now() + 10;
    state.clock.advance(10);
    claim_at(&state, taken_at).await.expect("taken over");
    let result = tokio::time::timeout(Duration::from_secs(10), run).await.expect("the job was not stopped").unwrap();
    assert!(matches!(result, Err(SendError::ClaimLost)), "{result:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_attempt_is_stopped_at_its_time_limit_and_the_next_copy_is_a_known_repeat() {
    let dir = tempfile::tempdir().unwrap();
    let state = state(dir.path()).await;
    let now = state.clock.now();
    let job = claimed(&state, "test_hang", None, now).await;
    let result = super::run_guarded(&state, &job, Duration::from_millis(300)).await;
    assert!(matches!(&result, Err(SendError::Transient(m)) if m.contains("time limit")), "{result:?}");
    super::record(&state, &job, result).await.unwrap();
    // The hung attempt had handed the message over: the retry knows it may be a repeat.
    let next = claim_at(&state, now + 3600).await.expect("retried");
    assert_eq!(next.id, job.id);
    assert!(next.handed_over_at.is_some(), "the hand-over of the stopped attempt was forgotten");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_a_refusal_clears_the_hand_over_and_an_admin_retry_repeats_no_claim() {
    let dir = tempfile::tempdir().unwrap();
    let state = state(dir.path()).await;
    let now = state.clock.now();
    let outcome = state
        .db
        .write(move |c| {
            outbox::enqueue(c, outbox::ACTIVATION, None, None, now)?;
            // Handed over, then a timeout: the mark stays.
            let first = outbox::claim(c, now, 3)?.expect("due");
            assert!(outbox::record_handover(c, &first, now, 3)?);
            outbox::mark_failed(c, &first, "timed out", Some(now + 1), false)?;
            let second = outbox::claim(c, now + 1, 3)?.expect("due");
            let kept = second.handed_over_at;
            // Handed over again, the server refused: back to what it was before this attempt.
            assert!(outbox::record_handover(c, &second, now + 1, 3)?);
            outbox::mark_failed(c, &second, "550 refused", None, true)?;
            // An admin's retry starts `attempts` over; the old claims still cannot act.
            diesel::update(crate::db::schema::outbox::table.find(&second.id))
                .set((crate::db::schema::outbox::status.eq("pending"), crate::db::schema::outbox::attempts.eq(0)))
                .execute(c)?;
            let third = outbox::claim(c, now + 2, 3)?.expect("due again");
            let stale = outbox::heartbeat(c, &first, now + 2, 3)? || outbox::record_handover(c, &first, now + 2, 3)?;
            Ok((kept, third.handed_over_at, third.attempts == first.attempts, stale))
        })
        .await
        .unwrap();
    assert_eq!(outcome, (Some(now), Some(now), true, false));
}

fn header(mail: &str, name: &str) -> String {
    let prefix = format!("{}:", name.to_ascii_lowercase());
    let line = mail.lines().find(|l| l.to_ascii_lowercase().starts_with(&prefix)).expect(name);
    line[prefix.len()..].trim().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_credentials_email_has_its_own_message_id_referring_to_the_first() {
    let dir = tempfile::tempdir().unwrap();
    let state = state(dir.path()).await;
    let now = state.clock.now();
    let account_id = insert_account(&state, accounts::PENDING_VERIFICATION).await;
    // The first attempt is accepted, then the process dies before recording it.
    let first = claimed(&state, outbox::CREDENTIALS.as_str(), Some(account_id), now).await;
    super::run_guarded(&state, &first, Duration::from_secs(30)).await.expect("sent");
    let second = claim_at(&state, now + 10).await.expect("the lapsed job runs again");
    assert!(second.handed_over_at.is_some());
    super::run_guarded(&state, &second, Duration::from_secs(30)).await.expect("sent again");
    let mails = emails_written(&state);
    assert_eq!(mails.len(), 2);
    let ids: Vec<String> = mails.iter().map(|m| header(m, "Message-ID")).collect();
    assert_ne!(ids[0], ids[1], "the copy with the working password shares the first one's Message-ID");
    for (mail, id) in mails.iter().zip(&ids) {
        let root = header(mail, "References");
        assert!(root.starts_with(&format!("<{}@", first.id)), "{root}");
        assert_eq!(header(mail, "In-Reply-To"), root);
        assert_ne!(*id, root);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_activation_email_keeps_one_message_id() {
    let dir = tempfile::tempdir().unwrap();
    let state = state(dir.path()).await;
    let now = state.clock.now();
    let account_id = insert_account(&state, accounts::ACTIVE).await;
    let first = claimed(&state, outbox::ACTIVATION.as_str(), Some(account_id), now).await;
    super::run_guarded(&state, &first, Duration::from_secs(30)).await.expect("sent");
    let second = claim_at(&state, now + 10).await.expect("the lapsed job runs again");
    super::run_guarded(&state, &second, Duration::from_secs(30)).await.expect("sent again");
    let ids: Vec<String> = emails_written(&state).iter().map(|m| header(m, "Message-ID")).collect();
    assert_eq!(ids.len(), 2);
    assert_eq!(ids[0], ids[1]);
    assert!(ids[0].starts_with(&format!("<{}@", first.id)));
}

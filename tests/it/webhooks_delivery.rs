//! Webhook delivery: the retry schedule after a failure, the delivery log and "send again",
//! a dead delivery after the last retry, 410 Gone disabling the endpoint, and exactly one
//! delivery per event when two instances share PostgreSQL.

use serde_json::{json, Value};

use crate::harness::receiver::Receiver;
use crate::harness::*;
use crate::webhooks::{add_endpoint, app_with_local_hooks, signed_with};

/// Support suspends and reinstates an account `n` times: 2n events.
async fn status_events(app: &TestApp, n: usize) {
    let (_, creds) = app.verified().await;
    let support = app.admin("support").await;
    for _ in 0..n {
        for action in ["suspend", "reinstate"] {
            assert_eq!(support.post(&format!("/accounts/{}/{action}", creds.login), &json!({})).await.status(), 204);
        }
    }
}

async fn log(owner: &AdminActor, endpoint: &str) -> Vec<Value> {
    json_status(owner.get(&format!("/webhooks/{endpoint}/deliveries")).await, 200).await["deliveries"]
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_delivery_is_retried_on_schedule_and_can_be_sent_again() {
    let app = app_with_local_hooks().await;
    let receiver = Receiver::start().await;
    let owner = app.admin("owner").await;
    let (endpoint, secret) = add_endpoint(&owner, &receiver, Some(&["account.suspended"])).await;
    receiver.answer(&[500]);
    let (_, creds) = app.verified().await;
    let support = app.admin("support").await;
    assert_eq!(support.post(&format!("/accounts/{}/suspend", creds.login), &json!({})).await.status(), 204);
    app.run_pending_jobs().await;
    assert_eq!(receiver.received().len(), 1);
    let entry = &log(&owner, &endpoint).await[0];
    assert_eq!((entry["status"].as_str(), entry["attempts"].as_i64()), (Some("pending"), Some(1)), "{entry}");
    assert_eq!(entry["last_status_code"], 500);
    assert_eq!(entry["last_error"], "HTTP 500", "the receiver's own words are not kept: {entry}");
    assert!(entry["next_attempt_at"].is_string(), "{entry}");

    // Not before its time (5 s), then delivered with the same webhook-id.
    app.run_pending_jobs().await;
    assert_eq!(receiver.received().len(), 1, "the retry waits for its time");
    app.clock.advance(5);
    app.run_pending_jobs().await;
    let got = receiver.received();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].id, got[1].id, "webhook-id is stable across retries");
    assert!(got[1].timestamp.parse::<i64>().unwrap() >= got[0].timestamp.parse::<i64>().unwrap() + 5);
    assert!(signed_with(&secret, &got[1]));
    let entry = &log(&owner, &endpoint).await[0];
    assert_eq!((entry["status"].as_str(), entry["attempts"].as_i64()), (Some("delivered"), Some(2)), "{entry}");
    assert!(entry["next_attempt_at"].is_null() && entry["delivered_at"].is_string(), "{entry}");

    // Sent again on request, still the same message.
    let delivery = entry["delivery_id"].as_str().unwrap();
    let owner = app.admin("owner").await;
    let retry = format!("/webhooks/{endpoint}/deliveries/{delivery}/retry");
    assert_eq!(owner.post(&retry, &json!({})).await.status(), 202);
    app.run_pending_jobs().await;
    let got = receiver.received();
    assert_eq!(got.len(), 3);
    assert_eq!((got[2].id.as_str(), got[2].body.as_str()), (got[0].id.as_str(), got[0].body.as_str()));
    assert_error(
        owner.post(&format!("/webhooks/{endpoint}/deliveries/whd_nosuch/retry"), &json!({})).await,
        404,
        "not_found",
    )
    .await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_the_last_retry_a_delivery_is_dead_until_sent_again() {
    let app = app_with_local_hooks().await;
    let receiver = Receiver::start().await;
    let owner = app.admin("owner").await;
    let (endpoint, _) = add_endpoint(&owner, &receiver, Some(&["account.suspended"])).await;
    receiver.answer(&[503; 8]);
    let (_, creds) = app.verified().await;
    let support = app.admin("support").await;
    assert_eq!(support.post(&format!("/accounts/{}/suspend", creds.login), &json!({})).await.status(), 204);
    app.run_pending_jobs().await;
    // At once, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
    // "Not yet" is checked a few seconds before the time (real seconds pass meanwhile on a busy
    // machine: the test clock is the system clock plus an offset).
    for (n, wait) in [5, 300, 1800, 7200, 18_000, 36_000, 36_000].into_iter().enumerate() {
        let margin = (wait / 2).min(5);
        app.clock.advance(wait - margin);
        app.run_pending_jobs().await;
        assert_eq!(receiver.received().len(), n + 1, "attempt {} came early", n + 2);
        app.clock.advance(margin);
        app.run_pending_jobs().await;
        assert_eq!(receiver.received().len(), n + 2, "attempt {} did not come", n + 2);
    }
    let owner = app.admin("owner").await;
    let entry = &log(&owner, &endpoint).await[0];
    assert_eq!((entry["status"].as_str(), entry["attempts"].as_i64()), (Some("dead"), Some(8)), "{entry}");
    assert!(entry["next_attempt_at"].is_null());
    app.clock.advance(100_000);
    app.run_pending_jobs().await;
    assert_eq!(receiver.received().len(), 8, "a dead delivery stays dead");
    let owner = app.admin("owner").await;
    let delivery = entry["delivery_id"].as_str().unwrap();
    assert_eq!(
        owner.post(&format!("/webhooks/{endpoint}/deliveries/{delivery}/retry"), &json!({})).await.status(),
        202
    );
    app.run_pending_jobs().await;
    assert_eq!(receiver.received().len(), 9);
    assert_eq!(log(&owner, &endpoint).await[0]["status"], "delivered");
    app.assert_no_pending_jobs().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_410_disables_the_endpoint_until_an_owner_enables_it() {
    let app = app_with_local_hooks().await;
    let receiver = Receiver::start().await;
    let owner = app.admin("owner").await;
    let (endpoint, _) = add_endpoint(&owner, &receiver, Some(&["account.suspended", "account.reinstated"])).await;
    receiver.answer(&[410]);
    let (_, creds) = app.verified().await;
    let support = app.admin("support").await;
    let act = |action: &str| format!("/accounts/{}/{action}", creds.login);
    assert_eq!(support.post(&act("suspend"), &json!({})).await.status(), 204);
    app.run_pending_jobs().await;
    assert_eq!(receiver.received().len(), 1);
    let listed = json_status(owner.get("/webhooks").await, 200).await;
    assert_eq!(listed[0]["status"], "disabled");
    assert!(listed[0]["disabled_reason"].as_str().unwrap().contains("410"));

    // Disabled: new events are not queued for it, and nothing is sent again.
    assert_eq!(support.post(&act("reinstate"), &json!({})).await.status(), 204);
    app.clock.advance(3600);
    app.run_pending_jobs().await;
    assert_eq!(receiver.received().len(), 1);
    let owner = app.admin("owner").await;
    let support = app.admin("support").await;
    let entries = log(&owner, &endpoint).await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!((entries[0]["status"].as_str(), entries[0]["last_status_code"].as_i64()), (Some("dead"), Some(410)));
    let retry = format!("/webhooks/{endpoint}/deliveries/{}/retry", entries[0]["delivery_id"].as_str().unwrap());
    assert_error(owner.post(&retry, &json!({})).await, 409, "endpoint_disabled").await;

    // Enabled again: the given-up message can be sent again and new events flow.
    assert_eq!(owner.post(&format!("/webhooks/{endpoint}/enable"), &json!({})).await.status(), 204);
    assert_error(owner.post(&format!("/webhooks/{endpoint}/enable"), &json!({})).await, 409, "invalid_state").await;
    assert_eq!(owner.post(&retry, &json!({})).await.status(), 202);
    assert_eq!(support.post(&act("suspend"), &json!({})).await.status(), 204);
    app.run_pending_jobs().await;
    let got = receiver.received();
    assert_eq!(got.len(), 3, "{got:?}");
    assert_eq!(got[1..].iter().filter(|r| r.id == got[0].id).count(), 1, "the retried message keeps its webhook-id");

    // Deleted: gone from the list, nothing more arrives.
    let resp = owner.request(reqwest::Method::DELETE, &format!("/webhooks/{endpoint}"), None).await;
    assert_eq!(resp.status(), 204);
    assert_eq!(json_status(owner.get("/webhooks").await, 200).await, json!([]));
    assert_eq!(support.post(&act("reinstate"), &json!({})).await.status(), 204);
    app.run_pending_jobs().await;
    assert_eq!(receiver.received().len(), 3);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_deliver_each_event_exactly_once() {
    let app = app_with_local_hooks().await;
    if app.pg_url().is_none() {
        eprintln!("skipped: needs KEYTURN_TEST_DATABASE_URL (PostgreSQL) for two instances");
        app.stop().await;
        return;
    }
    let second = app.second_instance().await;
    let receiver = Receiver::start().await;
    let owner = app.admin("owner").await;
    add_endpoint(&owner, &receiver, Some(&["account.suspended", "account.reinstated"])).await;
    status_events(&app, 15).await;
    // Both instances' workers (and both test drivers) race for the same 30 deliveries.
    tokio::join!(app.run_pending_jobs(), second.run_pending_jobs());
    app.run_pending_jobs().await;
    let got = receiver.received();
    let ids: std::collections::BTreeSet<&str> = got.iter().map(|r| r.id.as_str()).collect();
    assert_eq!((got.len(), ids.len()), (30, 30), "each event once");
    second.stop().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_sweeping_at_once_emit_each_expiry_notice_once() {
    let app = app_with_local_hooks().await;
    if app.pg_url().is_none() {
        eprintln!("skipped: needs KEYTURN_TEST_DATABASE_URL (PostgreSQL) for two instances");
        app.stop().await;
        return;
    }
    let second = app.second_instance().await;
    let receiver = Receiver::start().await;
    let owner = app.admin("owner").await;
    add_endpoint(&owner, &receiver, Some(&["access.expiring", "access.expired"])).await;
    for _ in 0..5 {
        app.verified().await;
    }
    let period = app.demo().await.period_days;
    for (advance, kind) in [((period - 3) * 86_400, "access.expiring"), (7 * 86_400, "access.expired")] {
        app.clock.advance(advance);
        second.clock.advance(advance);
        tokio::join!(app.sweep(), second.sweep(), app.sweep(), second.sweep());
        tokio::join!(app.run_pending_jobs(), second.run_pending_jobs());
        assert_eq!(receiver.of_type(kind).len(), 5, "one {kind} per access");
    }
    assert_eq!(receiver.received().len(), 10);
    second.stop().await;
    app.stop().await;
}

/// A receiver that answers `200 OK` with a body it never finishes sending; counts requests.
async fn stalling_receiver() -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    let hits = std::sync::Arc::new(AtomicUsize::new(0));
    let count = hits.clone();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65_536];
                let _ = sock.read(&mut buf).await;
                let head = "HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\nstarted";
                let _ = sock.write_all(head.as_bytes()).await;
                // Holds the connection open without finishing the body.
                let _ = sock.read(&mut buf).await;
                tokio::time::sleep(std::time::Duration::from_secs(60)).await;
            });
        }
    });
    (url, hits)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_2xx_whose_body_stalls_is_delivered_once() {
    let app = app_with_local_hooks().await;
    let (url, hits) = stalling_receiver().await;
    let owner = app.admin("owner").await;
    let v =
        json_status(owner.post("/webhooks", &json!({"url": url, "events": ["account.suspended"]})).await, 201).await;
    let endpoint = v["endpoint_id"].as_str().unwrap().to_string();
    let (_, creds) = app.verified().await;
    let support = app.admin("support").await;
    assert_eq!(support.post(&format!("/accounts/{}/suspend", creds.login), &json!({})).await.status(), 204);
    let started = std::time::Instant::now();
    app.run_pending_jobs().await;
    assert!(started.elapsed() < std::time::Duration::from_secs(10), "the body is not waited for");
    let entry = &log(&owner, &endpoint).await[0];
    assert_eq!(
        (entry["status"].as_str(), entry["last_status_code"].as_i64()),
        (Some("delivered"), Some(200)),
        "{entry}"
    );
    app.clock.advance(3600);
    app.run_pending_jobs().await;
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 1, "no second delivery");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_delivery_log_pages_and_filters_by_status() {
    let app = app_with_local_hooks().await;
    let receiver = Receiver::start().await;
    let owner = app.admin("owner").await;
    let (endpoint, _) = add_endpoint(&owner, &receiver, Some(&["account.suspended", "account.reinstated"])).await;
    receiver.answer(&[500, 500]);
    status_events(&app, 3).await;
    app.run_pending_jobs().await;
    let owner = app.admin("owner").await;
    let path = format!("/webhooks/{endpoint}/deliveries");
    let first = json_status(owner.get(&format!("{path}?limit=4")).await, 200).await;
    assert_eq!(first["deliveries"].as_array().unwrap().len(), 4, "{first}");
    let cursor = first["next_cursor"].as_str().expect("a next page").to_string();
    let second = json_status(owner.get(&format!("{path}?limit=4&cursor={cursor}")).await, 200).await;
    assert_eq!(second["deliveries"].as_array().unwrap().len(), 2, "{second}");
    assert!(second["next_cursor"].is_null());
    let ids = |v: &Value| -> Vec<String> {
        v["deliveries"].as_array().unwrap().iter().map(|d| d["delivery_id"].as_str().unwrap().to_string()).collect()
    };
    let mut all = ids(&first);
    all.extend(ids(&second));
    all.sort();
    all.dedup();
    assert_eq!(all.len(), 6, "every delivery once across the pages");
    let pending = json_status(owner.get(&format!("{path}?status=pending")).await, 200).await;
    assert_eq!(pending["deliveries"].as_array().unwrap().len(), 2, "{pending}");
    assert!(pending["deliveries"].as_array().unwrap().iter().all(|d| d["status"] == "pending"));
    assert_error(owner.get(&format!("{path}?status=lost")).await, 400, "invalid_query").await;
    assert_error(owner.get(&format!("{path}?cursor=nope")).await, 400, "invalid_query").await;
    app.stop().await;
}

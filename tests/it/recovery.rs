//! A killed process loses nothing it acknowledged: the next life (the real binary, SIGKILL,
//! on the backend under test) takes abandoned emails over within seconds. Delivery is
//! at-least-once, honestly counted: per order one email job per kind (the confirmation under
//! one Message-ID; every credentials copy under its own Message-ID, all referring to their
//! job's root id); a second copy only where the job recorded a hand-over that got no answer,
//! and the older copy's link then says it was replaced.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;

use crate::harness::process::{Instance, Keyturn};
use crate::harness::smtp::{self, Hold};
use crate::harness::*;

/// One paid order as the gateway sees it: the callback it sends until it is acknowledged.
struct Paid {
    email: String,
    order_id: String,
    event_id: String,
    body: Vec<u8>,
}

/// The gateway's side of a burst: which callbacks got their acknowledgement.
struct Gateway {
    client: reqwest::Client,
    key: Vec<u8>,
    orders: Vec<Paid>,
    acked: Arc<Mutex<Vec<bool>>>,
}

impl Gateway {
    async fn new(driver: &TestApp, key: Vec<u8>, n: usize) -> Arc<Gateway> {
        let mut orders = Vec::with_capacity(n);
        for _ in 0..n {
            let email = unique_email();
            let order_id = driver.order(&email).await;
            let body = driver.success_body(&order_id, &random_id("pay"), "authenticated").await;
            orders.push(Paid { email, order_id, event_id: random_id("evt"), body });
        }
        let acked = Arc::new(Mutex::new(vec![false; n]));
        Arc::new(Gateway { client: reqwest::Client::new(), key, orders, acked })
    }

    fn acked(&self) -> usize {
        self.acked.lock().unwrap().iter().filter(|a| **a).count()
    }

    /// Sends the callbacks of `range` not yet acknowledged, eight at a time (a refused or
    /// broken connection leaves the order to the next round, as a gateway retries).
    async fn send(self: Arc<Self>, base: String, range: std::ops::Range<usize>) {
        let todo: Vec<usize> = range.filter(|i| !self.acked.lock().unwrap()[*i]).collect();
        futures_util::stream::iter(todo)
            .for_each_concurrent(8, |i| {
                let (g, base) = (self.clone(), base.clone());
                async move {
                    let p = &g.orders[i];
                    let ts = chrono::Utc::now().timestamp();
                    let sig = webhook::sign(&g.key, &p.event_id, ts, &p.body);
                    let sent = g
                        .client
                        .post(format!("{base}/api/v1/payments/sandbox/callback"))
                        .header("content-type", "application/json")
                        .header("webhook-id", &p.event_id)
                        .header("webhook-timestamp", ts.to_string())
                        .header("webhook-signature", sig)
                        .body(p.body.clone())
                        .send()
                        .await;
                    if matches!(sent, Ok(r) if r.status() == 200) {
                        g.acked.lock().unwrap()[i] = true;
                    }
                }
            })
            .await;
    }

    /// Sends `range` and SIGKILLs `life` once `kill_at` callbacks in all are acknowledged.
    async fn send_and_kill(self: &Arc<Self>, life: &mut Keyturn, range: std::ops::Range<usize>, kill_at: usize) {
        let burst = tokio::spawn(self.clone().send(life.base.clone(), range));
        while self.acked() < kill_at && !burst.is_finished() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        life.kill();
        burst.await.unwrap();
    }
}

/// Per recipient and kind, the copies received and their distinct Message-IDs (and, for
/// credentials, the root ids their `References` name: one per job).
#[derive(Default, Debug)]
struct Received {
    credentials: Vec<Mail>,
    credential_ids: BTreeSet<String>,
    credential_roots: BTreeSet<String>,
    confirmation_ids: BTreeSet<String>,
}

fn received(store: &smtp::Store) -> HashMap<String, Received> {
    let mut by: HashMap<String, Received> = HashMap::new();
    for captured in store.lock().unwrap().iter() {
        let mail = Mail::from_captured(captured);
        let id = mail.header("message-id").expect("every email has a Message-ID");
        let r = by.entry(captured.to.first().cloned().unwrap_or_default()).or_default();
        match mail.kind() {
            Kind::Credentials => {
                let root = mail.header("references").expect("a credentials email names its job's root id");
                assert_eq!(mail.header("in-reply-to").as_ref(), Some(&root), "In-Reply-To names the root too");
                r.credential_roots.insert(root);
                r.credential_ids.insert(id);
                r.credentials.push(mail);
            }
            Kind::Confirmation => {
                r.confirmation_ids.insert(id);
            }
            _ => {}
        }
    }
    by
}

/// Waits (from `since`, at most `within`) until every order holds its credentials and its
/// confirmation, is provisioned, and no email waits; returns what was received.
async fn all_delivered(
    instance: &Instance,
    g: &Gateway,
    store: &smtp::Store,
    since: Instant,
    within: Duration,
) -> HashMap<String, Received> {
    loop {
        let got = received(store);
        let missing = g
            .orders
            .iter()
            .filter(|p| got.get(&p.email).is_none_or(|r| r.credentials.is_empty() || r.confirmation_ids.is_empty()))
            .count();
        if missing == 0 {
            let waiting = instance.count("SELECT COUNT(*) AS n FROM outbox WHERE status = 'pending'").await;
            let paid = instance.count("SELECT COUNT(*) AS n FROM orders WHERE status <> 'provisioned'").await;
            if waiting == 0 && paid == 0 {
                return got;
            }
        }
        assert!(
            since.elapsed() < within,
            "{missing} acknowledged order(s) still without their emails after {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The honest accounting: per order one credentials job (one root id), each of its copies
/// under its own Message-ID (a mailbox must not drop the copy with the working password as
/// a duplicate), and one confirmation Message-ID; a second copy only where the job recorded
/// a hand-over without an answer; the newest link works, an older one says it was replaced.
/// Returns how many orders got a repeat.
async fn account_for(instance: &Instance, app: &TestApp, g: &Gateway, got: &HashMap<String, Received>) -> usize {
    let mut repeats = 0;
    for p in &g.orders {
        let r = &got[&p.email];
        assert_eq!(r.credential_roots.len(), 1, "{}: credentials from several jobs: {r:?}", p.order_id);
        assert_eq!(
            r.credential_ids.len(),
            r.credentials.len(),
            "{}: two credentials copies share a Message-ID: {r:?}",
            p.order_id
        );
        assert!(!r.credential_ids.contains(r.credential_roots.first().unwrap()), "a copy reused the root id");
        assert_eq!(r.confirmation_ids.len(), 1, "{}: confirmations under several Message-IDs", p.order_id);
        let newest = r.credentials.last().unwrap().credentials().unwrap();
        if r.credentials.len() > 1 {
            repeats += 1;
            let marked = instance
                .count(&format!(
                    "SELECT COUNT(*) AS n FROM outbox o JOIN accounts a ON a.id = o.account_id \
                     WHERE a.email = '{}' AND o.kind = 'credentials' AND o.possible_repeat",
                    p.email
                ))
                .await;
            assert_eq!(
                marked,
                1,
                "{}: {} credentials copies, but the job recorded no repeat",
                p.order_id,
                r.credentials.len()
            );
            let older = r.credentials[0].credentials().unwrap();
            assert_error(app.verify(&older.token).await, 410, "token_replaced").await;
        }
        json_status(app.verify(&newest.token).await, 200).await;
    }
    repeats
}

/// SIGKILL at each step of provisioning: after the callback's acknowledgement before its
/// jobs are claimed, while a job is claimed and handed to SMTP (nothing received), and after
/// SMTP received the credentials but before the job was marked sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_each_step_of_provisioning_loses_no_email() {
    let dir = tempfile::tempdir().unwrap();
    let (server, gate) = smtp::gated();
    let mut instance = Instance::new(&dir.path().join("data"), server.addr.port()).await.set("outbox_lease_secs", "3");

    // Life 1: SMTP stalls at MAIL FROM. The first job is claimed and handed over, the rest
    // are acknowledged and never claimed. SIGKILL.
    gate.set(Hold::BeforeMail);
    let mut life = instance.serve().await;
    let g = Gateway::new(&life.driver(server.store.clone()), instance.key.clone(), 2).await;
    g.clone().send(life.base.clone(), 0..2).await;
    assert_eq!(g.acked(), 2);
    wait_until(|| gate.waiting() >= 1, "the worker never reached SMTP").await;
    life.kill();

    // Life 2: SMTP receives a credentials email and withholds its "250". SIGKILL.
    gate.set(Hold::AfterCredentials);
    let mut life = instance.serve().await;
    wait_until(|| gate.waiting() >= 1, "no credentials email reached SMTP").await;
    life.kill();

    // Life 3: everything goes through, within seconds of the restart.
    gate.set(Hold::Nothing);
    let life = instance.serve().await;
    let restarted = Instant::now();
    let app = life.driver(server.store.clone());
    let got = all_delivered(&instance, &g, &server.store, restarted, Duration::from_secs(30)).await;
    assert_eq!(account_for(&instance, &app, &g, &got).await, 1, "the credentials SMTP kept got sent again");

    // The replaced link's page says so, in words.
    let replaced = g.orders.iter().map(|p| &got[&p.email]).find(|r| r.credentials.len() > 1).unwrap();
    let older = replaced.credentials[0].credentials().unwrap();
    let page = app.client.post(app.url("/verify-email")).form(&[("token", older.token.as_str())]).send().await.unwrap();
    assert_eq!(page.status(), 410);
    assert!(page.text().await.unwrap().contains("A newer email replaced this link"));
    let newest = replaced.credentials[1].credentials().unwrap();
    assert_error(app.customer().login(&older.login, &older.password).await, 401, "invalid_credentials").await;
    json_status(app.customer().login(&newest.login, &newest.password).await, 200).await;
}

/// The acceptance: SIGKILL three times during a burst of 120 paid callbacks; every
/// acknowledged order gets its credentials (one job) within 90 s of the restart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_three_times_during_a_burst_of_120_paid_callbacks() {
    let dir = tempfile::tempdir().unwrap();
    let (server, gate) = smtp::gated();
    let mut instance =
        Instance::new(&dir.path().join("data"), server.addr.port()).await.set("rate_limit_orders_per_minute", "100000");

    // Kill 1 with SMTP stalled (jobs claimed, handed over, queued behind).
    gate.set(Hold::BeforeMail);
    let mut life = instance.serve().await;
    let g = Gateway::new(&life.driver(server.store.clone()), instance.key.clone(), 120).await;
    g.clone().send(life.base.clone(), 0..40).await;
    wait_until(|| gate.waiting() >= 1, "the worker never reached SMTP").await;
    g.send_and_kill(&mut life, 40..60, 45).await;

    // Kill 2 after SMTP received a credentials email, before its "250".
    gate.set(Hold::AfterCredentials);
    let mut life = instance.serve().await;
    g.clone().send(life.base.clone(), 0..60).await;
    wait_until(|| gate.waiting() >= 1, "no credentials email reached SMTP").await;
    g.send_and_kill(&mut life, 60..90, 70).await;

    // Kill 3 with everything flowing, mid-burst.
    gate.set(Hold::Nothing);
    let mut life = instance.serve().await;
    g.clone().send(life.base.clone(), 0..90).await;
    g.send_and_kill(&mut life, 90..120, 100).await;

    // The restart: the gateway retries what was not acknowledged.
    let life = instance.serve().await;
    let restarted = Instant::now();
    g.clone().send(life.base.clone(), 0..120).await;
    assert_eq!(g.acked(), 120, "callbacks still refused after the restart");
    let got = all_delivered(&instance, &g, &server.store, restarted, Duration::from_secs(90)).await;
    let app = life.driver(server.store.clone());
    let repeats = account_for(&instance, &app, &g, &got).await;
    assert!(repeats >= 1, "the credentials held by SMTP at the second kill were not sent again");
}

async fn wait_until(ready: impl Fn() -> bool, what: &str) {
    let deadline = Instant::now() + MAIL_TIMEOUT;
    while !ready() {
        assert!(Instant::now() < deadline, "{what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

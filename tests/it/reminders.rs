//! Renewal reminders and the expiry email (DESIGN §7), read from the customer's mailbox with the
//! movable clock: each reminder day once per access and period end, however often the sweep
//! runs, across a restart and across two instances; none for a period that was renewed; only
//! the latest after downtime; none for an account that turned them off (the expiry email still
//! comes); the expiry email once when the grace ends.

use futures_util::future::join;
use serde_json::json;

use crate::harness::receiver::Receiver;
use crate::harness::*;
use crate::webhooks::{add_endpoint, app_with_local_hooks};

const DAY: i64 = 86_400;

/// The renewal reminders `to` got (after running the due jobs).
async fn reminders(app: &TestApp, to: &str) -> Vec<Mail> {
    app.run_pending_jobs().await;
    app.mail.to(to).into_iter().filter(|m| m.subject.contains(": renew ")).collect()
}

/// The "access has ended" emails `to` got (after running the due jobs).
async fn expiry_emails(app: &TestApp, to: &str) -> Vec<Mail> {
    app.run_pending_jobs().await;
    app.mail.to(to).into_iter().filter(|m| m.subject.contains("has ended")).collect()
}

/// The renewal link in a reminder's text part.
fn renewal_link(mail: &Mail) -> String {
    let start = mail.text.find("/renew/").expect("a renewal link");
    let from = mail.text[..start].rfind(char::is_whitespace).map_or(0, |i| i + 1);
    mail.text[from..].split_whitespace().next().unwrap().to_string()
}

/// An app whose `access.expiring` webhooks go to the returned receiver.
async fn app_hooked_to_expiring() -> (TestApp, Receiver) {
    let app = app_with_local_hooks().await;
    let receiver = Receiver::start().await;
    let owner = app.admin("owner").await;
    add_endpoint(&owner, &receiver, Some(&["access.expiring"])).await;
    (app, receiver)
}

/// Sweeps twice (the second pass must find nothing new).
async fn sweep_twice(app: &TestApp) {
    app.sweep().await;
    app.sweep().await;
}

/// Moves the clock to `secs_before` the end of a fresh demo access bought at the clock's start.
async fn to_before_end(app: &TestApp, secs_before: i64) {
    let demo = app.demo().await;
    app.clock.advance(demo.period_days * DAY - secs_before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reminders_at_7_and_1_days_exactly_once_each_then_the_expiry_email_once() {
    let app = TestApp::builder().start().await;
    let (email, creds) = app.verified().await;
    let demo = app.demo().await;
    sweep_twice(&app).await;
    assert!(reminders(&app, &email).await.is_empty(), "a fresh access is not reminded");

    // Eight days before the end: nothing yet; seven (less a minute): the first reminder, once.
    to_before_end(&app, 8 * DAY).await;
    sweep_twice(&app).await;
    assert!(reminders(&app, &email).await.is_empty(), "too early");
    app.clock.advance(DAY + 60);
    sweep_twice(&app).await;
    let got = reminders(&app, &email).await;
    assert_eq!(got.len(), 1, "{:?}", got.iter().map(|m| &m.subject).collect::<Vec<_>>());
    let first = &got[0];
    assert!(first.subject.contains(&demo.name), "{}", first.subject);
    assert!(first.text.contains(&creds.login), "{}", first.text);
    let amount = keyturn::i18n::format::amount(keyturn::i18n::Locale::En, demo.price_minor, &demo.currency);
    assert!(first.text.contains(&amount), "the amount {amount}: {}", first.text);
    assert!(first.text.contains("without logging in"), "{}", first.text);
    let link = renewal_link(first);
    assert!(link.starts_with(&format!("{}/renew/", app.public_url)), "{link}");
    assert!(link.len() > app.public_url.len() + "/renew/".len() + 20, "an unguessable token: {link}");

    // Six days on (a day before the end): the second reminder, with a new link; once.
    app.clock.advance(6 * DAY);
    sweep_twice(&app).await;
    let got = reminders(&app, &email).await;
    assert_eq!(got.len(), 2);
    assert_ne!(renewal_link(&got[1]), link, "every reminder carries its own link");
    assert!(expiry_emails(&app, &email).await.is_empty());

    // Past the end: in grace (3 days for demo), no more reminders and no expiry email yet.
    app.clock.advance(DAY + 60);
    sweep_twice(&app).await;
    assert_eq!(reminders(&app, &email).await.len(), 2);
    assert!(expiry_emails(&app, &email).await.is_empty(), "still in grace");

    // The grace is over: the expiry email, once, pointing at the cabinet.
    app.clock.advance(3 * DAY);
    sweep_twice(&app).await;
    let ended = expiry_emails(&app, &email).await;
    assert_eq!(ended.len(), 1);
    assert!(ended[0].text.contains(&format!("{}/cabinet", app.public_url)), "{}", ended[0].text);
    assert!(!ended[0].text.contains("/renew/"), "the reminder's links have expired with the grace");
    app.clock.advance(DAY);
    sweep_twice(&app).await;
    assert_eq!(expiry_emails(&app, &email).await.len(), 1);
    assert_eq!(reminders(&app, &email).await.len(), 2);
    app.assert_no_pending_jobs().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reminders_are_sent_once_across_a_restart() {
    let mut app = TestApp::builder().start().await;
    let (email, _) = app.verified().await;
    to_before_end(&app, 7 * DAY - 60).await;
    app.sweep().await;
    assert_eq!(reminders(&app, &email).await.len(), 1);

    // Stopped and started on the same data: the sweep at start finds the reminder sent.
    app.restart().await;
    app.sweep().await;
    assert_eq!(reminders(&app, &email).await.len(), 1, "not again after a restart");

    // Down while the 1-day reminder fell due: the sweep at start sends it, once.
    app.shutdown().await;
    app.clock.advance(6 * DAY);
    app.restart().await;
    let sent_at_start = || async {
        let n = app.mail.to(&email).iter().filter(|m| m.subject.contains(": renew ")).count();
        (n == 2).then_some(())
    };
    eventually("the 1-day reminder from the sweep at start", sent_at_start).await;
    app.sweep().await;
    assert_eq!(reminders(&app, &email).await.len(), 2);
    app.restart().await;
    app.sweep().await;
    assert_eq!(reminders(&app, &email).await.len(), 2);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_sweeping_at_once_send_each_reminder_once() {
    if db::base_url().is_none() {
        eprintln!("skipped: needs {} (SQLite mode is single-instance)", db::ENV);
        return;
    }
    let a = TestApp::builder().start().await;
    let b = a.second_instance().await;
    let mut emails = vec![];
    for _ in 0..3 {
        emails.push(a.verified().await.0);
    }
    let demo = a.demo().await;
    for (day, advance) in [(7, demo.period_days * DAY - 7 * DAY + 60), (1, 6 * DAY)] {
        a.clock.advance(advance);
        b.clock.advance(advance);
        for _ in 0..3 {
            join(a.sweep(), b.sweep()).await;
        }
        join(a.run_pending_jobs(), b.run_pending_jobs()).await;
        for email in &emails {
            let want = if day == 7 { 1 } else { 2 };
            assert_eq!(reminders(&a, email).await.len(), want, "{email} at {day} day(s)");
        }
    }
    b.stop().await;
    a.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renewed_access_is_reminded_of_its_new_period_only() {
    let app = TestApp::builder().start().await;
    let (email, _) = app.verified().await;
    let demo = app.demo().await;
    to_before_end(&app, 7 * DAY - 60).await;
    app.sweep().await;
    let first = reminders(&app, &email).await;
    assert_eq!(first.len(), 1);

    // Renewed (a second paid order): the old period's 1-day reminder never comes.
    let again = app.order(&email).await;
    app.pay_by_callback(&again, "authenticated").await;
    app.wait_for_status(&again, "provisioned").await;
    app.clock.advance(6 * DAY + 3600);
    sweep_twice(&app).await;
    assert_eq!(reminders(&app, &email).await.len(), 1, "nothing for the period that was renewed");
    app.clock.advance(3 * DAY);
    sweep_twice(&app).await;
    assert!(expiry_emails(&app, &email).await.is_empty(), "the renewed access has not ended");

    // The new period's 7-day reminder, naming its new end.
    app.clock.advance(demo.period_days * DAY - 9 * DAY);
    sweep_twice(&app).await;
    let got = reminders(&app, &email).await;
    assert_eq!(got.len(), 2);
    assert_ne!(got[1].subject, first[0].subject, "a new end date");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_downtime_only_the_latest_due_reminder_is_sent() {
    let (app, receiver) = app_hooked_to_expiring().await;
    let (email, _) = app.verified().await;

    // Nobody swept for the 7-day moment; twelve hours before the end both days are past.
    to_before_end(&app, 12 * 3600).await;
    sweep_twice(&app).await;
    assert_eq!(reminders(&app, &email).await.len(), 1, "one reminder, not a flood");
    let hooks = receiver.of_type("access.expiring");
    assert_eq!(hooks.len(), 1);
    assert_eq!(hooks[0].json()["data"]["days_before"], 1, "the most recent due day");
    app.clock.advance(6 * 3600);
    sweep_twice(&app).await;
    assert_eq!(reminders(&app, &email).await.len(), 1);
    assert_eq!(receiver.of_type("access.expiring").len(), 1);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opted_out_and_suspended_accounts_get_no_reminder_emails() {
    let (app, receiver) = app_hooked_to_expiring().await;
    let (opted_out, opted_out_creds) = app.verified().await;
    let (suspended, suspended_creds) = app.verified().await;
    let (reminded, _) = app.verified().await;
    app.set_renewal_reminders(&opted_out_creds.login, false).await;
    let support = app.admin("support").await;
    let path = format!("/accounts/{}/suspend", suspended_creds.login);
    assert_eq!(support.post(&path, &json!({})).await.status(), 204);

    to_before_end(&app, 7 * DAY - 60).await;
    sweep_twice(&app).await;
    assert_eq!(reminders(&app, &reminded).await.len(), 1, "the control");
    assert!(reminders(&app, &opted_out).await.is_empty(), "turned off");
    assert!(reminders(&app, &suspended).await.is_empty(), "suspended");
    assert_eq!(receiver.of_type("access.expiring").len(), 3, "the webhooks go for every account");

    // The expiry email is transactional: it reaches the account that turned reminders off.
    app.clock.advance(7 * DAY + 3 * DAY);
    sweep_twice(&app).await;
    assert_eq!(expiry_emails(&app, &opted_out).await.len(), 1);
    assert_eq!(expiry_emails(&app, &reminded).await.len(), 1);
    assert!(expiry_emails(&app, &suspended).await.is_empty());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reminder_days_are_set_per_service_checked_and_followed() {
    let app = TestApp::builder().start().await;
    let catalog = app.admin("catalog").await;
    let listed = json_status(catalog.get("/services").await, 200).await;
    let demo = listed.as_array().unwrap().iter().find(|s| s["slug"] == "demo").unwrap().clone();
    assert_eq!((demo["reminder_days"].clone(), demo["grace_days"].clone()), (json!([7, 1]), json!(3)), "defaults");

    // Days from 1 to less than the period (demo: 30), at most 5; repeats are removed.
    for bad in [json!([0]), json!([30]), json!([31, 1]), json!([366]), json!([-1]), json!([6, 5, 4, 3, 2, 1])] {
        let resp = catalog.patch("/services/demo", json!({"reminder_days": bad})).await;
        assert_error(resp, 422, "invalid_reminder_days").await;
    }
    let too_short = catalog.patch("/services/demo", json!({"period_days": 7})).await;
    assert_error(too_short, 422, "invalid_reminder_days").await;
    let short = json!({"slug": "short", "name": "Short", "price_minor": 100, "currency": "EUR", "period_days": 3,
                       "reminder_days": [3]});
    assert_error(catalog.post("/services", &short).await, 422, "invalid_reminder_days").await;
    let week = json!({"slug": "week", "name": "Week", "price_minor": 100, "currency": "EUR", "period_days": 7});
    let week = json_status(catalog.post("/services", &week).await, 201).await;
    assert_eq!(week["reminder_days"], json!([1]), "the default days shorter than the period");
    let deduped =
        json_status(catalog.patch("/services/demo", json!({"reminder_days": [3, 3, 29, 3]})).await, 200).await;
    assert_eq!(deduped["reminder_days"], json!([29, 3]), "repeats removed");
    assert_error(catalog.patch("/services/demo", json!({"grace_days": 366})).await, 422, "validation_failed").await;
    let listed = json_status(catalog.get("/services").await, 200).await;
    let demo_now = listed.as_array().unwrap().iter().find(|s| s["slug"] == "demo").unwrap().clone();
    assert_eq!(demo_now["period_days"], 30, "a refused change changed nothing");
    let changed = json_status(catalog.patch("/services/demo", json!({"reminder_days": [1, 3]})).await, 200).await;
    assert_eq!(changed["reminder_days"], json!([3, 1]), "stored largest first");
    let public = json_status(app.get("/api/v1/services").await, 200).await;
    let shown = public.as_array().unwrap().iter().find(|s| s["slug"] == "demo").unwrap().clone();
    assert_eq!(shown["reminder_days"], json!([3, 1]));
    let new = json!({"slug": "quiet", "name": "Quiet", "price_minor": 100, "currency": "EUR", "period_days": 30,
                     "reminder_days": []});
    let created = json_status(catalog.post("/services", &new).await, 201).await;
    assert_eq!((created["reminder_days"].clone(), created["grace_days"].clone()), (json!([]), json!(3)));

    // The sweep follows the service's days: nothing at 6 days before the end, one at 3.
    let (email, _) = app.verified().await;
    to_before_end(&app, 6 * DAY).await;
    sweep_twice(&app).await;
    assert!(reminders(&app, &email).await.is_empty(), "7 is no longer a reminder day");
    app.clock.advance(3 * DAY + 60);
    sweep_twice(&app).await;
    assert_eq!(reminders(&app, &email).await.len(), 1);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reminder_day_already_past_when_the_access_was_extended_is_not_sent() {
    let (app, receiver) = app_hooked_to_expiring().await;
    let (email, creds) = app.verified().await;
    let demo = app.demo().await;

    // Long after the access ended, support gives it 5 more days: the 7-day moment was before
    // that change, so no reminder now; the 1-day one comes when due, once.
    app.clock.advance((demo.period_days + 20) * DAY);
    let support = app.admin("support").await;
    let extend = json!({"service": "demo", "days": 5});
    assert_eq!(support.post(&format!("/accounts/{}/extend", creds.login), &extend).await.status(), 204);
    sweep_twice(&app).await;
    assert!(reminders(&app, &email).await.is_empty(), "a 7-day reminder for an access with 5 days left");
    assert!(receiver.of_type("access.expiring").is_empty());
    app.clock.advance(4 * DAY + 60);
    sweep_twice(&app).await;
    assert_eq!(reminders(&app, &email).await.len(), 1);
    let hooks = receiver.of_type("access.expiring");
    assert_eq!(hooks.len(), 1);
    assert_eq!(hooks[0].json()["data"]["days_before"], 1);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_off_sale_gets_no_reminder_email_and_an_expiry_email_without_renewal() {
    let app = TestApp::builder().start().await;
    let (email, _) = app.verified().await;
    let (control, _) = app.verified().await;
    to_before_end(&app, 7 * DAY - 60).await;
    sweep_twice(&app).await;
    assert_eq!(reminders(&app, &email).await.len(), 1, "on sale: the 7-day reminder");
    let owner = app.admin("owner").await;

    // Off sale before the 1-day reminder: no second reminder, and no link to a renewal.
    assert_eq!(owner.patch("/services/demo", json!({"active": false})).await.status(), 200);
    app.clock.advance(6 * DAY);
    sweep_twice(&app).await;
    assert_eq!(reminders(&app, &email).await.len(), 1, "a 1-day reminder off sale");
    assert_eq!(reminders(&app, &control).await.len(), 1);

    app.clock.advance(DAY + 3 * DAY);
    sweep_twice(&app).await;
    let ended = expiry_emails(&app, &email).await;
    assert_eq!(ended.len(), 1);
    for part in [ended[0].text.clone(), ended[0].html.clone().expect("an HTML part")] {
        assert!(part.contains("no longer sold"), "{part}");
        assert!(!part.contains("renew it") && !part.contains("/renew/"), "{part}");
    }
    app.assert_no_pending_jobs().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_access_a_refund_ended_gets_no_expiry_email_nor_webhook() {
    let app = app_with_local_hooks().await;
    let receiver = Receiver::start().await;
    let owner = app.admin("owner").await;
    add_endpoint(&owner, &receiver, Some(&["access.expired"])).await;
    let demo = app.demo().await;
    let payment_id = random_id("pay");
    let (order_id, customer) = crate::refunds::paid_customer(&app, &payment_id).await;
    let (ended, _) = app.verified().await;
    let email = json_status(customer.me().await, 200).await["email"].as_str().unwrap().to_string();
    crate::refunds::refund(&app, &order_id, &payment_id, demo.price_minor).await;
    assert_eq!(app.order_status(&order_id).await, "refunded");

    // Sweeps right after the refund and on the following days: nothing about its end.
    for _ in 0..3 {
        sweep_twice(&app).await;
        app.clock.advance(DAY);
    }
    assert!(expiry_emails(&app, &email).await.is_empty(), "an expiry email after the refund");
    assert!(receiver.of_type("access.expired").is_empty());

    // The control: an access that simply ran out gets both.
    app.clock.advance(demo.period_days * DAY + 60);
    sweep_twice(&app).await;
    assert_eq!(expiry_emails(&app, &ended).await.len(), 1);
    assert!(expiry_emails(&app, &email).await.is_empty());
    let hooks = receiver.of_type("access.expired");
    assert_eq!(hooks.len(), 1);
    assert_eq!(hooks[0].json()["data"]["email"], ended.as_str());
    app.stop().await;
}

//! The renewal link: `GET /renew/<token>` shows the offer and changes nothing; `POST` makes one
//! order for the link's account; paying it extends the same login, once, from the right moment.

use serde_json::json;

use super::*;

/// A date as an English page or email writes it.
fn human(ts: i64) -> String {
    keyturn::i18n::format::date_time(keyturn::i18n::Locale::En, ts)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renewal_link_shows_the_offer_then_one_order_whose_payment_extends_the_same_login_once() {
    let app = TestApp::builder().start().await;
    let owner = app.admin("owner").await;
    let a = app.active().await;
    let before = until_of(&a.customer, "demo").await;
    let link = app.renewal_link(&a.login, "demo", 10 * DAY).await;

    // The page: service, period, amount, the new end date (from the old end: renewing early),
    // how to pay. Opening it (twice, as mail scanners do) makes no order.
    for _ in 0..2 {
        let page = app.get(&link).await;
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap();
        for shown in ["Demo service", "30 days", "€19.90", &a.login, &human(before + 30 * DAY), "Pay with:"] {
            assert!(html.contains(shown), "renewal page lacks {shown:?}: {html}");
        }
    }
    assert_eq!(orders_of(&owner, &a.email).await.len(), 1, "GET made an order");

    // The button: one order for this account, even for presses at the same moment, reused by
    // a later press.
    let (one, two, three) = tokio::join!(post_renew(&app, &link), post_renew(&app, &link), post_renew(&app, &link));
    assert!(one == two && two == three, "simultaneous presses made several orders: {one} {two} {three}");
    let order_id = one;
    assert_eq!(post_renew(&app, &link).await, order_id, "a second press made a second order");
    let orders = orders_of(&owner, &a.email).await;
    assert_eq!(orders.len(), 2);
    assert!(orders.iter().any(|o| o["order_id"] == order_id.as_str() && o["status"] == "pending_payment"));
    let pay_page = app.get(&format!("/pay/{order_id}")).await;
    assert_eq!(pay_page.status(), 200);
    assert!(pay_page.text().await.unwrap().contains("€19.90"));

    // The gateway calls twice with the same event, then reports a second payment of the order.
    let body = app.success_body(&order_id, &random_id("pay"), "authenticated").await;
    let event = random_id("evt");
    for _ in 0..2 {
        let resp = app.signed_callback(&event, app.clock.now(), &body).await;
        assert!(resp.status().is_success(), "callback: {}", resp.status());
    }
    let second = app.success_body(&order_id, &random_id("pay"), "authenticated").await;
    let resp = app.signed_callback(&random_id("evt"), app.clock.now(), &second).await;
    assert!(resp.status().is_success(), "second payment: {}", resp.status());
    app.wait_for_status(&order_id, "provisioned").await;

    // Extended once, from the old end, for the same login; no new credentials.
    assert_eq!(until_of(&a.customer, "demo").await, before + 30 * DAY);
    app.assert_mail_count(&a.email, Kind::Credentials, 1).await;
    let extended = extended_mails(&app, &a.email);
    assert_eq!(extended.len(), 1, "access_extended emails");
    assert!(extended[0].text.contains(&a.login) && extended[0].text.contains(&human(before + 30 * DAY)));
    assert!(!extended[0].text.contains("Password:"));
    json_status(app.customer().login(&a.login, &a.password).await, 200).await;

    // The return page promises no credentials.
    let back = app.get(&format!("/orders/{order_id}/return")).await.text().await.unwrap();
    assert!(back.contains("you already have") && back.contains("/cabinet"), "{back}");
    assert!(!back.contains("temporary password"), "{back}");

    // The link's period is renewed now: the page says until when, the button makes no order.
    let orders_now = orders_of(&owner, &a.email).await.len();
    for _ in 0..2 {
        let page = app.get(&link).await;
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap();
        assert!(html.contains("already been renewed") && html.contains(&human(before + 30 * DAY)), "{html}");
        assert!(!html.contains("Renew and pay"), "{html}");
        let resp = post_renew_raw(&app, &link).await;
        assert_eq!(resp.status(), 409);
        assert_eq!(resp.headers()["x-keyturn-reason"], "already_renewed");
        assert!(resp.text().await.unwrap().contains(&human(before + 30 * DAY)));
    }
    assert_eq!(orders_of(&owner, &a.email).await.len(), orders_now, "a renewed link made an order");
    assert_eq!(until_of(&a.customer, "demo").await, before + 30 * DAY);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_renewed_in_the_cabinet_meanwhile_makes_no_second_order() {
    let app = TestApp::builder().start().await;
    let owner = app.admin("owner").await;
    let a = app.active().await;
    let link = app.renewal_link(&a.login, "demo", 10 * DAY).await;
    let from_link = post_renew(&app, &link).await;

    // Renewed from the cabinet before the link's order was paid: the link's period is over.
    let made = json_status(renew_in_cabinet(&app, &a.customer, "demo").await, 201).await;
    let order = made["order_id"].as_str().unwrap().to_string();
    assert_eq!(order, from_link, "the cabinet reuses the open renewal order");
    pay(&app, &order).await;
    let until = until_of(&a.customer, "demo").await;
    let orders_now = orders_of(&owner, &a.email).await.len();
    assert!(app.get(&link).await.text().await.unwrap().contains(&human(until)));
    let resp = post_renew_raw(&app, &link).await;
    assert_eq!(
        (resp.status().as_u16(), resp.headers()["x-keyturn-reason"].to_str().unwrap()),
        (409, "already_renewed")
    );
    assert_eq!(orders_of(&owner, &a.email).await.len(), orders_now);

    // A link of the new period works as before.
    let fresh = app.renewal_link(&a.login, "demo", 10 * DAY).await;
    assert_eq!(app.get(&fresh).await.status(), 200);
    assert_ne!(post_renew(&app, &fresh).await, order);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_reminder_leaves_only_its_last_link_live() {
    let app = TestApp::builder().start().await;
    let a = app.active().await;
    let job = random_id("job");
    let first = app.renewal_link_of_job(&a.login, "demo", 10 * DAY, Some(job.as_str())).await;
    let retried = app.renewal_link_of_job(&a.login, "demo", 10 * DAY, Some(job.as_str())).await;
    let other_job = app.renewal_link_of_job(&a.login, "demo", 10 * DAY, Some(random_id("job").as_str())).await;
    assert_ne!(first, retried);
    assert_eq!(app.get(&first).await.status(), 410, "the earlier attempt's link is no longer live");
    assert_eq!(post_renew_raw(&app, &first).await.status(), 410);
    assert_eq!(app.get(&retried).await.status(), 200);
    assert_eq!(app.get(&other_job).await.status(), 200, "another reminder's link stays live");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renewing_in_grace_or_after_expiry_extends_from_the_payment() {
    let app = TestApp::builder().start().await;
    let a = app.active().await;
    let first = until_of(&a.customer, "demo").await;

    // One day into the grace (3 days): the page says so; paying extends from now.
    app.clock.advance(31 * DAY);
    relogin(&a).await;
    assert_eq!(access(&a.customer, "demo").await["state"], "grace");
    let link = app.renewal_link(&a.login, "demo", 10 * DAY).await;
    assert!(app.get(&link).await.text().await.unwrap().contains("renew now to keep it"));
    let order = post_renew(&app, &link).await;
    let paid_at = app.clock.now();
    pay(&app, &order).await;
    let second = until_of(&a.customer, "demo").await;
    assert!((paid_at + 30 * DAY..paid_at + 30 * DAY + 30).contains(&second), "{second} vs {paid_at}");
    assert!(second > first + 30 * DAY);
    assert_eq!(access(&a.customer, "demo").await["state"], "active");

    // Long after the grace: ended; renewing starts a fresh period from now, same login.
    app.clock.advance(40 * DAY);
    relogin(&a).await;
    assert_eq!(access(&a.customer, "demo").await["state"], "ended");
    let link = app.renewal_link(&a.login, "demo", 10 * DAY).await;
    assert!(app.get(&link).await.text().await.unwrap().contains("Ended on"));
    let order = post_renew(&app, &link).await;
    let paid_at = app.clock.now();
    pay(&app, &order).await;
    let third = until_of(&a.customer, "demo").await;
    assert!((paid_at + 30 * DAY..paid_at + 30 * DAY + 30).contains(&third), "{third} vs {paid_at}");
    assert_eq!(access(&a.customer, "demo").await["state"], "active");
    assert_eq!(json_status(a.customer.me().await, 200).await["login"], a.login.as_str());

    app.assert_mail_count(&a.email, Kind::Credentials, 1).await;
    assert_eq!(extended_mails(&app, &a.email).len(), 2);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_renews_only_its_own_account_and_is_refused_when_unknown_expired_off_sale_or_suspended() {
    let app = TestApp::builder().start().await;
    let owner = app.admin("owner").await;
    let a = app.active().await;
    let b = app.active().await;
    let b_until = until_of(&b.customer, "demo").await;

    for path in ["/renew/nosuchtoken", "/renew/x"] {
        assert_eq!(app.get(path).await.status(), 404);
        assert_eq!(post_renew_raw(&app, path).await.status(), 404);
    }

    let old = app.renewal_link(&a.login, "demo", 60).await;
    app.clock.advance(120);
    let gone = app.get(&old).await;
    assert_eq!(gone.status(), 410);
    assert!(gone.text().await.unwrap().contains("href=\"/cabinet\""));
    assert_eq!(post_renew_raw(&app, &old).await.status(), 410);

    // A's link: whatever the browser sends, the order is A's, and paying it leaves B alone.
    let link = app.renewal_link(&a.login, "demo", 10 * DAY).await;
    let form = [("email", b.email.as_str()), ("login", b.login.as_str()), ("service", "other")];
    let resp = app.client.post(app.url(&link)).form(&form).send().await.unwrap();
    assert_eq!(resp.status(), 303);
    let order_id = post_renew(&app, &link).await;
    assert!(orders_of(&owner, &a.email).await.iter().any(|o| o["order_id"] == order_id.as_str()));
    assert_eq!(orders_of(&owner, &b.email).await.len(), 1);
    pay(&app, &order_id).await;
    assert_eq!(until_of(&b.customer, "demo").await, b_until);
    app.run_pending_jobs().await;
    assert!(extended_mails(&app, &b.email).is_empty());
    // That link's period is renewed now; a link of the new period for the rest.
    assert_eq!(post_renew_raw(&app, &link).await.status(), 409);
    let link = app.renewal_link(&a.login, "demo", 10 * DAY).await;

    // Off sale: the page explains; nothing is made.
    let off = owner.patch("/services/demo", json!({"active": false})).await;
    assert_eq!(off.status(), 200, "{}", off.text().await.unwrap());
    let page = app.get(&link).await;
    assert_eq!(page.status(), 409);
    assert!(page.text().await.unwrap().contains("no longer on sale"));
    assert_eq!(post_renew_raw(&app, &link).await.status(), 409);
    assert_eq!(owner.patch("/services/demo", json!({"active": true})).await.status(), 200);

    // A suspended account: refused until support reinstates it; a renewal order made before the
    // suspension and paid after it extends nothing (held for an admin, like any such payment).
    let pending = post_renew(&app, &link).await;
    let a_until = until_of(&a.customer, "demo").await;
    let orders_before = orders_of(&owner, &a.email).await.len();
    assert_eq!(owner.post(&format!("/accounts/{}/suspend", a.login), &json!({})).await.status(), 204);
    app.pay_by_callback(&pending, "authenticated").await;
    let held = orders_of(&owner, &a.email).await.into_iter().find(|o| o["order_id"] == pending.as_str()).unwrap();
    assert_eq!(held["hold_reason"], "account_suspended", "{held}");
    let page = app.get(&link).await;
    assert_eq!(page.status(), 403);
    assert!(page.text().await.unwrap().contains("suspended"));
    assert_eq!(post_renew_raw(&app, &link).await.status(), 403);
    assert_eq!(orders_of(&owner, &a.email).await.len(), orders_before);
    assert_eq!(owner.post(&format!("/accounts/{}/reinstate", a.login), &json!({})).await.status(), 204);
    relogin(&a).await;
    assert_eq!(until_of(&a.customer, "demo").await, a_until, "a held renewal extended the access");
    assert_eq!(owner.post(&format!("/accounts/{}/revoke", a.login), &json!({})).await.status(), 204);
    assert_eq!(app.get(&link).await.status(), 403);
    app.stop().await;
}

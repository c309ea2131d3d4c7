//! The cabinet: each service's state in `GET /api/v1/me`, the Renew button's API
//! (`POST /api/v1/me/renewals`) and the reminders switch (`PUT /api/v1/me/preferences`).

use serde_json::json;

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cabinet_renews_one_of_the_customers_services_for_the_same_account() {
    let app = TestApp::builder().start().await;
    let owner = app.admin("owner").await;
    let a = app.active().await;
    let before = until_of(&a.customer, "demo").await;
    let s = access(&a.customer, "demo").await;
    assert_eq!((s["state"].as_str(), s["renewable"].as_bool()), (Some("active"), Some(true)));

    assert_error(renew_in_cabinet(&app, &app.customer(), "demo").await, 401, "unauthenticated").await;
    assert_error(renew_in_cabinet(&app, &a.customer, "nosuch").await, 422, "unknown_service").await;
    let cross = a
        .customer
        .client
        .post(app.url("/api/v1/me/renewals"))
        .header("origin", "https://evil.example")
        .json(&json!({"service": "demo"}))
        .send()
        .await
        .unwrap();
    assert_error(cross, 403, "csrf_rejected").await;

    let made = json_status(renew_in_cabinet(&app, &a.customer, "demo").await, 201).await;
    let order_id = made["order_id"].as_str().unwrap().to_string();
    assert_eq!(made["payment_url"], format!("{}/pay/{order_id}", app.public_url));
    let again = json_status(renew_in_cabinet(&app, &a.customer, "demo").await, 201).await;
    assert_eq!(again["order_id"], order_id.as_str(), "a second click made a second order");

    // The price changed meanwhile: the open order is replaced by one at the new price.
    assert_eq!(owner.patch("/services/demo", json!({"price_minor": 2490})).await.status(), 200);
    let repriced = json_status(renew_in_cabinet(&app, &a.customer, "demo").await, 201).await;
    let new_id = repriced["order_id"].as_str().unwrap().to_string();
    assert_ne!(new_id, order_id);
    let orders = orders_of(&owner, &a.email).await;
    let find = |id: &str| orders.iter().find(|o| o["order_id"] == id).cloned().unwrap();
    assert_eq!(find(&order_id)["status"], "expired");
    assert_eq!(
        (find(&new_id)["amount_minor"].as_i64(), find(&new_id)["status"].as_str()),
        (Some(2490), Some("pending_payment"))
    );

    let body = Event {
        kind: "payment.succeeded",
        order_id: &new_id,
        payment_id: &random_id("pay"),
        amount_minor: 2490,
        currency: "EUR",
        three_ds: "authenticated",
    }
    .body();
    let resp = app.signed_callback(&random_id("evt"), app.clock.now(), &body).await;
    assert!(resp.status().is_success());
    app.wait_for_status(&new_id, "provisioned").await;
    assert_eq!(until_of(&a.customer, "demo").await, before + 30 * DAY);
    app.assert_mail_count(&a.email, Kind::Credentials, 1).await;
    assert_eq!(extended_mails(&app, &a.email).len(), 1);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cabinet_shows_active_grace_and_ended_and_the_reminders_switch() {
    let app = TestApp::builder().start().await;
    let a = app.active().await;
    let until = until_of(&a.customer, "demo").await;

    // Reminders: on by default; off and on again, as /me shows.
    assert_eq!(json_status(a.customer.me().await, 200).await["renewal_reminders"], true);
    let put = |on: bool| {
        a.customer.client.put(app.url("/api/v1/me/preferences")).json(&json!({"renewal_reminders": on})).send()
    };
    assert_eq!(json_status(put(false).await.unwrap(), 200).await["renewal_reminders"], false);
    assert_eq!(json_status(a.customer.me().await, 200).await["renewal_reminders"], false);
    assert_eq!(json_status(put(true).await.unwrap(), 200).await["renewal_reminders"], true);
    assert_eq!(json_status(a.customer.me().await, 200).await["renewal_reminders"], true);
    let anonymous = app.client.put(app.url("/api/v1/me/preferences")).json(&json!({"renewal_reminders": false}));
    assert_error(anonymous.send().await.unwrap(), 401, "unauthenticated").await;

    // Grace: the period is over, access ends with the grace days.
    app.clock.advance(30 * DAY + 3600);
    relogin(&a).await;
    let s = access(&a.customer, "demo").await;
    assert_eq!(s["state"], "grace");
    assert_eq!(unix(&s["open_until"]), until + 3 * DAY);

    // Ended: still renewable while on sale; not once off sale.
    app.clock.advance(3 * DAY);
    relogin(&a).await;
    let s = access(&a.customer, "demo").await;
    assert_eq!((s["state"].as_str(), s["renewable"].as_bool()), (Some("ended"), Some(true)));
    let owner = app.admin("owner").await;
    assert_eq!(owner.patch("/services/demo", json!({"active": false})).await.status(), 200);
    assert_eq!(access(&a.customer, "demo").await["renewable"], false);
    assert_error(renew_in_cabinet(&app, &a.customer, "demo").await, 409, "service_not_on_sale").await;
    app.stop().await;
}

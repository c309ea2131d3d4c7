//! Unpaid orders expire after their TTL; a late payment is still honoured (the money was taken).

use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unpaid_orders_expire_and_a_late_payment_still_provisions() {
    let app = TestApp::builder().start().await;
    let email = unique_email();
    let order_id = app.order(&email).await;
    let fresh = app.order(&unique_email()).await;

    app.clock.advance(23 * 3600);
    app.sweep().await;
    assert_eq!(app.order_status(&order_id).await, "pending_payment", "not expired before its TTL");

    app.clock.advance(2 * 3600);
    app.sweep().await;
    assert_eq!(app.order_status(&order_id).await, "expired");
    assert_eq!(app.order_status(&fresh).await, "expired");

    // The customer sees it: the pay page has nothing to pay and the return page says so.
    let pay = app.get(&format!("/pay/{order_id}")).await;
    assert_eq!(pay.status(), 409);
    assert!(pay.text().await.unwrap().contains("expired"));
    let back = app.get(&format!("/orders/{order_id}/return")).await;
    assert!(back.text().await.unwrap().contains("expired"));

    // A gateway that confirms a payment after expiry still gets the customer their account.
    app.pay_by_callback(&order_id, "authenticated").await;
    app.mail.wait_for(&email, Kind::Credentials, 1, MAIL_TIMEOUT).await;
    app.wait_for_status(&order_id, "provisioned").await;
    app.stop().await;
}

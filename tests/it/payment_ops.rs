//! Admin payment operations on the sandbox: pre-authorisation then capture or cancel, refunds
//! capped at what was captured, Idempotency-Key replays, re-authentication before refunds,
//! parallel refund clicks, and the audit trail of each.

use serde_json::json;

use crate::harness::*;

/// An order paid on the sandbox page with the frictionless card.
async fn paid_order(app: &TestApp) -> (String, String) {
    let email = unique_email();
    let order_id = app.order(&email).await;
    app.pay_with_card(&order_id, "4242424242424242", "").await;
    (order_id, email)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manual_capture_provisions_only_when_captured() {
    let app = TestApp::builder().set("capture", "manual").start().await;
    let operator = app.admin("operator").await;
    let demo = app.demo().await;
    let (order_id, email) = paid_order(&app).await;
    let p = operator.payment_reaching(&order_id, "authorized").await;
    let pay_id = p["payment_id"].as_str().unwrap().to_string();
    assert_eq!(p["captured_minor"], 0);
    assert_eq!(app.order_status(&order_id).await, "pending_payment", "an authorisation provisions nothing");
    app.assert_mail_count(&email, Kind::Credentials, 0).await;

    let resp = operator.operate(&pay_id, "capture", json!({}), Some("cap-1")).await;
    let done = json_status(resp, 200).await;
    assert_eq!(
        (done["payment_status"].as_str(), done["captured_minor"].as_i64()),
        (Some("succeeded"), Some(demo.price_minor))
    );
    app.mail.credentials(&email, 1).await;
    // The same click again replays the first answer; nothing is captured twice.
    let again = json_status(operator.operate(&pay_id, "capture", json!({}), Some("cap-1")).await, 200).await;
    assert_eq!(again["operation_id"], done["operation_id"]);
    // A new capture of a captured payment is refused.
    assert_error(operator.operate(&pay_id, "capture", json!({}), None).await, 409, "payment_not_authorized").await;
    // The sandbox's own capture callback arrives too (after the capture's own record): still
    // exactly one credentials email.
    app.callbacks_applied(&order_id, "succeeded", 2).await;
    app.assert_mail_count(&email, Kind::Credentials, 1).await;
    app.assert_provisioned_once(&email, &order_id).await;
    let entry = &operator.audit_as_owner(&app, "action=payment.capture").await;
    assert!(entry.iter().any(|e| e["target"] == pay_id && e["outcome"] == "success"), "{entry:?}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_an_authorisation_voids_it_and_the_order() {
    let app = TestApp::builder().set("capture", "manual").start().await;
    let operator = app.admin("operator").await;
    let (order_id, email) = paid_order(&app).await;
    let pay_id = operator.payment_reaching(&order_id, "authorized").await["payment_id"].as_str().unwrap().to_string();
    assert_error(
        operator.operate(&pay_id, "capture", json!({"amount_minor": 1}), None).await,
        422,
        "partial_capture_unsupported",
    )
    .await;
    let done = json_status(operator.operate(&pay_id, "cancel", json!({}), None).await, 200).await;
    assert_eq!(done["payment_status"], "cancelled");
    assert_eq!(app.order_status(&order_id).await, "cancelled");
    assert_error(operator.operate(&pay_id, "capture", json!({}), None).await, 409, "payment_not_authorized").await;
    assert_error(operator.operate(&pay_id, "refund", json!({}), None).await, 409, "payment_not_refundable").await;
    // The sandbox's own echo of the void arrives too (after the void's own record), and
    // provisions nothing.
    app.callbacks_applied(&order_id, "cancelled", 2).await;
    app.assert_mail_count(&email, Kind::Credentials, 0).await;
    let entries = operator.audit_as_owner(&app, "action=payment.cancel").await;
    let mine = entries.iter().find(|e| e["target"] == pay_id.as_str()).expect("the cancel is audited");
    assert_eq!((mine["outcome"].as_str(), mine["actor"].as_str()), (Some("success"), Some(operator.username.as_str())));
    assert!(mine["before"].to_string().contains("authorized"), "{mine}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provisioning_on_authorisation_is_a_setting() {
    let app = TestApp::builder().set("capture", "manual").set("provision_on_authorization", "true").start().await;
    let operator = app.admin("operator").await;
    let (order_id, email) = paid_order(&app).await;
    let pay_id = operator.payment_reaching(&order_id, "authorized").await["payment_id"].as_str().unwrap().to_string();
    app.mail.credentials(&email, 1).await;
    json_status(operator.operate(&pay_id, "capture", json!({}), None).await, 200).await;
    assert!(matches!(app.order_status(&order_id).await.as_str(), "paid" | "provisioned"));
    // The sandbox's echo of the capture (after the capture's own record) provisions nothing more.
    app.callbacks_applied(&order_id, "succeeded", 2).await;
    app.assert_mail_count(&email, Kind::Credentials, 1).await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refunds_need_reauthentication_are_idempotent_and_never_exceed_the_capture() {
    let app = TestApp::builder().start().await;
    let operator = app.admin("operator").await;
    let demo = app.demo().await;
    let (order_id, _) = paid_order(&app).await;
    let pay_id = operator.payment_reaching(&order_id, "succeeded").await["payment_id"].as_str().unwrap().to_string();
    assert_eq!(operator.payment_reaching(&order_id, "succeeded").await["captured_minor"], demo.price_minor);
    app.wait_for_status(&order_id, "provisioned").await;

    // The login was more than five minutes ago: confirm the password first.
    app.clock.advance(6 * 60);
    assert_error(
        operator.operate(&pay_id, "refund", json!({"amount_minor": 100}), Some("r-1")).await,
        403,
        "reauthentication_required",
    )
    .await;
    assert_error(operator.post("/session/reauth", &json!({"password": "not it"})).await, 403, "invalid_credentials")
        .await;
    let resp = operator.post("/session/reauth", &json!({"password": operator.password})).await;
    assert_eq!(resp.status(), 204);

    assert_error(operator.operate("pay_nosuch", "refund", json!({}), None).await, 404, "not_found").await;
    assert_error(operator.operate(&pay_id, "refund", json!({"amount_minor": 0}), None).await, 422, "invalid_amount")
        .await;
    let over = json!({"amount_minor": demo.price_minor + 1});
    assert_error(operator.operate(&pay_id, "refund", over, None).await, 422, "refund_exceeds_captured").await;

    let first =
        json_status(operator.operate(&pay_id, "refund", json!({"amount_minor": 100}), Some("r-1")).await, 200).await;
    assert_eq!(
        (first["payment_status"].as_str(), first["refunded_minor"].as_i64()),
        (Some("partially_refunded"), Some(100))
    );
    // The same key replays the first answer (no second refund) ...
    let replay =
        json_status(operator.operate(&pay_id, "refund", json!({"amount_minor": 100}), Some("r-1")).await, 200).await;
    assert_eq!(replay, first);
    // ... and is refused for a different request.
    assert_error(
        operator.operate(&pay_id, "refund", json!({"amount_minor": 200}), Some("r-1")).await,
        422,
        "idempotency_key_reused",
    )
    .await;
    let bad_key = operator.operate(&pay_id, "refund", json!({}), Some("has space")).await;
    assert_error(bad_key, 400, "invalid_idempotency_key").await;
    assert_eq!(app.order_status(&order_id).await, "provisioned", "a partial refund keeps the order");

    // Five parallel clicks, each refunding the rest: exactly one goes through.
    let left = demo.price_minor - 100;
    let clicks =
        (0..5).map(|i| {
            let key = format!("click-{i}");
            let (operator, pay_id) = (&operator, &pay_id);
            async move {
                operator.operate(pay_id, "refund", json!({"amount_minor": left}), Some(&key)).await.status().as_u16()
            }
        });
    let mut statuses = futures_util::future::join_all(clicks).await;
    statuses.sort();
    assert_eq!(statuses.iter().filter(|s| **s == 200).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| matches!(s, 200 | 409 | 422)), "{statuses:?}");
    let p = operator.payment_reaching(&order_id, "refunded").await;
    assert_eq!(
        (p["captured_minor"].as_i64(), p["refunded_minor"].as_i64()),
        (Some(demo.price_minor), Some(demo.price_minor))
    );
    assert_eq!(app.order_status(&order_id).await, "refunded");
    assert_error(operator.operate(&pay_id, "refund", json!({}), None).await, 409, "payment_not_refundable").await;

    let entries = operator.audit_as_owner(&app, "action=payment.refund").await;
    let ok = entries.iter().filter(|e| e["target"] == pay_id && e["outcome"] == "success").count();
    assert_eq!(ok, 2, "{entries:?}");
    assert!(entries.iter().any(|e| e["outcome"] == "refund_exceeds_captured"), "refusals are audited too");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disabled_admin_is_logged_out_and_cannot_log_in() {
    let app = TestApp::builder().start().await;
    let owner = app.admin("owner").await;
    let operator = app.admin("operator").await;
    assert_eq!(operator.get("/orders").await.status(), 200);
    let list = json_status(owner.get("/admins").await, 200).await;
    assert!(list.as_array().unwrap().iter().any(|a| a["username"] == operator.username.as_str()));
    let resp = owner.post(&format!("/admins/{}/disable", operator.username), &json!({})).await;
    assert_eq!(resp.status(), 204);
    assert_error(operator.get("/orders").await, 401, "unauthenticated").await;
    assert_error(operator.fresh().login(None).await, 403, "admin_disabled").await;
    assert_error(
        owner.post(&format!("/admins/{}/disable", owner.username), &json!({})).await,
        409,
        "cannot_disable_self",
    )
    .await;
    assert_eq!(owner.post(&format!("/admins/{}/enable", operator.username), &json!({})).await.status(), 204);
    json_status(operator.fresh().login(None).await, 200).await;
    let entries = owner.audit("action=admin.disable").await;
    assert!(entries.iter().any(|e| e["target"] == operator.username.as_str() && e["actor"] == owner.username.as_str()));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reauthentication_asks_for_the_totp_code_when_enrolled_and_is_audited() {
    let app = TestApp::builder().start().await;
    let operator = app.admin("operator").await;
    let secret = operator.enrol_totp(app.clock.now()).await;
    app.clock.advance(60);
    let password = json!({"password": operator.password});
    assert_error(operator.post("/session/reauth", &password).await, 403, "totp_required").await;
    let wrong = json!({"password": operator.password, "totp": "000000"});
    assert_error(operator.post("/session/reauth", &wrong).await, 403, "invalid_credentials").await;
    let code = keyturn::admin::access::totp::code_at(&secret, app.clock.now()).unwrap();
    let right = json!({"password": operator.password, "totp": code});
    assert_eq!(operator.post("/session/reauth", &right).await.status(), 204);
    // A code works once.
    assert_error(operator.post("/session/reauth", &right).await, 403, "invalid_credentials").await;
    let entries = operator.audit_as_owner(&app, "action=admin.reauth").await;
    let mine: Vec<&str> = entries
        .iter()
        .filter(|e| e["actor"] == operator.username.as_str())
        .map(|e| e["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(mine.iter().filter(|o| **o == "success").count(), 1, "{mine:?}");
    assert!(mine.contains(&"totp_required") && mine.contains(&"invalid_credentials"), "{mine:?}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_authorisation_at_a_time_and_only_the_paying_one_is_captured() {
    let app = TestApp::builder().set("capture", "manual").start().await;
    let operator = app.admin("operator").await;
    let demo = app.demo().await;
    let (order_id, _) = paid_order(&app).await;
    let first = operator.payment_reaching(&order_id, "authorized").await["payment_id"].as_str().unwrap().to_string();
    // While the card is on hold, the customer is not offered to pay again.
    let pay = app.get(&format!("/pay/{order_id}")).await;
    assert_eq!(pay.status(), 409);
    assert!(pay.text().await.unwrap().contains("authorised"));
    assert_eq!(app.get(&format!("/sandbox/checkout/{order_id}")).await.status(), 409);
    // A second authorisation still reaches us (another tab, the gateway's retry)...
    let body = json!({"type": "payment.authorized", "data": {"payment_id": "sbp_second", "order_id": order_id,
        "amount_minor": demo.price_minor, "currency": demo.currency, "three_ds": "authenticated"}});
    let resp = app.signed_callback(&random_id("evt"), app.clock.now(), body.to_string().as_bytes()).await;
    assert_eq!(resp.status(), 200);
    json_status(operator.operate(&first, "capture", json!({}), None).await, 200).await;
    // ...but once the first paid the order, capturing the second would charge twice.
    let detail = json_status(operator.get(&format!("/orders/{order_id}")).await, 200).await;
    let second = detail["payments"].as_array().unwrap().iter().find(|p| p["status"] == "authorized").unwrap().clone();
    let second = second["payment_id"].as_str().unwrap();
    assert_error(operator.operate(second, "capture", json!({}), None).await, 409, "order_not_payable").await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateways_echo_of_a_partial_refund_is_not_counted_twice() {
    let app = TestApp::builder().start().await;
    let operator = app.admin("operator").await;
    let demo = app.demo().await;
    let (order_id, _) = paid_order(&app).await;
    let pay_id = operator.payment_reaching(&order_id, "succeeded").await["payment_id"].as_str().unwrap().to_string();
    app.wait_for_status(&order_id, "provisioned").await;
    // 60 %: the sandbox then sends its own refund callback for the same 60 %.
    let part = demo.price_minor * 6 / 10;
    json_status(operator.operate(&pay_id, "refund", json!({"amount_minor": part}), None).await, 200).await;
    // The refund's own record, then the sandbox's echo of it.
    app.callbacks_applied(&order_id, "refunded", 2).await;
    let p = operator.payment_reaching(&order_id, "partially_refunded").await;
    assert_eq!(p["refunded_minor"], part);
    assert_eq!(app.order_status(&order_id).await, "provisioned");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stolen_session_cannot_bind_its_own_authenticator_or_refund_without_the_password() {
    let app = TestApp::builder().start().await;
    let operator = app.admin("operator").await;
    app.clock.advance(6 * 60);
    let v = json_status(operator.post("/me/totp", &json!({})).await, 200).await;
    let code = keyturn::admin::access::totp::code_at(v["secret"].as_str().unwrap(), app.clock.now()).unwrap();
    let confirm = operator.post("/me/totp/confirm", &json!({"code": code})).await;
    assert_error(confirm, 403, "reauthentication_required").await;
    assert_eq!(operator.post("/session/reauth", &json!({"password": operator.password})).await.status(), 204);
    assert_eq!(operator.post("/me/totp/confirm", &json!({"code": code})).await.status(), 204);
    // The renewed session keeps the time of the last password proof; it does not refresh it.
    app.clock.advance(6 * 60);
    let refund = operator.operate("pay_nosuch", "refund", json!({}), None).await;
    assert_error(refund, 403, "reauthentication_required").await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refund_amount_is_read_on_the_server_as_the_admin_typed_it() {
    let app = TestApp::builder().start().await;
    let operator = app.admin("operator").await;
    let demo = app.demo().await;
    assert_eq!((demo.price_minor, demo.currency.as_str()), (1990, "EUR"));
    let (order_id, _) = paid_order(&app).await;
    let pay_id = operator.payment_reaching(&order_id, "succeeded").await["payment_id"].as_str().unwrap().to_string();
    app.wait_for_status(&order_id, "provisioned").await;

    let refund = |body| operator.operate(&pay_id, "refund", body, None);
    assert_error(refund(json!({"amount": "five"})).await, 422, "invalid_amount").await;
    assert_error(refund(json!({"amount": "-1"})).await, 422, "invalid_amount").await;
    assert_error(refund(json!({"amount": "0.5", "amount_minor": 50})).await, 422, "invalid_amount").await;
    // Read by the server for EUR: "1 000,00" is a thousand euros, more than was captured.
    assert_error(refund(json!({"amount": "1 000,00"})).await, 422, "refund_exceeds_captured").await;
    // The page showed another reading than the server's: nothing moves.
    assert_error(refund(json!({"amount": "0,50", "expected_amount_minor": 5})).await, 409, "amount_changed").await;
    let done = json_status(refund(json!({"amount": "0,50", "expected_amount_minor": 50})).await, 200).await;
    assert_eq!((done["amount_minor"].as_i64(), done["refunded_minor"].as_i64()), (Some(50), Some(50)));
    let done = json_status(refund(json!({"amount": " 1.40 "})).await, 200).await;
    assert_eq!(done["refunded_minor"], 190);
    assert_eq!(app.order_status(&order_id).await, "provisioned", "partial refunds keep the order");
    app.stop().await;
}

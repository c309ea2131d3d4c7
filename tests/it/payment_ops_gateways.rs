//! Admin payment operations at real gateways, against local fakes of their APIs. With
//! `capture = manual` a start only authorises where the gateway can; an authorisation reported
//! by the gateway's signed callback is captured by an operator (the order is provisioned then)
//! and refunded in part and in full, each call checked at the fake (path, credentials,
//! idempotency key, amount). The gateway's refusals reach the admin as 409, an outage as 502,
//! and a gateway without an operations API (or a missing API key) points to the dashboard.

use std::sync::OnceLock;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use keyturn::money::format_minor;
use keyturn::payments::gateways::{allsecure, dotpay, paypal, square, stripe};
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::{EncodePublicKey, LineEnding};
use rsa::signature::{SignatureEncoding, Signer};
use rsa::RsaPrivateKey;
use serde_json::{json, Value};

use crate::harness::fake_gateway::{FakeGateway, OpCall, OpMode, AS_SECRET};
use crate::harness::*;

/// What `FakeGateway::configure` sets for the callbacks.
const STRIPE_SECRET: &str = "whsec_test_reconcile";
const SQUARE_KEY: &str = "sq-sig";
const SQUARE_URL: &str = "https://shop.test/api/v1/payments/square/callback";
const PAYPAL_WEBHOOK: &str = "WH-1";
const GATEWAYS: [&str; 4] = ["stripe", "paypal", "square", "allsecure"];

/// PayPal's webhook signing key for these tests (its public half replaces the fake's certificate).
fn paypal_key() -> &'static RsaPrivateKey {
    static KEY: OnceLock<RsaPrivateKey> = OnceLock::new();
    KEY.get_or_init(|| RsaPrivateKey::new(&mut rand::thread_rng(), 1024).unwrap())
}

/// An app whose API gateways point at `fake`, with manual capture.
async fn app_with(fake: &FakeGateway, dir: &std::path::Path) -> TestApp {
    let pem = dir.join("paypal-webhooks.pem");
    std::fs::write(&pem, paypal_key().to_public_key().to_public_key_pem(LineEnding::LF).unwrap()).unwrap();
    fake.configure(TestApp::builder(), dir)
        .set("capture", "manual")
        .set("paypal_cert_file", pem.to_str().unwrap())
        .start()
        .await
}

fn utc(now: i64, format: &str) -> String {
    chrono::DateTime::from_timestamp(now, 0).unwrap().format(format).to_string()
}

fn hex_id() -> String {
    hex::encode(rand::random::<[u8; 8]>())
}

/// The gateway's signed callback saying the card was authorised for `order_id` (the gateway's
/// own dialect and signature); returns the gateway's payment id.
async fn authorise(app: &TestApp, gateway: &str, order_id: &str, amount: i64, currency: &str) -> String {
    let (id, now, decimal) = (hex_id(), app.clock.now(), format_minor(amount, currency));
    let (payment, content_type, body) = match gateway {
        "stripe" => {
            let pi = format!("pi_{id}");
            let intent = json!({"id": pi, "object": "payment_intent", "status": "requires_capture", "amount": amount,
                "amount_capturable": amount, "capture_method": "manual", "currency": currency.to_lowercase(),
                "metadata": {"order_id": order_id}});
            let event = json!({"id": format!("evt_{id}"), "object": "event",
                "type": "payment_intent.amount_capturable_updated", "data": {"object": intent}});
            (pi, "application/json", event)
        }
        "paypal" => {
            let auth = format!("AUTH{}", id.to_uppercase());
            let event = json!({"id": format!("WH-{id}"), "event_version": "1.0",
                "event_type": "PAYMENT.AUTHORIZATION.CREATED", "resource_type": "authorization",
                "resource": {"id": auth, "status": "CREATED", "custom_id": order_id,
                    "amount": {"currency_code": currency, "value": decimal}}});
            (auth, "application/json", event)
        }
        "square" => {
            let sq = format!("sq{id}");
            let p = json!({"id": sq, "status": "APPROVED", "reference_id": order_id,
                "amount_money": {"amount": amount, "currency": currency}});
            let event = json!({"merchant_id": "ML1", "type": "payment.updated", "event_id": format!("ev-{id}"),
                "data": {"type": "payment", "id": sq, "object": {"payment": p}}});
            (sq, "application/json", event)
        }
        _ => {
            let uuid = format!("as-pre-{id}");
            let tx = json!({"result": "OK", "uuid": uuid, "merchantTransactionId": order_id,
                "transactionType": "PREAUTHORIZE", "paymentMethod": "Creditcard", "amount": decimal, "currency": currency});
            (uuid, "application/json; charset=utf-8", tx)
        }
    };
    let body = body.to_string().into_bytes();
    let path = format!("/api/v1/payments/{gateway}/callback");
    let headers: Vec<(&str, String)> = match gateway {
        "stripe" => vec![("stripe-signature", stripe::signature_header(STRIPE_SECRET, now, &body))],
        "paypal" => {
            let (tx, time) = (format!("tx-{id}"), utc(now, "%Y-%m-%dT%H:%M:%SZ"));
            let message = paypal::signed_message(&tx, &time, PAYPAL_WEBHOOK, &body);
            let sig = SigningKey::<sha2::Sha256>::new(paypal_key().clone()).sign(message.as_bytes()).to_bytes();
            vec![
                ("paypal-transmission-id", tx),
                ("paypal-transmission-time", time),
                ("paypal-transmission-sig", STANDARD.encode(sig)),
                ("paypal-cert-url", "https://api.paypal.com/v1/notifications/certs/CERT-test".into()),
                ("paypal-auth-algo", "SHA256withRSA".into()),
            ]
        }
        "square" => vec![("x-square-hmacsha256-signature", square::signature(SQUARE_KEY, SQUARE_URL, &body))],
        _ => {
            let date = utc(now, "%a, %d %b %Y %H:%M:%S GMT");
            let sig = allsecure::signature(AS_SECRET, &body, content_type, &date, &path);
            vec![("date", date), ("x-signature", sig)]
        }
    };
    let mut req = app.client.post(app.url(&path)).header("content-type", content_type).body(body);
    for (k, v) in headers {
        req = req.header(k, v);
    }
    let resp = req.send().await.unwrap();
    assert_eq!(resp.status(), 200, "{gateway} authorisation callback: {}", resp.text().await.unwrap());
    payment
}

/// How `gateway` is sent an amount of `minor` units: decimal strings at PayPal and IXOPAY.
fn sent(gateway: &str, minor: i64, currency: &str) -> Option<String> {
    Some(match gateway {
        "paypal" | "allsecure" => format_minor(minor, currency),
        _ => minor.to_string(),
    })
}

fn last_call(fake: &FakeGateway) -> OpCall {
    fake.op_calls().pop().expect("the gateway was called")
}

/// An order authorised at `gateway`: (our payment id, the gateway's, the order id, the email).
async fn authorised(app: &TestApp, admin: &AdminActor, gateway: &str) -> (String, String, String, String) {
    let (demo, email) = (app.demo().await, unique_email());
    let order_id = app.order(&email).await;
    let at_gateway = authorise(app, gateway, &order_id, demo.price_minor, &demo.currency).await;
    let p = admin.payment_reaching(&order_id, "authorized").await;
    assert_eq!((p["gateway"].as_str(), p["captured_minor"].as_i64()), (Some(gateway), Some(0)));
    (p["payment_id"].as_str().unwrap().to_string(), at_gateway, order_id, email)
}

async fn capture_then_refund_in_part_and_in_full(gateway: &'static str) {
    let fake = FakeGateway::start().await;
    let dir = tempfile::tempdir().unwrap();
    let app = app_with(&fake, dir.path()).await;
    let operator = app.admin("operator").await;
    let demo = app.demo().await;
    let (pay_id, at_gateway, order_id, email) = authorised(&app, &operator, gateway).await;
    assert_eq!(app.order_status(&order_id).await, "pending_payment", "an authorisation provisions nothing");

    let done = json_status(operator.operate(&pay_id, "capture", json!({}), Some("cap-1")).await, 200).await;
    assert_eq!(
        (done["payment_status"].as_str(), done["captured_minor"].as_i64()),
        (Some("succeeded"), Some(demo.price_minor))
    );
    let capture = last_call(&fake);
    assert_eq!((capture.gateway, capture.kind, capture.target.as_str()), (gateway, "capture", at_gateway.as_str()));
    // Square's complete takes the approved amount as it is.
    let expected = if gateway == "square" { None } else { sent(gateway, demo.price_minor, &demo.currency) };
    assert_eq!(capture.amount, expected, "{gateway} capture amount");
    assert!(gateway == "square" || capture.key.as_ref().is_some_and(|k| !k.is_empty()), "{gateway}: idempotency key");
    app.mail.credentials(&email, 1).await;
    app.wait_for_status(&order_id, "provisioned").await;

    // Refunds need a fresh password confirmation.
    assert_eq!(operator.post("/session/reauth", &json!({"password": operator.password})).await.status(), 204);
    let part =
        json_status(operator.operate(&pay_id, "refund", json!({"amount_minor": 500}), Some("ref-1")).await, 200).await;
    assert_eq!(
        (part["payment_status"].as_str(), part["refunded_minor"].as_i64()),
        (Some("partially_refunded"), Some(500))
    );
    let refund = last_call(&fake);
    // PayPal refunds the capture keyturn made; the others name the payment itself.
    let target = if gateway == "paypal" { "CAP-1".to_string() } else { at_gateway.clone() };
    assert_eq!((refund.kind, refund.target.as_str()), ("refund", target.as_str()), "{gateway}");
    assert_eq!(refund.amount, sent(gateway, 500, &demo.currency), "{gateway} refund amount");
    assert!(refund.key.as_ref().is_some_and(|k| !k.is_empty()), "{gateway}: refund idempotency key");

    // The gateway refuses the next one: nothing is refunded, the admin reads why.
    fake.set_op_mode(OpMode::Refuse);
    let refused =
        assert_error(operator.operate(&pay_id, "refund", json!({}), None).await, 409, "gateway_declined").await;
    assert!(refused["message"].as_str().unwrap().len() > 20, "{refused}");
    fake.set_op_mode(OpMode::Accept);
    let rest = demo.price_minor - 500;
    let full = json_status(operator.operate(&pay_id, "refund", json!({}), Some("ref-2")).await, 200).await;
    assert_eq!(
        (full["payment_status"].as_str(), full["refunded_minor"].as_i64()),
        (Some("refunded"), Some(demo.price_minor))
    );
    let last = last_call(&fake);
    assert_eq!((last.kind, last.amount), ("refund", sent(gateway, rest, &demo.currency)), "{gateway}");
    assert_ne!(last.key, refund.key, "{gateway}: one idempotency key per operation");
    assert_eq!(app.order_status(&order_id).await, "refunded");
    assert_eq!(fake.op_calls().len(), 4, "{gateway}: capture, refund, refused refund, refund");
    assert!(fake.problems().is_empty(), "the fake gateway saw bad requests: {:?}", fake.problems());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stripe_capture_and_refunds() {
    capture_then_refund_in_part_and_in_full("stripe").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paypal_capture_and_refunds() {
    capture_then_refund_in_part_and_in_full("paypal").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn square_capture_and_refunds() {
    capture_then_refund_in_part_and_in_full("square").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allsecure_capture_and_refunds() {
    capture_then_refund_in_part_and_in_full("allsecure").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_and_outages_change_nothing_and_a_cancel_voids_the_authorisation() {
    let fake = FakeGateway::start().await;
    let dir = tempfile::tempdir().unwrap();
    let app = app_with(&fake, dir.path()).await;
    let operator = app.admin("operator").await;
    for gateway in GATEWAYS {
        let (pay_id, at_gateway, order_id, email) = authorised(&app, &operator, gateway).await;
        fake.set_op_mode(OpMode::Refuse);
        let e =
            assert_error(operator.operate(&pay_id, "capture", json!({}), None).await, 409, "gateway_declined").await;
        let reason = match gateway {
            "stripe" => "status of canceled",
            "paypal" => "AUTHORIZATION_ALREADY_CAPTURED",
            "square" => "not in a state",
            _ => "already captured",
        };
        assert!(e["message"].as_str().unwrap().contains(reason), "{gateway}: {e}");
        fake.set_op_mode(OpMode::Down);
        assert_error(
            operator.operate(&pay_id, "capture", json!({}), Some(&format!("c-{gateway}"))).await,
            502,
            "gateway_unavailable",
        )
        .await;
        operator.payment_reaching(&order_id, "authorized").await;
        assert_eq!(app.order_status(&order_id).await, "pending_payment", "{gateway}");

        fake.set_op_mode(OpMode::Accept);
        let done = json_status(operator.operate(&pay_id, "cancel", json!({}), None).await, 200).await;
        assert_eq!(done["payment_status"], "cancelled", "{gateway}");
        let void = last_call(&fake);
        assert_eq!(
            (void.gateway, void.kind, void.target.as_str(), void.amount),
            (gateway, "cancel", at_gateway.as_str(), None)
        );
        assert_eq!(app.order_status(&order_id).await, "cancelled", "{gateway}");
        app.assert_mail_count(&email, Kind::Credentials, 0).await;
    }
    assert_eq!(fake.op_calls().len(), 3 * GATEWAYS.len());
    assert!(fake.problems().is_empty(), "the fake gateway saw bad requests: {:?}", fake.problems());
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_manual_capture_a_start_only_authorises_where_the_gateway_can() {
    let fake = FakeGateway::start().await;
    let dir = tempfile::tempdir().unwrap();
    let app = app_with(&fake, dir.path()).await;
    let order_id = app.order(&unique_email()).await;
    let mut paypal_order = String::new();
    for gateway in ["stripe", "paypal", "allsecure", "square"] {
        let resp = app.get(&format!("/pay/{order_id}/{gateway}")).await;
        assert_eq!(resp.status(), 303, "{gateway}");
        let location = resp.headers().get("location").unwrap().to_str().unwrap().to_string();
        if gateway == "paypal" {
            paypal_order = location.rsplit('/').next().unwrap().to_string();
        }
    }
    // On the customer's return from PayPal, keyturn authorises the approved order.
    let resp = app.get(&format!("/pay/{order_id}/paypal/return?token={paypal_order}&PayerID=X")).await;
    assert_eq!(resp.status(), 303);
    let takes: Vec<(String, String)> = fake.takes();
    let expected =
        [("stripe", "manual"), ("paypal", "AUTHORIZE"), ("allsecure", "preauthorize"), ("paypal", "return:authorize")];
    assert_eq!(takes, expected.map(|(g, h)| (g.to_string(), h.to_string())), "Square payment links always capture");
    assert_eq!(app.order_status(&order_id).await, "pending_payment");
    assert!(fake.problems().is_empty(), "the fake gateway saw bad requests: {:?}", fake.problems());
    app.stop().await;
}

/// A Dotpay URLC saying `order_id` was paid.
fn dotpay_paid(pin: &str, order_id: &str, amount: &str, currency: &str) -> Vec<u8> {
    let mut fields = vec![
        ("id", "555001".to_string()),
        ("operation_number", format!("M{}-1", &hex_id()[..6])),
        ("operation_type", "payment".into()),
        ("operation_status", "completed".into()),
        ("operation_amount", amount.into()),
        ("operation_currency", currency.into()),
        ("operation_original_amount", amount.into()),
        ("operation_original_currency", currency.into()),
        ("operation_datetime", "2024-01-01 12:00:00".into()),
        ("control", order_id.into()),
        ("description", "Test order".into()),
        ("channel", "248".into()),
    ];
    fields.push(("signature", dotpay::signature(pin, &fields)));
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in &fields {
        s.append_pair(k, v);
    }
    s.finish().into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_an_operations_api_or_its_key_the_admin_is_sent_to_the_dashboard() {
    let pin = "dotpay-pin-ops";
    // Stripe callbacks are verified, but no API key is set.
    let app = TestApp::builder()
        .set("dotpay_shop_id", "555001")
        .set("dotpay_pin", pin)
        .set("stripe_webhook_secret", STRIPE_SECRET)
        .set("capture", "manual")
        .start()
        .await;
    let operator = app.admin("operator").await;
    let demo = app.demo().await;
    let order_id = app.order(&unique_email()).await;
    let body = dotpay_paid(pin, &order_id, &format_minor(demo.price_minor, &demo.currency), &demo.currency);
    let resp = app
        .client
        .post(app.url("/api/v1/payments/dotpay/callback"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let pay_id = operator.payment_reaching(&order_id, "succeeded").await["payment_id"].as_str().unwrap().to_string();
    assert_eq!(operator.post("/session/reauth", &json!({"password": operator.password})).await.status(), 204);
    let e =
        assert_error(operator.operate(&pay_id, "refund", json!({}), None).await, 422, "operation_unsupported").await;
    let message = e["message"].as_str().unwrap();
    assert!(message.contains("Dotpay") && message.contains("dashboard"), "{message}");
    assert_eq!(operator.payment_reaching(&order_id, "succeeded").await["refunded_minor"], 0);

    let order_id = app.order(&unique_email()).await;
    authorise(&app, "stripe", &order_id, demo.price_minor, &demo.currency).await;
    let pay_id = operator.payment_reaching(&order_id, "authorized").await["payment_id"].as_str().unwrap().to_string();
    let e =
        assert_error(operator.operate(&pay_id, "capture", json!({}), None).await, 422, "operation_unsupported").await;
    assert!(e["message"].as_str().unwrap().contains("KEYTURN_STRIPE_API_KEY"), "{e}");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refund_lost_in_an_outage_keeps_its_reservation_and_the_repeat_finishes_it() {
    let fake = FakeGateway::start().await;
    let dir = tempfile::tempdir().unwrap();
    let app = app_with(&fake, dir.path()).await;
    let operator = app.admin("operator").await;
    let (pay_id, _, order_id, _) = authorised(&app, &operator, "stripe").await;
    json_status(operator.operate(&pay_id, "capture", json!({}), None).await, 200).await;
    let captured = operator.payment_reaching(&order_id, "succeeded").await["captured_minor"].as_i64().unwrap();

    // The gateway times out: the refund may have happened, so its amount stays reserved...
    fake.set_op_mode(OpMode::Down);
    let refund = json!({"amount_minor": captured});
    assert_error(operator.operate(&pay_id, "refund", refund.clone(), Some("lost-1")).await, 502, "gateway_unavailable")
        .await;
    let held = operator.payment_reaching(&order_id, "succeeded").await;
    assert_eq!(held["refunded_minor"], captured, "the reservation is held: no second refund can start");
    let other = operator.operate(&pay_id, "refund", json!({"amount_minor": 1}), Some("other")).await;
    assert_error(other, 422, "refund_exceeds_captured").await;
    let ops = |v: Value| {
        v["operations"].as_array().unwrap().iter().filter(|o| o["kind"] == "refund").cloned().collect::<Vec<_>>()
    };
    let lost = ops(json_status(operator.get(&format!("/orders/{order_id}")).await, 200).await);
    assert_eq!(lost.len(), 1, "the refused over-refund started nothing: {lost:?}");
    assert_eq!(
        (lost[0]["status"].as_str(), lost[0]["actor"].as_str()),
        (Some("unknown"), Some(operator.username.as_str()))
    );

    // A repeat under that key from a page that showed another amount moves nothing...
    fake.set_op_mode(OpMode::Accept);
    let stale = json!({"expected_amount_minor": captured - 1});
    assert_error(operator.operate(&pay_id, "refund", stale, Some("lost-1")).await, 409, "amount_changed").await;
    let refund_calls = || fake.op_calls().into_iter().filter(|c| c.kind == "refund").count();
    assert_eq!(refund_calls(), 1, "the stale repeat sent nothing to the gateway");

    // ...and the repeat with the same key resumes the same operation with the same gateway key.
    let done = json_status(operator.operate(&pay_id, "refund", refund, Some("lost-1")).await, 200).await;
    assert_eq!((done["payment_status"].as_str(), done["refunded_minor"].as_i64()), (Some("refunded"), Some(captured)));
    let keys: Vec<Option<String>> = fake.op_calls().into_iter().filter(|c| c.kind == "refund").map(|c| c.key).collect();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0], keys[1], "the gateway saw one idempotency key for both attempts");
    let settled = ops(json_status(operator.get(&format!("/orders/{order_id}")).await, 200).await);
    assert_eq!(settled[0]["operation_id"], lost[0]["operation_id"], "the same operation was resumed");
    assert_eq!(settled[0]["status"], "succeeded");
    assert_eq!(app.order_status(&order_id).await, "refunded");
    app.stop().await;
}

//! Renewals a gateway charges on its own schedule. A service sold as a Stripe or PayPal
//! subscription starts one at the gateway (checked on the request a local fake receives); the
//! first charge pays the order like any payment; every later charge extends the same
//! account's access by the service's period, exactly once however often and however
//! concurrently it is delivered, with the `access_extended` email and the `access.extended`
//! webhook; a charge for another amount is held for an admin; a charge of a subscription
//! keyturn does not know is kept and renews nothing; a cancellation at the gateway is recorded
//! and the access runs to its end.

use std::sync::{Arc, Mutex};

use poem::web::Data;
use poem::{handler, EndpointExt, Request, Response, Route};
use serde_json::Value;

use super::calls::{id, utc};
use super::*;
use crate::harness::receiver::Receiver;

mod basil_refunds;

const STRIPE_SECRET: &str = "whsec_subscription_test";
const PRICE: &str = "price_demo_monthly";
const PLAN: &str = "P-5ML4271244454362WXNWU5NQ";
const PAYPAL_WEBHOOK: &str = "WH-subscriptions";
const DAY: i64 = 86_400;

/// A request the fake gateway API received: (path, body).
type Received = (String, Vec<u8>);

/// What the fake gateway API received.
#[derive(Clone, Default)]
struct Requests(Arc<Mutex<Vec<Received>>>);

impl Requests {
    fn to(&self, path: &str) -> Vec<Vec<u8>> {
        self.0.lock().unwrap().iter().filter(|(p, _)| p == path).map(|(_, b)| b.clone()).collect()
    }
}

#[handler]
async fn fake_api(req: &Request, body: Vec<u8>, seen: Data<&Requests>) -> Response {
    let path = req.uri().path().to_string();
    seen.0 .0.lock().unwrap().push((path.clone(), body));
    let answer = match path.as_str() {
        "/v1/checkout/sessions" => json!({"id": "cs_test_sub", "url": "https://checkout.stripe.test/c/cs_test_sub"}),
        "/v1/oauth2/token" => json!({"access_token": "pp-access"}),
        "/v1/billing/subscriptions" => json!({"id": "I-SUBSCRIPTION1", "status": "APPROVAL_PENDING",
            "links": [{"rel": "approve", "href": "https://paypal.test/webapps/billing/subscriptions?ba_token=BA-1"},
                      {"rel": "self", "href": "https://api-m.paypal.test/v1/billing/subscriptions/I-SUBSCRIPTION1"}]}),
        _ => return Response::builder().status(poem::http::StatusCode::NOT_FOUND).finish(),
    };
    Response::builder().content_type("application/json").body(answer.to_string())
}

async fn fake_gateway_api(seen: Requests) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let acceptor = poem::listener::TcpAcceptor::from_tokio(listener).unwrap();
    tokio::spawn(poem::Server::new_with_acceptor(acceptor).run(Route::new().at("/*path", fake_api).data(seen)));
    format!("http://{addr}")
}

/// The app with Stripe and PayPal selling the demo service as subscriptions, webhooks to this
/// machine allowed, and a receiver subscribed to `access.*`.
async fn subscription_app(api: &str, dir: &std::path::Path) -> (TestApp, Receiver, AdminActor) {
    let pem = dir.join("paypal.pem");
    std::fs::write(&pem, paypal_key().to_public_key().to_public_key_pem(LineEnding::LF).unwrap()).unwrap();
    let app = TestApp::builder()
        .set("webhook_allow_private", "true")
        .set("stripe_webhook_secret", STRIPE_SECRET)
        .set("stripe_api_key", "sk_test_123")
        .set("stripe_api_base", api)
        .set("stripe_subscription_prices", &format!("demo={PRICE}"))
        .set("paypal_webhook_id", PAYPAL_WEBHOOK)
        .set("paypal_cert_file", pem.to_str().unwrap())
        .set("paypal_client_id", "pp-client")
        .set("paypal_client_secret", "pp-secret")
        .set("paypal_api_base", api)
        .set("paypal_subscription_plans", &format!("demo={PLAN}"))
        .start()
        .await;
    let owner = app.admin("owner").await;
    let receiver = Receiver::start().await;
    let body = json!({"url": receiver.url, "events": ["access.extended", "access.granted"]});
    json_status(owner.post("/webhooks", &body).await, 201).await;
    (app, receiver, owner)
}

/// A signed Stripe event of `kind` about `object`.
fn stripe_call(kind: &str, object: Value, event_id: &str, now: i64) -> Call {
    let event = json!({"id": event_id, "object": "event", "api_version": "2024-06-20", "created": now,
        "type": kind, "data": {"object": object}});
    let body = serde_json::to_vec(&event).unwrap();
    let headers = vec![("stripe-signature", stripe::signature_header(STRIPE_SECRET, now, &body))];
    Call { content_type: "application/json", headers, body }
}

/// A paid invoice of subscription `sub`: `basil` puts the subscription under `parent` as API
/// versions since 2025-03-31 do; older ones have top-level `subscription`/`subscription_details`.
fn invoice(id: &str, sub: &str, order: Option<&str>, reason: &str, amount: i64, currency: &str, basil: bool) -> Value {
    let metadata = match order {
        Some(o) => json!({"order_id": o}),
        None => json!({}),
    };
    let details = json!({"metadata": metadata, "subscription": sub});
    let mut inv = json!({"id": id, "object": "invoice", "billing_reason": reason, "status": "paid", "paid": true,
        "amount_due": amount, "amount_paid": amount, "currency": currency.to_lowercase(), "customer": "cus_1",
        "lines": {"object": "list", "data": [{"id": "il_1", "amount": amount, "metadata": metadata,
            "period": {"start": 1_700_000_000, "end": 1_702_592_000}}]}});
    if basil {
        inv["parent"] = json!({"type": "subscription_details", "subscription_details": details});
    } else {
        inv["subscription"] = json!(sub);
        inv["subscription_details"] = json!({"metadata": metadata});
        inv["payment_intent"] = json!(format!("pi_{id}"));
    }
    inv
}

/// The customer's access to the demo service as support sees it (unix seconds).
async fn active_until(owner: &AdminActor, email: &str) -> i64 {
    access_until(owner, email, "demo").await
}

/// The customer's access to service `slug` as support sees it (unix seconds).
async fn access_until(owner: &AdminActor, email: &str, slug: &str) -> i64 {
    let found = json_status(owner.get(&format!("/accounts?q={email}")).await, 200).await;
    let services = found[0]["services"].as_array().unwrap();
    let access = services.iter().find(|s| s["slug"] == slug).unwrap_or_else(|| panic!("{slug} access: {found}"));
    chrono::DateTime::parse_from_rfc3339(access["active_until"].as_str().unwrap()).unwrap().timestamp()
}

/// The order of `email` other than those in `known`, with its detail.
async fn other_order(owner: &AdminActor, email: &str, known: &[&str]) -> Value {
    let listed = json_status(owner.get(&format!("/orders?email={email}")).await, 200).await;
    let orders: Vec<&Value> = listed["orders"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| !known.contains(&o["order_id"].as_str().unwrap()))
        .collect();
    assert_eq!(orders.len(), 1, "one new order: {listed}");
    let id = orders[0]["order_id"].as_str().unwrap();
    json_status(owner.get(&format!("/orders/{id}")).await, 200).await
}

/// Sends `call` once, then again, then four times at once; every answer is 200.
async fn deliver_repeatedly(app: &TestApp, gw: Gw, calls: &[Call]) {
    for call in calls {
        for _ in 0..2 {
            assert_eq!(send(app, gw, call).await.status(), 200);
        }
    }
    let all: Vec<&Call> = calls.iter().cycle().take(4 * calls.len()).collect();
    for resp in join_all(all.into_iter().map(|c| send(app, gw, c))).await {
        assert_eq!(resp.status(), 200);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stripe_subscription_renews_the_same_account_once_per_invoice() {
    let seen = Requests::default();
    let api = fake_gateway_api(seen.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let (app, receiver, owner) = subscription_app(&api, dir.path()).await;
    let demo = app.demo().await;
    let (price, cur) = (demo.price_minor, demo.currency.as_str());
    let email = unique_email();
    let order = app.order(&email).await;

    // Paying starts a Checkout Session in subscription mode on the configured Price, our order
    // id on the session and on the subscription.
    let resp = app.get(&format!("/pay/{order}/stripe")).await;
    assert_eq!(resp.status(), 303);
    let sent = seen.to("/v1/checkout/sessions");
    assert_eq!(sent.len(), 1);
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&sent[0]).into_owned().collect();
    let field = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    assert_eq!(field("mode"), Some("subscription"), "{form:?}");
    assert_eq!(field("line_items[0][price]"), Some(PRICE));
    assert_eq!(field("line_items[0][quantity]"), Some("1"));
    assert_eq!(field("metadata[order_id]"), Some(order.as_str()));
    assert_eq!(field("subscription_data[metadata][order_id]"), Some(order.as_str()));
    assert!(form.iter().all(|(k, _)| !k.contains("price_data") && !k.contains("payment_intent_data")), "{form:?}");

    // The first payment: Checkout completes, and the subscription's first invoice is paid (two
    // events about one payment, the invoice): the order is paid once, as today.
    let sub = id("sub_");
    let first_invoice = id("in_");
    let now = app.clock.now();
    let session = json!({"id": "cs_test_sub", "object": "checkout.session", "mode": "subscription",
        "payment_status": "paid", "status": "complete", "amount_total": price, "currency": cur.to_lowercase(),
        "client_reference_id": order, "metadata": {"order_id": order}, "payment_intent": null,
        "invoice": first_invoice, "subscription": sub});
    let created = invoice(&first_invoice, &sub, Some(&order), "subscription_create", price, cur, false);
    deliver_repeatedly(
        &app,
        Gw::Stripe,
        &[
            stripe_call("checkout.session.completed", session, &id("evt_"), now),
            stripe_call("invoice.paid", created, &id("evt_"), now),
        ],
    )
    .await;
    let creds = app.mail.credentials(&email, 1).await;
    app.wait_for_status(&order, "provisioned").await;
    let outcomes = app.payment_events(&order).await;
    assert_eq!(outcomes.iter().filter(|(_, o)| o == "provisioned").count(), 1, "{outcomes:?}");
    let first_end = active_until(&owner, &email).await;

    // A month later Stripe charges the renewal: the same login's access moves on by one period
    // from its end. Delivered twice, four at once, and as a second event (invoice.payment_succeeded)
    // about the same invoice: it counts once.
    app.clock.advance(20 * DAY);
    let owner = app.admin("owner").await;
    let now = app.clock.now();
    let cycle = invoice(&id("in_"), &sub, Some(&order), "subscription_cycle", price, cur, false);
    let calls = [
        stripe_call("invoice.paid", cycle.clone(), &id("evt_"), now),
        stripe_call("invoice.payment_succeeded", cycle, &id("evt_"), now),
    ];
    deliver_repeatedly(&app, Gw::Stripe, &calls).await;
    app.run_pending_jobs().await;
    assert_eq!(active_until(&owner, &email).await, first_end + demo.period_days * DAY);
    let renewal = other_order(&owner, &email, &[&order]).await;
    assert_eq!(renewal["status"], "provisioned", "{renewal}");
    let first = json_status(owner.get(&format!("/orders/{order}")).await, 200).await;
    assert_eq!(renewal["account_id"], first["account_id"], "the same account: {renewal}");
    assert_eq!(renewal["payments"].as_array().unwrap().len(), 1, "{renewal}");
    assert_eq!(renewal["payments"][0]["captured_minor"], price, "{renewal}");
    app.mail.wait_for(&email, Kind::Other, 1, MAIL_TIMEOUT).await;
    let extended: Vec<_> = app.mail.to(&email).into_iter().filter(|m| m.subject.contains("active until")).collect();
    assert_eq!(extended.len(), 1, "one access_extended email");
    assert_eq!(app.mail.count(&email, Kind::Credentials), 1, "no new login or password");
    assert_eq!(app.mail.count(&email, Kind::Confirmation), 1, "only the first order's confirmation");
    let hooks = receiver.of_type("access.extended");
    assert_eq!(hooks.len(), 1, "one access.extended webhook");
    assert_eq!(hooks[0].json()["data"]["login"], creds.login.as_str());
    assert_eq!(hooks[0].json()["data"]["order_id"], renewal["order_id"]);

    // Invoices in API versions since 2025-03-31.basil name the subscription under `parent`.
    let now = app.clock.now();
    let basil = invoice(&id("in_"), &sub, Some(&order), "subscription_cycle", price, cur, true);
    deliver_repeatedly(&app, Gw::Stripe, &[stripe_call("invoice.paid", basil, &id("evt_"), now)]).await;
    assert_eq!(active_until(&owner, &email).await, first_end + 2 * demo.period_days * DAY);

    // A renewal charged at another amount is held: recorded, paid with a reason, nothing extended.
    let known: Vec<String> = order_ids(&owner, &email).await;
    let short = invoice(&id("in_"), &sub, Some(&order), "subscription_cycle", price + 100, cur, false);
    let resp = send(&app, Gw::Stripe, &stripe_call("invoice.paid", short, &id("evt_"), now)).await;
    assert_eq!(resp.status(), 200);
    let refs: Vec<&str> = known.iter().map(String::as_str).collect();
    let held = other_order(&owner, &email, &refs).await;
    assert_eq!((held["status"].as_str(), held["hold_reason"].as_str()), (Some("paid"), Some("amount_mismatch")));
    assert_eq!(held["payments"][0]["captured_minor"], price + 100, "the money is on record: {held}");
    assert_eq!(held["events"][0]["outcome"], "mismatch", "{held}");
    assert_eq!(active_until(&owner, &email).await, first_end + 2 * demo.period_days * DAY);

    // A renewal of a subscription keyturn does not know: acknowledged, kept, nothing renewed.
    let stranger = invoice(&id("in_"), &id("sub_"), None, "subscription_cycle", price, cur, true);
    let resp = send(&app, Gw::Stripe, &stripe_call("invoice.paid", stranger, &id("evt_"), now)).await;
    assert_eq!(resp.status(), 200);
    assert_eq!(unmatched(&app, "unknown_subscription").await, 1);
    assert_eq!(order_ids(&owner, &email).await.len(), known.len() + 1, "no order for it");

    // The customer cancels at Stripe: recorded on the first order; the access runs to its end.
    let deleted = json!({"id": sub, "object": "subscription", "status": "canceled", "metadata": {"order_id": order}});
    let call = stripe_call("customer.subscription.deleted", deleted, &id("evt_"), now);
    assert_eq!(send(&app, Gw::Stripe, &call).await.status(), 200);
    let first = json_status(owner.get(&format!("/orders/{order}")).await, 200).await;
    let cancelled =
        first["events"].as_array().unwrap().iter().find(|e| e["kind"] == "other:customer.subscription.deleted");
    assert!(cancelled.is_some_and(|e| e["detail"].as_str().unwrap().contains("ended at the gateway")), "{first}");
    assert_eq!(active_until(&owner, &email).await, first_end + 2 * demo.period_days * DAY);
    app.run_pending_jobs().await;
    app.assert_no_pending_jobs().await;
    app.stop().await;
}

/// A signed PayPal event.
fn paypal_call(event_type: &str, resource: Value, now: i64) -> Call {
    let event = json!({"id": id("WH-"), "event_version": "1.0", "event_type": event_type,
        "resource_type": if event_type.starts_with("PAYMENT.SALE") { "sale" } else { "subscription" },
        "resource": resource});
    let body = serde_json::to_vec(&event).unwrap();
    let (tx, time) = (id("tx-"), utc(now, "%Y-%m-%dT%H:%M:%SZ"));
    let message = paypal::signed_message(&tx, &time, PAYPAL_WEBHOOK, &body);
    let sig = SigningKey::<sha2::Sha256>::new(paypal_key().clone()).sign(message.as_bytes()).to_bytes();
    let headers = vec![
        ("paypal-transmission-id", tx),
        ("paypal-transmission-time", time),
        ("paypal-transmission-sig", STANDARD.encode(sig)),
        ("paypal-cert-url", "https://api.paypal.com/v1/notifications/certs/CERT-test".into()),
        ("paypal-auth-algo", "SHA256withRSA".into()),
    ];
    Call { content_type: "application/json", headers, body }
}

/// A completed sale of billing agreement (subscription) `agreement`.
fn sale(sale_id: &str, agreement: &str, amount_minor: i64, currency: &str) -> Value {
    json!({"id": sale_id, "state": "completed", "billing_agreement_id": agreement, "payment_mode": "INSTANT_TRANSFER",
        "amount": {"total": format_minor(amount_minor, currency), "currency": currency,
                   "details": {"subtotal": format_minor(amount_minor, currency)}},
        "links": [{"rel": "refund", "href": format!("https://api.paypal.com/v1/payments/sale/{sale_id}/refund")}]})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paypal_subscription_renews_the_same_account_once_per_sale() {
    let seen = Requests::default();
    let api = fake_gateway_api(seen.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let (app, receiver, owner) = subscription_app(&api, dir.path()).await;
    let demo = app.demo().await;
    let (price, cur) = (demo.price_minor, demo.currency.as_str());
    let email = unique_email();
    let order = app.order(&email).await;

    // Paying creates a subscription on the configured plan with our order id as custom_id, and
    // sends the customer to PayPal's approval page.
    let resp = app.get(&format!("/pay/{order}/paypal")).await;
    assert_eq!(resp.status(), 303);
    let location = resp.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with("https://paypal.test/webapps/billing/subscriptions"), "{location}");
    let sent = seen.to("/v1/billing/subscriptions");
    assert_eq!(sent.len(), 1);
    let request: Value = serde_json::from_slice(&sent[0]).unwrap();
    assert_eq!(request["plan_id"], PLAN, "{request}");
    assert_eq!(request["custom_id"], order.as_str(), "{request}");
    assert!(seen.to("/v2/checkout/orders").is_empty(), "no one-off order");
    let sub = "I-SUBSCRIPTION1";

    // The first sale (no `custom` in it) pays the order: found through the subscription we made.
    let now = app.clock.now();
    let first_sale = id("SALE");
    deliver_repeatedly(
        &app,
        Gw::PayPal,
        &[paypal_call("PAYMENT.SALE.COMPLETED", sale(&first_sale, sub, price, cur), now)],
    )
    .await;
    let creds = app.mail.credentials(&email, 1).await;
    app.wait_for_status(&order, "provisioned").await;
    let first_end = active_until(&owner, &email).await;

    // The next cycle's sale extends the same account once, however delivered.
    app.clock.advance(25 * DAY);
    let owner = app.admin("owner").await;
    let now = app.clock.now();
    let second = sale(&id("SALE"), sub, price, cur);
    let calls = [
        paypal_call("PAYMENT.SALE.COMPLETED", second.clone(), now),
        paypal_call("PAYMENT.SALE.COMPLETED", second, now),
    ];
    deliver_repeatedly(&app, Gw::PayPal, &calls).await;
    app.run_pending_jobs().await;
    assert_eq!(active_until(&owner, &email).await, first_end + demo.period_days * DAY);
    let renewal = other_order(&owner, &email, &[&order]).await;
    assert_eq!(renewal["status"], "provisioned", "{renewal}");
    assert_eq!(renewal["payments"].as_array().unwrap().len(), 1, "{renewal}");
    assert_eq!(app.mail.count(&email, Kind::Credentials), 1);
    let hooks = receiver.of_type("access.extended");
    assert_eq!(hooks.len(), 1, "one access.extended webhook");
    assert_eq!(hooks[0].json()["data"]["login"], creds.login.as_str());
    // The first sale again, a day late: still the first order's payment, nothing renewed.
    let again = paypal_call("PAYMENT.SALE.COMPLETED", sale(&first_sale, sub, price, cur), now);
    assert_eq!(send(&app, Gw::PayPal, &again).await.status(), 200);
    assert_eq!(active_until(&owner, &email).await, first_end + demo.period_days * DAY);

    // Another amount: held. An unknown subscription: kept.
    let known = order_ids(&owner, &email).await;
    let odd = paypal_call("PAYMENT.SALE.COMPLETED", sale(&id("SALE"), sub, price + 100, cur), now);
    assert_eq!(send(&app, Gw::PayPal, &odd).await.status(), 200);
    let refs: Vec<&str> = known.iter().map(String::as_str).collect();
    let held = other_order(&owner, &email, &refs).await;
    assert_eq!((held["status"].as_str(), held["hold_reason"].as_str()), (Some("paid"), Some("amount_mismatch")));
    let stranger = paypal_call("PAYMENT.SALE.COMPLETED", sale(&id("SALE"), "I-UNKNOWN9", price, cur), now);
    assert_eq!(send(&app, Gw::PayPal, &stranger).await.status(), 200);
    assert_eq!(unmatched(&app, "unknown_subscription").await, 1);
    assert_eq!(active_until(&owner, &email).await, first_end + demo.period_days * DAY);

    // Cancelled at PayPal: recorded; the access runs to its end.
    let resource = json!({"id": sub, "status": "CANCELLED", "plan_id": PLAN, "custom_id": order});
    let call = paypal_call("BILLING.SUBSCRIPTION.CANCELLED", resource, now);
    assert_eq!(send(&app, Gw::PayPal, &call).await.status(), 200);
    let first = json_status(owner.get(&format!("/orders/{order}")).await, 200).await;
    let cancelled =
        first["events"].as_array().unwrap().iter().find(|e| e["kind"] == "other:BILLING.SUBSCRIPTION.CANCELLED");
    assert!(cancelled.is_some_and(|e| e["detail"].as_str().unwrap().contains("ended at the gateway")), "{first}");
    assert_eq!(active_until(&owner, &email).await, first_end + demo.period_days * DAY);
    app.run_pending_jobs().await;
    app.assert_no_pending_jobs().await;
    app.stop().await;
}

async fn order_ids(owner: &AdminActor, email: &str) -> Vec<String> {
    let listed = json_status(owner.get(&format!("/orders?email={email}")).await, 200).await;
    listed["orders"].as_array().unwrap().iter().map(|o| o["order_id"].as_str().unwrap().to_string()).collect()
}

/// Recorded gateway events with `outcome` that name no order of ours.
async fn unmatched(app: &TestApp, outcome: &str) -> i64 {
    let owner = app.admin("owner").await;
    let listed = json_status(owner.get(&format!("/payment-events/unmatched?outcome={outcome}")).await, 200).await;
    listed["events"].as_array().unwrap().len() as i64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renamed_service_keeps_renewing_its_gateway_subscriptions() {
    let seen = Requests::default();
    let api = fake_gateway_api(seen).await;
    let dir = tempfile::tempdir().unwrap();
    let (app, _receiver, owner) = subscription_app(&api, dir.path()).await;
    let demo = app.demo().await;
    let (price, cur) = (demo.price_minor, demo.currency.as_str());
    let email = unique_email();
    let order = app.order(&email).await;
    let sub = id("sub_");
    let now = app.clock.now();
    let created = invoice(&id("in_"), &sub, Some(&order), "subscription_create", price, cur, true);
    assert_eq!(send(&app, Gw::Stripe, &stripe_call("invoice.paid", created, &id("evt_"), now)).await.status(), 200);
    app.wait_for_status(&order, "provisioned").await;
    let first_end = active_until(&owner, &email).await;

    // The service is renamed while the subscription runs; its next charge still extends the
    // access (now under the new slug) instead of failing until the gateway gives up.
    json_status(owner.post("/services/demo/rename", &json!({"new_slug": "demo-plus"})).await, 200).await;
    app.clock.advance(20 * DAY);
    let owner = app.admin("owner").await;
    let now = app.clock.now();
    let cycle = invoice(&id("in_"), &sub, Some(&order), "subscription_cycle", price, cur, true);
    let resp = send(&app, Gw::Stripe, &stripe_call("invoice.paid", cycle, &id("evt_"), now)).await;
    assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    assert_eq!(access_until(&owner, &email, "demo-plus").await, first_end + demo.period_days * DAY);
    let renewal = other_order(&owner, &email, &[&order]).await;
    assert_eq!((renewal["status"].as_str(), renewal["service"].as_str()), (Some("provisioned"), Some("demo-plus")));
    app.run_pending_jobs().await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paypal_custom_id_alone_never_picks_the_order_or_account() {
    let seen = Requests::default();
    let api = fake_gateway_api(seen).await;
    let dir = tempfile::tempdir().unwrap();
    let (app, _receiver, owner) = subscription_app(&api, dir.path()).await;
    let demo = app.demo().await;
    let (price, cur) = (demo.price_minor, demo.currency.as_str());
    let now = app.clock.now();

    // Someone's order, never sent to PayPal; a subscription keyturn did not create (made with
    // PayPal's browser SDK, say) names it as its custom_id: the sale pays nothing, it is kept.
    let victim = unique_email();
    let pending = app.order(&victim).await;
    let mut stranger = sale(&id("SALE"), "I-NOTOURS1", price, cur);
    stranger["custom"] = json!(pending);
    assert_eq!(send(&app, Gw::PayPal, &paypal_call("PAYMENT.SALE.COMPLETED", stranger, now)).await.status(), 200);
    let detail = json_status(owner.get(&format!("/orders/{pending}")).await, 200).await;
    assert_eq!(detail["status"], "pending_payment", "{detail}");
    assert_eq!(unmatched(&app, "unknown_subscription").await, 1);

    // A subscription we did create is followed by our record, not by the custom_id of a sale:
    // one naming another customer's order pays (and renews) the order it was created for.
    let email = unique_email();
    let order = app.order(&email).await;
    assert_eq!(app.get(&format!("/pay/{order}/paypal")).await.status(), 303);
    let mut first = sale(&id("SALE"), "I-SUBSCRIPTION1", price, cur);
    first["custom"] = json!(pending);
    assert_eq!(send(&app, Gw::PayPal, &paypal_call("PAYMENT.SALE.COMPLETED", first, now)).await.status(), 200);
    app.wait_for_status(&order, "provisioned").await;
    let detail = json_status(owner.get(&format!("/orders/{pending}")).await, 200).await;
    assert_eq!(detail["status"], "pending_payment", "{detail}");
    app.mail.credentials(&email, 1).await;
    assert_eq!(app.mail.count(&victim, Kind::Credentials), 0, "no account for the named address");
    app.stop().await;
}

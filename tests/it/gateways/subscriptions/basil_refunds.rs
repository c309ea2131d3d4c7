//! Stripe since API version 2025-03-31.basil: a subscription's charges no longer name their
//! invoice, so a refund (`charge.refunded`, naming the PaymentIntent) finds the renewal it
//! takes back only through `invoice_payment.paid`, which links the PaymentIntent to the invoice.
//! The refunded renewal's order is refunded and its period taken back; the first order and its
//! period stay; the PaymentIntent's own success is filed under the renewal, not left unmatched.
//! Events that come before the link are applied when it comes; a PaymentIntent linked to two
//! invoices stands for neither, and a refund naming it is left for an admin.

use super::*;

/// A basil `invoice_payment.paid`: invoice `invoice` paid by PaymentIntent `pi`.
fn invoice_payment(invoice: &str, pi: &str, amount: i64, currency: &str) -> Value {
    json!({"id": id("inpay_"), "object": "invoice_payment", "invoice": invoice, "status": "paid", "is_default": true,
        "amount_paid": amount, "amount_requested": amount, "currency": currency.to_lowercase(),
        "payment": {"type": "payment_intent", "payment_intent": pi}})
}

/// A basil charge of PaymentIntent `pi`, refunded in full: no `invoice`, no metadata.
fn refunded_charge(pi: &str, amount: i64, currency: &str) -> Value {
    json!({"id": id("ch_"), "object": "charge", "payment_intent": pi, "amount": amount, "amount_captured": amount,
        "amount_refunded": amount, "refunded": true, "currency": currency.to_lowercase(), "metadata": {}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refunded_basil_renewal_takes_back_its_period_found_through_its_invoice_payment() {
    let api = fake_gateway_api(Requests::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let (app, _receiver, _owner) = subscription_app(&api, dir.path()).await;
    let demo = app.demo().await;
    let (price, cur) = (demo.price_minor, demo.currency.as_str());
    let email = unique_email();
    let order = app.order(&email).await;
    assert_eq!(app.get(&format!("/pay/{order}/stripe")).await.status(), 303);

    // The first charge, basil style: Checkout completes; the first invoice is paid by pi_1.
    let (sub, first_invoice, first_pi) = (id("sub_"), id("in_"), id("pi_"));
    let now = app.clock.now();
    let session = json!({"id": "cs_test_sub", "object": "checkout.session", "mode": "subscription",
        "payment_status": "paid", "status": "complete", "amount_total": price, "currency": cur.to_lowercase(),
        "client_reference_id": order, "metadata": {"order_id": order}, "payment_intent": null,
        "invoice": first_invoice, "subscription": sub});
    let created = invoice(&first_invoice, &sub, Some(&order), "subscription_create", price, cur, true);
    let calls = [
        stripe_call("checkout.session.completed", session, &id("evt_"), now),
        stripe_call("invoice.paid", created, &id("evt_"), now),
        stripe_call("invoice_payment.paid", invoice_payment(&first_invoice, &first_pi, price, cur), &id("evt_"), now),
    ];
    deliver_repeatedly(&app, Gw::Stripe, &calls).await;
    app.wait_for_status(&order, "provisioned").await;
    let first_end = active_until(&app.admin("owner").await, &email).await;

    // A month later the renewal: its invoice paid by pi_2, the PaymentIntent's own success
    // (no metadata: it names no order) after the link.
    app.clock.advance(20 * DAY);
    let owner = app.admin("owner").await;
    let now = app.clock.now();
    let (cycle_invoice, cycle_pi) = (id("in_"), id("pi_"));
    let cycle = invoice(&cycle_invoice, &sub, Some(&order), "subscription_cycle", price, cur, true);
    let intent = json!({"id": cycle_pi, "object": "payment_intent", "status": "succeeded", "amount": price,
        "currency": cur.to_lowercase(), "metadata": {}});
    deliver_repeatedly(
        &app,
        Gw::Stripe,
        &[
            stripe_call("invoice.paid", cycle, &id("evt_"), now),
            stripe_call(
                "invoice_payment.paid",
                invoice_payment(&cycle_invoice, &cycle_pi, price, cur),
                &id("evt_"),
                now,
            ),
        ],
    )
    .await;
    let sent = send(&app, Gw::Stripe, &stripe_call("payment_intent.succeeded", intent, &id("evt_"), now)).await;
    assert_eq!(sent.status(), 200);
    app.run_pending_jobs().await;
    let renewed_end = first_end + demo.period_days * DAY;
    assert_eq!(active_until(&owner, &email).await, renewed_end);
    let renewal = other_order(&owner, &email, &[&order]).await;
    let renewal_id = renewal["order_id"].as_str().unwrap().to_string();
    assert_eq!(renewal["payments"][0]["gateway_payment_id"], cycle_invoice.as_str(), "{renewal}");
    let kinds: Vec<(&str, &str)> = renewal["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["kind"].as_str().unwrap(), e["outcome"].as_str().unwrap()))
        .collect();
    assert!(kinds.contains(&("also_known_as", "recorded")), "{kinds:?}");
    assert!(kinds.contains(&("succeeded", "duplicate")), "the intent's success is the renewal's: {kinds:?}");
    assert_eq!(unmatched(&app, "unknown_order").await, 0, "nothing left unmatched");

    // The merchant refunds the renewal at Stripe: the charge names only pi_2. Delivered
    // repeatedly and concurrently, it takes back one period, once.
    let refund = stripe_call("charge.refunded", refunded_charge(&cycle_pi, price, cur), &id("evt_"), now);
    deliver_repeatedly(&app, Gw::Stripe, &[refund]).await;
    let refunded = json_status(owner.get(&format!("/orders/{renewal_id}")).await, 200).await;
    assert_eq!(refunded["status"], "refunded", "{refunded}");
    assert_eq!(refunded["payments"][0]["status"], "refunded", "{refunded}");
    assert_eq!(active_until(&owner, &email).await, first_end, "the renewal's period is taken back, once");
    let first = json_status(owner.get(&format!("/orders/{order}")).await, 200).await;
    assert_eq!(first["status"], "provisioned", "the first order stands: {first}");
    assert_eq!(unmatched(&app, "unknown_order").await, 0, "the refund was matched");

    // A refund of a charge Stripe never linked to an invoice of ours stays unmatched, for an admin.
    let stranger = stripe_call("charge.refunded", refunded_charge(&id("pi_"), price, cur), &id("evt_"), now);
    assert_eq!(send(&app, Gw::Stripe, &stranger).await.status(), 200);
    assert_eq!(unmatched(&app, "unknown_order").await, 1);
    assert_eq!(active_until(&owner, &email).await, first_end);
    app.stop().await;
}

/// A customer subscribed through Stripe (basil events), first charge paid: (email, first
/// order, subscription id, end of the first period).
async fn subscribed(app: &TestApp) -> (String, String, String, i64) {
    let demo = app.demo().await;
    let (price, cur) = (demo.price_minor, demo.currency.as_str());
    let email = unique_email();
    let order = app.order(&email).await;
    assert_eq!(app.get(&format!("/pay/{order}/stripe")).await.status(), 303);
    let (sub, first_invoice) = (id("sub_"), id("in_"));
    let now = app.clock.now();
    let created = invoice(&first_invoice, &sub, Some(&order), "subscription_create", price, cur, true);
    assert_eq!(send(app, Gw::Stripe, &stripe_call("invoice.paid", created, &id("evt_"), now)).await.status(), 200);
    app.wait_for_status(&order, "provisioned").await;
    let end = active_until(&app.admin("owner").await, &email).await;
    (email, order, sub, end)
}

/// A renewal invoice of `sub` paid (basil); returns the invoice id.
async fn renewal_paid(app: &TestApp, sub: &str, order: &str) -> String {
    let demo = app.demo().await;
    let cycle_invoice = id("in_");
    let cycle = invoice(&cycle_invoice, sub, Some(order), "subscription_cycle", demo.price_minor, &demo.currency, true);
    let call = stripe_call("invoice.paid", cycle, &id("evt_"), app.clock.now());
    assert_eq!(send(app, Gw::Stripe, &call).await.status(), 200);
    cycle_invoice
}

async fn send_ok(app: &TestApp, kind: &str, object: Value) {
    let call = stripe_call(kind, object, &id("evt_"), app.clock.now());
    assert_eq!(send(app, Gw::Stripe, &call).await.status(), 200, "{kind}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_before_the_link_are_applied_when_it_comes_and_a_shared_intent_stands_for_none() {
    let api = fake_gateway_api(Requests::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let (app, _receiver, _owner) = subscription_app(&api, dir.path()).await;
    let demo = app.demo().await;
    let (price, cur) = (demo.price_minor, demo.currency.as_str());
    let (email, order, sub, first_end) = subscribed(&app).await;
    let period = demo.period_days * DAY;

    // Stripe's usual order: the renewal's invoice, the PaymentIntent's success; then (before the
    // link arrives, say it was retried) the merchant's refund. Both name only pi: unmatched.
    let cycle_invoice = renewal_paid(&app, &sub, &order).await;
    let pi = id("pi_");
    let intent = json!({"id": pi, "object": "payment_intent", "status": "succeeded", "amount": price,
        "currency": cur.to_lowercase(), "metadata": {}});
    send_ok(&app, "payment_intent.succeeded", intent).await;
    send_ok(&app, "charge.refunded", refunded_charge(&pi, price, cur)).await;
    assert_eq!(unmatched(&app, "unknown_order").await, 2);
    let owner = app.admin("owner").await;
    assert_eq!(active_until(&owner, &email).await, first_end + period);

    // The link: both are applied to the renewal, the refund takes its period back.
    send_ok(&app, "invoice_payment.paid", invoice_payment(&cycle_invoice, &pi, price, cur)).await;
    assert_eq!(unmatched(&app, "unknown_order").await, 0, "nothing left unmatched");
    let renewal = other_order(&owner, &email, &[&order]).await;
    assert_eq!(renewal["status"], "refunded", "{renewal}");
    let outcomes: Vec<(&str, &str)> = renewal["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["kind"].as_str().unwrap(), e["outcome"].as_str().unwrap()))
        .collect();
    assert!(
        outcomes.contains(&("succeeded", "duplicate")) && outcomes.contains(&("refunded", "recorded")),
        "{outcomes:?}"
    );
    assert_eq!(active_until(&owner, &email).await, first_end, "the renewal's period is taken back");
    // The link again (Stripe retries): nothing is applied twice.
    send_ok(&app, "invoice_payment.paid", invoice_payment(&cycle_invoice, &pi, price, cur)).await;
    assert_eq!(active_until(&owner, &email).await, first_end);

    // One PaymentIntent linked to two invoices: it stands for neither; its refund is left for an
    // admin, and both renewals keep their periods.
    let renewal_ids: Vec<String> = order_ids(&owner, &email).await;
    let (a, b) = (renewal_paid(&app, &sub, &order).await, renewal_paid(&app, &sub, &order).await);
    let shared = id("pi_");
    send_ok(&app, "invoice_payment.paid", invoice_payment(&a, &shared, price, cur)).await;
    send_ok(&app, "invoice_payment.paid", invoice_payment(&b, &shared, price, cur)).await;
    send_ok(&app, "charge.refunded", refunded_charge(&shared, price, cur)).await;
    assert_eq!(unmatched(&app, "unknown_order").await, 1, "the refund is left for an admin");
    assert_eq!(active_until(&owner, &email).await, first_end + 2 * period);
    for oid in order_ids(&owner, &email).await.iter().filter(|o| !renewal_ids.contains(o)) {
        let o = json_status(owner.get(&format!("/orders/{oid}")).await, 200).await;
        assert_eq!(o["status"], "provisioned", "{o}");
    }

    // The refund, then the link, then the invoice's own event: the link finds no payment yet;
    // the next sweep applies the refund to the renewal the invoice paid.
    let late = id("pi_");
    let late_invoice = id("in_");
    send_ok(&app, "charge.refunded", refunded_charge(&late, price, cur)).await;
    send_ok(&app, "invoice_payment.paid", invoice_payment(&late_invoice, &late, price, cur)).await;
    assert_eq!(unmatched(&app, "unknown_order").await, 2);
    let cycle = invoice(&late_invoice, &sub, Some(&order), "subscription_cycle", price, cur, true);
    send_ok(&app, "invoice.paid", cycle).await;
    app.run_pending_jobs().await;
    assert_eq!(active_until(&owner, &email).await, first_end + 3 * period);
    app.sweep().await;
    assert_eq!(unmatched(&app, "unknown_order").await, 1, "only the shared intent's refund is left");
    assert_eq!(active_until(&owner, &email).await, first_end + 2 * period, "the late renewal is taken back");
    app.sweep().await;
    assert_eq!(active_until(&owner, &email).await, first_end + 2 * period, "once");
    app.stop().await;
}

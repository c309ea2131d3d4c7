//! Gateway ids as long as the adapters accept (255 characters) are stored whole on every
//! backend: a payment or event id longer than an index-friendly 191 characters is neither
//! refused by the database after its signature was verified nor cut short (two ids that differ
//! only in their last character are two payments). An id with spaces at an end is refused:
//! MariaDB's collation would compare `id ` and `id` as one.

use super::*;

/// `prefix` + sevens + `last`: 255 characters.
fn long(prefix: &str, last: char) -> String {
    format!("{prefix}{}{last}", "7".repeat(255 - prefix.len() - 1))
}

fn stripe_paid(acct: &Account, order: &str, demo: &Service, now: i64, pi: &str, evt: &str) -> Call {
    let pi = json!({"id": pi, "object": "payment_intent", "status": "succeeded", "amount": demo.price_minor,
        "currency": demo.currency.to_lowercase(), "metadata": {"order_id": order}});
    let event = json!({"id": evt, "object": "event", "type": "payment_intent.succeeded", "data": {"object": pi}});
    let body = serde_json::to_vec(&event).unwrap();
    let headers = vec![("stripe-signature", stripe::signature_header(&acct.secret, now, &body))];
    Call { content_type: "application/json", headers, body }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stripe_ids_of_255_characters_are_kept_whole_and_padded_ones_refused() {
    let acct = Account::new(Gw::Stripe);
    let app = acct.start_direct().await;
    let owner = app.admin("owner").await;
    let demo = app.demo().await;
    let (a, b) = (unique_email(), unique_email());
    let (order_a, order_b) = (app.order(&a).await, app.order(&b).await);
    let now = app.clock.now();
    let first = stripe_paid(&acct, &order_a, &demo, now, &long("pi_", 'a'), &long("evt_", 'a'));
    let second = stripe_paid(&acct, &order_b, &demo, now, &long("pi_", 'b'), &long("evt_", 'b'));
    // The first again: the same 255-character event id is found as a duplicate.
    for call in [&first, &second, &first] {
        let resp = send(&app, Gw::Stripe, call).await;
        assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
    }
    for (email, order, last) in [(&a, &order_a, 'a'), (&b, &order_b, 'b')] {
        app.mail.wait_for(email, Kind::Credentials, 1, MAIL_TIMEOUT).await;
        app.assert_provisioned_once(email, order).await;
        let detail = json_status(owner.get(&format!("/orders/{order}")).await, 200).await;
        assert_eq!(detail["payments"][0]["gateway_payment_id"], long("pi_", last).as_str(), "{detail}");
        assert_eq!(detail["events"][0]["event_id"], long("evt_", last).as_str(), "{detail}");
        assert_eq!(detail["events"].as_array().map(Vec::len), Some(1), "{detail}");
    }

    let c = unique_email();
    let order_c = app.order(&c).await;
    let too_long = format!("{}9", long("pi_", 'x'));
    for (pi, evt) in [("pi_padded ", "evt_p1"), ("pi_padded2", " evt_p2"), (too_long.as_str(), "evt_p3")] {
        let resp = send(&app, Gw::Stripe, &stripe_paid(&acct, &order_c, &demo, now, pi, evt)).await;
        assert_eq!(json_status(resp, 400).await["error"], "invalid_body", "{pi:?} / {evt:?}");
    }
    assert_eq!(app.order_status(&order_c).await, "pending_payment");
    assert_eq!(app.mail.count(&c, Kind::Any), 0);
    app.stop().await;
}

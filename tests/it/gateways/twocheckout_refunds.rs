//! 2Checkout refund notices: each reports one refund, so their amounts add up; a notice that
//! 2Checkout sends again (re-dated: retries until acknowledged, "resend IPN") counts once.

use super::*;

/// A 2Checkout IPN with `fields` in this order, signed with `secret`.
fn twocheckout_ipn(secret: &str, fields: &[(&str, String)]) -> Call {
    let values: Vec<&str> = fields.iter().map(|(_, v)| v.as_str()).collect();
    let mut signed = fields.to_vec();
    signed.push(("SIGNATURE_SHA2_256", twocheckout::hmac_sha256_hex(secret, &values)));
    Call { content_type: "application/x-www-form-urlencoded", headers: vec![], body: calls::form(&signed) }
}

/// IPNs about one 2Checkout payment (`REFNO`) of one order.
#[derive(Clone)]
struct Ipns {
    secret: String,
    order: String,
    refno: String,
    currency: String,
    now: i64,
}

impl Ipns {
    /// An IPN with `ORDERSTATUS=status`, sent at `at` (its `IPN_DATE`); `amount` is
    /// `IPN_TOTALGENERAL` (none: the field is left out).
    fn ipn(&self, status: &str, currency: &str, refund_type: Option<&str>, amount: Option<String>, at: i64) -> Call {
        let mut fields = vec![
            ("SALEDATE", calls::utc(self.now, "%Y-%m-%d %H:%M:%S")),
            ("REFNO", self.refno.clone()),
            ("REFNOEXT", self.order.clone()),
            ("ORDERSTATUS", status.to_string()),
            ("IPN_PID[]", "1".into()),
            ("IPN_PNAME[]", "Demo service".into()),
        ];
        if let Some(amount) = amount {
            fields.push(("IPN_TOTALGENERAL", amount));
        }
        fields.push(("CURRENCY", currency.to_string()));
        fields.push(("IPN_DATE", calls::utc(at, "%Y%m%d%H%M%S")));
        if let Some(t) = refund_type {
            fields.push(("REFUND_TYPE", t.to_string()));
        }
        twocheckout_ipn(&self.secret, &fields)
    }

    /// A `REFUND` notice in `currency`.
    fn notice_in(&self, currency: &str, refund_type: Option<&str>, amount: Option<String>, at: i64) -> Call {
        self.ipn("REFUND", currency, refund_type, amount, at)
    }

    /// A `REFUND` notice in the order's currency.
    fn notice(&self, refund_type: Option<&str>, amount: Option<String>, at: i64) -> Call {
        self.notice_in(&self.currency, refund_type, amount, at)
    }

    /// `IPN_TOTALGENERAL` of a refund of `minor` (shown negative).
    fn part(&self, minor: i64) -> Option<String> {
        Some(format!("-{}", format_minor(minor, &self.currency)))
    }
}

/// An app with 2Checkout, and an order of the demo service paid through it and provisioned.
struct Paid {
    acct: Account,
    app: TestApp,
    email: String,
    price: i64,
    ipns: Ipns,
}

impl Paid {
    async fn start() -> Paid {
        let acct = Account::new(Gw::TwoCheckout);
        let app = acct.start_direct().await;
        let demo = app.demo().await;
        let (email, order) = new_order(&app).await;
        let now = app.clock.now();
        let call = paid(Gw::TwoCheckout, &acct.secret, &order, demo.price_minor, &demo.currency, now);
        check_reply(&acct, &call, send(&app, Gw::TwoCheckout, &call).await, false).await;
        app.mail.wait_for(&email, Kind::Credentials, 1, MAIL_TIMEOUT).await;
        app.wait_for_status(&order, "provisioned").await;
        let refno = url::form_urlencoded::parse(&call.body).find(|(k, _)| k == "REFNO").unwrap().1.into_owned();
        let ipns = Ipns { secret: acct.secret.clone(), order, refno, currency: demo.currency, now };
        Paid { acct, app, email, price: demo.price_minor, ipns }
    }

    /// Sends `call` and checks 2Checkout's receipt.
    async fn send(&self, call: &Call) {
        check_reply(&self.acct, call, send(&self.app, Gw::TwoCheckout, call).await, false).await;
    }
}

/// 2Checkout refund notices each report one refund: a second partial refund of another amount
/// is not a duplicate of the first and their amounts add up, each notice counted once (a repeat,
/// however dated, is a duplicate); partial refunds that together give back the whole payment end
/// it `refunded` and the order with it. A notice that says `REFUND_TYPE=PARTIAL` for the whole
/// amount or without an amount, and one in another currency, add nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twocheckout_partial_refund_notices_add_up_and_together_end_the_order() {
    let p = Paid::start().await;
    let (app, order, now, n) = (&p.app, &p.ipns.order, p.ipns.now, &p.ipns);
    let operator = app.admin("operator").await;
    let full = format_minor(p.price, &n.currency);
    let other = if n.currency == "USD" { "EUR" } else { "USD" };
    let first = n.notice(Some("PARTIAL"), n.part(100), now + 60);
    // (notice, new event, refunded so far)
    for (call, new_event, refunded) in [
        (first.clone(), true, 100),
        // The first notice again: a duplicate, not counted twice.
        (first, false, 100),
        // No type, below the total: counted.
        (n.notice(None, n.part(200), now + 180), true, 300),
        // "Partial" without an amount: nothing counted (the order is not ended).
        (n.notice(Some("PARTIAL"), None, now + 210), true, 300),
        // "Partial" for the whole amount, and an amount in another currency: nothing to add.
        (n.notice(Some("PARTIAL"), Some(format!("-{full}")), now + 240), true, 300),
        (n.notice_in(other, None, Some(format!("-{full}")), now + 270), true, 300),
    ] {
        let before = json_status(operator.get(&format!("/orders/{order}")).await, 200).await;
        let events_before = before["events"].as_array().unwrap().len();
        p.send(&call).await;
        let v = json_status(operator.get(&format!("/orders/{order}")).await, 200).await;
        let events = v["events"].as_array().unwrap().len();
        assert_eq!(events, events_before + usize::from(new_event), "{v}");
        assert_eq!(v["payments"][0]["status"], "partially_refunded", "{v}");
        assert_eq!(v["payments"][0]["refunded_minor"], refunded, "{v}");
        assert_eq!(v["status"], "provisioned", "a partial refund keeps the order: {v}");
    }
    // The last partial refund gives back the rest: the payment is refunded and access ends.
    let owner = app.admin("owner").await;
    let before = json_status(owner.get(&format!("/accounts?q={}", p.email)).await, 200).await;
    let last = n.notice(Some("PARTIAL"), n.part(p.price - 300), now + 300);
    p.send(&last).await;
    let v = json_status(operator.get(&format!("/orders/{order}")).await, 200).await;
    assert_eq!(v["payments"][0]["status"], "refunded", "{v}");
    assert_eq!(v["payments"][0]["refunded_minor"], p.price, "{v}");
    let after = json_status(owner.get(&format!("/accounts?q={}", p.email)).await, 200).await;
    assert_ne!(before[0]["services"], after[0]["services"], "the access period is taken back");
    app.wait_for_status(order, "refunded").await;
    // Its repeat changes nothing.
    p.send(&last).await;
    let again = json_status(operator.get(&format!("/orders/{order}")).await, 200).await;
    assert_eq!(again["events"], v["events"], "{again}");
    assert_eq!(again["payments"][0]["refunded_minor"], p.price, "{again}");
    p.app.stop().await;
}

/// 2Checkout sends a notice again until it is acknowledged (and a merchant can "resend IPN"),
/// each time with a new `IPN_DATE` and so a new signature: a partial refund of 40% re-sent twice
/// is still 40% — the order and its access stay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twocheckout_refund_notice_resent_with_a_new_date_counts_once() {
    let p = Paid::start().await;
    let (app, order, n) = (&p.app, &p.ipns.order, &p.ipns);
    let operator = app.admin("operator").await;
    let owner = app.admin("owner").await;
    let access = json_status(owner.get(&format!("/accounts?q={}", p.email)).await, 200).await;
    let forty = p.price * 2 / 5;
    p.send(&n.notice(Some("PARTIAL"), n.part(forty), n.now + 60)).await;
    let first = json_status(operator.get(&format!("/orders/{order}")).await, 200).await;
    for resent_at in [n.now + 3_600, n.now + 86_400] {
        p.send(&n.notice(Some("PARTIAL"), n.part(forty), resent_at)).await;
    }
    let v = json_status(operator.get(&format!("/orders/{order}")).await, 200).await;
    assert_eq!(v["events"], first["events"], "a re-sent notice is a duplicate: {v}");
    assert_eq!(v["payments"][0]["status"], "partially_refunded", "{v}");
    assert_eq!(v["payments"][0]["refunded_minor"], forty, "{v}");
    assert_eq!(v["status"], "provisioned", "{v}");
    let after = json_status(owner.get(&format!("/accounts?q={}", p.email)).await, 200).await;
    assert_eq!(access[0]["services"], after[0]["services"], "access is not taken back");
    p.app.stop().await;
}

/// A refund notice can be the first thing heard of a payment (its `COMPLETE` IPN lost), or come
/// for a payment that never recorded a capture (only its `PENDING` IPN arrived): what it gave
/// back is counted from the start, so a later partial refund adds to it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twocheckout_refund_of_a_payment_not_seen_paid_counts_from_the_start() {
    let p = Paid::start().await;
    let operator = p.app.admin("operator").await;
    let (forty, thirty, now) = (p.price * 2 / 5, p.price * 3 / 10, p.ipns.now);
    for (i, pending_first) in [false, true].into_iter().enumerate() {
        let (_, order) = new_order(&p.app).await;
        let n = Ipns { order: order.clone(), refno: format!("{}{i}", p.ipns.refno), ..p.ipns.clone() };
        if pending_first {
            p.send(&n.ipn("PENDING", &n.currency, None, None, now + 30)).await;
            let v = json_status(operator.get(&format!("/orders/{order}")).await, 200).await;
            assert_eq!(v["payments"][0]["captured_minor"], 0, "{v}");
        }
        for (at, amount, refunded) in [(now + 60, forty, forty), (now + 120, thirty, forty + thirty)] {
            p.send(&n.notice(Some("PARTIAL"), n.part(amount), at)).await;
            let v = json_status(operator.get(&format!("/orders/{order}")).await, 200).await;
            assert_eq!(v["payments"][0]["status"], "partially_refunded", "{v}");
            assert_eq!(v["payments"][0]["refunded_minor"], refunded, "pending first: {pending_first}: {v}");
        }
    }
    p.app.stop().await;
}

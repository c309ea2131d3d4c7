//! Gateway callbacks built independently of the sandbox: a genuine "paid" callback per
//! gateway, and a tampered one whose signature no longer matches.

use super::*;

pub(super) type Headers = Vec<(&'static str, String)>;

/// A callback request as the gateway sends it.
#[derive(Clone)]
pub(super) struct Call {
    pub(super) content_type: &'static str,
    pub(super) headers: Headers,
    pub(super) body: Vec<u8>,
}

pub(super) fn id(prefix: &str) -> String {
    format!("{prefix}{}", hex::encode(rand::random::<[u8; 8]>()))
}

pub(super) fn form(fields: &[(&str, String)]) -> Vec<u8> {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in fields {
        s.append_pair(k, v);
    }
    s.finish().into_bytes()
}

pub(super) fn utc(now: i64, format: &str) -> String {
    chrono::DateTime::from_timestamp(now, 0).unwrap().format(format).to_string()
}

/// A "paid" callback for `order` of `amount_minor` `currency`, signed with `secret`.
pub(super) fn paid(gw: Gw, secret: &str, order: &str, amount_minor: i64, currency: &str, now: i64) -> Call {
    let amount = format_minor(amount_minor, currency);
    let json_call = |body: serde_json::Value, headers: &dyn Fn(&[u8]) -> Headers| {
        let body = serde_json::to_vec(&body).unwrap();
        Call { content_type: "application/json", headers: headers(&body), body }
    };
    match gw {
        Gw::Stripe => {
            let pi = json!({"id": id("pi_"), "object": "payment_intent", "status": "succeeded", "amount": amount_minor,
                "currency": currency.to_lowercase(), "metadata": {"order_id": order},
                "charges": {"data": [{"payment_method_details": {"card": {"three_d_secure": {"result": "authenticated"}}}}]}});
            let event = json!({"id": id("evt_"), "object": "event", "type": "payment_intent.succeeded", "data": {"object": pi}});
            json_call(event, &|b| vec![("stripe-signature", stripe::signature_header(secret, now, b))])
        }
        Gw::FreedomPay => {
            let mut fields = vec![
                ("pg_order_id", order.to_string()),
                ("pg_payment_id", id("")),
                ("pg_amount", amount),
                ("pg_currency", currency.into()),
                ("pg_description", "Test order".into()),
                ("pg_result", "1".into()),
                ("pg_can_reject", "1".into()),
                ("pg_payment_date", utc(now, "%Y-%m-%d %H:%M:%S")),
                ("pg_merchant_id", MERCHANT.into()),
                ("pg_salt", id("")),
            ];
            let sig = freedompay::sign("callback", &fields, secret);
            fields.push(("pg_sig", sig));
            Call { content_type: "application/x-www-form-urlencoded", headers: vec![], body: form(&fields) }
        }
        Gw::TwoCheckout => {
            let mut fields = vec![
                ("SALEDATE", utc(now, "%Y-%m-%d %H:%M:%S")),
                ("REFNO", id("")),
                ("REFNOEXT", order.into()),
                ("ORDERSTATUS", "COMPLETE".into()),
                ("IPN_PID[]", "1".into()),
                ("IPN_PNAME[]", "Demo service".into()),
                ("IPN_TOTALGENERAL", amount),
                ("CURRENCY", currency.into()),
                ("FRAUD_STATUS", "APPROVED".into()),
                ("IPN_DATE", utc(now, "%Y%m%d%H%M%S")),
            ];
            let values: Vec<&str> = fields.iter().map(|(_, v)| v.as_str()).collect();
            let sig = twocheckout::hmac_sha256_hex(secret, &values);
            fields.push(("SIGNATURE_SHA2_256", sig));
            Call { content_type: "application/x-www-form-urlencoded", headers: vec![], body: form(&fields) }
        }
        Gw::AllSecure => {
            let body = json!({"result": "OK", "uuid": id(""), "merchantTransactionId": order, "transactionType": "DEBIT",
                "paymentMethod": "Creditcard", "amount": amount, "currency": currency});
            let ct = "application/json; charset=utf-8";
            let date = utc(now, "%a, %d %b %Y %H:%M:%S GMT");
            let mut call = json_call(body, &|b| {
                vec![
                    ("date", date.clone()),
                    ("x-signature", allsecure::signature(secret, b, ct, &date, &Gw::AllSecure.path())),
                ]
            });
            call.content_type = ct;
            call
        }
        Gw::PayPal => {
            let event = json!({"id": id("WH-"), "event_version": "1.0", "event_type": "PAYMENT.CAPTURE.COMPLETED",
                "resource_type": "capture", "resource": {"id": id("CAP"), "status": "COMPLETED",
                "amount": {"currency_code": currency, "value": amount}, "custom_id": order}});
            json_call(event, &|b| {
                let (tx, time) = (id("tx-"), utc(now, "%Y-%m-%dT%H:%M:%SZ"));
                let message = paypal::signed_message(&tx, &time, secret, b);
                let sig = SigningKey::<sha2::Sha256>::new(paypal_key().clone()).sign(message.as_bytes()).to_bytes();
                vec![
                    ("paypal-transmission-id", tx),
                    ("paypal-transmission-time", time),
                    ("paypal-transmission-sig", STANDARD.encode(sig)),
                    ("paypal-cert-url", "https://api.paypal.com/v1/notifications/certs/CERT-test".into()),
                    ("paypal-auth-algo", "SHA256withRSA".into()),
                ]
            })
        }
        Gw::Dotpay => {
            let mut fields = vec![
                ("id", MERCHANT.to_string()),
                ("operation_number", format!("M{}-{}", &id("")[..4], &id("")[..4])),
                ("operation_type", "payment".into()),
                ("operation_status", "completed".into()),
                ("operation_amount", amount.clone()),
                ("operation_currency", currency.into()),
                ("operation_original_amount", amount),
                ("operation_original_currency", currency.into()),
                ("operation_datetime", utc(now, "%Y-%m-%d %H:%M:%S")),
                ("control", order.into()),
                ("description", "Test order".into()),
                ("channel", "248".into()),
            ];
            let sig = dotpay::signature(secret, &fields);
            fields.push(("signature", sig));
            Call { content_type: "application/x-www-form-urlencoded", headers: vec![], body: form(&fields) }
        }
        Gw::Square => {
            let payment = json!({"id": id("sq"), "status": "COMPLETED", "reference_id": order,
                "amount_money": {"amount": amount_minor, "currency": currency}});
            let event = json!({"merchant_id": "ML1", "type": "payment.updated", "event_id": id("ev-"),
                "data": {"type": "payment", "id": payment["id"], "object": {"payment": payment}}});
            json_call(event, &|b| vec![("x-square-hmacsha256-signature", square::signature(secret, SQUARE_URL, b))])
        }
    }
}

/// A callback signed for `amount_minor + 1`, then one byte changed to claim `amount_minor`: were
/// the signature not checked, it would provision.
pub(super) fn tampered(gw: Gw, secret: &str, order: &str, amount_minor: i64, currency: &str, now: i64) -> Call {
    let mut call = paid(gw, secret, order, amount_minor + 1, currency, now);
    let (signed, claimed) = match gw {
        Gw::Stripe | Gw::Square => ((amount_minor + 1).to_string(), amount_minor.to_string()),
        _ => (format_minor(amount_minor + 1, currency), format_minor(amount_minor, currency)),
    };
    let at = call.body.windows(signed.len()).position(|w| w == signed.as_bytes()).expect("amount in body");
    call.body[at..at + signed.len()].copy_from_slice(claimed.as_bytes());
    let changed = signed.bytes().zip(claimed.bytes()).filter(|(a, b)| a != b).count();
    assert_eq!(changed, 1, "{signed} → {claimed}");
    call
}

//! PayPal Subscriptions (`/v1/billing/subscriptions`): starting one for an order whose service
//! has a billing plan (`paypal_subscription_plans`), with our order id as `custom_id`, and the
//! webhooks of its life. PayPal charges each cycle itself and reports it as a v1 *sale*:
//! `PAYMENT.SALE.COMPLETED` whose `billing_agreement_id` is the subscription (`I-…`), the
//! first charge included; `PAYMENT.SALE.REFUNDED` / `.REVERSED` give one back;
//! `BILLING.SUBSCRIPTION.CANCELLED` / `.EXPIRED` end it.

use serde_json::{json, Value};

use super::start::{token, DEFAULT_BASE};
use super::str_at;
use crate::payments::gateways::{
    checked_id, money_fields, other, EventKind, SubscriptionEvent, SubscriptionRef, VerifiedEvent, VerifyError,
};
use crate::payments::start::{base, Checkout, StartError, Started};
use crate::state::AppState;

/// The subscription events, mapped; `None` for the other events (and a sale of no subscription).
pub(super) fn map(
    event_id: String,
    event_type: &str,
    resource: &Value,
    resource_id: &str,
) -> Result<Option<VerifiedEvent>, VerifyError> {
    let agreement = str_at(resource, "/billing_agreement_id").filter(|a| !a.is_empty());
    let (kind, payment_id, sub, order_id) = match (event_type, agreement) {
        ("PAYMENT.SALE.COMPLETED", Some(agreement)) => {
            let sub = SubscriptionRef {
                id: checked_id("billing_agreement_id", agreement, 128)?,
                event: SubscriptionEvent::Charge,
            };
            // `custom` echoes the subscription's custom_id (unconfirmed: we also find the order
            // through the subscription id we recorded when we created it).
            (EventKind::Succeeded, resource_id, Some(sub), str_at(resource, "/custom"))
        }
        // The refund names its sale; a reversal is the sale itself.
        ("PAYMENT.SALE.REFUNDED" | "PAYMENT.SALE.REVERSED", _) => {
            (EventKind::Refunded, str_at(resource, "/sale_id").unwrap_or(resource_id), None, None)
        }
        ("BILLING.SUBSCRIPTION.CANCELLED" | "BILLING.SUBSCRIPTION.EXPIRED", _) => {
            let sub = SubscriptionRef {
                id: checked_id("subscription id", resource_id, 128)?,
                event: SubscriptionEvent::Ended,
            };
            (other(event_type), resource_id, Some(sub), str_at(resource, "/custom_id"))
        }
        _ => return Ok(None),
    };
    // A v1 sale's money: `amount.total` and `amount.currency` (not v2's value/currency_code).
    let (amount_minor, currency) =
        money_fields(str_at(resource, "/amount/total"), str_at(resource, "/amount/currency"))?;
    Ok(Some(VerifiedEvent {
        event_id,
        kind,
        order_id: order_id.filter(|o| !o.is_empty()).map(str::to_string),
        payment_id: checked_id("payment id", payment_id, 255)?,
        amount_minor,
        currency,
        three_ds: None,
        subscription: sub,
    }))
}

/// The request body that creates the subscription for `c`'s order on `plan`.
pub(crate) fn request(c: &Checkout<'_>, plan: &str) -> Value {
    json!({
        "plan_id": plan,
        "custom_id": c.order.id,
        "application_context": {
            "user_action": "SUBSCRIBE_NOW",
            "shipping_preference": "NO_SHIPPING",
            "return_url": c.return_url,
            "cancel_url": c.cancel_url,
        },
    })
}

/// Creates the subscription (idempotent per order); the customer approves it on PayPal, which
/// then charges the first cycle and reports it by webhook. The reference is the subscription id.
pub async fn start(state: &AppState, c: &Checkout<'_>, plan: &str) -> Result<Started, StartError> {
    let g = &state.settings.gateways.paypal;
    let bearer = token(state).await?;
    let resp = state
        .http
        .post(format!("{}/v1/billing/subscriptions", base(&g.paypal_api_base, DEFAULT_BASE)))
        .bearer_auth(bearer)
        .header("PayPal-Request-Id", format!("keyturn-subscription-{}", c.order.id))
        .header("Prefer", "return=representation")
        .json(&request(c, plan))
        .send()
        .await?;
    if !resp.status().is_success() {
        return Err(StartError::Gateway(format!("paypal subscription answered {}", resp.status())));
    }
    let answer: Value = resp.json().await?;
    let url = answer["links"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|l| l["rel"].as_str() == Some("approve"))
        .and_then(|l| l["href"].as_str())
        .map(String::from)
        .ok_or_else(|| StartError::Gateway("paypal gave no approval link for the subscription".into()))?;
    Ok(Started { url, reference: answer["id"].as_str().map(String::from) })
}

/// True for the id of a subscription (`I-…`) rather than a checkout order.
pub fn is_subscription(reference: &str) -> bool {
    reference.starts_with("I-")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapped(event_type: &str, resource: Value) -> Option<VerifiedEvent> {
        let id = resource["id"].as_str().unwrap().to_string();
        map("WH-1".into(), event_type, &resource, &id).unwrap()
    }

    #[test]
    fn maps_sales_and_subscription_endings() {
        let sale = json!({"id": "44P499886K055384U", "billing_agreement_id": "I-37B4TLL0FAJJ", "state": "completed",
            "amount": {"total": "14.55", "currency": "CAD", "details": {"subtotal": "14.55"}}, "custom": "ord_1"});
        let e = mapped("PAYMENT.SALE.COMPLETED", sale.clone()).unwrap();
        assert_eq!(
            (e.kind, e.payment_id.as_str(), e.order_id.as_deref()),
            (EventKind::Succeeded, "44P499886K055384U", Some("ord_1"))
        );
        assert_eq!((e.amount_minor, e.currency.as_deref()), (Some(1455), Some("CAD")));
        assert_eq!(
            e.subscription,
            Some(SubscriptionRef { id: "I-37B4TLL0FAJJ".into(), event: SubscriptionEvent::Charge })
        );
        // A sale of no subscription is not ours to map here.
        let mut plain = sale;
        plain["billing_agreement_id"] = Value::Null;
        assert!(mapped("PAYMENT.SALE.COMPLETED", plain).is_none());
        let refund =
            json!({"id": "REF1", "sale_id": "44P499886K055384U", "amount": {"total": "14.55", "currency": "CAD"}});
        let e = mapped("PAYMENT.SALE.REFUNDED", refund).unwrap();
        assert_eq!(
            (e.kind, e.payment_id.as_str(), e.amount_minor),
            (EventKind::Refunded, "44P499886K055384U", Some(1455))
        );
        let cancelled = json!({"id": "I-37B4TLL0FAJJ", "status": "CANCELLED", "custom_id": "ord_1", "plan_id": "P-1"});
        let e = mapped("BILLING.SUBSCRIPTION.CANCELLED", cancelled).unwrap();
        assert_eq!(
            e.subscription,
            Some(SubscriptionRef { id: "I-37B4TLL0FAJJ".into(), event: SubscriptionEvent::Ended })
        );
        assert_eq!((e.order_id.as_deref(), e.amount_minor), (Some("ord_1"), None));
        assert!(mapped("BILLING.SUBSCRIPTION.ACTIVATED", json!({"id": "I-1"})).is_none());
    }
}

//! The customer's emails about money given back: `refund` (how much of the order's payments
//! has been refunded so far) and `cancellation` (an authorisation voided). Both say what became
//! of the access the order bought, as it stands when the email is sent.

use crate::i18n::format::{amount, date_time};
use crate::i18n::Locale;
use crate::jobs::emails::{compose, deliver};
use crate::mail::outbox::{Job, MailKind};
use crate::mail::transport::SendError;
use crate::orders::model as orders;
use crate::state::AppState;

/// The access an order's service stands at for the order's account, from when it closes.
fn access_state(open_until: Option<i64>, now: i64) -> &'static str {
    match open_until {
        None => "none",
        Some(u) if u <= now => "ended",
        Some(_) => "active",
    }
}

/// Sends a `refund` or `cancellation` job. Nothing to send once the order is gone.
pub async fn send(state: &AppState, job: &Job, kind: MailKind) -> Result<(), SendError> {
    let order_id = job.order_id.clone().ok_or_else(|| SendError::Permanent("no order".into()))?;
    let found = state
        .db
        .read(move |c| {
            let Some(order) = orders::find_by_id(c, &order_id)? else { return Ok(None) };
            let item = orders::item_label(c, &order)?;
            let refunded = crate::payments::model::refunded_for_order(c, &order.id)?;
            // (active until, open until): the grace counts as the access not having ended.
            let until = match (&order.account_id, &order.service_slug) {
                (Some(a), Some(slug)) => {
                    let active = crate::accounts::model::access_of(c, a)?.into_iter().find(|(s, _, _)| s == slug);
                    let open = crate::accounts::access::open_until(c, a, slug)?;
                    active.zip(open).map(|((_, _, active), open)| (active, open))
                }
                _ => None,
            };
            Ok(Some((order, item, refunded, until)))
        })
        .await
        .map_err(|e| SendError::Transient(e.to_string()))?;
    let Some((order, item, refunded, until)) = found else { return Ok(()) };
    // A refund first seen on a payment we never recorded paid counts the order's amount.
    let refunded = if refunded > 0 { refunded } else { order.amount_minor };
    let l = Locale::from_stored(&order.locale);
    let ctx = serde_json::json!({
        "name": order.customer_name,
        "order_id": order.id,
        "service_name": item,
        "amount": amount(l, order.amount_minor, &order.currency),
        "refunded": amount(l, refunded, &order.currency),
        "currency": order.currency,
        "access": access_state(until.map(|(_, open)| open), state.clock.now()),
        "active_until": until.map(|(active, _)| date_time(l, active)).unwrap_or_default(),
    });
    let message = compose(state, job, &order.customer_name, &order.email, kind.as_str(), l, ctx)?;
    deliver(state, job, message).await
}

#[cfg(test)]
mod tests {
    #[test]
    fn access_is_ended_once_its_end_is_past() {
        assert_eq!(super::access_state(None, 10), "none");
        assert_eq!(super::access_state(Some(10), 10), "ended");
        assert_eq!(super::access_state(Some(11), 10), "active");
    }
}

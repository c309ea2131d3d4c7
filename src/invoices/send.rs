//! "Send by email" from the portal: queues the invoice's link to its customer again (the
//! `invoice_link` email), audited, at most [`SENDS_PER_HOUR`] times an hour per invoice.

use serde_json::json;

use crate::admin::access::auth::AdminPrincipal;
use crate::audit::Event;
use crate::crypto::mask_email;
use crate::http::api_error::ApiError;
use crate::invoices::model;
use crate::mail::outbox;
use crate::orders::model as orders;
use crate::state::AppState;

/// How often one invoice's link may be emailed in an hour (a customer is not to be spammed).
pub const SENDS_PER_HOUR: i64 = 3;

/// Queues the link of invoice `invoice_id` to its customer; the masked address it goes to.
/// 404 unknown; 409 `invoice_not_payable` once paid, expired or cancelled; 429 over the limit.
pub async fn send_link(state: &AppState, p: &AdminPrincipal, invoice_id: &str) -> Result<String, ApiError> {
    if !model::is_invoice_id(invoice_id) {
        return Err(ApiError::not_found("No such invoice."));
    }
    let now = state.clock.now();
    let (id, who, ip) = (invoice_id.to_string(), p.admin.username.clone(), p.ip.clone());
    let sent = state
        .db
        .write(move |c| {
            let Some(listed) = model::find_by_id(c, &id)? else {
                return Ok(Err(ApiError::not_found("No such invoice.")));
            };
            let status = listed.status(now);
            if status != orders::PENDING_PAYMENT {
                let msg = format!("This invoice is {status}: there is nothing to pay, so its link is not sent.");
                return Ok(Err(ApiError::conflict("invoice_not_payable", msg)));
            }
            let key = format!("invoice-send:{id}");
            if !crate::accounts::model::throttle(c, &key, SENDS_PER_HOUR, 3600, now)? {
                return Ok(Err(ApiError::rate_limited(3600)));
            }
            outbox::enqueue(c, outbox::INVOICE_LINK, None, Some(&listed.order.id), now)?;
            let to = mask_email(&listed.order.email);
            Event::new(&who, &ip, "invoice.send", &id).after(json!({"to": to})).append(c, now)?;
            Ok(Ok(to))
        })
        .await??;
    state.worker_wake.notify_one();
    tracing::info!(event = "invoice_link_queued", invoice_id, to = %sent, admin_id = %p.admin.id, "invoice link queued");
    Ok(sent)
}

//! Customer-facing payment pages: `/pay/{order_id}` hands the customer to an enabled
//! gateway; `/orders/{order_id}/return` shows the order's status and never changes it.

use poem::http::StatusCode;
use poem::web::{Data, Path};
use poem::{handler, Response};

use crate::catalog::model as catalog;
use crate::crypto::mask_email;
use crate::http::pages::{error_page, esc, page, page_with_head};
use crate::money::format_minor;
use crate::orders::model::{self as orders, Order};
use crate::state::AppState;

async fn load(state: &AppState, id: String) -> Result<Option<(Order, String)>, Response> {
    if !crate::crypto::is_key(&id) {
        return Ok(None);
    }
    state
        .db
        .read(move |c| {
            let Some(o) = orders::find_by_id(c, &id)? else { return Ok(None) };
            let name = catalog::find_by_slug(c, &o.service_slug)?.map(|s| s.name).unwrap_or_default();
            Ok(Some((o, name)))
        })
        .await
        .map_err(|e| {
            tracing::warn!(event = "db_unavailable", error = %e, "page could not load order");
            error_page(StatusCode::SERVICE_UNAVAILABLE, &state.settings.product_name, "Please try again in a moment.")
        })
}

/// The payment choice page.
#[handler]
pub async fn get_pay_page(Path(order_id): Path<String>, state: Data<&AppState>) -> Response {
    let product = &state.settings.product_name;
    let (order, service_name) = match load(&state, order_id).await {
        Ok(Some(found)) => found,
        Ok(None) => return error_page(StatusCode::NOT_FOUND, product, "We could not find this order."),
        Err(resp) => return resp,
    };
    if order.status != orders::PENDING_PAYMENT {
        return page(
            StatusCode::CONFLICT,
            product,
            "Nothing to pay",
            &format!("<p>This order is <strong>{}</strong>.</p>", esc(&order.status.replace('_', " "))),
        );
    }
    let mut buttons = String::new();
    for name in state.gateways.names() {
        // Each gateway's hosted page; gateways other than the sandbox plug in here.
        let (label, href) = match name {
            "sandbox" => ("Pay by card (sandbox)", format!("/sandbox/checkout/{}", order.id)),
            _ => continue,
        };
        buttons.push_str(&format!("<p><a class=\"button\" href=\"{}\">{}</a></p>", esc(&href), esc(label)));
    }
    if buttons.is_empty() {
        buttons = "<p class=\"error\">No payment method is enabled; please contact the shop.</p>".into();
    }
    page(
        StatusCode::OK,
        product,
        "Pay for your order",
        &format!(
            "<p>{} — <strong>{} {}</strong></p><p class=\"muted\">Order {}</p>{buttons}\
             <p class=\"muted\">You will enter your card on the payment provider's page; we never see card numbers.</p>",
            esc(&service_name),
            format_minor(order.amount_minor, &order.currency),
            esc(&order.currency),
            esc(&order.id),
        ),
    )
}

/// Where gateways send the customer back. Shows the status; never changes the order.
#[handler]
pub async fn get_return_page(Path(order_id): Path<String>, state: Data<&AppState>) -> Response {
    let product = &state.settings.product_name;
    let (order, _) = match load(&state, order_id).await {
        Ok(Some(found)) => found,
        Ok(None) => return error_page(StatusCode::NOT_FOUND, product, "We could not find this order."),
        Err(resp) => return resp,
    };
    let email = esc(&mask_email(&order.email));
    match order.status.as_str() {
        orders::PENDING_PAYMENT => page_with_head(
            StatusCode::OK,
            product,
            "Confirming your payment",
            "<meta http-equiv=\"refresh\" content=\"3\">",
            &format!(
                "<p>We are waiting for the payment provider to confirm your payment. This page refreshes by itself.</p>\
                 <p class=\"muted\">If you cancelled, you can <a href=\"/pay/{}\">try again</a>.</p>",
                esc(&order.id)
            ),
        ),
        orders::PAID | orders::PROVISIONED => page(
            StatusCode::OK,
            product,
            "Payment received",
            &format!(
                "<p class=\"ok\">Thank you! Your payment is confirmed.</p>\
                 <p>We are sending your login, a temporary password and a confirmation link to <strong>{email}</strong>. \
                 Confirm the address, log in and choose your own password, and you are in.</p>"
            ),
        ),
        other => page(
            StatusCode::OK,
            product,
            "Order status",
            &format!("<p>This order is <strong>{}</strong>.</p>", esc(&other.replace('_', " "))),
        ),
    }
}

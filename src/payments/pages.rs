//! Customer-facing payment pages: `/pay/{order_id}` hands the customer to an enabled
//! gateway; `/orders/{order_id}/return` shows the order's status and never changes it.

use poem::http::StatusCode;
use poem::web::{Data, Path};
use poem::{handler, Response};

use crate::crypto::mask_email;
use crate::http::pages::{error_page, esc, page, page_with_head};
use crate::money::format_minor;
use crate::orders::model::{self as orders, Order};
use crate::payments::gateways::GatewayId;
use crate::payments::start::Checkout;
use crate::payments::starts::{self, PaymentStart};
use crate::state::AppState;

/// The page for an order whose card is authorised and waits for the shop: paying again would
/// put a second hold on the customer's card.
fn held_page(state: &AppState, status: StatusCode) -> Response {
    page(
        status,
        &state.settings.product_name,
        "Payment authorised",
        "<p class=\"ok\">Your card payment is authorised and waits for the shop's confirmation.</p>\
         <p>You will get an email as soon as it is confirmed; there is nothing more to pay.</p>",
    )
}

/// What the customer sees for a paid order on hold: nothing about the account (whoever paid may
/// not own the address).
pub const HELD_TEXT: &str =
    "<p>Payment received; it is being reviewed by the shop, who will contact you.</p><p>There is nothing more to pay.</p>";

/// True when an authorisation of the order waits for capture.
pub async fn held(state: &AppState, order_id: &str) -> bool {
    let id = order_id.to_string();
    state.db.read(move |c| Ok(crate::payments::model::authorized_count(c, &id)? > 0)).await.unwrap_or(false)
}

async fn load(state: &AppState, id: String) -> Result<Option<(Order, String)>, Response> {
    if !crate::crypto::is_key(&id) {
        return Ok(None);
    }
    state
        .db
        .read(move |c| {
            let Some(o) = orders::find_by_id(c, &id)? else { return Ok(None) };
            let name = orders::item_label(c, &o)?;
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
    if let Some(invoice_page) = crate::invoices::pages::terms_first(&state, &order_id).await {
        return invoice_page;
    }
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
            &format!("<p>This order is <strong>{}</strong>.</p>", esc(&order.status.as_str().replace('_', " "))),
        );
    }
    if held(&state, &order.id).await {
        return held_page(&state, StatusCode::CONFLICT);
    }
    let mut buttons = String::new();
    for gateway in state.gateways.all() {
        let (label, href) = gateway.pay_button(&order.id);
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

/// Hands the customer to a real gateway: creates the payment there (or signs the link) and
/// redirects to the gateway's hosted page.
#[handler]
pub async fn get_start_payment(
    req: &poem::Request,
    Path((order_id, gateway)): Path<(String, String)>,
    state: Data<&AppState>,
) -> Response {
    let product = &state.settings.product_name;
    // Each start calls the gateway's API (and may create an object there): bounded per IP.
    let ip = crate::http::client_ip::client_ip(req, &state.settings.trusted_proxies);
    if state.limiters.check(crate::http::limits::Bucket::Orders, ip).is_err() {
        return error_page(
            StatusCode::TOO_MANY_REQUESTS,
            product,
            "Too many attempts; please wait a minute and try again.",
        );
    }
    if let Some(invoice_page) = crate::invoices::pages::terms_first(&state, &order_id).await {
        return invoice_page;
    }
    let Some(gateway) = state.gateways.get(&gateway).filter(|g| g.capabilities().start).cloned() else {
        return error_page(StatusCode::NOT_FOUND, product, "This payment method is not available.");
    };
    let (order, service_name) = match load(&state, order_id).await {
        Ok(Some(found)) => found,
        Ok(None) => return error_page(StatusCode::NOT_FOUND, product, "We could not find this order."),
        Err(resp) => return resp,
    };
    if order.status != orders::PENDING_PAYMENT {
        let status_page = state.link(&format!("/orders/{}/return", order.id));
        return Response::builder().status(StatusCode::SEE_OTHER).header("Location", status_page).finish();
    }
    if held(&state, &order.id).await {
        return held_page(&state, StatusCode::CONFLICT);
    }
    let gw = gateway.name();
    let checkout = Checkout::new(&state, gw, &order, &service_name);
    match gateway.start(&state, &checkout).await {
        Ok(started) => {
            tracing::info!(event = "payment_started", gateway = gw, order_id = %order.id, "customer handed to the gateway");
            if let Some(reference) = started.reference {
                record_start(&state, gateway.id(), &order.id, reference).await;
            }
            Response::builder().status(StatusCode::SEE_OTHER).header("Location", started.url).finish()
        }
        Err(e) => {
            tracing::warn!(event = "payment_start_failed", gateway = gw, order_id = %order.id, error = %e, "could not start payment");
            error_page(
                StatusCode::BAD_GATEWAY,
                product,
                "The payment provider did not answer as expected. Please try again in a moment, or choose another way to pay.",
            )
        }
    }
}

/// Remembers where a payment was started, for the reconciliation sweep. Best effort: the
/// customer is redirected either way (a lost record only means no early repair of a lost callback).
async fn record_start(state: &AppState, gateway: GatewayId, order_id: &str, reference: String) {
    let gw = gateway.as_str();
    if !starts::is_reference(&reference) {
        tracing::warn!(event = "payment_start_not_recorded", gateway = gw, order_id, "gateway id is not a plain id");
        return;
    }
    let row = PaymentStart {
        gateway,
        reference,
        order_id: order_id.to_string(),
        created_at: state.clock.now(),
        checked_at: 0,
    };
    match state.db.write(move |c| starts::insert(c, &row).map_err(Into::into)).await {
        Ok(true) => {}
        Ok(false) => tracing::warn!(event = "payment_start_not_recorded", gateway = gw, order_id, "too many starts"),
        // The gateway handed out the same id again (an idempotent retry): already recorded.
        Err(e) if e.is_unique_violation() => {}
        Err(e) => {
            tracing::warn!(event = "payment_start_not_recorded", gateway = gw, order_id, error = %e, "could not record the start");
        }
    }
}

/// For a paid order that went to an account which existed before it (no credentials email was
/// queued for it): `Some(the access's active_until now, if it grants one)`. `None` when paying
/// it created the account (or on a storage error: the page then says what a new customer gets).
async fn paid_for_existing_account(state: &AppState, order: &Order) -> Option<Option<i64>> {
    let (id, account, slug) = (order.id.to_string(), order.account_id.clone()?, order.service_slug.clone());
    let read = state.db.read(move |c| {
        if crate::mail::outbox::queued_for_order(c, &id, crate::mail::outbox::CREDENTIALS)? {
            return Ok(None);
        }
        let until = match slug {
            Some(s) => crate::accounts::model::access_until(c, &account, &s)?,
            None => None,
        };
        Ok(Some(until))
    });
    read.await.ok().flatten()
}

/// Where gateways send the customer back. Shows the status; never changes the order.
#[handler]
pub async fn get_return_page(Path(order_id): Path<String>, state: Data<&AppState>) -> Response {
    let product = &state.settings.product_name;
    let (order, service_name) = match load(&state, order_id).await {
        Ok(Some(found)) => found,
        Ok(None) => return error_page(StatusCode::NOT_FOUND, product, "We could not find this order."),
        Err(resp) => return resp,
    };
    let email = esc(&mask_email(&order.email));
    match order.status {
        // A payment the shop refused and the gateway reversed (see payments::service).
        orders::PENDING_PAYMENT | orders::EXPIRED if order.hold_reason.is_some() => page(
            StatusCode::OK,
            product,
            "Payment declined",
            "<p>This payment was declined by the shop and returned through the payment provider; \
             the order is not paid.</p><p>Please contact the shop if you have questions.</p>",
        ),
        orders::PENDING_PAYMENT if held(&state, &order.id).await => held_page(&state, StatusCode::OK),
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
        orders::PAID if order.hold_reason.is_some() => page(StatusCode::OK, product, "Payment received", HELD_TEXT),
        orders::PAID | orders::PROVISIONED => {
            let next = match paid_for_existing_account(&state, &order).await {
                // A renewal, or a second service for a customer who has an account: nothing new
                // to log in with (no credentials are sent again).
                Some(until) => format!(
                    "<p>{}The confirmation is on its way to <strong>{email}</strong>. \
                     Log in with your usual login and password.</p>\
                     <p><a class=\"button\" href=\"/cabinet\">Go to your cabinet</a></p>",
                    until.map_or(String::new(), |u| format!(
                        "{} is now active until <strong>{}</strong>. ",
                        esc(&service_name),
                        esc(&crate::clock::human(u))
                    )),
                ),
                None => format!(
                    "<p>We are sending your login, a temporary password and a confirmation link to <strong>{email}</strong>. \
                     Confirm the address, log in and choose your own password, and you are in.</p>"
                ),
            };
            page(
                StatusCode::OK,
                product,
                "Payment received",
                &format!("<p class=\"ok\">Thank you! Your payment is confirmed.</p>{next}"),
            )
        }
        other => page(
            StatusCode::OK,
            product,
            "Order status",
            &format!("<p>This order is <strong>{}</strong>.</p>", esc(&other.as_str().replace('_', " "))),
        ),
    }
}

//! Customer-facing payment pages: `/pay/{order_id}` hands the customer to an enabled
//! gateway; `/orders/{order_id}/return` shows the order's status and never changes it.

use poem::http::StatusCode;
use poem::web::{Data, Path};
use poem::{handler, Response};

use crate::crypto::mask_email;
use crate::http::pages::{error_page_in, esc, page_in, page_with_head_in};
use crate::i18n::Lang;
use crate::orders::model::{self as orders, Order};
use crate::payments::gateways::GatewayId;
use crate::payments::next_steps;
use crate::payments::start::Checkout;
use crate::payments::starts::{self, PaymentStart};
use crate::state::AppState;

/// The page for an order whose card is authorised and waits for the shop: paying again would
/// put a second hold on the customer's card.
fn held_page(state: &AppState, lang: &Lang, status: StatusCode) -> Response {
    let t = |id: &str| state.catalog.t(lang.locale, id);
    page_in(status, lang, &state.settings.product_name, &t("held-title"), &t("held-text"))
}

/// What the customer sees for a paid order on hold (message `held-review`): nothing about the
/// account (whoever paid may not own the address).
pub fn held_text(state: &AppState, lang: &Lang) -> String {
    state.catalog.t(lang.locale, "held-review")
}

/// "This order is <status>." in `lang`.
fn order_is(state: &AppState, lang: &Lang, order: &Order) -> String {
    let status = state.catalog.tr(lang.locale, "order-status", &[("status", order.status.as_str().into())]);
    state.catalog.tr(lang.locale, "order-is", &[("status", esc(&status).into())])
}

/// True when an authorisation of the order waits for capture.
pub async fn held(state: &AppState, order_id: &str) -> bool {
    let id = order_id.to_string();
    state.db.read(move |c| Ok(crate::payments::model::authorized_count(c, &id)? > 0)).await.unwrap_or(false)
}

async fn load(state: &AppState, lang: &Lang, id: String) -> Result<Option<(Order, String)>, Response> {
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
            error_page_in(StatusCode::SERVICE_UNAVAILABLE, state, lang, &state.catalog.t(lang.locale, "busy"))
        })
}

/// The payment choice page.
#[handler]
pub async fn get_pay_page(Path(order_id): Path<String>, lang: Lang, state: Data<&AppState>) -> Response {
    let product = &state.settings.product_name;
    if let Some(invoice_page) = crate::invoices::pages::terms_first(&state, &order_id).await {
        return invoice_page;
    }
    let (order, service_name) = match load(&state, &lang, order_id).await {
        Ok(Some(found)) => found,
        Ok(None) => return not_found(&state, &lang),
        Err(resp) => return resp,
    };
    let lang = lang.prefer(Some(&order.locale));
    let t = |id: &str| state.catalog.t(lang.locale, id);
    if order.status != orders::PENDING_PAYMENT {
        let body = format!("<p>{}</p>", order_is(&state, &lang, &order));
        return page_in(StatusCode::CONFLICT, &lang, product, &t("nothing-to-pay"), &body);
    }
    if held(&state, &order.id).await {
        return held_page(&state, &lang, StatusCode::CONFLICT);
    }
    let mut buttons = String::new();
    for gateway in state.gateways.all() {
        let (label, href) = gateway.pay_button(&order.id);
        buttons.push_str(&format!("<p><a class=\"button\" href=\"{}\">{}</a></p>", esc(&href), esc(label)));
    }
    if buttons.is_empty() {
        buttons = format!("<p class=\"error\">{}</p>", t("pay-none"));
    }
    let order_line = state.catalog.tr(lang.locale, "pay-order", &[("id", esc(&order.id).into())]);
    let body = format!(
        "<p>{} — <strong>{}</strong></p><p class=\"muted\">{order_line}</p>{buttons}<p class=\"muted\">{}</p>",
        esc(&service_name),
        esc(&crate::i18n::format::amount(lang.locale, order.amount_minor, &order.currency)),
        t("pay-card-note"),
    );
    page_in(StatusCode::OK, &lang, product, &t("pay-title"), &body)
}

fn not_found(state: &AppState, lang: &Lang) -> Response {
    error_page_in(StatusCode::NOT_FOUND, state, lang, &state.catalog.t(lang.locale, "order-not-found"))
}

/// Hands the customer to a real gateway: creates the payment there (or signs the link) and
/// redirects to the gateway's hosted page.
#[handler]
pub async fn get_start_payment(
    req: &poem::Request,
    Path((order_id, gateway)): Path<(String, String)>,
    lang: Lang,
    state: Data<&AppState>,
) -> Response {
    // Each start calls the gateway's API (and may create an object there): bounded per IP.
    let ip = crate::http::client_ip::client_ip(req, &state.settings.trusted_proxies);
    if state.limiters.check(crate::http::limits::Bucket::Orders, ip).is_err() {
        return error_page_in(StatusCode::TOO_MANY_REQUESTS, &state, &lang, &state.catalog.t(lang.locale, "too-many"));
    }
    if let Some(invoice_page) = crate::invoices::pages::terms_first(&state, &order_id).await {
        return invoice_page;
    }
    let Some(gateway) = state.gateways.get(&gateway).filter(|g| g.capabilities().start).cloned() else {
        let msg = state.catalog.t(lang.locale, "method-unavailable");
        return error_page_in(StatusCode::NOT_FOUND, &state, &lang, &msg);
    };
    let (order, service_name) = match load(&state, &lang, order_id).await {
        Ok(Some(found)) => found,
        Ok(None) => return not_found(&state, &lang),
        Err(resp) => return resp,
    };
    let lang = lang.prefer(Some(&order.locale));
    if order.status != orders::PENDING_PAYMENT {
        let status_page = state.link(&format!("/orders/{}/return", order.id));
        return Response::builder().status(StatusCode::SEE_OTHER).header("Location", status_page).finish();
    }
    if held(&state, &order.id).await {
        return held_page(&state, &lang, StatusCode::CONFLICT);
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
            error_page_in(StatusCode::BAD_GATEWAY, &state, &lang, &state.catalog.t(lang.locale, "provider-failed"))
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

/// Where gateways send the customer back. Shows the status; never changes the order.
#[handler]
pub async fn get_return_page(Path(order_id): Path<String>, lang: Lang, state: Data<&AppState>) -> Response {
    let product = &state.settings.product_name;
    let (order, item) = match load(&state, &lang, order_id).await {
        Ok(Some(found)) => found,
        Ok(None) => return not_found(&state, &lang),
        Err(resp) => return resp,
    };
    let lang = lang.prefer(Some(&order.locale));
    let t = |id: &str| state.catalog.t(lang.locale, id);
    match order.status {
        // A payment the shop refused and the gateway reversed (see payments::service).
        orders::PENDING_PAYMENT | orders::EXPIRED if order.hold_reason.is_some() => {
            page_in(StatusCode::OK, &lang, product, &t("declined-title"), &t("declined-text"))
        }
        orders::PENDING_PAYMENT if held(&state, &order.id).await => held_page(&state, &lang, StatusCode::OK),
        orders::PENDING_PAYMENT => {
            let retry = format!("/pay/{}", esc(&order.id));
            page_with_head_in(
                StatusCode::OK,
                &lang,
                product,
                &t("confirming-title"),
                "<meta http-equiv=\"refresh\" content=\"3\">",
                &state.catalog.tr(lang.locale, "confirming-text", &[("href", retry.into())]),
            )
        }
        orders::PAID if order.hold_reason.is_some() => {
            page_in(StatusCode::OK, &lang, product, &t("received-title"), &held_text(&state, &lang))
        }
        orders::PAID | orders::PROVISIONED => {
            let paid = order.clone();
            let step = match state.db.read(move |c| Ok(next_steps::next_step(c, &paid)?)).await {
                Ok(step) => step,
                Err(e) => {
                    tracing::warn!(event = "db_unavailable", error = %e, "return page could not read the next step");
                    return error_page_in(StatusCode::SERVICE_UNAVAILABLE, &state, &lang, &t("busy"));
                }
            };
            let body = next_steps::paid_text(&state, &lang, &step, &mask_email(&order.email), &item);
            page_in(StatusCode::OK, &lang, product, &t("received-title"), &body)
        }
        _ => {
            let body = format!("<p>{}</p>", order_is(&state, &lang, &order));
            page_in(StatusCode::OK, &lang, product, &t("status-title"), &body)
        }
    }
}

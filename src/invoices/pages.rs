//! The pay-by-link page `/invoice/{invoice_id}`: the merchant, the item, the amount, the terms
//! to accept and the gateway choice; paid, expired, refunded and cancelled links say so.
//! Accepting the terms is recorded once; then the customer goes on to the chosen gateway
//! exactly as from `/pay/{order_id}`.

use poem::http::StatusCode;
use poem::web::{Data, Form, Path};
use poem::{handler, Response};
use serde::Deserialize;

use crate::clock::human;
use crate::crypto::mask_email;
use crate::http::pages::{error_page, esc, page, page_with_head};
use crate::invoices::model::{self, Listed};
use crate::money::format_minor;
use crate::orders::model as orders;
use crate::state::AppState;

async fn load(state: &AppState, id: String) -> Result<Listed, Response> {
    let merchant = state.settings.merchant_name();
    if !model::is_invoice_id(&id) {
        return Err(error_page(StatusCode::NOT_FOUND, merchant, "We could not find this invoice."));
    }
    match state.db.read(move |c| Ok(model::find_by_id(c, &id)?)).await {
        Ok(Some(found)) => Ok(found),
        Ok(None) => Err(error_page(StatusCode::NOT_FOUND, merchant, "We could not find this invoice.")),
        Err(e) => {
            tracing::warn!(event = "db_unavailable", error = %e, "page could not load invoice");
            Err(error_page(StatusCode::SERVICE_UNAVAILABLE, merchant, "Please try again in a moment."))
        }
    }
}

/// The page for an invoice that can no longer be paid; `None` while it can.
fn settled_page(state: &AppState, l: &Listed) -> Option<Response> {
    let merchant = state.settings.merchant_name();
    let (status, title, body) = match l.status(state.clock.now()) {
        orders::PENDING_PAYMENT => return None,
        orders::PAID if l.order.hold_reason.is_some() => (
            StatusCode::OK,
            "Payment received",
            format!(
                "<p>{} was paid on {}.</p>{}",
                esc(&l.item),
                esc(&l.order.paid_at.map(human).unwrap_or_default()),
                crate::payments::pages::held_text(state, &crate::i18n::Lang::fixed(crate::i18n::Locale::En))
            ),
        ),
        orders::PAID | orders::PROVISIONED => (
            StatusCode::OK,
            "This invoice is paid",
            format!(
                "<p class=\"ok\">Thank you: {} was paid on {}.</p>\
                 <p>The confirmation went to <strong>{}</strong>.</p>\
                 <p><a class=\"button\" href=\"/cabinet\">Go to your cabinet</a></p>",
                esc(&l.item),
                esc(&l.order.paid_at.map(human).unwrap_or_default()),
                esc(&mask_email(&l.order.email)),
            ),
        ),
        orders::EXPIRED => (
            StatusCode::GONE,
            "This payment link has expired",
            "<p>This payment link has expired; ask the seller for a new one.</p>".to_string(),
        ),
        orders::REFUNDED => (
            StatusCode::OK,
            "This invoice was refunded",
            "<p>This invoice was paid and the payment has been refunded. Nothing more to pay.</p>".to_string(),
        ),
        orders::CANCELLED => (
            StatusCode::GONE,
            "This invoice was cancelled",
            "<p>This invoice was cancelled; ask the seller for a new one if you still want to pay.</p>".to_string(),
        ),
        other => (
            StatusCode::OK,
            "Invoice status",
            format!("<p>This invoice is <strong>{}</strong>.</p>", esc(&other.as_str().replace('_', " "))),
        ),
    };
    Some(page(status, merchant, title, &body))
}

/// The invoice with its terms and one pay button per enabled gateway.
fn invoice_page(state: &AppState, l: &Listed, status: StatusCode, error: Option<&str>) -> Response {
    let m = &state.settings.merchant;
    let merchant = state.settings.merchant_name();
    let mut buttons = String::new();
    for gateway in state.gateways.all() {
        let (label, _) = gateway.pay_button(&l.order.id);
        buttons.push_str(&format!(
            "<p><button type=\"submit\" name=\"gateway\" value=\"{}\">{}</button></p>",
            esc(gateway.name()),
            esc(label)
        ));
    }
    if buttons.is_empty() {
        buttons = "<p class=\"error\">No payment method is enabled; please contact the seller.</p>".into();
    }
    let terms_link = m.terms_url.as_deref().map_or(String::new(), |u| {
        format!("<p><a href=\"{}\" target=\"_blank\" rel=\"noopener noreferrer\">Read the full terms</a></p>", esc(u))
    });
    let error = error.map_or(String::new(), |e| format!("<p class=\"error\">{}</p>", esc(e)));
    let body = format!(
        "<p>{merchant} asks <strong>{customer}</strong> to pay for:</p>\
         <p><strong>{item}</strong><br>{amount} {currency}</p>\
         <p class=\"muted\">Payable until {until} · Invoice {id}</p>\
         <p><strong>Terms</strong></p><p>{terms}</p>{terms_link}{error}\
         <form method=\"post\" action=\"/invoice/{id}\">\
         <label><input type=\"checkbox\" name=\"accept_terms\" value=\"yes\" required style=\"width:auto;margin-right:8px\">\
         I accept the terms</label>{buttons}</form>\
         <p class=\"muted\">You will enter your card on the payment provider's page; we never see card numbers.</p>",
        merchant = esc(merchant),
        customer = esc(&l.order.customer_name),
        item = esc(&l.item),
        amount = format_minor(l.order.amount_minor, &l.order.currency),
        currency = esc(&l.order.currency),
        until = esc(&human(l.invoice.expires_at)),
        id = esc(&l.invoice.id),
        terms = esc(&m.invoice_terms).replace('\n', "<br>"),
    );
    page(status, merchant, "Pay your invoice", &body)
}

/// `GET /invoice/{invoice_id}`.
#[handler]
pub async fn get_invoice_page(Path(invoice_id): Path<String>, state: Data<&AppState>) -> Response {
    let l = match load(&state, invoice_id).await {
        Ok(l) => l,
        Err(resp) => return resp,
    };
    settled_page(&state, &l).unwrap_or_else(|| invoice_page(&state, &l, StatusCode::OK, None))
}

#[derive(Deserialize)]
pub struct InvoiceForm {
    #[serde(default)]
    accept_terms: String,
    #[serde(default)]
    gateway: String,
}

/// `POST /invoice/{invoice_id}`: records the acceptance of the terms (the first time), then
/// sends the customer on to the chosen gateway. That last step is a page that navigates by
/// itself rather than a redirect: browsers apply the page's `form-action 'self'` to every
/// redirect that follows a form post, which would stop the hand-over to a gateway's own site.
#[handler]
pub async fn post_invoice_page(
    Path(invoice_id): Path<String>,
    Form(f): Form<InvoiceForm>,
    state: Data<&AppState>,
) -> Response {
    let l = match load(&state, invoice_id).await {
        Ok(l) => l,
        Err(resp) => return resp,
    };
    if let Some(settled) = settled_page(&state, &l) {
        return settled;
    }
    if f.accept_terms.trim().is_empty() {
        let msg = "Please accept the terms to continue.";
        return invoice_page(&state, &l, StatusCode::UNPROCESSABLE_ENTITY, Some(msg));
    }
    let Some(gateway) = state.gateways.get(&f.gateway).cloned() else {
        let msg = "Please choose one of the payment methods below.";
        return invoice_page(&state, &l, StatusCode::UNPROCESSABLE_ENTITY, Some(msg));
    };
    let (id, now) = (l.invoice.id.clone(), state.clock.now());
    match state.db.write(move |c| Ok(model::accept_terms(c, &id, now)?)).await {
        Ok(true) => {
            tracing::info!(event = "invoice_terms_accepted", invoice_id = %l.invoice.id, order_id = %l.order.id, "terms accepted")
        }
        Ok(false) => {}
        Err(e) => {
            tracing::warn!(event = "db_unavailable", error = %e, "could not record the acceptance of the terms");
            let merchant = state.settings.merchant_name();
            return error_page(StatusCode::SERVICE_UNAVAILABLE, merchant, "Please try again in a moment.");
        }
    }
    let (_, href) = gateway.pay_button(&l.order.id);
    page_with_head(
        StatusCode::OK,
        state.settings.merchant_name(),
        "Continue to payment",
        &format!("<meta http-equiv=\"refresh\" content=\"0;url={}\">", esc(&href)),
        &format!(
            "<p>Thank you. Taking you to the payment page…</p><p><a class=\"button\" href=\"{}\">Continue to payment</a></p>",
            esc(&href)
        ),
    )
}

/// For the payment pages: an invoice's order goes to its invoice page until the customer has
/// accepted the terms (`None`: go on).
pub async fn terms_first(state: &AppState, order_id: &str) -> Option<Response> {
    if !crate::crypto::is_key(order_id) {
        return None;
    }
    let id = order_id.to_string();
    match state.db.read(move |c| Ok(model::unaccepted_invoice_of(c, &id)?)).await {
        Ok(None) => None,
        Ok(Some(invoice_id)) => Some(
            Response::builder()
                .status(StatusCode::SEE_OTHER)
                .header("Location", state.link(&format!("/invoice/{invoice_id}")))
                .finish(),
        ),
        Err(e) => {
            tracing::warn!(event = "db_unavailable", error = %e, "page could not look up the invoice");
            let product = &state.settings.product_name;
            Some(error_page(StatusCode::SERVICE_UNAVAILABLE, product, "Please try again in a moment."))
        }
    }
}

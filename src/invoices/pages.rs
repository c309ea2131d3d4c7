//! The pay-by-link page `/invoice/{invoice_id}`: the merchant, the item, the amount, the terms
//! to accept and the gateway choice; paid, expired, refunded and cancelled links say so.
//! Accepting the terms is recorded once; then the customer goes on to the chosen gateway
//! exactly as from `/pay/{order_id}`.

use poem::http::StatusCode;
use poem::web::{Data, Form, Path};
use poem::{handler, Response};
use serde::Deserialize;

use crate::crypto::mask_email;
use crate::http::pages::{error_page_in, esc, page_in, page_with_head_in};
use crate::i18n::format::{amount, date_time};
use crate::i18n::Lang;
use crate::invoices::model::{self, Listed};
use crate::orders::model as orders;
use crate::state::AppState;

async fn load(state: &AppState, lang: &Lang, id: String) -> Result<Listed, Response> {
    let not_found = || error_page_in(StatusCode::NOT_FOUND, state, lang, &state.catalog.t(lang.locale, "iv-not-found"));
    if !model::is_invoice_id(&id) {
        return Err(not_found());
    }
    match state.db.read(move |c| Ok(model::find_by_id(c, &id)?)).await {
        Ok(Some(found)) => Ok(found),
        Ok(None) => Err(not_found()),
        Err(e) => {
            tracing::warn!(event = "db_unavailable", error = %e, "page could not load invoice");
            Err(error_page_in(StatusCode::SERVICE_UNAVAILABLE, state, lang, &state.catalog.t(lang.locale, "busy")))
        }
    }
}

/// The page for an invoice that can no longer be paid; `None` while it can.
fn settled_page(state: &AppState, lang: &Lang, l: &Listed) -> Option<Response> {
    let merchant = state.settings.merchant_name();
    let loc = lang.locale;
    let t = |id: &str| state.catalog.t(loc, id);
    let paid_on = || esc(&l.order.paid_at.map(|at| date_time(loc, at)).unwrap_or_default());
    let (status, title, body) = match l.status(state.clock.now()) {
        orders::PENDING_PAYMENT => return None,
        orders::PAID if l.order.hold_reason.is_some() => {
            let paid =
                state.catalog.tr(loc, "iv-paid-on", &[("item", esc(&l.item).into()), ("date", paid_on().into())]);
            let text = format!("<p>{paid}</p>{}", crate::payments::pages::held_text(state, lang));
            (StatusCode::OK, t("iv-received-title"), text)
        }
        orders::PAID | orders::PROVISIONED => {
            let args = [
                ("item", esc(&l.item).into()),
                ("date", paid_on().into()),
                ("email", esc(&mask_email(&l.order.email)).into()),
            ];
            let text = format!(
                "{}<p><a class=\"button\" href=\"/cabinet\">{}</a></p>",
                state.catalog.tr(loc, "iv-paid-text", &args),
                t("go-to-cabinet")
            );
            (StatusCode::OK, t("iv-paid-title"), text)
        }
        orders::EXPIRED => (StatusCode::GONE, t("iv-expired-title"), format!("<p>{}</p>", t("iv-expired"))),
        orders::REFUNDED => (StatusCode::OK, t("iv-refunded-title"), format!("<p>{}</p>", t("iv-refunded"))),
        orders::CANCELLED => (StatusCode::GONE, t("iv-cancelled-title"), format!("<p>{}</p>", t("iv-cancelled"))),
        other => {
            let status = state.catalog.tr(loc, "order-status", &[("status", other.as_str().into())]);
            let text = format!("<p>{}</p>", state.catalog.tr(loc, "order-is", &[("status", esc(&status).into())]));
            (StatusCode::OK, t("iv-status-title"), text)
        }
    };
    Some(page_in(status, lang, merchant, &title, &body))
}

/// The invoice with its terms and one pay button per enabled gateway.
fn invoice_page(state: &AppState, lang: &Lang, l: &Listed, status: StatusCode, error: Option<&str>) -> Response {
    let m = &state.settings.merchant;
    let merchant = state.settings.merchant_name();
    let loc = lang.locale;
    let t = |id: &str| state.catalog.t(loc, id);
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
        buttons = format!("<p class=\"error\">{}</p>", t("iv-no-methods"));
    }
    let terms_link = m.terms_url.as_deref().map_or(String::new(), |u| {
        format!(
            "<p><a href=\"{}\" target=\"_blank\" rel=\"noopener noreferrer\">{}</a></p>",
            esc(u),
            t("iv-full-terms")
        )
    });
    let error = error.map_or(String::new(), |e| format!("<p class=\"error\">{}</p>", esc(e)));
    let body = format!(
        "<p>{asks}</p><p><strong>{item}</strong><br>{amount}</p><p class=\"muted\">{until}</p>\
         <p><strong>{terms_title}</strong></p><p>{terms}</p>{terms_link}{error}\
         <form method=\"post\" action=\"/invoice/{id}?lang={code}\">\
         <label><input type=\"checkbox\" name=\"accept_terms\" value=\"yes\" required style=\"width:auto;margin-right:8px\">\
         {accept}</label>{buttons}</form><p class=\"muted\">{card}</p>",
        asks = state.catalog.tr(
            loc,
            "iv-asks",
            &[("merchant", esc(merchant).into()), ("customer", esc(&l.order.customer_name).into())]
        ),
        item = esc(&l.item),
        amount = esc(&amount(loc, l.order.amount_minor, &l.order.currency)),
        until = state.catalog.tr(
            loc,
            "iv-payable-until",
            &[("date", esc(&date_time(loc, l.invoice.expires_at)).into()), ("id", esc(&l.invoice.id).into())]
        ),
        terms_title = t("iv-terms"),
        id = esc(&l.invoice.id),
        code = loc.code(),
        accept = t("iv-accept"),
        card = t("pay-card-note"),
        terms = esc(&m.invoice_terms).replace('\n', "<br>"),
    );
    page_in(status, lang, merchant, &t("iv-title"), &body)
}

/// `GET /invoice/{invoice_id}`.
#[handler]
pub async fn get_invoice_page(Path(invoice_id): Path<String>, lang: Lang, state: Data<&AppState>) -> Response {
    let l = match load(&state, &lang, invoice_id).await {
        Ok(l) => l,
        Err(resp) => return resp,
    };
    let lang = lang.prefer(Some(&l.order.locale));
    settled_page(&state, &lang, &l).unwrap_or_else(|| invoice_page(&state, &lang, &l, StatusCode::OK, None))
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
    lang: Lang,
    state: Data<&AppState>,
) -> Response {
    let l = match load(&state, &lang, invoice_id).await {
        Ok(l) => l,
        Err(resp) => return resp,
    };
    let lang = lang.prefer(Some(&l.order.locale));
    let t = |id: &str| state.catalog.t(lang.locale, id);
    if let Some(settled) = settled_page(&state, &lang, &l) {
        return settled;
    }
    if f.accept_terms.trim().is_empty() {
        return invoice_page(&state, &lang, &l, StatusCode::UNPROCESSABLE_ENTITY, Some(&t("iv-accept-first")));
    }
    let Some(gateway) = state.gateways.get(&f.gateway).cloned() else {
        return invoice_page(&state, &lang, &l, StatusCode::UNPROCESSABLE_ENTITY, Some(&t("iv-choose-method")));
    };
    let (id, now) = (l.invoice.id.clone(), state.clock.now());
    match state.db.write(move |c| Ok(model::accept_terms(c, &id, now)?)).await {
        Ok(true) => {
            tracing::info!(event = "invoice_terms_accepted", invoice_id = %l.invoice.id, order_id = %l.order.id, "terms accepted")
        }
        Ok(false) => {}
        Err(e) => {
            tracing::warn!(event = "db_unavailable", error = %e, "could not record the acceptance of the terms");
            return error_page_in(StatusCode::SERVICE_UNAVAILABLE, &state, &lang, &t("busy"));
        }
    }
    let (_, href) = gateway.pay_button(&l.order.id);
    page_with_head_in(
        StatusCode::OK,
        &lang,
        state.settings.merchant_name(),
        &t("iv-continue-title"),
        &format!("<meta http-equiv=\"refresh\" content=\"0;url={}\">", esc(&href)),
        &format!(
            "<p>{}</p><p><a class=\"button\" href=\"{}\">{}</a></p>",
            t("iv-continue-text"),
            esc(&href),
            t("iv-continue-title")
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
            let lang = Lang::fixed(state.settings.default_locale);
            Some(error_page_in(StatusCode::SERVICE_UNAVAILABLE, state, &lang, &state.catalog.t(lang.locale, "busy")))
        }
    }
}

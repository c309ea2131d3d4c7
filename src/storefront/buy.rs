//! The hosted order page, `GET/POST /buy/{slug}` (DESIGN §10), and the home page that lists
//! what is on sale. The form posts to the same intake as `/forms/order` (validation, per-IP
//! limit, hCaptcha) and answers 303 to `/pay/{order_id}`; a refused order shows the form
//! again with the message and the fields as typed.

use poem::http::StatusCode;
use poem::web::{Data, Path};
use poem::{handler, Request, Response};
use serde::Deserialize;

use crate::catalog::model::{self as catalog, Service};
use crate::config::storefront::FieldRule;
use crate::http::captcha::{allow_widget, widget};
use crate::http::client_ip::client_ip;
use crate::http::pages::{error_page_in, esc, page_in};
use crate::i18n::format::amount;
use crate::i18n::{Lang, Locale};
use crate::orders::service::{create_order, OrderInput};
use crate::state::AppState;

/// The fields as the customer typed them; `lang` is the page's language, carried by the form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct BuyForm {
    pub name: String,
    pub email: String,
    pub phone: String,
    #[serde(rename = "h-captcha-response")]
    pub captcha: String,
    pub lang: String,
}

async fn on_sale(state: &AppState, lang: &Lang, slug: String) -> Result<Option<Service>, Response> {
    if !crate::crypto::is_key(&slug) {
        return Ok(None);
    }
    // An old slug of a renamed service still sells it (site-builder buttons keep their links).
    let found = state.db.read(move |c| Ok(crate::catalog::service::resolve_slug(c, &slug)?)).await;
    found.map(|s| s.filter(|s| s.active)).map_err(|e| {
        tracing::warn!(event = "db_unavailable", error = %e, "order page could not load the service");
        error_page_in(StatusCode::SERVICE_UNAVAILABLE, state, lang, &state.catalog.t(lang.locale, "sf-busy"))
    })
}

fn not_on_sale(state: &AppState, lang: &Lang) -> Response {
    error_page_in(StatusCode::NOT_FOUND, state, lang, &state.catalog.t(lang.locale, "sf-not-on-sale"))
}

/// `"30 days"`, `"1 день"`: the period in `l` with its plural form.
fn period(state: &AppState, l: Locale, days: i32) -> String {
    state.catalog.tr(l, "days", &[("count", days.into())])
}

/// One input of the form, labelled, with its kept value; nothing for a hidden field.
fn field(state: &AppState, l: Locale, id: &str, label: &str, kind: &str, rule: FieldRule, value: &str) -> String {
    let (label, required) = match rule {
        FieldRule::Hidden => return String::new(),
        FieldRule::Required => (state.catalog.t(l, label), " required"),
        FieldRule::Optional => (state.catalog.tr(l, "sf-optional", &[("label", state.catalog.t(l, label).into())]), ""),
    };
    let autocomplete = if kind == "tel" { "tel" } else { "name" };
    format!(
        "<label for=\"{id}\">{}</label><input id=\"{id}\" name=\"{id}\" type=\"{kind}\" \
         value=\"{}\" autocomplete=\"{autocomplete}\" maxlength=\"254\"{required}>",
        esc(&label),
        esc(value)
    )
}

fn render(
    state: &AppState,
    lang: &Lang,
    service: &Service,
    form: &BuyForm,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let rules = &state.settings.storefront;
    let l = lang.locale;
    let t = |id: &str| state.catalog.t(l, id);
    let captcha = widget(state);
    let message = error.map(|m| format!("<p class=\"error\" role=\"alert\">{}</p>", esc(m))).unwrap_or_default();
    let body = format!(
        "<p><strong>{name}</strong></p><p>{price} · {period}</p>{message}\
         <form method=\"post\" action=\"/buy/{slug}\"><input type=\"hidden\" name=\"lang\" value=\"{code}\">{name_field}\
         <label for=\"email\">{email_label}</label><input id=\"email\" name=\"email\" type=\"email\" value=\"{email}\" \
         autocomplete=\"email\" maxlength=\"254\" required>{phone_field}{captcha}\
         <button type=\"submit\">{continue_}</button></form>\
         <p class=\"muted\">{note}</p><p class=\"muted\"><a href=\"/cabinet\">{log_in}</a></p>",
        name = esc(&service.name),
        price = esc(&amount(l, service.price_minor, &service.currency)),
        period = esc(&period(state, l, service.period_days)),
        slug = esc(&service.slug),
        code = l.code(),
        name_field = field(state, l, "name", "sf-name", "text", rules.buy_name, &form.name),
        email_label = t("sf-email"),
        email = esc(&form.email),
        phone_field = field(state, l, "phone", "sf-phone", "tel", rules.buy_phone, &form.phone),
        continue_ = t("sf-continue"),
        note = t("sf-note"),
        log_in = t("sf-log-in"),
    );
    allow_widget(state, page_in(status, lang, &state.settings.product_name, &t("sf-title"), &body))
}

/// The order page of one service, in the visitor's language (`?lang=`, remembered, or the
/// browser's).
#[handler]
pub async fn get_buy_page(Path(slug): Path<String>, lang: Lang, state: Data<&AppState>) -> Response {
    let service = match on_sale(&state, &lang, slug).await {
        Ok(Some(s)) => s,
        Ok(None) => return not_on_sale(&state, &lang),
        Err(resp) => return resp,
    };
    render(&state, &lang, &service, &BuyForm::default(), None, StatusCode::OK)
}

/// What the merchant's field rules make of the typed fields; `Err` names a missing field's
/// message.
fn apply_rules(state: &AppState, lang: &Lang, slug: &str, form: &BuyForm) -> Result<OrderInput, String> {
    let rules = &state.settings.storefront;
    let typed = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    let missing = |id: &str| state.catalog.t(lang.locale, id);
    let name = match rules.buy_name {
        FieldRule::Hidden => None,
        FieldRule::Required => Some(typed(&form.name).ok_or_else(|| missing("sf-enter-name"))?),
        FieldRule::Optional => typed(&form.name),
    };
    let phone = match rules.buy_phone {
        FieldRule::Hidden => None,
        FieldRule::Required => Some(typed(&form.phone).ok_or_else(|| missing("sf-enter-phone"))?),
        FieldRule::Optional => typed(&form.phone),
    };
    Ok(OrderInput {
        service: slug.to_string(),
        name: crate::storefront::name_or_local(name.as_deref().unwrap_or(""), &form.email),
        email: form.email.clone(),
        phone,
        // The order speaks the language its page spoke.
        locale: Some(lang.locale.code().to_string()),
        accept_language: None,
        captcha_token: typed(&form.captcha),
    })
}

/// Places the order from the page; 303 to the payment page, or the form again with the reason.
#[handler]
pub async fn post_buy_page(
    req: &Request,
    Path(slug): Path<String>,
    body: Vec<u8>,
    lang: Lang,
    state: Data<&AppState>,
) -> Response {
    let service = match on_sale(&state, &lang, slug).await {
        Ok(Some(s)) => s,
        Ok(None) => return not_on_sale(&state, &lang),
        Err(resp) => return resp,
    };
    let unreadable = state.catalog.t(lang.locale, "sf-unreadable");
    let ct = req.content_type().unwrap_or_default().to_ascii_lowercase();
    if !ct.starts_with("application/x-www-form-urlencoded") {
        return render(
            &state,
            &lang,
            &service,
            &BuyForm::default(),
            Some(&unreadable),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        );
    }
    let Ok(form) = serde_urlencoded::from_bytes::<BuyForm>(&body) else {
        return render(&state, &lang, &service, &BuyForm::default(), Some(&unreadable), StatusCode::BAD_REQUEST);
    };
    let lang = lang.carried(&form.lang);
    let input = match apply_rules(&state, &lang, &service.slug, &form) {
        Ok(input) => input,
        Err(msg) => return render(&state, &lang, &service, &form, Some(&msg), StatusCode::UNPROCESSABLE_ENTITY),
    };
    let ip = client_ip(req, &state.settings.trusted_proxies);
    match create_order(&state, ip, input).await {
        Ok(order) => Response::builder()
            .status(StatusCode::SEE_OTHER)
            .header("Location", state.link(&format!("/pay/{}", order.id)))
            .finish(),
        Err(e) => {
            let (status, body) = e.parts();
            let message = if lang.locale == Locale::En {
                readable(&body.message)
            } else {
                state.catalog.error(lang.locale, &body.error, &readable(&body.message))
            };
            let mut resp = render(&state, &lang, &service, &form, Some(&message), status);
            if let crate::http::api_error::ApiError::TooManyRequests(_, wait) = e {
                resp.headers_mut().insert("Retry-After", wait.into());
            }
            resp
        }
    }
}

/// The intake's messages start with the field's name (`email is not a valid address`): a
/// sentence for a person.
fn readable(message: &str) -> String {
    let mut chars = message.chars();
    let first: String = chars.next().map(|c| c.to_uppercase().collect()).unwrap_or_default();
    let rest = chars.as_str();
    if rest.ends_with('.') {
        format!("{first}{rest}")
    } else {
        format!("{first}{rest}.")
    }
}

/// The home page: what is on sale, each with its order page, and the way to the cabinet.
#[handler]
pub async fn index(lang: Lang, state: Data<&AppState>) -> Response {
    let product = &state.settings.product_name;
    let l = lang.locale;
    let t = |id: &str| state.catalog.t(l, id);
    // A database that does not answer is an outage, not an empty shop: saying "nothing is on
    // sale" (with 200, so caches and monitors believe it) would be wrong.
    let services = match state.db.read(|c| Ok(catalog::list_active(c)?)).await {
        Ok(services) => services,
        Err(e) => {
            tracing::warn!(event = "db_unavailable", error = %e, "home page could not list services");
            return error_page_in(StatusCode::SERVICE_UNAVAILABLE, &state, &lang, &t("sf-busy"));
        }
    };
    let mut list = String::new();
    for s in &services {
        list.push_str(&format!(
            "<li><strong>{}</strong> — {} · {} <a class=\"button\" href=\"/buy/{}\">{}</a></li>",
            esc(&s.name),
            esc(&amount(l, s.price_minor, &s.currency)),
            esc(&period(&state, l, s.period_days)),
            esc(&s.slug),
            t("sf-buy"),
        ));
    }
    let offer = if list.is_empty() {
        format!("<p>{}</p>", t("sf-nothing"))
    } else {
        format!("<ul class=\"offer\">{list}</ul>")
    };
    let already = state.catalog.tr(l, "sf-already", &[("href", "/cabinet".into())]);
    page_in(
        StatusCode::OK,
        &lang,
        product,
        &t("sf-welcome"),
        &format!(
            "{offer}<p>{already}</p>\
             <style>.offer{{list-style:none;padding:0}}.offer li{{padding:12px 0;border-bottom:1px solid #d0d7de}}\
             .offer .button{{margin:8px 0 0;display:block;width:max-content}}</style>"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_read_as_sentences() {
        assert_eq!(readable("email is not a valid address"), "Email is not a valid address.");
        assert_eq!(readable("No such service."), "No such service.");
    }
}

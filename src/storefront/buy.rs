//! The hosted order page, `GET/POST /buy/{slug}` (DESIGN §10), and the home page that lists
//! what is on sale. The form posts to the same intake as `/forms/order` (validation, per-IP
//! limit, hCaptcha) and answers 303 to `/pay/{order_id}`; a refused order shows the form
//! again with the message and the fields as typed.

use poem::http::StatusCode;
use poem::web::{Data, Path, Query};
use poem::{handler, Request, Response};
use serde::Deserialize;

use crate::catalog::model::{self as catalog, Service};
use crate::config::storefront::FieldRule;
use crate::http::captcha::{allow_widget, widget};
use crate::http::client_ip::client_ip;
use crate::http::pages::{error_page, esc, page};
use crate::money::format_minor;
use crate::orders::service::{create_order, OrderInput};
use crate::state::AppState;

/// The fields as the customer typed them.
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

/// `?lang=` on the order page.
#[derive(Debug, Default, Deserialize)]
pub struct LangQuery {
    pub lang: Option<String>,
}

async fn on_sale(state: &AppState, slug: String) -> Result<Option<Service>, Response> {
    if !crate::crypto::is_key(&slug) {
        return Ok(None);
    }
    // An old slug of a renamed service still sells it (site-builder buttons keep their links).
    let found = state.db.read(move |c| Ok(crate::catalog::service::resolve_slug(c, &slug)?)).await;
    found.map(|s| s.filter(|s| s.active)).map_err(|e| {
        tracing::warn!(event = "db_unavailable", error = %e, "order page could not load the service");
        error_page(StatusCode::SERVICE_UNAVAILABLE, &state.settings.product_name, "Please try again in a moment.")
    })
}

fn not_on_sale(state: &AppState) -> Response {
    error_page(StatusCode::NOT_FOUND, &state.settings.product_name, "This item is not on sale.")
}

/// `"30 days"`, `"1 day"`.
fn period(days: i32) -> String {
    if days == 1 {
        "1 day".into()
    } else {
        format!("{days} days")
    }
}

/// One input of the form, labelled, with its kept value; nothing for a hidden field.
fn field(id: &str, label: &str, kind: &str, rule: FieldRule, value: &str, autocomplete: &str) -> String {
    let (suffix, required) = match rule {
        FieldRule::Hidden => return String::new(),
        FieldRule::Required => ("", " required"),
        FieldRule::Optional => (" (optional)", ""),
    };
    format!(
        "<label for=\"{id}\">{label}{suffix}</label><input id=\"{id}\" name=\"{id}\" type=\"{kind}\" \
         value=\"{}\" autocomplete=\"{autocomplete}\" maxlength=\"254\"{required}>",
        esc(value)
    )
}

fn render(state: &AppState, service: &Service, form: &BuyForm, error: Option<&str>, status: StatusCode) -> Response {
    let rules = &state.settings.storefront;
    let captcha = widget(state);
    let message = error.map(|m| format!("<p class=\"error\" role=\"alert\">{}</p>", esc(m))).unwrap_or_default();
    let lang = crate::storefront::locale_of(Some(&form.lang), None)
        .map(|l| format!("<input type=\"hidden\" name=\"lang\" value=\"{l}\">"))
        .unwrap_or_default();
    let body = format!(
        "<p><strong>{name}</strong></p><p>{price} {currency} · {period}</p>{message}\
         <form method=\"post\" action=\"/buy/{slug}\">{lang}{name_field}\
         <label for=\"email\">Email</label><input id=\"email\" name=\"email\" type=\"email\" value=\"{email}\" \
         autocomplete=\"email\" maxlength=\"254\" required>{phone_field}{captcha}\
         <button type=\"submit\">Continue to payment</button></form>\
         <p class=\"muted\">Your login and a temporary password are emailed to you once the payment is confirmed. \
         Already a customer? Use the same email address: the access is added to your account.</p>\
         <p class=\"muted\"><a href=\"/cabinet\">Log in to your cabinet</a></p>",
        name = esc(&service.name),
        price = format_minor(service.price_minor, &service.currency),
        currency = esc(&service.currency),
        period = period(service.period_days),
        slug = esc(&service.slug),
        name_field = field("name", "Name", "text", rules.buy_name, &form.name, "name"),
        email = esc(&form.email),
        phone_field = field("phone", "Phone", "tel", rules.buy_phone, &form.phone, "tel"),
    );
    allow_widget(state, page(status, &state.settings.product_name, "Order", &body))
}

/// The order page of one service.
#[handler]
pub async fn get_buy_page(
    req: &Request,
    Path(slug): Path<String>,
    Query(q): Query<LangQuery>,
    state: Data<&AppState>,
) -> Response {
    let service = match on_sale(&state, slug).await {
        Ok(Some(s)) => s,
        Ok(None) => return not_on_sale(&state),
        Err(resp) => return resp,
    };
    let lang = crate::storefront::locale_of(q.lang.as_deref(), req.header("accept-language")).unwrap_or_default();
    render(&state, &service, &BuyForm { lang, ..BuyForm::default() }, None, StatusCode::OK)
}

/// What the merchant's field rules make of the typed fields; `Err` names a missing field.
fn apply_rules(state: &AppState, slug: &str, form: &BuyForm) -> Result<OrderInput, &'static str> {
    let rules = &state.settings.storefront;
    let typed = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    let name = match rules.buy_name {
        FieldRule::Hidden => None,
        FieldRule::Required => Some(typed(&form.name).ok_or("Please enter your name.")?),
        FieldRule::Optional => typed(&form.name),
    };
    let phone = match rules.buy_phone {
        FieldRule::Hidden => None,
        FieldRule::Required => Some(typed(&form.phone).ok_or("Please enter your phone number.")?),
        FieldRule::Optional => typed(&form.phone),
    };
    Ok(OrderInput {
        service: slug.to_string(),
        name: crate::storefront::name_or_local(name.as_deref().unwrap_or(""), &form.email),
        email: form.email.clone(),
        phone,
        locale: crate::storefront::locale_of(Some(&form.lang), None),
        accept_language: None,
        captcha_token: typed(&form.captcha),
    })
}

/// Places the order from the page; 303 to the payment page, or the form again with the reason.
#[handler]
pub async fn post_buy_page(req: &Request, Path(slug): Path<String>, body: Vec<u8>, state: Data<&AppState>) -> Response {
    let service = match on_sale(&state, slug).await {
        Ok(Some(s)) => s,
        Ok(None) => return not_on_sale(&state),
        Err(resp) => return resp,
    };
    let ct = req.content_type().unwrap_or_default().to_ascii_lowercase();
    if !ct.starts_with("application/x-www-form-urlencoded") {
        let msg = "The form could not be read; please try again.";
        return render(&state, &service, &BuyForm::default(), Some(msg), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    }
    let Ok(mut form) = serde_urlencoded::from_bytes::<BuyForm>(&body) else {
        let msg = "The form could not be read; please try again.";
        return render(&state, &service, &BuyForm::default(), Some(msg), StatusCode::BAD_REQUEST);
    };
    if form.lang.is_empty() {
        form.lang = crate::storefront::locale_of(None, req.header("accept-language")).unwrap_or_default();
    }
    let input = match apply_rules(&state, &service.slug, &form) {
        Ok(input) => input,
        Err(msg) => return render(&state, &service, &form, Some(msg), StatusCode::UNPROCESSABLE_ENTITY),
    };
    let ip = client_ip(req, &state.settings.trusted_proxies);
    match create_order(&state, ip, input).await {
        Ok(order) => Response::builder()
            .status(StatusCode::SEE_OTHER)
            .header("Location", state.link(&format!("/pay/{}", order.id)))
            .finish(),
        Err(e) => {
            let (status, body) = e.parts();
            let message = readable(&body.message);
            let mut resp = render(&state, &service, &form, Some(&message), status);
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
pub async fn index(state: Data<&AppState>) -> Response {
    let product = &state.settings.product_name;
    // A database that does not answer is an outage, not an empty shop: saying "nothing is on
    // sale" (with 200, so caches and monitors believe it) would be wrong.
    let services = match state.db.read(|c| Ok(catalog::list_active(c)?)).await {
        Ok(services) => services,
        Err(e) => {
            tracing::warn!(event = "db_unavailable", error = %e, "home page could not list services");
            return error_page(StatusCode::SERVICE_UNAVAILABLE, product, "Please try again in a moment.");
        }
    };
    let mut list = String::new();
    for s in &services {
        list.push_str(&format!(
            "<li><strong>{}</strong> — {} {} · {} <a class=\"button\" href=\"/buy/{}\">Buy</a></li>",
            esc(&s.name),
            format_minor(s.price_minor, &s.currency),
            esc(&s.currency),
            period(s.period_days),
            esc(&s.slug),
        ));
    }
    let offer = if list.is_empty() {
        "<p>Nothing is on sale right now.</p>".to_string()
    } else {
        format!("<ul class=\"offer\">{list}</ul>")
    };
    page(
        StatusCode::OK,
        product,
        "Welcome",
        &format!(
            "{offer}<p>Already a customer? <a href=\"/cabinet\">Log in to your cabinet</a>.</p>\
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

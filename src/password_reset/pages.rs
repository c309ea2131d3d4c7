//! The forgot-password pages, plain HTML forms under the strict CSP (no script needed):
//! `/forgot-password` asks for the address or login; `/reset-password?token=…` shows a form
//! for the new password (GET only looks at the link: mail scanners prefetch links) and its
//! POST uses the link.

use poem::http::StatusCode;
use poem::web::{Data, Form, Query};
use poem::{handler, Request, Response};
use serde::Deserialize;

use crate::http::api_error::ApiError;
use crate::http::captcha::{allow_widget, widget};
use crate::http::client_ip::client_ip;
use crate::http::limits::Bucket;
use crate::http::pages::{esc, page_in, said};
use crate::i18n::{Lang, Locale};
use crate::orders::service::guard;
use crate::password_reset::service;
use crate::state::AppState;

/// The form asking for a link (shown on its page and after a link failed), with hCaptcha's
/// widget when a captcha is configured.
fn forgot_form(state: &AppState, l: Locale) -> String {
    let widget = widget(state);
    format!(
        "<form method=\"post\" action=\"/forgot-password\"><input type=\"hidden\" name=\"lang\" value=\"{code}\">\
         <label for=\"email\">{label}</label>\
         <input id=\"email\" name=\"email\" autocomplete=\"username\" required>{widget}\
         <button type=\"submit\">{button}</button></form>",
        code = l.code(),
        label = state.catalog.t(l, "pw-forgot-label"),
        button = state.catalog.t(l, "pw-forgot-button"),
    )
}

/// "Back to log in", to the cabinet in `l`.
fn back_to_login(state: &AppState, l: Locale) -> String {
    format!("<p><a href=\"/cabinet\">{}</a></p>", state.catalog.t(l, "pw-back-to-login"))
}

/// `GET /forgot-password`.
#[handler]
pub fn get_forgot_page(lang: Lang, state: Data<&AppState>) -> Response {
    let l = lang.locale;
    let body = format!(
        "<p>{}</p>{}{}",
        state.catalog.t(l, "pw-forgot-text"),
        forgot_form(&state, l),
        back_to_login(&state, l)
    );
    let title = state.catalog.t(l, "pw-forgot-title");
    allow_widget(&state, page_in(StatusCode::OK, &lang, &state.settings.product_name, &title, &body))
}

#[derive(Deserialize)]
pub struct ForgotForm {
    #[serde(default)]
    email: String,
    #[serde(default, rename = "h-captcha-response")]
    captcha: Option<String>,
    #[serde(default)]
    lang: String,
}

/// `POST /forgot-password`: the same page whether the account exists or not.
#[handler]
pub async fn post_forgot_page(
    req: &Request,
    Form(f): Form<ForgotForm>,
    lang: Lang,
    state: Data<&AppState>,
) -> Response {
    let product = &state.settings.product_name;
    let lang = lang.carried(&f.lang);
    let l = lang.locale;
    let t = |id: &str| state.catalog.t(l, id);
    let ip = client_ip(req, &state.settings.trusted_proxies);
    let outcome = match guard(&state, Bucket::Reset, ip, f.captcha.as_deref()).await {
        Ok(()) if f.email.len() <= 254 => service::request(&state, &f.email).await.map_err(ApiError::from),
        other => other,
    };
    match outcome {
        Ok(()) => {
            let body = format!("{}{}", t("pw-sent-text"), back_to_login(&state, l));
            page_in(StatusCode::OK, &lang, product, &t("pw-sent-title"), &body)
        }
        Err(e) => {
            let (status, message) = said(&state, l, &e);
            let text = format!("<p class=\"error\">{}</p>{}", esc(&message), forgot_form(&state, l));
            allow_widget(&state, page_in(status, &lang, product, &t("pw-not-sent-title"), &text))
        }
    }
}

#[derive(Deserialize)]
pub struct TokenParam {
    #[serde(default)]
    token: String,
}

/// What the new-password form shows: the link's token, the language and an error above it.
struct ResetForm<'a> {
    token: &'a str,
    lang: &'a Lang,
    error: Option<&'a str>,
}

/// The new-password form for `token`, with an error above it when one is given.
fn reset_form(state: &AppState, status: StatusCode, form: ResetForm) -> Response {
    let l = form.lang.locale;
    let t = |id: &str| state.catalog.t(l, id);
    let error = form.error.map(|m| format!("<p class=\"error\">{}</p>", esc(m))).unwrap_or_default();
    let body = format!(
        "{error}<p>{text}</p>\
         <form method=\"post\" action=\"/reset-password\"><input type=\"hidden\" name=\"token\" value=\"{token}\">\
         <input type=\"hidden\" name=\"lang\" value=\"{code}\">\
         <label for=\"new_password\">{label}</label>\
         <input id=\"new_password\" name=\"new_password\" type=\"password\" autocomplete=\"new-password\" required>\
         <button type=\"submit\">{button}</button></form>",
        text = t("pw-choose-text"),
        token = esc(form.token),
        code = l.code(),
        label = t("pw-new-password"),
        button = t("pw-save-button"),
    );
    page_in(status, form.lang, &state.settings.product_name, &t("pw-choose-title"), &body)
}

/// The page for a link that cannot be used, offering a new one; when the link could not be
/// looked at (the database does not answer), "try again later" instead: the link may be fine.
fn link_failed(state: &AppState, lang: &Lang, e: ApiError) -> Response {
    let l = lang.locale;
    let (status, message) = said(state, l, &e);
    if status == StatusCode::SERVICE_UNAVAILABLE {
        return try_later(state, lang);
    }
    let offer = if e.parts().1.error == "account_suspended" { String::new() } else { forgot_form(state, l) };
    let text = format!("<p class=\"error\">{}</p>{offer}", esc(&message));
    let title = state.catalog.t(l, "pw-link-failed-title");
    allow_widget(state, page_in(status, lang, &state.settings.product_name, &title, &text))
}

/// 503 "try again later": nothing was checked or changed, and the link still works if it did.
fn try_later(state: &AppState, lang: &Lang) -> Response {
    let t = |id: &str| state.catalog.t(lang.locale, id);
    let body = format!("<p class=\"error\">{}</p>", t("pw-later-text"));
    let mut resp =
        page_in(StatusCode::SERVICE_UNAVAILABLE, lang, &state.settings.product_name, &t("pw-later-title"), &body);
    resp.headers_mut().insert("Retry-After", poem::http::HeaderValue::from_static("60"));
    resp
}

/// `GET /reset-password?token=…`: the form, or why the link does not work. Uses nothing.
#[handler]
pub async fn get_reset_page(Query(q): Query<TokenParam>, lang: Lang, state: Data<&AppState>) -> Response {
    let lang = lang.prefer(crate::accounts::service::link_locale(&state, q.token.trim()).await.as_deref());
    match service::check_link(&state, q.token.trim()).await {
        Ok(()) => reset_form(&state, StatusCode::OK, ResetForm { token: q.token.trim(), lang: &lang, error: None }),
        Err(e) => link_failed(&state, &lang, e),
    }
}

#[derive(Deserialize)]
pub struct NewPasswordForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    lang: String,
}

/// `POST /reset-password`: uses the link; a refused password shows the form again.
#[handler]
pub async fn post_reset_page(Form(f): Form<NewPasswordForm>, lang: Lang, state: Data<&AppState>) -> Response {
    let product = &state.settings.product_name;
    let lang = lang.carried(&f.lang);
    let l = lang.locale;
    let t = |id: &str| state.catalog.t(l, id);
    let token = f.token.trim();
    match service::confirm(&state, token, &f.new_password).await {
        Ok(()) => {
            let body =
                format!("{}<p><a class=\"button\" href=\"/cabinet\">{}</a></p>", t("pw-changed-text"), t("pw-log-in"));
            page_in(StatusCode::OK, &lang, product, &t("pw-changed-title"), &body)
        }
        Err(e) if e.parts().0 == StatusCode::UNPROCESSABLE_ENTITY => {
            let (status, message) = said(&state, l, &e);
            reset_form(&state, status, ResetForm { token, lang: &lang, error: Some(&message) })
        }
        // The database or the hashing is busy: the link is not used up, so keep the form.
        Err(e) if e.parts().0 == StatusCode::SERVICE_UNAVAILABLE => {
            let message = t("pw-not-saved");
            reset_form(&state, StatusCode::SERVICE_UNAVAILABLE, ResetForm { token, lang: &lang, error: Some(&message) })
        }
        Err(e) => link_failed(&state, &lang, e),
    }
}

//! Customer pages. The verification page: `GET /verify-email?token=…` shows a confirm button
//! and consumes nothing (mail scanners prefetch links); `POST /verify-email` (the button)
//! consumes. A resend form where a link failed. The cabinet (`/cabinet`): log in, choose a
//! password, see services — a thin page over the JSON API.

use poem::http::StatusCode;
use poem::web::{Data, Form, Query};
use poem::{handler, Request, Response};
use serde::Deserialize;

use crate::access::returns::follow;
use crate::accounts::model::ACTIVE;
use crate::accounts::service;
use crate::http::api_error::ApiError;
use crate::http::captcha::{allow_widget, widget};
use crate::http::client_ip::client_ip;
use crate::http::limits::Bucket;
use crate::http::pages::{esc, page_in, said};
use crate::i18n::{Lang, Locale};
use crate::oidc::authorize::{own_return, MAX_RETURN_LEN};
use crate::orders::service::guard;
use crate::sessions::service::peek;
use crate::state::AppState;

/// The form asking for a new link, with hCaptcha's widget when a captcha is checked (the
/// resend is refused without its answer). A page showing it goes through [`allow_widget`].
fn resend_form(state: &AppState, l: Locale) -> String {
    let t = |id: &str| state.catalog.t(l, id);
    format!(
        "<p>{}</p><form method=\"post\" action=\"/verify-email/resend\">\
         <input type=\"hidden\" name=\"lang\" value=\"{}\"><label for=\"email\">{}</label>\
         <input id=\"email\" name=\"email\" type=\"email\" autocomplete=\"email\">{}\
         <button type=\"submit\">{}</button></form>",
        t("resend-intro"),
        l.code(),
        t("email"),
        widget(state),
        t("resend-button")
    )
}

#[derive(Deserialize)]
pub struct TokenParam {
    #[serde(default)]
    token: String,
    /// The page's language, carried by its form.
    #[serde(default)]
    lang: String,
}

/// The confirm page.
#[handler]
pub async fn get_verify_page(Query(q): Query<TokenParam>, lang: Lang, state: Data<&AppState>) -> Response {
    let product = &state.settings.product_name;
    let lang = lang.prefer(service::link_locale(&state, q.token.trim()).await.as_deref());
    let l = lang.locale;
    let t = |id: &str| state.catalog.t(l, id);
    if q.token.is_empty() || q.token.len() > 128 {
        let body = format!("<p class=\"error\">{}</p>{}", t("link-not-valid"), resend_form(&state, l));
        return allow_widget(
            &state,
            page_in(StatusCode::BAD_REQUEST, &lang, product, &t("link-not-valid-title"), &body),
        );
    }
    let body = format!(
        "<p>{}</p><form method=\"post\" action=\"/verify-email\">\
         <input type=\"hidden\" name=\"token\" value=\"{}\"><input type=\"hidden\" name=\"lang\" value=\"{}\">\
         <button type=\"submit\">{}</button></form>",
        t("confirm-text"),
        esc(&q.token),
        l.code(),
        t("confirm-button")
    );
    page_in(StatusCode::OK, &lang, product, &t("confirm-title"), &body)
}

/// The confirm button.
#[handler]
pub async fn post_verify_page(Form(q): Form<TokenParam>, lang: Lang, state: Data<&AppState>) -> Response {
    let product = &state.settings.product_name;
    let lang = lang.carried(&q.lang);
    let l = lang.locale;
    let t = |id: &str| state.catalog.t(l, id);
    let log_in = format!("<p><a class=\"button\" href=\"/cabinet\">{}</a></p>", t("log-in"));
    match service::verify_email(&state, q.token.trim()).await {
        Ok(()) => {
            page_in(StatusCode::OK, &lang, product, &t("verified-title"), &format!("{}{log_in}", t("verified-text")))
        }
        Err(e) => {
            let code = e.parts().1.error.clone();
            let offer = match code.as_str() {
                "token_used" => log_in,
                // A new link would not help: the account must be reinstated first.
                "account_suspended" => String::new(),
                _ => resend_form(&state, l),
            };
            let (status, message) = said(&state, l, &e);
            let text = format!("<p class=\"error\">{}</p>{offer}", esc(&message));
            allow_widget(&state, page_in(status, &lang, product, &t("not-confirmed-title"), &text))
        }
    }
}

#[derive(Deserialize)]
pub struct ResendForm {
    #[serde(default)]
    email: String,
    #[serde(default, rename = "h-captcha-response")]
    captcha: Option<String>,
    #[serde(default)]
    lang: String,
}

/// The resend form: the same answer whether the address is known or not.
#[handler]
pub async fn post_resend_page(
    req: &Request,
    Form(f): Form<ResendForm>,
    lang: Lang,
    state: Data<&AppState>,
) -> Response {
    let product = &state.settings.product_name;
    let lang = lang.carried(&f.lang);
    let l = lang.locale;
    let t = |id: &str| state.catalog.t(l, id);
    let ip = client_ip(req, &state.settings.trusted_proxies);
    let outcome = match guard(&state, Bucket::Resend, ip, f.captcha.as_deref()).await {
        Ok(()) => service::resend(&state, &f.email).await.map_err(ApiError::from),
        Err(e) => Err(e),
    };
    match outcome {
        Ok(()) => {
            let body = format!("<p>{}</p>", t("check-email-text"));
            page_in(StatusCode::OK, &lang, product, &t("check-email-title"), &body)
        }
        Err(e) => {
            let (status, message) = said(&state, l, &e);
            let text = format!("<p class=\"error\">{}</p>{}", esc(&message), resend_form(&state, l));
            allow_widget(&state, page_in(status, &lang, product, &t("not-sent-title"), &text))
        }
    }
}

#[derive(Deserialize)]
pub struct ReturnParam {
    #[serde(default)]
    rd: Option<String>,
}

/// The cabinet page; `assets/cabinet.js` drives it through the JSON API. With `?rd=URL` (from
/// forward auth) a customer who is logged in already goes straight back to URL, and one who
/// logs in here is sent there after login — when URL's host is in `return_hosts`, else never.
/// An `rd` longer than 4096 characters is refused with a 400 page.
#[handler]
pub async fn get_cabinet_page(
    req: &Request,
    Query(q): Query<ReturnParam>,
    lang: Lang,
    state: Data<&AppState>,
) -> Response {
    let product = &state.settings.product_name;
    let l = lang.locale;
    let t = |id: &str| state.catalog.t(l, id);
    if q.rd.as_deref().is_some_and(|rd| rd.len() > MAX_RETURN_LEN) {
        let too_long = state.catalog.tr(l, "return-too-long", &[("max", MAX_RETURN_LEN.into())]);
        let text =
            format!("<p class=\"error\">{}</p><p><a href=\"/cabinet\">{}</a></p>", esc(&too_long), t("open-cabinet"));
        return page_in(StatusCode::BAD_REQUEST, &lang, product, &t("return-too-long-title"), &text);
    }
    let target = q.rd.as_deref().and_then(|rd| follow(rd, &state.settings).or_else(|| own_return(rd, &state)));
    if let Some(target) = &target {
        let ready = matches!(peek(&state, req).await, Ok(Some(a)) if a.status == ACTIVE && !a.must_change_password);
        if ready {
            return Response::builder().status(StatusCode::SEE_OTHER).header("Location", target.as_str()).body(());
        }
    }
    let back = target.map(|t| format!("<div id=\"return\" data-url=\"{}\" hidden></div>", esc(&t))).unwrap_or_default();
    let body = format!(
        "<div id=\"login\" hidden><form id=\"login-form\"><label for=\"l\">{login_or_email}</label>\
         <input id=\"l\" name=\"login\" autocomplete=\"username\"><label for=\"p\">{password}</label>\
         <input id=\"p\" name=\"password\" type=\"password\" autocomplete=\"current-password\">\
         <button type=\"submit\">{log_in}</button></form>\
         <p><a id=\"forgot\" href=\"/forgot-password\">{forgot}</a> \
         <span class=\"muted\">{forgot_hint}</span></p></div>\
         <div id=\"change\" hidden><p>{change_intro}</p>\
         <form id=\"change-form\"><label for=\"c\">{temporary}</label>\
         <input id=\"c\" type=\"password\" autocomplete=\"current-password\"><label for=\"n\">{new}</label>\
         <input id=\"n\" type=\"password\" autocomplete=\"new-password\"><button type=\"submit\">{save}</button></form></div>\
         <div id=\"me\" hidden><p>{logged_in_as} <code id=\"me-login\"></code></p><table id=\"services\"></table>\
         <p><label><input id=\"reminders\" type=\"checkbox\" style=\"width:auto;margin-right:8px\">\
         {reminders}</label></p>\
         <p><a href=\"/api/v1/me/export\" download=\"my-data.json\">{download}</a></p>\
         <p id=\"language-offer\" hidden><button id=\"use-language\" type=\"button\">{use_language}</button></p>\
         <button id=\"logout\" type=\"button\">{log_out}</button></div>\
         <p id=\"message\" role=\"status\"></p>{back}{words}<script src=\"/assets/cabinet.js\"></script>",
        login_or_email = t("login-or-email"),
        password = t("password"),
        log_in = t("log-in"),
        forgot = t("forgot"),
        forgot_hint = t("forgot-hint"),
        change_intro = t("change-intro"),
        temporary = t("temporary-password"),
        new = t("new-password"),
        save = t("save-password"),
        logged_in_as = t("logged-in-as"),
        reminders = t("reminders-label"),
        download = t("download-data"),
        log_out = t("log-out"),
        use_language = t("use-language"),
        words = script_words(&state, &lang),
    );
    crate::http::pages::scripted(page_in(StatusCode::OK, &lang, product, &t("cabinet-title"), &body))
}

/// The words of `cabinet.js` in the page's language, as a JSON data block (not run as a script,
/// so the CSP allows it): `{until}` and `{ends}` mark where the script puts dates.
fn script_words(state: &AppState, lang: &Lang) -> String {
    const IDS: [&str; 24] = [
        "js-service",
        "js-where",
        "js-access",
        "js-active-until",
        "js-grace",
        "js-ended",
        "js-renew",
        "js-off-sale",
        "js-suspended",
        "js-login-failed",
        "js-password-saved",
        "js-password-failed",
        "js-renew-failed",
        "js-reminders-on",
        "js-reminders-off",
        "js-save-failed",
        "js-logged-out",
        "js-language-saved",
        "err-temporary_password_expired",
        "err-invalid_credentials",
        "err-weak_password",
        "err-invalid_current_password",
        "err-password_too_long",
        "err-rate_limited",
    ];
    let marks = [("until", "{until}".into()), ("ends", "{ends}".into())];
    let mut words = serde_json::Map::new();
    for id in IDS {
        words.insert(id.trim_start_matches("js-").into(), state.catalog.tr(lang.locale, id, &marks).into());
    }
    words.insert("locale".into(), lang.locale.code().into());
    // `<` escaped: the block cannot end early whatever a message holds.
    let json = serde_json::Value::Object(words).to_string().replace('<', "\\u003c");
    format!("<script type=\"application/json\" id=\"words\">{json}</script>")
}

/// The cabinet's script (served from the binary).
#[handler]
pub fn get_cabinet_script() -> Response {
    Response::builder()
        .content_type("text/javascript; charset=utf-8")
        .header("Cache-Control", "public, max-age=300")
        .body(include_str!("../../assets/cabinet.js"))
}

//! The forgot-password pages, plain HTML forms under the strict CSP (no script needed):
//! `/forgot-password` asks for the address or login; `/reset-password?token=…` shows a form
//! for the new password (GET only looks at the link: mail scanners prefetch links) and its
//! POST uses the link.

use poem::http::StatusCode;
use poem::web::{Data, Form, Query};
use poem::{handler, Request, Response};
use serde::Deserialize;

use crate::http::api_error::ApiError;
use crate::http::client_ip::client_ip;
use crate::http::limits::Bucket;
use crate::http::pages::{esc, page};
use crate::orders::service::guard;
use crate::password_reset::service;
use crate::state::AppState;

/// The page CSP when the form carries hCaptcha's widget: the sources hCaptcha documents, on
/// these pages only; still no inline script.
const CAPTCHA_CSP: &str = "default-src 'none'; script-src https://hcaptcha.com https://*.hcaptcha.com; \
     frame-src https://hcaptcha.com https://*.hcaptcha.com; style-src 'unsafe-inline' https://hcaptcha.com https://*.hcaptcha.com; \
     connect-src https://hcaptcha.com https://*.hcaptcha.com; img-src 'self'; form-action 'self'; frame-ancestors 'none'; \
     base-uri 'none'";

/// The form asking for a link (shown on its page and after a link failed), with hCaptcha's
/// widget when a captcha is configured.
fn forgot_form(state: &AppState) -> String {
    let widget = match (&state.captcha, &state.settings.hcaptcha_sitekey) {
        (Some(_), Some(key)) => format!(
            "<div class=\"h-captcha\" data-sitekey=\"{}\"></div>\
             <script src=\"https://js.hcaptcha.com/1/api.js\" async defer></script>",
            esc(key)
        ),
        _ => String::new(),
    };
    format!(
        "<form method=\"post\" action=\"/forgot-password\">\
         <label for=\"email\">Email address or login</label>\
         <input id=\"email\" name=\"email\" autocomplete=\"username\" required>{widget}\
         <button type=\"submit\">Send me a link</button></form>"
    )
}

/// `resp` (a page showing [`forgot_form`]) allowed to load the captcha widget when there is one.
fn with_form(state: &AppState, mut resp: Response) -> Response {
    if state.captcha.is_some() && state.settings.hcaptcha_sitekey.is_some() {
        resp.headers_mut().insert("Content-Security-Policy", poem::http::HeaderValue::from_static(CAPTCHA_CSP));
    }
    resp
}

/// `GET /forgot-password`.
#[handler]
pub fn get_forgot_page(state: Data<&AppState>) -> Response {
    let resp = page(
        StatusCode::OK,
        &state.settings.product_name,
        "Forgot your password?",
        &format!(
            "<p>Enter the email address of your account (or its login). We will email you a link to choose a new \
             password; it works once, for one hour. This also helps when your temporary password has expired.</p>\
             {}<p><a href=\"/cabinet\">Back to log in</a></p>",
            forgot_form(&state)
        ),
    );
    with_form(&state, resp)
}

#[derive(Deserialize)]
pub struct ForgotForm {
    #[serde(default)]
    email: String,
    #[serde(default, rename = "h-captcha-response")]
    captcha: Option<String>,
}

/// `POST /forgot-password`: the same page whether the account exists or not.
#[handler]
pub async fn post_forgot_page(req: &Request, Form(f): Form<ForgotForm>, state: Data<&AppState>) -> Response {
    let product = &state.settings.product_name;
    let ip = client_ip(req, &state.settings.trusted_proxies);
    let outcome = match guard(&state, Bucket::Resend, ip, f.captcha.as_deref()).await {
        Ok(()) if f.email.len() <= 254 => service::request(&state, &f.email).await.map_err(ApiError::from),
        other => other,
    };
    match outcome {
        Ok(()) => page(
            StatusCode::OK,
            product,
            "Check your email",
            "<p>If this address or login belongs to an account, we have sent a link to the account's email address. \
             It works once, for one hour.</p><p class=\"muted\">Nothing arrived? Look in the spam folder, \
             or ask again in a few minutes.</p><p><a href=\"/cabinet\">Back to log in</a></p>",
        ),
        Err(e) => {
            let (status, body) = e.parts();
            let text = format!("<p class=\"error\">{}</p>{}", esc(&body.message), forgot_form(&state));
            with_form(&state, page(status, product, "Could not send", &text))
        }
    }
}

#[derive(Deserialize)]
pub struct TokenParam {
    #[serde(default)]
    token: String,
}

/// The new-password form for `token`, with an error above it when one is given.
fn reset_form(product: &str, status: StatusCode, token: &str, error: Option<&str>) -> Response {
    let error = error.map(|m| format!("<p class=\"error\">{}</p>", esc(m))).unwrap_or_default();
    page(
        status,
        product,
        "Choose a new password",
        &format!(
            "{error}<p>At least 12 characters; a few unrelated words work well. Every device where you are logged in \
             will be logged out.</p>\
             <form method=\"post\" action=\"/reset-password\"><input type=\"hidden\" name=\"token\" value=\"{}\">\
             <label for=\"new_password\">New password</label>\
             <input id=\"new_password\" name=\"new_password\" type=\"password\" autocomplete=\"new-password\" required>\
             <button type=\"submit\">Save the new password</button></form>",
            esc(token)
        ),
    )
}

/// The page for a link that cannot be used, offering a new one.
fn link_failed(state: &AppState, e: ApiError) -> Response {
    let (status, body) = e.parts();
    let offer = if body.error == "account_suspended" { String::new() } else { forgot_form(state) };
    let text = format!("<p class=\"error\">{}</p>{offer}", esc(&body.message));
    with_form(state, page(status, &state.settings.product_name, "This link does not work", &text))
}

/// `GET /reset-password?token=…`: the form, or why the link does not work. Uses nothing.
#[handler]
pub async fn get_reset_page(Query(q): Query<TokenParam>, state: Data<&AppState>) -> Response {
    let product = &state.settings.product_name;
    match service::check_link(&state, q.token.trim()).await {
        Ok(()) => reset_form(product, StatusCode::OK, q.token.trim(), None),
        Err(e) => link_failed(&state, e),
    }
}

#[derive(Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    new_password: String,
}

/// `POST /reset-password`: uses the link; a refused password shows the form again.
#[handler]
pub async fn post_reset_page(Form(f): Form<ResetForm>, state: Data<&AppState>) -> Response {
    let product = &state.settings.product_name;
    match service::confirm(&state, f.token.trim(), &f.new_password).await {
        Ok(()) => page(
            StatusCode::OK,
            product,
            "Password changed",
            "<p class=\"ok\">Your new password is saved, and every device that was logged in has been logged out.</p>\
             <p>Log in with your login or email address and the new password.</p>\
             <p><a class=\"button\" href=\"/cabinet\">Log in</a></p>",
        ),
        Err(e) if e.parts().0 == StatusCode::UNPROCESSABLE_ENTITY => {
            reset_form(product, StatusCode::UNPROCESSABLE_ENTITY, f.token.trim(), Some(&e.parts().1.message))
        }
        Err(e) => link_failed(&state, e),
    }
}

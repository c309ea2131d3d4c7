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

/// The form asking for a link, shown on its page and after a link failed.
pub const FORGOT_FORM: &str = "<form method=\"post\" action=\"/forgot-password\">\
    <label for=\"email\">Email address or login</label>\
    <input id=\"email\" name=\"email\" autocomplete=\"username\" required>\
    <button type=\"submit\">Send me a link</button></form>";

/// `GET /forgot-password`.
#[handler]
pub fn get_forgot_page(state: Data<&AppState>) -> Response {
    page(
        StatusCode::OK,
        &state.settings.product_name,
        "Forgot your password?",
        &format!(
            "<p>Enter the email address of your account (or its login). We will email you a link to choose a new \
             password; it works once, for one hour. This also helps when your temporary password has expired.</p>\
             {FORGOT_FORM}<p><a href=\"/cabinet\">Back to log in</a></p>"
        ),
    )
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
            page(status, product, "Could not send", &format!("<p class=\"error\">{}</p>{FORGOT_FORM}", esc(&body.message)))
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
fn link_failed(product: &str, e: ApiError) -> Response {
    let (status, body) = e.parts();
    let offer = if body.error == "account_suspended" { "" } else { FORGOT_FORM };
    page(status, product, "This link does not work", &format!("<p class=\"error\">{}</p>{offer}", esc(&body.message)))
}

/// `GET /reset-password?token=…`: the form, or why the link does not work. Uses nothing.
#[handler]
pub async fn get_reset_page(Query(q): Query<TokenParam>, state: Data<&AppState>) -> Response {
    let product = &state.settings.product_name;
    match service::check_link(&state, q.token.trim()).await {
        Ok(()) => reset_form(product, StatusCode::OK, q.token.trim(), None),
        Err(e) => link_failed(product, e),
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
        Err(e) => link_failed(product, e),
    }
}

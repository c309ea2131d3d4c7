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
use crate::http::pages::{esc, page};
use crate::orders::service::guard;
use crate::password_reset::service;
use crate::state::AppState;

/// The form asking for a link (shown on its page and after a link failed), with hCaptcha's
/// widget when a captcha is configured.
fn forgot_form(state: &AppState) -> String {
    let widget = widget(state);
    format!(
        "<form method=\"post\" action=\"/forgot-password\">\
         <label for=\"email\">Email address or login</label>\
         <input id=\"email\" name=\"email\" autocomplete=\"username\" required>{widget}\
         <button type=\"submit\">Send me a link</button></form>"
    )
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
    allow_widget(&state, resp)
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
    let outcome = match guard(&state, Bucket::Reset, ip, f.captcha.as_deref()).await {
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
            allow_widget(&state, page(status, product, "Could not send", &text))
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

/// The page for a link that cannot be used, offering a new one; when the link could not be
/// looked at (the database does not answer), "try again later" instead: the link may be fine.
fn link_failed(state: &AppState, e: ApiError) -> Response {
    let (status, body) = e.parts();
    if status == StatusCode::SERVICE_UNAVAILABLE {
        return try_later(state);
    }
    let offer = if body.error == "account_suspended" { String::new() } else { forgot_form(state) };
    let text = format!("<p class=\"error\">{}</p>{offer}", esc(&body.message));
    allow_widget(state, page(status, &state.settings.product_name, "This link does not work", &text))
}

/// 503 "try again later": nothing was checked or changed, and the link still works if it did.
fn try_later(state: &AppState) -> Response {
    let mut resp = page(
        StatusCode::SERVICE_UNAVAILABLE,
        &state.settings.product_name,
        "Please try again later",
        "<p class=\"error\">We cannot look at this link right now. Nothing was changed, and the link still \
         works: please open it again in a few minutes.</p>",
    );
    resp.headers_mut().insert("Retry-After", poem::http::HeaderValue::from_static("60"));
    resp
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
        // The database or the hashing is busy: the link is not used up, so keep the form.
        Err(e) if e.parts().0 == StatusCode::SERVICE_UNAVAILABLE => reset_form(
            product,
            StatusCode::SERVICE_UNAVAILABLE,
            f.token.trim(),
            Some("We could not save the new password right now; nothing was changed and the link still works. Please try again in a few minutes."),
        ),
        Err(e) => link_failed(&state, e),
    }
}

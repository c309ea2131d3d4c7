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
use crate::http::pages::{esc, page};
use crate::oidc::authorize::{own_return, MAX_RETURN_LEN};
use crate::orders::service::guard;
use crate::sessions::service::peek;
use crate::state::AppState;

/// The form asking for a new link, with hCaptcha's widget when a captcha is checked (the
/// resend is refused without its answer). A page showing it goes through [`allow_widget`].
fn resend_form(state: &AppState) -> String {
    format!(
        "<p>Enter your email address and we will send a new link and a new temporary password.</p>\
         <form method=\"post\" action=\"/verify-email/resend\"><label for=\"email\">Email</label>\
         <input id=\"email\" name=\"email\" type=\"email\" autocomplete=\"email\">{}\
         <button type=\"submit\">Send a new link</button></form>",
        widget(state)
    )
}

#[derive(Deserialize)]
pub struct TokenParam {
    #[serde(default)]
    token: String,
}

/// The confirm page.
#[handler]
pub async fn get_verify_page(Query(q): Query<TokenParam>, state: Data<&AppState>) -> Response {
    let product = &state.settings.product_name;
    if q.token.is_empty() || q.token.len() > 128 {
        let body = format!(
            "<p class=\"error\">This link is not valid. Please open the link from your email again.</p>{}",
            resend_form(&state)
        );
        return allow_widget(&state, page(StatusCode::BAD_REQUEST, product, "Link not valid", &body));
    }
    page(
        StatusCode::OK,
        product,
        "Confirm your email address",
        &format!(
            "<p>Press the button to confirm this address and activate your account.</p>\
             <form method=\"post\" action=\"/verify-email\">\
             <input type=\"hidden\" name=\"token\" value=\"{}\">\
             <button type=\"submit\">Confirm my email address</button></form>",
            esc(&q.token)
        ),
    )
}

/// The confirm button.
#[handler]
pub async fn post_verify_page(Form(q): Form<TokenParam>, state: Data<&AppState>) -> Response {
    let product = &state.settings.product_name;
    match service::verify_email(&state, q.token.trim()).await {
        Ok(()) => page(
            StatusCode::OK,
            product,
            "You are in",
            "<p class=\"ok\">Your email address is confirmed and your account is active.</p>\
             <p>Log in with the login and temporary password from the email; you will then choose your own password.</p>\
             <p><a class=\"button\" href=\"/cabinet\">Log in</a></p>",
        ),
        Err(e) => {
            let (status, body) = e.parts();
            let offer = match body.error.as_str() {
                "token_used" => "<p><a class=\"button\" href=\"/cabinet\">Log in</a></p>".to_string(),
                // A new link would not help: the account must be reinstated first.
                "account_suspended" => String::new(),
                _ => resend_form(&state),
            };
            let text = format!("<p class=\"error\">{}</p>{offer}", esc(&body.message));
            allow_widget(&state, page(status, product, "Could not confirm", &text))
        }
    }
}

#[derive(Deserialize)]
pub struct ResendForm {
    #[serde(default)]
    email: String,
    #[serde(default, rename = "h-captcha-response")]
    captcha: Option<String>,
}

/// The resend form: the same answer whether the address is known or not.
#[handler]
pub async fn post_resend_page(req: &Request, Form(f): Form<ResendForm>, state: Data<&AppState>) -> Response {
    let product = &state.settings.product_name;
    let ip = client_ip(req, &state.settings.trusted_proxies);
    let outcome = match guard(&state, Bucket::Resend, ip, f.captcha.as_deref()).await {
        Ok(()) => service::resend(&state, &f.email).await.map_err(ApiError::from),
        Err(e) => Err(e),
    };
    match outcome {
        Ok(()) => page(
            StatusCode::OK,
            product,
            "Check your email",
            "<p>If this address belongs to an account, an email is on its way with what it needs: a new \
             confirmation link, new temporary credentials, or a link to choose a new password.</p>",
        ),
        Err(e) => {
            let (status, body) = e.parts();
            let text = format!("<p class=\"error\">{}</p>{}", esc(&body.message), resend_form(&state));
            allow_widget(&state, page(status, product, "Could not send", &text))
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
pub async fn get_cabinet_page(req: &Request, Query(q): Query<ReturnParam>, state: Data<&AppState>) -> Response {
    if q.rd.as_deref().is_some_and(|rd| rd.len() > MAX_RETURN_LEN) {
        let text = format!(
            "<p class=\"error\">The address to return to is too long (over {MAX_RETURN_LEN} characters).</p>\
             <p><a href=\"/cabinet\">Open your cabinet</a></p>"
        );
        return page(StatusCode::BAD_REQUEST, &state.settings.product_name, "Return address not valid", &text);
    }
    let target = q.rd.as_deref().and_then(|rd| follow(rd, &state.settings).or_else(|| own_return(rd, &state)));
    if let Some(target) = &target {
        let ready = matches!(peek(&state, req).await, Ok(Some(a)) if a.status == ACTIVE && !a.must_change_password);
        if ready {
            return Response::builder().status(StatusCode::SEE_OTHER).header("Location", target.as_str()).body(());
        }
    }
    let back = target.map(|t| format!("<div id=\"return\" data-url=\"{}\" hidden></div>", esc(&t))).unwrap_or_default();
    let resp = page(
        StatusCode::OK,
        &state.settings.product_name,
        "Your cabinet",
        &format!(
            "<div id=\"login\" hidden><form id=\"login-form\"><label for=\"l\">Login or email</label>\
         <input id=\"l\" name=\"login\" autocomplete=\"username\"><label for=\"p\">Password</label>\
         <input id=\"p\" name=\"password\" type=\"password\" autocomplete=\"current-password\">\
         <button type=\"submit\">Log in</button></form>\
         <p><a id=\"forgot\" href=\"/forgot-password\">Forgot password?</a> \
         <span class=\"muted\">Also when your temporary password has expired.</span></p></div>\
         <div id=\"change\" hidden><p>Choose your own password (at least 12 characters; a few unrelated words work well).</p>\
         <form id=\"change-form\"><label for=\"c\">Temporary password</label>\
         <input id=\"c\" type=\"password\" autocomplete=\"current-password\"><label for=\"n\">New password</label>\
         <input id=\"n\" type=\"password\" autocomplete=\"new-password\"><button type=\"submit\">Save password</button></form></div>\
         <div id=\"me\" hidden><p>Logged in as <code id=\"me-login\"></code></p><table id=\"services\"></table>\
         <p><label><input id=\"reminders\" type=\"checkbox\" style=\"width:auto;margin-right:8px\">\
         Email me a reminder before a service runs out</label></p>\
         <p><a href=\"/api/v1/me/export\" download=\"my-data.json\">Download my data</a></p>\
         <button id=\"logout\" type=\"button\">Log out</button></div>\
         <p id=\"message\" role=\"status\"></p>{back}<script src=\"/assets/cabinet.js\"></script>",
        ),
    );
    crate::http::pages::scripted(resp)
}

/// The cabinet's script (served from the binary).
#[handler]
pub fn get_cabinet_script() -> Response {
    Response::builder()
        .content_type("text/javascript; charset=utf-8")
        .header("Cache-Control", "public, max-age=300")
        .body(include_str!("../../assets/cabinet.js"))
}

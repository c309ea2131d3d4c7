//! The verification page: `GET /verify-email?token=…` shows a confirm button and consumes
//! nothing (mail scanners prefetch links); `POST /verify-email` (the button) consumes.

use poem::http::StatusCode;
use poem::web::{Data, Form, Query};
use poem::{handler, Response};
use serde::Deserialize;

use crate::accounts::service;
use crate::http::pages::{esc, page};
use crate::state::AppState;

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
        return page(
            StatusCode::BAD_REQUEST,
            product,
            "Link not valid",
            "<p class=\"error\">This link is not valid. Please open the link from your email again.</p>",
        );
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
             <p>Log in with the login and temporary password from the email; you will then choose your own password.</p>",
        ),
        Err(e) => {
            let (status, body) = e.parts();
            page(status, product, "Could not confirm", &format!("<p class=\"error\">{}</p>", esc(&body.message)))
        }
    }
}

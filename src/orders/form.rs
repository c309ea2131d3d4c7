//! `POST /forms/order`: the same intake from a site-builder form (Tilda, Ecwid, plain HTML),
//! url-encoded, answered with 303 to the payment page, or an error page.

use poem::http::StatusCode;
use poem::web::Data;
use poem::{handler, IntoResponse, Request, Response};

use crate::http::api_error::ApiError;
use crate::http::client_ip::client_ip;
use crate::orders::service::{create_order, OrderInput};
use crate::state::AppState;

/// Maps a form's fields onto an order, accepting Tilda's capitalised names too.
pub fn parse_form(body: &[u8]) -> Result<OrderInput, ApiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
        .map_err(|_| ApiError::bad_request("invalid_body", "The form could not be read."))?;
    let mut input = OrderInput::default();
    for (k, v) in pairs {
        match k.to_ascii_lowercase().as_str() {
            "service" => input.service = v,
            "name" => input.name = v,
            "email" => input.email = v,
            "phone" => input.phone = Some(v),
            "locale" => input.locale = Some(v),
            "h-captcha-response" | "captcha_token" => input.captcha_token = Some(v),
            _ => {} // site builders add their own fields (tranid, formid, utm_*): ignore them
        }
    }
    Ok(input)
}

/// Handles the site-builder form.
#[handler]
pub async fn post_order_form(req: &Request, body: Vec<u8>, state: Data<&AppState>) -> Response {
    let ct = req.content_type().unwrap_or_default().to_ascii_lowercase();
    if !ct.starts_with("application/x-www-form-urlencoded") {
        return crate::error::json_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Send the form as application/x-www-form-urlencoded.",
        );
    }
    let mut carried = String::new();
    let result = match parse_form(&body) {
        Ok(mut input) => {
            carried = input.locale.clone().unwrap_or_default();
            input.accept_language = req.header("accept-language").map(str::to_string);
            create_order(&state, client_ip(req, &state.settings.trusted_proxies), input).await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(order) => Response::builder()
            .status(StatusCode::SEE_OTHER)
            .header("Location", state.link(&format!("/pay/{}", order.id)))
            .finish(),
        Err(e) => {
            let wants_html = req.header("accept").is_some_and(|a| a.contains("text/html"));
            if wants_html {
                let lang = crate::i18n::Lang::of(req).carried(&carried);
                let (status, message) = crate::http::pages::said(&state, lang.locale, &e);
                crate::http::pages::error_page_in(status, &state, &lang, &message)
            } else {
                e.into_response()
            }
        }
    }
}

//! Tilda's form webhook (`POST /forms/tilda`) and the way back to payment
//! (`GET /forms/tilda/continue`).
//!
//! Tilda posts a form's fields from its own servers, first a `test=test` ping when the webhook
//! is added, then each submission (form-encoded; multipart and JSON are accepted too), and waits
//! about five seconds for a 200. No browser sees that answer, so the order is remembered under
//! Tilda's `tranid` (and the embed snippet's `keyturn_ref` token, when the page carries it);
//! Tilda's success redirect brings the customer to `/forms/tilda/continue?ref=…` (the embed
//! snippet's random token), which sends them on to `/pay/{order_id}`. The `tranid` is only the
//! webhook's dedupe key: it is predictable, so it never leads to a payment page.

use poem::http::StatusCode;
use poem::web::{Data, Multipart, Query, RequestBody};
use poem::{handler, Body, FromRequest, IntoResponse, Request, Response};
use serde::Deserialize;
use subtle::ConstantTimeEq;

use crate::config::storefront::{FieldRule, TildaRole};
use crate::error::json_error;
use crate::http::api_error::ApiError;
use crate::orders::model as orders;
use crate::orders::service::{create_form_order, validate_phone, OrderInput};
use crate::state::AppState;
use crate::storefront::model;

/// Most fields a submission may carry (a Tilda form plus its technical fields and UTM tags).
const MAX_FIELDS: usize = 200;

/// `?service=` on the webhook URL.
#[derive(Debug, Default, Deserialize)]
pub struct WebhookQuery {
    pub service: Option<String>,
}

/// The submission's fields, in order, whatever encoding carried them.
async fn fields(req: &Request, body: Body) -> Result<Vec<(String, String)>, Response> {
    let ct = req.content_type().unwrap_or_default().to_ascii_lowercase();
    let unreadable = || json_error(StatusCode::BAD_REQUEST, "invalid_body", "The form could not be read.");
    if ct.starts_with("multipart/form-data") {
        let mut parts = Multipart::from_request(req, &mut RequestBody::new(body)).await.map_err(|_| unreadable())?;
        let mut out = Vec::new();
        while let Some(field) = parts.next_field().await.map_err(|_| unreadable())? {
            let name = field.name().unwrap_or_default().to_string();
            if field.file_name().is_some() {
                continue; // an uploaded file is nothing an order needs
            }
            out.push((name, field.text().await.map_err(|_| unreadable())?));
            if out.len() > MAX_FIELDS {
                return Err(unreadable());
            }
        }
        return Ok(out);
    }
    let bytes = body.into_vec().await.map_err(|_| unreadable())?;
    let pairs: Vec<(String, String)> = if ct.starts_with("application/x-www-form-urlencoded") {
        serde_urlencoded::from_bytes(&bytes).map_err(|_| unreadable())?
    } else if ct.starts_with("application/json") {
        let map: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(&bytes).map_err(|_| unreadable())?;
        map.into_iter().map(|(k, v)| (k, v.as_str().map(String::from).unwrap_or_else(|| v.to_string()))).collect()
    } else {
        return Err(json_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Send the form as application/x-www-form-urlencoded or multipart/form-data.",
        ));
    };
    if pairs.len() > MAX_FIELDS {
        return Err(unreadable());
    }
    Ok(pairs)
}

/// The key the call carries: an `Api-Key`/`X-Api-Key` header, `Authorization: Bearer`, or an
/// `api_key`/`apikey` form field.
fn presented_key<'a>(req: &'a Request, pairs: &'a [(String, String)]) -> Option<&'a str> {
    let header = ["api-key", "x-api-key"].iter().find_map(|h| req.header(h));
    let bearer = req.header("authorization").and_then(|a| a.strip_prefix("Bearer "));
    let field = pairs.iter().find(|(k, _)| matches!(k.to_ascii_lowercase().as_str(), "api_key" | "apikey"));
    header.or(bearer).or(field.map(|(_, v)| v.as_str())).map(str::trim)
}

fn key_matches(expected: &str, presented: Option<&str>) -> bool {
    presented.is_some_and(|p| bool::from(p.as_bytes().ct_eq(expected.as_bytes())))
}

/// A reference usable to find the order again: printable, bounded.
fn reference(prefix: &str, value: &str, min: usize) -> Option<String> {
    let v = value.trim();
    let ok = (min..=128).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_:.".contains(&b));
    ok.then(|| format!("{prefix}:{v}"))
}

/// The order a submission asks for, and the references it will be found by again.
fn submission(
    state: &AppState,
    service: Option<String>,
    pairs: &[(String, String)],
) -> Result<(OrderInput, Vec<String>), ApiError> {
    let get = |name: &str| pairs.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str());
    let mut input = OrderInput::default();
    let mut service = service.filter(|s| !s.trim().is_empty());
    for (k, v) in pairs {
        match state.settings.storefront.tilda_role(k) {
            Some(TildaRole::Name) => input.name = v.clone(),
            Some(TildaRole::Email) => input.email = v.clone(),
            Some(TildaRole::Phone) => input.phone = Some(v.clone()).filter(|p| !p.trim().is_empty()),
            Some(TildaRole::Service) => service = service.or_else(|| Some(v.clone())),
            None => {} // tranid, formid, utm_*, the merchant's own fields
        }
    }
    let Some(slug) = service.or_else(|| state.settings.storefront.tilda_service.clone()) else {
        return Err(ApiError::unprocessable(
            "unknown_service",
            "Name the service: ?service=SLUG on the webhook URL, a `service` field, or KEYTURN_TILDA_SERVICE.",
        ));
    };
    input.service = slug;
    input.phone = phone(state, input.phone.take(), get("formid"))?;
    input.name = super::name_or_local(&input.name, &input.email);
    input.locale = super::locale_of(get("lang").or(get("locale")), None);
    let refs: Vec<String> = [
        get("tranid").and_then(|t| reference("tilda", t, 1)),
        get("keyturn_ref").and_then(|t| reference("ref", t, 16)),
    ]
    .into_iter()
    .flatten()
    .collect();
    if refs.is_empty() {
        return Err(ApiError::unprocessable(
            "validation_failed",
            "The submission has no tranid: the customer could not be sent on to payment.",
        ));
    }
    Ok((input, refs))
}

/// The submission's phone as the order keeps it. A merchant who requires a phone (`buy_phone =
/// required`) gets a refusal Tilda shows in its webhook log; otherwise a number keyturn cannot
/// use is dropped (and logged, without the number) rather than losing the whole order.
fn phone(state: &AppState, typed: Option<String>, formid: Option<&str>) -> Result<Option<String>, ApiError> {
    let required = state.settings.storefront.buy_phone == FieldRule::Required;
    match validate_phone(typed) {
        Ok(Some(p)) => Ok(Some(p)),
        Ok(None) if required => Err(ApiError::unprocessable(
            "validation_failed",
            "phone is required: the form sent no phone number (name the field Phone, or map it with KEYTURN_TILDA_FIELDS).",
        )),
        Ok(None) => Ok(None),
        Err(e) if required => Err(ApiError::unprocessable(
            "validation_failed",
            format!("phone is required and the one sent is not usable: {}", e.parts().1.message),
        )),
        Err(_) => {
            tracing::warn!(event = "tilda_phone_dropped", formid = formid.unwrap_or("-"), "Tilda submission's phone is not usable; the order is kept without it");
            Ok(None)
        }
    }
}

/// Tilda's form webhook: 200 `ok` to the test ping and to every stored submission.
#[handler]
pub async fn post_tilda_webhook(
    req: &Request,
    Query(q): Query<WebhookQuery>,
    body: Body,
    state: Data<&AppState>,
) -> Response {
    let Some(expected) = state.settings.storefront.tilda_key.as_deref() else {
        return json_error(
            StatusCode::NOT_FOUND,
            "not_found",
            "The Tilda webhook is not configured (KEYTURN_TILDA_KEY).",
        );
    };
    let pairs = match fields(req, body).await {
        Ok(p) => p,
        Err(resp) => return resp,
    };
    let get = |name: &str| pairs.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str());
    if get("test") == Some("test") && get("tranid").is_none() {
        tracing::info!(event = "tilda_ping", "Tilda's test request answered");
        return ok();
    }
    if !key_matches(expected, presented_key(req, &pairs)) {
        tracing::warn!(event = "authn_tilda_key_fail", "Tilda webhook with a missing or wrong key");
        return json_error(StatusCode::UNAUTHORIZED, "invalid_key", "The webhook's API key is missing or wrong.");
    }
    let (input, refs) = match submission(&state, q.service, &pairs) {
        Ok(found) => found,
        Err(e) => return e.into_response(),
    };
    match create_form_order(&state, input, refs).await {
        Ok(order) => {
            tracing::info!(event = "tilda_order", order_id = %order.id, formid = get("formid").unwrap_or("-"), "Tilda submission stored");
            ok()
        }
        Err(e) => e.into_response(),
    }
}

fn ok() -> Response {
    Response::builder().status(StatusCode::OK).content_type("text/plain; charset=utf-8").body("ok")
}

/// `?ref=` from Tilda's success redirect (the embed snippet's token); `try` counts the page's
/// own reloads. Tilda's `tranid` is deliberately not accepted: it is predictable (form id and a
/// counter), so a lookup by it would let anyone walk other customers' payment pages.
#[derive(Debug, Default, Deserialize)]
pub struct ContinueQuery {
    #[serde(rename = "ref")]
    pub reference: Option<String>,
    #[serde(rename = "try")]
    pub attempt: Option<u32>,
}

/// Reloads before "not found" is final: the redirect may overtake Tilda's webhook.
const RELOADS: u32 = 5;

/// Shortest `keyturn_ref` accepted: the snippet sends 32 hex digits (128 bits).
const MIN_REF: usize = 32;

/// Finds the order of a Tilda submission by its unguessable `ref` and sends the customer on to
/// pay it. Every miss, and every order that is no longer pending, gets the same answer (no
/// status is revealed), and the lookups are bounded per IP like order intake.
#[handler]
pub async fn get_tilda_continue(req: &Request, Query(q): Query<ContinueQuery>, state: Data<&AppState>) -> Response {
    let product = &state.settings.product_name;
    let lang = crate::i18n::Lang::of(req);
    let t = |id: &str| state.catalog.t(lang.locale, id);
    let ip = crate::http::client_ip::client_ip(req, &state.settings.trusted_proxies);
    if state.limiters.check(crate::http::limits::Bucket::Orders, ip).is_err() {
        return crate::http::pages::error_page_in(StatusCode::TOO_MANY_REQUESTS, &state, &lang, &t("err-rate_limited"));
    }
    let attempt = q.attempt.unwrap_or(0);
    let Some(key) = q.reference.as_deref().and_then(|r| reference("ref", r, MIN_REF)) else {
        return not_found(&state, &lang);
    };
    let lookup = key.clone();
    let found = match state.db.read(move |c| Ok(model::find_order(c, &lookup)?)).await {
        Ok(found) => found,
        Err(e) => {
            tracing::warn!(event = "db_unavailable", error = %e, "continue page could not look up the order");
            return crate::http::pages::error_page_in(StatusCode::SERVICE_UNAVAILABLE, &state, &lang, &t("sf-busy"));
        }
    };
    match found.filter(|o| o.status == orders::PENDING_PAYMENT) {
        Some(order) => Response::builder()
            .status(StatusCode::SEE_OTHER)
            .header("Location", state.link(&format!("/pay/{}", order.id)))
            .finish(),
        None if attempt < RELOADS => {
            let value = key.strip_prefix("ref:").unwrap_or_default();
            let next = format!("/forms/tilda/continue?ref={value}&try={}", attempt + 1);
            crate::http::pages::page_with_head_in(
                StatusCode::OK,
                &lang,
                product,
                &t("sf-preparing-title"),
                &format!("<meta http-equiv=\"refresh\" content=\"2;url={}\">", crate::http::pages::esc(&next)),
                &format!("<p>{}</p>", t("sf-preparing")),
            )
        }
        None => not_found(&state, &lang),
    }
}

/// The one answer for a link that leads to no payable order, whatever the reason.
fn not_found(state: &AppState, lang: &crate::i18n::Lang) -> Response {
    let t = |id: &str| state.catalog.t(lang.locale, id);
    crate::http::pages::page_in(
        StatusCode::NOT_FOUND,
        lang,
        &state.settings.product_name,
        &t("sf-order-not-found-title"),
        &t("sf-order-not-found"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_bounded_and_plain() {
        assert_eq!(reference("tilda", "3862245:4582716532", 1).as_deref(), Some("tilda:3862245:4582716532"));
        assert_eq!(reference("ref", "short", 16), None);
        assert_eq!(reference("ref", "<script>alert(1)</script>xx", 16), None);
        assert_eq!(reference("tilda", &"9".repeat(129), 1), None);
        assert!(key_matches("0123456789abcdef", Some("0123456789abcdef")));
        assert!(!key_matches("0123456789abcdef", Some("0123456789abcdeX")));
        assert!(!key_matches("0123456789abcdef", None));
    }
}

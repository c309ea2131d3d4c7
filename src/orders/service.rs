//! Order rules: input validation, captcha and rate limit, creation.

use std::net::IpAddr;

use crate::crypto::{mask_email, random_id};
use crate::http::api_error::ApiError;
use crate::http::captcha::CaptchaOutcome;
use crate::http::limits::Bucket;
use crate::orders::model::{self, Order};
use crate::state::AppState;

/// An order request, from the JSON API or a form.
#[derive(Debug, Default, Clone)]
pub struct OrderInput {
    pub service: String,
    pub name: String,
    pub email: String,
    pub phone: Option<String>,
    pub locale: Option<String>,
    pub captcha_token: Option<String>,
}

fn invalid(msg: &str) -> ApiError {
    ApiError::unprocessable("validation_failed", msg)
}

/// A person's name: 1–200 characters, no control characters (no header injection).
pub fn validate_name(raw: &str) -> Result<String, ApiError> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(invalid("name must be 1 to 200 characters"));
    }
    if name.chars().any(char::is_control) {
        return Err(invalid("name must not contain control characters"));
    }
    Ok(name.to_string())
}

/// An email address as lettre accepts it; stored lower-cased.
pub fn validate_email(raw: &str) -> Result<String, ApiError> {
    let email = raw.trim().to_lowercase();
    if email.len() > 254 || email.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(invalid("email is not a valid address"));
    }
    email.parse::<lettre::Address>().map_err(|_| invalid("email is not a valid address"))?;
    Ok(email)
}

/// An optional phone number: digits, spaces and `+ - ( ) .`, at most 32 characters.
pub fn validate_phone(raw: Option<String>) -> Result<Option<String>, ApiError> {
    let Some(p) = raw.map(|p| p.trim().to_string()).filter(|p| !p.is_empty()) else { return Ok(None) };
    let ok = p.len() <= 32 && p.chars().all(|c| c.is_ascii_digit() || " +-().".contains(c));
    if !ok || !p.chars().any(|c| c.is_ascii_digit()) {
        return Err(invalid("phone may hold digits, spaces and + - ( ) only, at most 32 characters"));
    }
    Ok(Some(p))
}

fn validate_locale(raw: Option<String>) -> Result<String, ApiError> {
    let l = raw.map(|l| l.trim().to_string()).filter(|l| !l.is_empty()).unwrap_or_else(|| "en".into());
    if l.len() > 16 || !l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err(invalid("locale must be a language tag like en or en-GB"));
    }
    Ok(l)
}

/// Per-IP burst limit, then the captcha (when configured; fails closed).
pub async fn guard(state: &AppState, bucket: Bucket, ip: IpAddr, token: Option<&str>) -> Result<(), ApiError> {
    state.limiters.check(bucket, ip).map_err(ApiError::rate_limited)?;
    let Some(captcha) = &state.captcha else { return Ok(()) };
    let token = token.map(str::trim).filter(|t| !t.is_empty());
    let Some(token) = token else {
        return Err(ApiError::bad_request("captcha_required", "Please complete the captcha."));
    };
    if token.len() > 8192 {
        return Err(ApiError::forbidden("captcha_failed", "The captcha was not accepted; please try again."));
    }
    match captcha.verify(token, ip).await {
        CaptchaOutcome::Passed => Ok(()),
        CaptchaOutcome::Failed => {
            Err(ApiError::forbidden("captcha_failed", "The captcha was not accepted; please try again."))
        }
        CaptchaOutcome::Unavailable => Err(ApiError::unavailable(
            "captcha_unavailable",
            "The captcha could not be checked right now; please try again shortly.",
        )),
    }
}

/// Validates and stores a new order in `pending_payment`.
pub async fn create_order(state: &AppState, ip: IpAddr, input: OrderInput) -> Result<Order, ApiError> {
    let name = validate_name(&input.name)?;
    let email = validate_email(&input.email)?;
    let phone = validate_phone(input.phone)?;
    let locale = validate_locale(input.locale)?;
    let slug = input.service.trim().to_string();
    if !crate::crypto::is_key(&slug) {
        return Err(ApiError::unprocessable("unknown_service", "No such service."));
    }
    guard(state, Bucket::Orders, ip, input.captcha_token.as_deref()).await?;
    let now = state.clock.now();
    let ttl = state.settings.order_ttl_hours * 3600;
    let order = state
        .db
        .write(move |c| {
            let Some(service) = crate::catalog::service::resolve_slug(c, &slug)?.filter(|s| s.active) else {
                return Ok(None);
            };
            let order = Order {
                id: random_id("ord").into(),
                service_slug: Some(service.slug),
                customer_name: name,
                email,
                phone,
                locale,
                amount_minor: service.price_minor,
                currency: service.currency,
                status: model::PENDING_PAYMENT,
                account_id: None,
                created_at: now,
                updated_at: now,
                paid_at: None,
                expires_at: now + ttl,
                item_name: None,
                period_days: Some(service.period_days),
                hold_reason: None,
            };
            model::insert(c, &order)?;
            Ok(Some(order))
        })
        .await?
        .ok_or_else(|| ApiError::unprocessable("unknown_service", "No such service."))?;
    tracing::info!(event = "order_created", order_id = %order.id, email = %mask_email(&order.email), service = order.service_slug.as_deref().unwrap_or("-"), "order created");
    Ok(order)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_emails_refuse_injection() {
        assert!(validate_name("Ann\r\nBcc: x@y").is_err());
        assert!(validate_name("Ann\0").is_err());
        assert!(validate_name("  ").is_err());
        assert_eq!(validate_name(" Ann O'Neil ").unwrap(), "Ann O'Neil");
        assert!(validate_email("a@b.example\r\nBcc: c@d").is_err());
        assert!(validate_email("not an email").is_err());
        assert_eq!(validate_email(" Ann@Example.COM ").unwrap(), "ann@example.com");
        assert!(validate_phone(Some("+7 (777) 123-45-67".into())).unwrap().is_some());
        assert!(validate_phone(Some("'; DROP TABLE".into())).is_err());
    }
}

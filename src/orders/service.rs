//! Order rules: input validation, captcha and rate limit, creation.

use std::net::IpAddr;

use crate::crypto::mask_email;
use crate::http::api_error::ApiError;
use crate::http::captcha::CaptchaOutcome;
use crate::http::limits::Bucket;
use crate::i18n::Locale;
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
    /// The request's `Accept-Language`, the locale when the order names none we speak.
    pub accept_language: Option<String>,
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

/// The order's locale (DESIGN §8): its `locale` field, else the request's `Accept-Language`,
/// else `default`. A well-formed tag of a language we do not speak (`de`) is no choice: the
/// next source decides. Stored as the locale's code.
fn validate_locale(raw: Option<&str>, accept_language: Option<&str>, default: Locale) -> Result<Locale, ApiError> {
    let l = raw.map(str::trim).filter(|l| !l.is_empty());
    if let Some(l) = l {
        if l.len() > 16 || !l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
            return Err(invalid("locale must be a language tag like en or en-GB"));
        }
    }
    Ok(l.and_then(Locale::from_tag)
        .or_else(|| accept_language.and_then(Locale::from_accept_language))
        .unwrap_or(default))
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

/// An order request whose fields passed validation.
struct Valid {
    slug: String,
    name: String,
    email: String,
    phone: Option<String>,
    locale: Locale,
}

fn validated(input: &OrderInput, default_locale: Locale) -> Result<Valid, ApiError> {
    let name = validate_name(&input.name)?;
    let email = validate_email(&input.email)?;
    let phone = validate_phone(input.phone.clone())?;
    let locale = validate_locale(input.locale.as_deref(), input.accept_language.as_deref(), default_locale)?;
    let slug = input.service.trim().to_string();
    if !crate::crypto::is_key(&slug) {
        return Err(ApiError::unprocessable("unknown_service", "No such service."));
    }
    Ok(Valid { slug, name, email, phone, locale })
}

/// Validates and stores a new order in `pending_payment`.
pub async fn create_order(state: &AppState, ip: IpAddr, input: OrderInput) -> Result<Order, ApiError> {
    let valid = validated(&input, state.settings.default_locale)?;
    guard(state, Bucket::Orders, ip, input.captcha_token.as_deref()).await?;
    store(state, valid, Vec::new()).await
}

/// An order from a site builder's server (authenticated by its key, so neither the per-IP
/// limit nor a captcha applies), remembered under `refs`: when one of them is known already
/// (the site builder repeated its call), that earlier order is the answer and nothing is stored.
pub async fn create_form_order(state: &AppState, input: OrderInput, refs: Vec<String>) -> Result<Order, ApiError> {
    let valid = validated(&input, state.settings.default_locale)?;
    match store(state, valid, refs.clone()).await {
        Err(e) if e.parts().0 == poem::http::StatusCode::CONFLICT => {
            // Two deliveries of one submission raced: the other one stored it.
            let found = state
                .db
                .read(move |c| {
                    for r in &refs {
                        if let Some(o) = crate::storefront::model::find_order(c, r)? {
                            return Ok(Some(o));
                        }
                    }
                    Ok(None)
                })
                .await?;
            found.ok_or(e)
        }
        other => other,
    }
}

async fn store(state: &AppState, v: Valid, refs: Vec<String>) -> Result<Order, ApiError> {
    let now = state.clock.now();
    let ttl = state.settings.order_ttl_hours * 3600;
    let stored = state
        .db
        .write(move |c| {
            for r in &refs {
                if let Some(earlier) = crate::storefront::model::find_order(c, r)? {
                    return Ok(Some((earlier, false)));
                }
            }
            let Some(service) = crate::catalog::service::resolve_slug(c, &v.slug)?.filter(|s| s.active) else {
                return Ok(None);
            };
            let buyer = model::Buyer {
                name: v.name,
                email: v.email,
                phone: v.phone,
                locale: v.locale.code().into(),
                account_id: None,
            };
            let order = Order::for_service(service, buyer, now, ttl);
            model::insert(c, &order)?;
            for r in &refs {
                crate::storefront::model::insert(c, r, &order.id, now)?;
            }
            Ok(Some((order, true)))
        })
        .await;
    let (order, new) = match stored {
        Ok(Some(found)) => found,
        Ok(None) => return Err(ApiError::unprocessable("unknown_service", "No such service.")),
        Err(e) if e.is_unique_violation() => {
            return Err(ApiError::conflict("duplicate", "This submission is being stored already."))
        }
        Err(e) => return Err(e.into()),
    };
    if new {
        tracing::info!(event = "order_created", order_id = %order.id, email = %mask_email(&order.email), service = order.service_slug.as_deref().unwrap_or("-"), "order created");
    }
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

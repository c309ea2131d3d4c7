//! Invoice rules: what an administrator may invoice (a catalog service, optionally at a custom
//! price, or a free description with its own price), for how long the link stays payable, and
//! the one transaction that stores the order, the invoice and the audit entry.

use serde_json::json;

use crate::admin::access::auth::AdminPrincipal;
use crate::audit::Event;
use crate::crypto::{is_key, mask_email, random_id};
use crate::http::api_error::ApiError;
use crate::invoices::model::{self, Invoice};
use crate::orders::model::{self as orders, Order};
use crate::orders::service::{validate_email, validate_name, validate_phone};
use crate::state::AppState;

/// Largest amount an invoice may ask for, in minor units (100 million in a two-decimal currency).
pub const MAX_AMOUNT_MINOR: i64 = 10_000_000_000;
/// Longest an invoice link may stay payable.
pub const MAX_DAYS: i64 = 90;

/// An invoice request as the admin API received it.
#[derive(Debug, Default, Clone)]
pub struct InvoiceInput {
    pub name: String,
    pub email: String,
    pub phone: Option<String>,
    /// A catalog service's slug…
    pub service: Option<String>,
    /// …or a free description (then `amount_minor` and `currency` are required).
    pub description: Option<String>,
    /// With `service`: a custom price (together with `currency`).
    pub amount_minor: Option<i64>,
    pub currency: Option<String>,
    /// 1–90; default `merchant.invoice_days`.
    pub expires_in_days: Option<i64>,
    /// Also email the link to the customer.
    pub send_email: bool,
    /// `en`, `ru`, `pl` or `sr`; default the account's, else `default_locale`.
    pub locale: Option<String>,
}

/// A stored invoice: what the administrator sends to the customer.
#[derive(Debug, Clone)]
pub struct Created {
    pub invoice_id: String,
    pub order_id: String,
    /// The public pay-by-link URL.
    pub link: String,
}

/// What is being sold.
#[derive(Debug, Clone, PartialEq)]
enum Item {
    /// A catalog service, at its catalog price unless `price` is given.
    Service { slug: String, price: Option<(i64, String)> },
    /// A free description: the customer gets an account but no service access.
    Free { description: String, price: (i64, String) },
}

fn invalid(msg: &str) -> ApiError {
    ApiError::unprocessable("validation_failed", msg)
}

fn unknown_service() -> ApiError {
    ApiError::unprocessable("unknown_service", "No such service.")
}

/// 1–200 characters, no control characters.
fn validate_description(raw: &str) -> Result<String, ApiError> {
    let d = raw.trim();
    if d.is_empty() || d.chars().count() > 200 || d.chars().any(char::is_control) {
        return Err(invalid("description must be 1 to 200 characters without control characters"));
    }
    Ok(d.to_string())
}

/// 1 ..= [`MAX_AMOUNT_MINOR`] and a three-letter currency code (upper-cased).
fn validate_price(amount_minor: i64, currency: &str) -> Result<(i64, String), ApiError> {
    if !(1..=MAX_AMOUNT_MINOR).contains(&amount_minor) {
        return Err(invalid(&format!("amount_minor must be between 1 and {MAX_AMOUNT_MINOR}")));
    }
    let c = currency.trim();
    if c.len() != 3 || !c.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(invalid("currency must be a three-letter ISO 4217 code"));
    }
    Ok((amount_minor, c.to_ascii_uppercase()))
}

/// Exactly one item form: `service` (optionally with `amount_minor` + `currency` as a custom
/// price), or `description` + `amount_minor` + `currency`.
fn item(input: &InvoiceInput) -> Result<Item, ApiError> {
    let price = match (input.amount_minor, input.currency.as_deref()) {
        (Some(a), Some(c)) => Some(validate_price(a, c)?),
        (None, None) => None,
        _ => return Err(invalid("amount_minor and currency go together")),
    };
    match (input.service.as_deref(), input.description.as_deref()) {
        (Some(_), Some(_)) => Err(ApiError::unprocessable(
            "item_ambiguous",
            "Give either service or description (with amount_minor and currency), not both.",
        )),
        (Some(slug), None) => {
            let slug = slug.trim();
            if !is_key(slug) {
                return Err(unknown_service());
            }
            Ok(Item::Service { slug: slug.to_string(), price })
        }
        (None, Some(d)) => {
            let description = validate_description(d)?;
            let price = price.ok_or_else(|| invalid("a description needs amount_minor and currency"))?;
            Ok(Item::Free { description, price })
        }
        (None, None) => Err(ApiError::unprocessable(
            "item_required",
            "Give either service, or description with amount_minor and currency.",
        )),
    }
}

fn days(input: Option<i64>, default: i64) -> Result<i64, ApiError> {
    let d = input.unwrap_or(default);
    if !(1..=MAX_DAYS).contains(&d) {
        return Err(invalid(&format!("expires_in_days must be between 1 and {MAX_DAYS}")));
    }
    Ok(d)
}

/// Validates and stores an invoice (its order in `pending_payment`, payable until the
/// invoice expires) and its audit entry, in one transaction.
pub async fn create(state: &AppState, p: &AdminPrincipal, input: InvoiceInput) -> Result<Created, ApiError> {
    let name = validate_name(&input.name)?;
    let email = validate_email(&input.email)?;
    let phone = validate_phone(input.phone.clone())?;
    let item = item(&input)?;
    let days = days(input.expires_in_days, state.settings.merchant.invoice_days)?;
    let chosen = match input.locale.as_deref().map(str::trim).filter(|l| !l.is_empty()) {
        Some(l) => Some(
            crate::i18n::Locale::from_tag(l)
                .filter(|_| l.len() <= 16)
                .ok_or_else(|| invalid("locale must be one of en, ru, pl, sr"))?,
        ),
        None => None,
    };
    let default_locale = state.settings.default_locale;
    let now = state.clock.now();
    let invoice = Invoice {
        id: random_id("inv"),
        order_id: random_id("ord"),
        created_by: p.admin.username.clone(),
        terms_accepted_at: None,
        created_at: now,
        expires_at: now + days * 86_400,
    };
    let created = Created {
        invoice_id: invoice.id.clone(),
        order_id: invoice.order_id.clone(),
        link: state.link(&format!("/invoice/{}", invoice.id)),
    };
    let ip = p.ip.clone();
    let send_email = input.send_email;
    let order = state
        .db
        .write(move |c| {
            let (service_slug, item_name, period_days, (amount_minor, currency)) = match item {
                Item::Service { slug, price } => {
                    let Some(s) = crate::catalog::service::resolve_slug(c, &slug)?.filter(|s| s.active) else {
                        return Ok(Err(unknown_service()));
                    };
                    let price = price.unwrap_or((s.price_minor, s.currency));
                    (Some(s.slug), None, Some(s.period_days), price)
                }
                Item::Free { description, price } => (None, Some(description), None, price),
            };
            let locale = match chosen {
                Some(l) => l.code().to_string(),
                None => crate::accounts::model::find_by_email(c, &email)?
                    .map(|a| a.locale)
                    .unwrap_or_else(|| default_locale.code().to_string()),
            };
            let order = Order {
                id: invoice.order_id.as_str().into(),
                service_slug,
                customer_name: name,
                email,
                phone,
                locale,
                amount_minor,
                currency,
                status: orders::PENDING_PAYMENT,
                account_id: None,
                created_at: now,
                updated_at: now,
                paid_at: None,
                expires_at: invoice.expires_at,
                item_name,
                period_days,
                hold_reason: None,
            };
            orders::insert(c, &order)?;
            model::insert(c, &invoice)?;
            if send_email {
                crate::mail::outbox::enqueue(c, crate::mail::outbox::INVOICE_LINK, None, Some(&order.id), now)?;
            }
            Event::new(&invoice.created_by, &ip, "invoice.create", &invoice.id)
                .after(json!({
                    "order_id": order.id,
                    "service": order.service_slug,
                    "item": order.item_name,
                    "amount_minor": order.amount_minor,
                    "currency": order.currency,
                    "expires_at": order.expires_at,
                    "link_emailed": send_email,
                }))
                .append(c, now)?;
            Ok(Ok(order))
        })
        .await??;
    tracing::info!(
        event = "invoice_created",
        invoice_id = %created.invoice_id,
        order_id = %order.id,
        email = %mask_email(&order.email),
        admin_id = %p.admin.id,
        "invoice created"
    );
    Ok(created)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(
        service: Option<&str>,
        description: Option<&str>,
        amount: Option<i64>,
        currency: Option<&str>,
    ) -> InvoiceInput {
        InvoiceInput {
            service: service.map(Into::into),
            description: description.map(Into::into),
            amount_minor: amount,
            currency: currency.map(Into::into),
            ..InvoiceInput::default()
        }
    }

    fn code(r: Result<Item, ApiError>) -> String {
        r.err().map(|e| e.parts().1.error.clone()).unwrap_or_default()
    }

    #[test]
    fn exactly_one_item_form() {
        let free = item(&input(None, Some(" Consulting "), Some(5000), Some("eur"))).unwrap();
        assert_eq!(free, Item::Free { description: "Consulting".into(), price: (5000, "EUR".into()) });
        let service = item(&input(Some("demo"), None, None, None)).unwrap();
        assert_eq!(service, Item::Service { slug: "demo".into(), price: None });
        let custom = item(&input(Some("demo"), None, Some(100), Some("USD"))).unwrap();
        assert_eq!(custom, Item::Service { slug: "demo".into(), price: Some((100, "USD".into())) });

        assert_eq!(code(item(&input(None, None, None, None))), "item_required");
        assert_eq!(code(item(&input(None, None, Some(100), Some("EUR")))), "item_required");
        assert_eq!(code(item(&input(Some("demo"), Some("x"), Some(1), Some("EUR")))), "item_ambiguous");
        assert_eq!(code(item(&input(Some("no such/slug"), None, None, None))), "unknown_service");
        for bad in [
            input(None, Some("x"), None, None),
            input(None, Some("x"), Some(100), None),
            input(Some("demo"), None, None, Some("EUR")),
            input(None, Some("x"), Some(0), Some("EUR")),
            input(None, Some("x"), Some(-5), Some("EUR")),
            input(None, Some("x"), Some(MAX_AMOUNT_MINOR + 1), Some("EUR")),
            input(None, Some("x"), Some(100), Some("EURO")),
            input(None, Some("x"), Some(100), Some("E1R")),
            input(None, Some(" "), Some(100), Some("EUR")),
            input(None, Some("a\r\nb"), Some(100), Some("EUR")),
            input(None, Some(&"x".repeat(201)), Some(100), Some("EUR")),
        ] {
            assert_eq!(code(item(&bad)), "validation_failed", "{bad:?}");
        }
        assert!(item(&input(None, Some(&"é".repeat(200)), Some(MAX_AMOUNT_MINOR), Some("JPY"))).is_ok());
    }

    #[test]
    fn expiry_is_bounded() {
        assert_eq!(days(None, 7).unwrap(), 7);
        assert_eq!(days(Some(90), 7).unwrap(), 90);
        assert!(days(Some(0), 7).is_err());
        assert!(days(Some(91), 7).is_err());
        assert!(days(Some(-1), 7).is_err());
    }
}

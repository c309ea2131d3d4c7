//! The catalog team's work: creating and changing services (a change never rewrites the
//! price of orders already placed: orders carry their own amount).

use serde_json::{json, Value};

use crate::admin::access::auth::AdminPrincipal;
use crate::audit::Event;
use crate::catalog::model::{self, Service};
use crate::http::api_error::ApiError;
use crate::state::AppState;

/// Changes to a service; `None` keeps the current value.
#[derive(Default, Clone)]
pub struct Changes {
    pub name: Option<String>,
    pub price_minor: Option<i64>,
    pub currency: Option<String>,
    pub period_days: Option<i32>,
    pub active: Option<bool>,
    pub grace_days: Option<i32>,
    /// Days before the end at which a renewal reminder goes out (any order; stored largest first).
    pub reminder_days: Option<Vec<i32>>,
    /// `Some("")` removes the URL.
    pub access_url: Option<String>,
    /// The price as the admin typed it (`"12 990,00"`), read by the service's currency
    /// ([`crate::money::parse_price`]); with `price_minor` too, both must agree.
    pub price: Option<String>,
}

fn invalid(msg: &str) -> ApiError {
    ApiError::unprocessable("validation_failed", msg)
}

/// `[a-z0-9-]{1,64}`.
pub fn validate_slug(slug: &str) -> Result<(), ApiError> {
    let ok = (1..=64).contains(&slug.len())
        && slug.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(invalid("slug must be 1 to 64 characters of a-z, 0-9 and '-'"))
    }
}

/// The stable code of reminder days that break their rules (DESIGN §7).
pub const INVALID_REMINDER_DAYS: &str = "invalid_reminder_days";

/// Checks a service before it is stored. `reminders_changed`: its reminder days or period
/// were given, so the days are checked against the period (an unrelated change, such as
/// taking a service off sale, is never refused for days stored before these rules).
fn validate(s: &Service, reminders_changed: bool) -> Result<(), ApiError> {
    validate_slug(&s.slug)?;
    crate::orders::service::validate_name(&s.name).map_err(|_| invalid("name must be 1 to 200 characters"))?;
    if s.price_minor < 0 {
        return Err(invalid("price_minor must not be negative"));
    }
    if s.currency.len() != 3 || !s.currency.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err(invalid("currency must be a three-letter ISO 4217 code"));
    }
    if !(1..=3650).contains(&s.period_days) {
        return Err(invalid("period_days must be between 1 and 3650"));
    }
    if !(0..=365).contains(&s.grace_days) {
        return Err(invalid("grace_days must be between 0 and 365"));
    }
    if reminders_changed {
        let days = serde_json::from_str::<Vec<i32>>(&s.reminder_days).unwrap_or_default();
        model::reminder_days_text(&days, s.period_days)
            .map_err(|msg| ApiError::unprocessable(INVALID_REMINDER_DAYS, msg))?;
    }
    if let Some(u) = &s.access_url {
        let ok = u.len() <= 2048
            && url::Url::parse(u).is_ok_and(|p| matches!(p.scheme(), "http" | "https") && p.username().is_empty());
        if !ok {
            return Err(invalid("access_url must be an http:// or https:// URL of at most 2048 characters"));
        }
    }
    Ok(())
}

fn snapshot(s: &Service) -> Value {
    json!({"slug": s.slug, "name": s.name, "price_minor": s.price_minor, "currency": s.currency,
           "period_days": s.period_days, "active": s.active, "grace_days": s.grace_days,
           "access_url": s.access_url, "reminder_days": s.reminder_day_list()})
}

fn apply(s: &mut Service, ch: Changes) -> Result<(), ApiError> {
    if let Some(v) = ch.name {
        s.name = v.trim().to_string();
    }
    if let Some(v) = ch.price_minor {
        s.price_minor = v;
    }
    if let Some(v) = ch.currency {
        s.currency = v.trim().to_ascii_uppercase();
    }
    if let Some(v) = ch.period_days {
        s.period_days = v;
    }
    if let Some(v) = ch.active {
        s.active = v;
    }
    if let Some(v) = ch.grace_days {
        s.grace_days = v;
    }
    if let Some(mut v) = ch.reminder_days {
        v.sort_unstable_by(|a, b| b.cmp(a));
        v.dedup();
        s.reminder_days = serde_json::to_string(&v).unwrap_or_else(|_| "[]".into());
    }
    if let Some(v) = ch.access_url {
        let v = v.trim();
        s.access_url = (!v.is_empty()).then(|| v.to_string());
    }
    if let Some(typed) = ch.price {
        let read = crate::money::parse_price(&typed, &s.currency).map_err(|m| invalid(&m))?;
        // Both given: they must say the same, else which one the admin meant is a guess.
        if ch.price_minor.is_some_and(|minor| minor != read) {
            return Err(ApiError::unprocessable(
                "price_conflict",
                format!(
                    "price `{}` is {read} minor units but price_minor says otherwise; send one of them",
                    typed.trim()
                ),
            ));
        }
        s.price_minor = read;
    }
    Ok(())
}

/// Creates a service; 409 `service_exists` when the slug is taken.
pub async fn create(state: &AppState, p: &AdminPrincipal, slug: &str, ch: Changes) -> Result<Service, ApiError> {
    let now = state.clock.now();
    let mut s = Service {
        slug: slug.trim().to_string(),
        name: String::new(),
        price_minor: 0,
        currency: String::new(),
        period_days: 0,
        active: true,
        created_at: now,
        updated_at: now,
        grace_days: model::DEFAULT_GRACE_DAYS,
        access_url: None,
        reminder_days: model::DEFAULT_REMINDER_DAYS.into(),
    };
    let default_days = ch.reminder_days.is_none();
    apply(&mut s, ch)?;
    if default_days {
        // The default days that fit the period (a 7-day service is reminded 1 day before).
        let fitting: Vec<i32> = s.reminder_day_list().into_iter().filter(|d| *d < s.period_days).collect();
        s.reminder_days = serde_json::to_string(&fitting).unwrap_or_else(|_| "[]".into());
    }
    validate(&s, true)?;
    let event = Event::new(&p.admin.username, &p.ip, "service.create", &s.slug).after(snapshot(&s));
    let stored = s.clone();
    let created = state
        .db
        .write(move |c| {
            // An old slug of a renamed service still names it: not free either.
            if crate::catalog::service::resolve_slug(c, &stored.slug)?.is_some() {
                return Ok(false);
            }
            model::insert(c, &stored)?;
            event.append(c, now)?;
            Ok(true)
        })
        .await;
    match created {
        Ok(true) => Ok(s),
        Err(e) if !e.is_unique_violation() => Err(e.into()),
        _ => Err(ApiError::conflict("service_exists", "A service with this slug exists.")),
    }
}

/// Changes a service (e.g. `active: false` takes it off sale); 404 when unknown.
pub async fn update(state: &AppState, p: &AdminPrincipal, slug: &str, ch: Changes) -> Result<Service, ApiError> {
    validate_slug(slug).map_err(|_| ApiError::not_found("No such service."))?;
    let now = state.clock.now();
    let (slug, actor, ip) = (slug.to_string(), p.admin.username.clone(), p.ip.clone());
    state
        .db
        .write(move |c| {
            let Some(before) = model::find_by_slug(c, &slug)? else {
                return Ok(Err(ApiError::not_found("No such service.")));
            };
            let mut after = before.clone();
            after.updated_at = now;
            let reminders_changed = ch.reminder_days.is_some() || ch.period_days.is_some();
            if let Err(e) = apply(&mut after, ch).and_then(|()| validate(&after, reminders_changed)) {
                return Ok(Err(e));
            }
            model::update(c, &after)?;
            Event::new(&actor, &ip, "service.update", &slug)
                .before(snapshot(&before))
                .after(snapshot(&after))
                .append(c, now)?;
            Ok(Ok(after))
        })
        .await?
}

fn slug_taken() -> ApiError {
    ApiError::conflict("slug_taken", "Another service has this slug, or had it before a rename.")
}

/// Renames service `slug` to `new_slug` everywhere it is stored, keeping `slug` as an alias
/// (old links and forms still reach the service); audited as `service.rename`.
/// 404 unknown; 409 `slug_taken` when another service has the new slug or has it as an alias.
pub async fn rename(state: &AppState, p: &AdminPrincipal, slug: &str, new_slug: &str) -> Result<Service, ApiError> {
    validate_slug(slug).map_err(|_| ApiError::not_found("No such service."))?;
    let new_slug = new_slug.trim().to_string();
    validate_slug(&new_slug)?;
    let now = state.clock.now();
    let (slug, actor, ip) = (slug.to_string(), p.admin.username.clone(), p.ip.clone());
    let renamed = state
        .db
        .write(move |c| {
            use crate::catalog::aliases::{self, Refused};
            if slug == new_slug {
                return Ok(Err(invalid("new_slug is the service's slug already")));
            }
            let after = match aliases::rename(c, &slug, &new_slug, now)? {
                Ok(after) => after,
                Err(Refused::NoSuchService) => return Ok(Err(ApiError::not_found("No such service."))),
                Err(Refused::Taken) => return Ok(Err(slug_taken())),
            };
            Event::new(&actor, &ip, "service.rename", &new_slug)
                .before(json!({"slug": slug}))
                .after(json!({"slug": new_slug}))
                .append(c, now)?;
            Ok(Ok(after))
        })
        .await;
    match renamed {
        // A concurrent rename (or create) took the new slug, or this service's old one as an
        // alias, after the checks above: nothing of this one was kept.
        Err(e) if e.is_unique_violation() => Err(slug_taken()),
        other => other?,
    }
}

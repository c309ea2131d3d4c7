//! What owners do with webhook endpoints: create (the secret is shown once), list, delete,
//! enable again after a 410, rotate the secret (the old one keeps signing for
//! `webhook_rotation_hours`), read the delivery log and send a delivery again. Every change
//! and its audit entry share one transaction; the audit log never holds a secret.

use serde_json::json;

use crate::admin::access::auth::AdminPrincipal;
use crate::audit::Event;
use crate::http::api_error::ApiError;
use crate::state::AppState;
use crate::webhooks::deliver::{self, TargetError};
use crate::webhooks::events;
use crate::webhooks::model::{self, DeliveryRow, Endpoint};

fn not_found() -> ApiError {
    ApiError::not_found("No such webhook endpoint.")
}

/// Checks a target URL and an event filter; 422 with the reason.
async fn validated(state: &AppState, url: &str, filter: Option<Vec<String>>) -> Result<Option<String>, ApiError> {
    let parsed = deliver::parse_url(url).map_err(|e| ApiError::unprocessable("invalid_url", e.to_string()))?;
    match deliver::resolve_checked(&parsed, state.settings.webhooks.webhook_allow_private).await {
        Ok(_) => {}
        Err(e @ TargetError::Private(_)) => {
            return Err(ApiError::unprocessable(
                "private_target",
                format!("{e}; set KEYTURN_WEBHOOK_ALLOW_PRIVATE=true for receivers on your own network"),
            ))
        }
        Err(e) => return Err(ApiError::unprocessable("invalid_url", e.to_string())),
    }
    let Some(mut list) = filter else { return Ok(None) };
    if list.is_empty() {
        return Err(ApiError::unprocessable(
            "validation_failed",
            "events: leave it out for every type, or name at least one",
        ));
    }
    if let Some(bad) = list.iter().find(|k| !events::ALL.contains(&k.as_str())) {
        let bad: String = bad.chars().take(64).collect();
        return Err(ApiError::unprocessable(
            "unknown_event_type",
            format!("`{bad}` is not an event type; one of {}", events::ALL.join(", ")),
        ));
    }
    list.sort();
    list.dedup();
    Ok(Some(serde_json::to_string(&list).map_err(anyhow::Error::from)?))
}

/// Creates an endpoint; returns it with its secret (the only time the secret is shown).
pub async fn create(
    state: &AppState,
    p: &AdminPrincipal,
    url: &str,
    filter: Option<Vec<String>>,
) -> Result<Endpoint, ApiError> {
    let events = validated(state, url, filter).await?;
    let now = state.clock.now();
    let endpoint = Endpoint {
        id: crate::crypto::random_id("whe"),
        url: url.trim().to_string(),
        events,
        secret: crate::app::new_webhook_secret(),
        previous_secret: None,
        previous_until: None,
        status: model::ACTIVE.into(),
        disabled_reason: None,
        created_by: p.admin.username.clone(),
        created_at: now,
        updated_at: now,
    };
    let (row, audit) = (endpoint.clone(), Event::new(&p.admin.username, &p.ip, "webhook.create", &endpoint.id));
    let after = json!({"url": deliver::redacted(&endpoint.url), "events": endpoint.event_filter()});
    state
        .db
        .write(move |c| {
            model::insert_endpoint(c, &row)?;
            audit.after(after).append(c, now)?;
            Ok(())
        })
        .await?;
    tracing::info!(event = "webhook_endpoint_created", endpoint_id = %endpoint.id, admin_id = %p.admin.id, "webhook endpoint created");
    Ok(endpoint)
}

/// Every endpoint (deleted ones aside).
pub async fn list(state: &AppState) -> Result<Vec<Endpoint>, ApiError> {
    Ok(state.db.read(|c| Ok(model::list_endpoints(c)?)).await?)
}

/// What an owner changes about an endpoint.
#[derive(Clone, Copy)]
pub enum Change {
    Delete,
    Enable,
}

/// Deletes an endpoint (its waiting deliveries are cancelled, its secret wiped) or enables a
/// disabled one again.
pub async fn change(state: &AppState, p: &AdminPrincipal, id: &str, change: Change) -> Result<(), ApiError> {
    if !crate::crypto::is_key(id) {
        return Err(not_found());
    }
    let now = state.clock.now();
    let (id, actor, ip) = (id.to_string(), p.admin.username.clone(), p.ip.clone());
    state
        .db
        .write(move |c| {
            let Some(e) = model::find_endpoint(c, &id)? else { return Ok(Err(not_found())) };
            let (action, to) = match change {
                Change::Delete => ("webhook.delete", model::DELETED),
                Change::Enable if e.status == model::ACTIVE => {
                    return Ok(Err(ApiError::conflict("invalid_state", "The endpoint is already active.")))
                }
                Change::Enable => ("webhook.enable", model::ACTIVE),
            };
            model::set_endpoint_status(c, &id, to, None, now)?;
            Event::new(&actor, &ip, action, &id)
                .before(json!({"status": e.status, "url": deliver::redacted(&e.url)}))
                .after(json!({"status": to}))
                .append(c, now)?;
            Ok(Ok(()))
        })
        .await?
}

/// A new signing secret; the previous one keeps signing until the returned time.
pub async fn rotate(state: &AppState, p: &AdminPrincipal, id: &str) -> Result<(String, i64), ApiError> {
    if !crate::crypto::is_key(id) {
        return Err(not_found());
    }
    let now = state.clock.now();
    let until = now + state.settings.webhooks.webhook_rotation_hours * 3600;
    let secret = crate::app::new_webhook_secret();
    let (id, fresh, audit) =
        (id.to_string(), secret.clone(), Event::new(&p.admin.username, &p.ip, "webhook.rotate_secret", id));
    state
        .db
        .write(move |c| {
            if model::rotate_secret(c, &id, &fresh, until, now)? == 0 {
                return Ok(Err(not_found()));
            }
            audit.after(json!({"previous_signs_until": crate::clock::rfc3339(until)})).append(c, now)?;
            Ok(Ok(()))
        })
        .await??;
    Ok((secret, until))
}

/// One page of an endpoint's deliveries, newest first (see [`model::deliveries_of`]).
pub async fn deliveries(
    state: &AppState,
    id: &str,
    status: Option<String>,
    after: Option<(i64, String)>,
    limit: i64,
) -> Result<Vec<DeliveryRow>, ApiError> {
    if !crate::crypto::is_key(id) {
        return Err(not_found());
    }
    let id = id.to_string();
    state
        .db
        .read(move |c| {
            if model::find_endpoint(c, &id)?.is_none() {
                return Ok(Err(not_found()));
            }
            Ok(Ok(model::deliveries_of(c, &id, status.as_deref(), after, limit)?))
        })
        .await?
}

/// Sends a delivery again now, with a fresh budget of attempts (same `webhook-id`).
pub async fn retry(state: &AppState, p: &AdminPrincipal, endpoint_id: &str, delivery_id: &str) -> Result<(), ApiError> {
    if !crate::crypto::is_key(endpoint_id) || !crate::crypto::is_key(delivery_id) {
        return Err(ApiError::not_found("No such delivery."));
    }
    let now = state.clock.now();
    let (endpoint, delivery) = (endpoint_id.to_string(), delivery_id.to_string());
    let audit = Event::new(&p.admin.username, &p.ip, "webhook.retry", delivery_id);
    state
        .db
        .write(move |c| {
            let Some(e) = model::find_endpoint(c, &endpoint)? else { return Ok(Err(not_found())) };
            if e.status != model::ACTIVE {
                return Ok(Err(ApiError::conflict(
                    "endpoint_disabled",
                    "The endpoint is disabled; enable it first (POST …/enable).",
                )));
            }
            match model::requeue(c, &endpoint, &delivery, now)? {
                None => Ok(Err(ApiError::not_found("No such delivery."))),
                Some(s) if s == model::PENDING => {
                    Ok(Err(ApiError::conflict("invalid_state", "The delivery is still being attempted.")))
                }
                Some(s) => {
                    audit
                        .before(json!({"status": s, "endpoint_id": endpoint}))
                        .after(json!({"status": "pending"}))
                        .append(c, now)?;
                    Ok(Ok(()))
                }
            }
        })
        .await?
}

//! `/admin/webhooks…` (owner): endpoints, their secrets, the delivery log and "send again".

use poem::web::Data;
use poem::Request;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use crate::admin::access::auth::{authorize, authorize_write};
use crate::admin::access::reauth::require_recent;
use crate::admin::access::roles::Permission;
use crate::admin::{paging, AdminTag, BAD_QUERY, REFUSED, REFUSED_WRITE, UNAUTHENTICATED};
use crate::clock::rfc3339;
use crate::http::api_error::ApiError;
use crate::http::outcomes::Fail;
use crate::http::strict::Str;
use crate::state::AppState;
use crate::webhooks::model::{DeliveryRow, Endpoint};
use crate::webhooks::service::{self, Change};

/// What `403` means where a secret is shown.
const REFUSED_SECRET: &str = "The role does not allow this (`forbidden`), two-factor enrolment comes first (`totp_enrolment_required`), the request came from another origin (`csrf_rejected`), or the password was not confirmed recently (`reauthentication_required`: POST /api/v1/admin/session/reauth).";
const NO_ENDPOINT: &str = "No such endpoint (`not_found`).";

#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct NewWebhook {
    /// Where events are POSTed (http or https). Private, loopback and link-local targets are
    /// refused unless `KEYTURN_WEBHOOK_ALLOW_PRIVATE=true`.
    pub url: Str,
    /// Event types to send; leave out (or null) for every type.
    pub events: Option<Vec<String>>,
}

/// A created endpoint with its signing secret (shown this once).
#[derive(Object)]
pub struct CreatedWebhook {
    pub endpoint_id: String,
    /// `whsec_…`: verify `webhook-signature` with it (Standard Webhooks).
    pub secret: String,
}

/// A new signing secret.
#[derive(Object)]
pub struct RotatedSecret {
    pub endpoint_id: String,
    /// The new `whsec_…` secret (shown this once).
    pub secret: String,
    /// Until then (RFC 3339) every message carries a second signature made with the previous secret.
    pub previous_signs_until: String,
}

/// An endpoint (never its secret).
#[derive(Object)]
pub struct WebhookView {
    pub endpoint_id: String,
    pub url: String,
    /// The event types it gets; null = every type.
    pub events: Option<Vec<String>>,
    /// active | disabled (the receiver answered 410 Gone).
    pub status: String,
    pub disabled_reason: Option<String>,
    /// While a rotation runs (RFC 3339): the previous secret still signs until then.
    pub previous_signs_until: Option<String>,
    pub created_by: String,
    /// RFC 3339.
    pub created_at: String,
}

/// One event's delivery to one endpoint.
#[derive(Object)]
pub struct DeliveryView {
    pub delivery_id: String,
    /// The `webhook-id` header (the same on every attempt).
    pub event_id: String,
    /// The event type.
    #[oai(rename = "type")]
    pub kind: String,
    /// pending | delivered | dead (given up) | cancelled (the endpoint was deleted).
    pub status: String,
    pub attempts: i32,
    /// The receiver's HTTP status on the last attempt.
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    /// RFC 3339, while pending.
    pub next_attempt_at: Option<String>,
    pub created_at: String,
    pub delivered_at: Option<String>,
}

/// One page of the delivery log.
#[derive(Object)]
pub struct DeliveryPage {
    pub deliveries: Vec<DeliveryView>,
    /// Pass as `cursor` for the next (older) page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// The statuses the delivery log can be filtered by.
const DELIVERY_STATUSES: [&str; 4] = ["pending", "delivered", "dead", "cancelled"];

fn view(e: Endpoint, now: i64) -> WebhookView {
    WebhookView {
        events: e.event_filter(),
        previous_signs_until: e.previous_until.filter(|u| *u > now).map(rfc3339),
        endpoint_id: e.id,
        url: e.url,
        status: e.status,
        disabled_reason: e.disabled_reason,
        created_by: e.created_by,
        created_at: rfc3339(e.created_at),
    }
}

fn delivery(d: DeliveryRow) -> DeliveryView {
    DeliveryView {
        next_attempt_at: (d.status == crate::webhooks::model::PENDING).then(|| rfc3339(d.run_at)),
        delivery_id: d.id,
        event_id: d.event_id,
        kind: d.kind,
        status: d.status,
        attempts: d.attempts,
        last_status_code: d.last_status,
        last_error: d.last_error,
        created_at: rfc3339(d.created_at),
        delivered_at: d.delivered_at.map(rfc3339),
    }
}

#[derive(ApiResponse)]
pub enum WebhookCreated {
    /// Created; keep the secret, it is not shown again.
    #[oai(status = 201)]
    Created(Json<CreatedWebhook>),
}

#[derive(ApiResponse)]
pub enum WebhookChanged {
    /// Done.
    #[oai(status = 204)]
    Done,
}

#[derive(ApiResponse)]
pub enum DeliveryRequeued {
    /// Queued again; the worker sends it now.
    #[oai(status = 202)]
    Accepted,
}

crate::outcomes! {
    /// `POST /admin/webhooks`.
    pub CreateWebhookOutcomes(json) {
        401: UNAUTHENTICATED,
        403: REFUSED_SECRET,
        422: "The URL is not an http(s) URL or does not resolve (`invalid_url`), reaches a private address (`private_target`), or names an unknown event type (`unknown_event_type`, `validation_failed`).",
    }
    /// `GET /admin/webhooks`.
    pub ListWebhooksOutcomes() {
        401: UNAUTHENTICATED,
        403: REFUSED,
    }
    /// `DELETE /admin/webhooks/{endpoint_id}` and `POST …/enable`.
    pub ChangeWebhookOutcomes() {
        401: UNAUTHENTICATED,
        403: REFUSED_WRITE,
        404: NO_ENDPOINT,
        409: "The endpoint is already active (`invalid_state`).",
    }
    /// `POST /admin/webhooks/{endpoint_id}/rotate-secret`.
    pub RotateWebhookOutcomes() {
        401: UNAUTHENTICATED,
        403: REFUSED_SECRET,
        404: NO_ENDPOINT,
    }
    /// `GET /admin/webhooks/{endpoint_id}/deliveries`.
    pub ListDeliveriesOutcomes() {
        400: BAD_QUERY,
        401: UNAUTHENTICATED,
        403: REFUSED,
        404: NO_ENDPOINT,
    }
    /// `POST /admin/webhooks/{endpoint_id}/deliveries/{delivery_id}/retry`.
    pub RetryDeliveryOutcomes() {
        401: UNAUTHENTICATED,
        403: REFUSED_WRITE,
        404: "No such endpoint or delivery (`not_found`).",
        409: "The delivery is still being attempted (`invalid_state`), or the endpoint is disabled (`endpoint_disabled`).",
    }
}

pub struct AdminWebhooksApi;

#[OpenApi(tag = "AdminTag::Admin")]
impl AdminWebhooksApi {
    /// Add a webhook endpoint (owner; recent re-authentication). The answer holds its signing
    /// secret, shown this once.
    #[oai(path = "/admin/webhooks", method = "post")]
    async fn create_webhook(
        &self,
        state: Data<&AppState>,
        req: &Request,
        body: Json<NewWebhook>,
    ) -> Result<WebhookCreated, Fail<CreateWebhookOutcomes>> {
        let p = authorize_write(&state, req, Permission::ManageSettings).await?;
        require_recent(&state, &p)?;
        let NewWebhook { url, events } = body.0;
        let e = service::create(&state, &p, &url, events).await?;
        Ok(WebhookCreated::Created(Json(CreatedWebhook { endpoint_id: e.id, secret: e.secret })))
    }

    /// Every webhook endpoint (owner).
    #[oai(path = "/admin/webhooks", method = "get")]
    async fn list_webhooks(
        &self,
        state: Data<&AppState>,
        req: &Request,
    ) -> Result<Json<Vec<WebhookView>>, Fail<ListWebhooksOutcomes>> {
        authorize(&state, req, Permission::ManageSettings).await?;
        let now = state.clock.now();
        Ok(Json(service::list(&state).await?.into_iter().map(|e| view(e, now)).collect()))
    }

    /// Delete an endpoint: it gets nothing more; deliveries still waiting are cancelled (owner).
    #[oai(path = "/admin/webhooks/:endpoint_id", method = "delete")]
    async fn delete_webhook(
        &self,
        state: Data<&AppState>,
        req: &Request,
        endpoint_id: Path<String>,
    ) -> Result<WebhookChanged, Fail<ChangeWebhookOutcomes>> {
        let p = authorize_write(&state, req, Permission::ManageSettings).await?;
        service::change(&state, &p, &endpoint_id, Change::Delete).await?;
        Ok(WebhookChanged::Done)
    }

    /// Enable an endpoint that was disabled by a 410 Gone answer (owner).
    #[oai(path = "/admin/webhooks/:endpoint_id/enable", method = "post")]
    async fn enable_webhook(
        &self,
        state: Data<&AppState>,
        req: &Request,
        endpoint_id: Path<String>,
    ) -> Result<WebhookChanged, Fail<ChangeWebhookOutcomes>> {
        let p = authorize_write(&state, req, Permission::ManageSettings).await?;
        service::change(&state, &p, &endpoint_id, Change::Enable).await?;
        Ok(WebhookChanged::Done)
    }

    /// A new signing secret (owner; recent re-authentication). The previous secret keeps
    /// signing (a second signature) for `webhook_rotation_hours`.
    #[oai(path = "/admin/webhooks/:endpoint_id/rotate-secret", method = "post")]
    async fn rotate_webhook_secret(
        &self,
        state: Data<&AppState>,
        req: &Request,
        endpoint_id: Path<String>,
    ) -> Result<Json<RotatedSecret>, Fail<RotateWebhookOutcomes>> {
        let p = authorize_write(&state, req, Permission::ManageSettings).await?;
        require_recent(&state, &p)?;
        let (secret, until) = service::rotate(&state, &p, &endpoint_id).await?;
        Ok(Json(RotatedSecret { endpoint_id: endpoint_id.0, secret, previous_signs_until: rfc3339(until) }))
    }

    /// The delivery log of an endpoint, newest first, a page at a time (`cursor`), optionally
    /// only one `status` (owner).
    #[oai(path = "/admin/webhooks/:endpoint_id/deliveries", method = "get")]
    async fn list_webhook_deliveries(
        &self,
        state: Data<&AppState>,
        req: &Request,
        endpoint_id: Path<String>,
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))] limit: Query<Option<i64>>,
        /// `next_cursor` of the previous page.
        cursor: Query<Option<String>>,
        /// Only deliveries in this status: pending, delivered, dead or cancelled.
        status: Query<Option<String>>,
    ) -> Result<Json<DeliveryPage>, Fail<ListDeliveriesOutcomes>> {
        authorize(&state, req, Permission::ManageSettings).await?;
        let limit = paging::limit(limit.0)?;
        let after = paging::parse_cursor(cursor.0.as_deref())?;
        let status = paging::text_filter("status", status.0.as_deref(), 16)?;
        if status.as_deref().is_some_and(|s| !DELIVERY_STATUSES.contains(&s)) {
            return Err(ApiError::bad_request("invalid_query", "status: pending, delivered, dead or cancelled").into());
        }
        let rows = service::deliveries(&state, &endpoint_id, status, after, limit).await?;
        let next_cursor =
            (rows.len() as i64 == limit).then(|| rows.last().map(|d| paging::cursor(d.created_at, &d.id))).flatten();
        Ok(Json(DeliveryPage { deliveries: rows.into_iter().map(delivery).collect(), next_cursor }))
    }

    /// Send a delivery again now, with a fresh round of retries and the same `webhook-id` (owner).
    #[oai(path = "/admin/webhooks/:endpoint_id/deliveries/:delivery_id/retry", method = "post")]
    async fn retry_webhook_delivery(
        &self,
        state: Data<&AppState>,
        req: &Request,
        endpoint_id: Path<String>,
        delivery_id: Path<String>,
    ) -> Result<DeliveryRequeued, Fail<RetryDeliveryOutcomes>> {
        let p = authorize_write(&state, req, Permission::ManageSettings).await?;
        service::retry(&state, &p, &endpoint_id, &delivery_id).await?;
        Ok(DeliveryRequeued::Accepted)
    }
}

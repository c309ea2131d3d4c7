//! `GET /admin/emails` (who may read accounts) and `POST /admin/emails/{email_id}/retry` (support).

use poem::web::Data;
use poem::Request;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use crate::admin::access::auth::{authorize, authorize_write};
use crate::admin::access::roles::Permission;
use crate::admin::outbox::service as emails;
use crate::admin::{paging, AdminTag, BAD_QUERY, REFUSED, REFUSED_WRITE, UNAUTHENTICATED};
use crate::clock::rfc3339;
use crate::http::api_error::ApiError;
use crate::http::outcomes::Fail;
use crate::state::AppState;

/// An email in the outbox.
#[derive(Object)]
pub struct AdminEmail {
    pub email_id: String,
    /// payment_confirmation | credentials | activation | access_extended | credentials_reset | merchant_copy.
    pub kind: String,
    /// pending | sent | dead (given up after `outbox_max_attempts`) | cancelled (its customer's
    /// data was erased).
    pub status: crate::mail::outbox::MailStatus,
    pub attempts: i32,
    /// The last delivery error (SMTP answer), if any.
    pub last_error: Option<String>,
    pub order_id: Option<String>,
    /// The customer's login and the address it goes to (absent for the merchant's copy, which
    /// goes to `merchant_email`).
    pub login: Option<String>,
    pub to: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    pub sent_at: Option<String>,
}

#[derive(ApiResponse)]
pub enum EmailRequeued {
    /// Queued again; the worker sends it now.
    #[oai(status = 202)]
    Accepted,
}

crate::outcomes! {
    /// `GET /admin/emails`.
    pub ListEmailsOutcomes() {
        400: BAD_QUERY,
        401: UNAUTHENTICATED,
        403: REFUSED,
    }
    /// `POST /admin/emails/{email_id}/retry`.
    pub RetryEmailOutcomes() {
        401: UNAUTHENTICATED,
        403: REFUSED_WRITE,
        404: "No such email (`not_found`).",
        409: "The email was not given up (`invalid_state`).",
    }
}

pub struct AdminEmailsApi;

#[OpenApi(tag = "AdminTag::Admin")]
impl AdminEmailsApi {
    /// The email outbox, newest first; `status=dead` lists the emails that were given up.
    #[oai(path = "/admin/emails", method = "get")]
    async fn list_admin_emails(
        &self,
        state: Data<&AppState>,
        req: &Request,
        #[oai(validator(pattern = "^(pending|sent|dead|cancelled|all)$"))] status: Query<Option<String>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))] limit: Query<Option<i64>>,
    ) -> Result<Json<Vec<AdminEmail>>, Fail<ListEmailsOutcomes>> {
        authorize(&state, req, Permission::ReadAccounts).await?;
        let status = match status.0.as_deref() {
            None | Some("all") => None,
            Some(s @ ("pending" | "sent" | "dead" | "cancelled")) => Some(s.to_string()),
            Some(_) => {
                return Err(ApiError::bad_request(
                    "invalid_query",
                    "status must be pending, sent, dead, cancelled or all",
                )
                .into())
            }
        };
        let limit = paging::limit(limit.0)?;
        let rows = state.db.read(move |c| Ok(emails::list(c, status.as_deref(), limit)?)).await?;
        Ok(Json(
            rows.into_iter()
                .map(|e| AdminEmail {
                    email_id: e.id,
                    kind: e.kind,
                    status: e.status,
                    attempts: e.attempts,
                    last_error: e.last_error,
                    order_id: e.order_id,
                    login: e.login,
                    to: e.email,
                    created_at: rfc3339(e.created_at),
                    sent_at: e.sent_at.map(rfc3339),
                })
                .collect(),
        ))
    }

    /// Send a given-up email again (a credentials email gets a fresh temporary password).
    #[oai(path = "/admin/emails/:email_id/retry", method = "post")]
    async fn retry_admin_email(
        &self,
        state: Data<&AppState>,
        req: &Request,
        email_id: Path<String>,
    ) -> Result<EmailRequeued, Fail<RetryEmailOutcomes>> {
        let p = authorize_write(&state, req, Permission::ManageAccounts).await?;
        emails::retry(&state, &p, &email_id).await?;
        Ok(EmailRequeued::Accepted)
    }
}

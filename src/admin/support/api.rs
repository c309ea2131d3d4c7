//! `GET /admin/accounts`, `POST /admin/accounts/{login}/suspend | reinstate | revoke |
//! resend-credentials | extend | erase`, `GET /admin/accounts/{login}/export` (support).

use poem::web::Data;
use poem::Request;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use crate::admin::access::auth::{authorize, authorize_write};
use crate::admin::access::roles::Permission;
use crate::admin::paging;
use crate::admin::support::service::{self as customers, StatusChange};
use crate::admin::{AdminTag, BAD_QUERY, REFUSED, REFUSED_WRITE, UNAUTHENTICATED};
use crate::clock::rfc3339;
use crate::http::api_error::ApiError;
use crate::http::outcomes::Fail;
use crate::http::strict::Str;
use crate::state::AppState;

/// A service a customer has.
#[derive(Object)]
pub struct AdminAccess {
    pub slug: String,
    pub name: String,
    /// RFC 3339.
    pub active_until: String,
}

/// A customer account.
#[derive(Object)]
pub struct AdminAccount {
    pub login: String,
    pub email: String,
    /// pending_verification | active | suspended | revoked.
    pub status: crate::accounts::model::AccountStatus,
    /// The language of the customer's emails and cabinet: `en`, `ru`, `pl` or `sr`.
    pub locale: String,
    /// RFC 3339.
    pub created_at: String,
    pub services: Vec<AdminAccess>,
}

#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct Extend {
    /// The service's slug.
    pub service: Str,
    /// 1–3650.
    pub days: i32,
}

#[derive(ApiResponse)]
pub enum AccountChanged {
    /// Done.
    #[oai(status = 204)]
    Done,
}

#[derive(ApiResponse)]
pub enum CredentialsQueued {
    /// A credentials email is queued: a new temporary password (the old one stops working
    /// when it is sent); for an unverified account also a new verification link.
    #[oai(status = 202)]
    Accepted,
}

crate::outcomes! {
    /// `GET /admin/accounts`.
    pub ListAccountsOutcomes() {
        400: BAD_QUERY,
        401: UNAUTHENTICATED,
        403: REFUSED,
    }
    /// `POST /admin/accounts/{login}/suspend`, `/reinstate`, `/revoke`, `/resend-credentials`.
    pub AccountChangeOutcomes() {
        401: UNAUTHENTICATED,
        403: REFUSED_WRITE,
        404: "No such account (`not_found`).",
        409: "The account is not in a state that allows this (`invalid_state`).",
    }
    /// `POST /admin/accounts/{login}/extend`.
    pub ExtendOutcomes(json) {
        401: UNAUTHENTICATED,
        403: REFUSED_WRITE,
        404: "No such account (`not_found`).",
        409: "The account is not in a state that allows this (`invalid_state`).",
        422: "`days` is out of range (`validation_failed`) or the service does not exist (`unknown_service`).",
    }
    /// `GET /admin/accounts/{login}/export`.
    pub ExportAccountOutcomes() {
        401: UNAUTHENTICATED,
        403: REFUSED,
        404: "No such account (`not_found`).",
    }
    /// `POST /admin/accounts/{login}/erase`.
    pub EraseOutcomes() {
        401: UNAUTHENTICATED,
        403: "As for every admin write (`forbidden`, `totp_enrolment_required`, `csrf_rejected`), or the password must be confirmed first (`reauthentication_required`).",
        404: "No such account (`not_found`).",
        409: "The account is already erased (`already_erased`).",
    }
}

pub struct AdminAccountsApi;

impl AdminAccountsApi {
    async fn change(state: &AppState, req: &Request, login: &str, change: StatusChange) -> Result<(), ApiError> {
        let p = authorize_write(state, req, Permission::ManageAccounts).await?;
        customers::change_status(state, &p, login, change).await
    }
}

#[OpenApi(tag = "AdminTag::Admin")]
impl AdminAccountsApi {
    /// Search customer accounts by email or login (substring); newest first.
    #[oai(path = "/admin/accounts", method = "get")]
    async fn list_admin_accounts(
        &self,
        state: Data<&AppState>,
        req: &Request,
        #[oai(validator(max_length = 254, pattern = r"^[^\u0000-\u001f\u007f-\u009f]*$"))] q: Query<Option<String>>,
        #[oai(validator(minimum(value = "1"), maximum(value = "200")))] limit: Query<Option<i64>>,
    ) -> Result<Json<Vec<AdminAccount>>, Fail<ListAccountsOutcomes>> {
        authorize(&state, req, Permission::ReadAccounts).await?;
        let q = paging::text_filter("q", q.0.as_deref(), 254)?;
        let found = customers::search(&state, q, paging::limit(limit.0)?).await?;
        Ok(Json(
            found
                .into_iter()
                .map(|v| AdminAccount {
                    login: v.account.login,
                    email: v.account.email,
                    status: v.account.status,
                    locale: v.account.locale,
                    created_at: rfc3339(v.account.created_at),
                    services: v
                        .services
                        .into_iter()
                        .map(|(slug, name, until)| AdminAccess { slug, name, active_until: rfc3339(until) })
                        .collect(),
                })
                .collect(),
        ))
    }

    /// Suspend: every session ends at once; logins get 403 `account_suspended`.
    #[oai(path = "/admin/accounts/:login/suspend", method = "post")]
    async fn suspend_account(
        &self,
        state: Data<&AppState>,
        req: &Request,
        login: Path<String>,
    ) -> Result<AccountChanged, Fail<AccountChangeOutcomes>> {
        Self::change(&state, req, &login, StatusChange::Suspend).await?;
        Ok(AccountChanged::Done)
    }

    /// Lift a suspension.
    #[oai(path = "/admin/accounts/:login/reinstate", method = "post")]
    async fn reinstate_account(
        &self,
        state: Data<&AppState>,
        req: &Request,
        login: Path<String>,
    ) -> Result<AccountChanged, Fail<AccountChangeOutcomes>> {
        Self::change(&state, req, &login, StatusChange::Reinstate).await?;
        Ok(AccountChanged::Done)
    }

    /// Revoke for good: sessions end, the password is forgotten, nothing can undo it.
    #[oai(path = "/admin/accounts/:login/revoke", method = "post")]
    async fn revoke_account(
        &self,
        state: Data<&AppState>,
        req: &Request,
        login: Path<String>,
    ) -> Result<AccountChanged, Fail<AccountChangeOutcomes>> {
        Self::change(&state, req, &login, StatusChange::Revoke).await?;
        Ok(AccountChanged::Done)
    }

    /// Send fresh credentials (a new temporary password; the old password stops working).
    #[oai(path = "/admin/accounts/:login/resend-credentials", method = "post")]
    async fn resend_account_credentials(
        &self,
        state: Data<&AppState>,
        req: &Request,
        login: Path<String>,
    ) -> Result<CredentialsQueued, Fail<AccountChangeOutcomes>> {
        let p = authorize_write(&state, req, Permission::ManageAccounts).await?;
        customers::resend_credentials(&state, &p, &login).await?;
        Ok(CredentialsQueued::Accepted)
    }

    /// Extend (or grant) access to a service by a number of days.
    #[oai(path = "/admin/accounts/:login/extend", method = "post")]
    async fn extend_account(
        &self,
        state: Data<&AppState>,
        req: &Request,
        login: Path<String>,
        body: Json<Extend>,
    ) -> Result<AccountChanged, Fail<ExtendOutcomes>> {
        let p = authorize_write(&state, req, Permission::ManageAccounts).await?;
        customers::extend_access(&state, &p, &login, body.service.trim(), body.days).await?;
        Ok(AccountChanged::Done)
    }

    /// Everything keyturn holds about the customer (account, orders, payments, services, emails
    /// sent), for a data-access request. Audited.
    #[oai(path = "/admin/accounts/:login/export", method = "get")]
    async fn export_account(
        &self,
        state: Data<&AppState>,
        req: &Request,
        login: Path<String>,
    ) -> Result<Json<serde_json::Value>, Fail<ExportAccountOutcomes>> {
        let p = authorize(&state, req, Permission::ManageAccounts).await?;
        Ok(Json(crate::admin::support::privacy::export(&state, &p, &login).await?))
    }

    /// Erase the customer's personal data (name, address, phone on the account and its orders;
    /// sessions, links, access and unsent emails). Orders and payments stay as accounting
    /// records. The account is revoked for good. Needs a recent re-authentication.
    #[oai(path = "/admin/accounts/:login/erase", method = "post")]
    async fn erase_account(
        &self,
        state: Data<&AppState>,
        req: &Request,
        login: Path<String>,
    ) -> Result<AccountChanged, Fail<EraseOutcomes>> {
        let p = authorize_write(&state, req, Permission::ManageAccounts).await?;
        crate::admin::access::reauth::require_recent(&state, &p)?;
        crate::admin::support::privacy::erase(&state, &p, &login).await?;
        Ok(AccountChanged::Done)
    }
}

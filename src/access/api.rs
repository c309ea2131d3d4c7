//! `GET /api/v1/access` and `POST /api/v1/access/check`, for servers holding an API key.

use poem::web::Data;
use poem::Request;
use poem_openapi::param::Query;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi, Tags};

use crate::access::model::{SCOPE_CHECK, SCOPE_READ};
use crate::access::service::{self, authorize_key, CustomerAccess};
use crate::accounts::model as accounts;
use crate::clock::rfc3339;
use crate::http::client_ip::client_ip;
use crate::http::outcomes::Fail;
use crate::http::strict::Str;
use crate::state::AppState;

#[derive(Tags)]
enum Tag {
    /// Access to the paid service, for servers (`Authorization: Bearer kt_…`).
    Access,
}

/// One access of a customer.
#[derive(Object)]
pub struct AccessView {
    pub slug: String,
    /// RFC 3339: when the paid period ends (the grace days follow).
    pub active_until: String,
    /// True while the service's doors open for this customer: the account is active, its
    /// temporary password has been replaced, and the period (with its grace days) has not ended.
    pub active: bool,
    /// `active`, `grace` or `expired` (a refunded period is `expired`).
    pub state: String,
}

/// A customer and their accesses.
#[derive(Object)]
pub struct CustomerView {
    pub login: String,
    pub email: String,
    /// Account status: `pending_verification`, `active`, `suspended` or `revoked`.
    pub status: crate::accounts::model::AccountStatus,
    pub services: Vec<AccessView>,
}

impl CustomerView {
    fn of(c: CustomerAccess, now: i64) -> CustomerView {
        // The doors' own rule: an active account past its temporary password.
        let open = c.account.status == accounts::ACTIVE && !c.account.must_change_password;
        CustomerView {
            services: c
                .grants
                .iter()
                .map(|g| {
                    let state = g.state(now);
                    AccessView {
                        slug: g.slug.clone(),
                        active_until: rfc3339(g.active_until),
                        active: open && state.opens(),
                        state: state.as_str().into(),
                    }
                })
                .collect(),
            login: c.account.login,
            email: c.account.email,
            status: c.account.status,
        }
    }
}

/// Credentials a server received.
#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct CheckRequest {
    /// The customer's login (or email address).
    pub login: Str,
    pub password: Str,
    /// The service the server sells; without it, any open access will do.
    pub service: Option<Str>,
}

const KEY_401: &str = "No key, or an unknown, revoked or orphaned key (`invalid_api_key`).";

crate::outcomes! {
    /// `GET /access`.
    pub AccessOutcomes() {
        400: "Give exactly one of `login` and `email` (`invalid_query`).",
        401: KEY_401,
        403: "The key lacks the `access:read` scope (`insufficient_scope`).",
        404: "No such customer (`unknown_customer`).",
    }
    /// `POST /access/check`.
    pub CheckOutcomes(json) {
        401: "No valid key (`invalid_api_key`); wrong login or password, the same answer for unknown logins (`invalid_credentials`); or the temporary password expired (`temporary_password_expired`).",
        403: "The key lacks the `access:check` scope (`insufficient_scope`); after a right password: no open access to the service (`no_access`), the email is not verified (`email_not_verified`), the temporary password must be changed in the cabinet first (`password_change_required`) or the account is suspended (`account_suspended`).",
        429: "Too many attempts from this server (`rate_limited`) or on this account (`too_many_attempts`).",
        503: "Password checks are saturated (`server_busy`) or the database does not answer (`unavailable`).",
    }
}

pub struct AccessApi;

#[OpenApi]
impl AccessApi {
    /// A customer's access, by login or email (`access:read`).
    #[oai(path = "/access", method = "get", tag = "Tag::Access")]
    async fn get_access(
        &self,
        state: Data<&AppState>,
        req: &Request,
        login: Query<Option<String>>,
        email: Query<Option<String>>,
    ) -> Result<Json<CustomerView>, Fail<AccessOutcomes>> {
        authorize_key(&state, req, SCOPE_READ).await?;
        let c = service::customer_access(&state, login.0.as_deref(), email.0.as_deref()).await?;
        Ok(Json(CustomerView::of(c, state.clock.now())))
    }

    /// Check a customer's login and password, and their access (`access:check`). The same
    /// hashing pool, lockout, delays and answers as the cabinet login.
    #[oai(path = "/access/check", method = "post", tag = "Tag::Access")]
    async fn check_access(
        &self,
        state: Data<&AppState>,
        req: &Request,
        body: Json<CheckRequest>,
    ) -> Result<Json<CustomerView>, Fail<CheckOutcomes>> {
        authorize_key(&state, req, SCOPE_CHECK).await?;
        let ip = client_ip(req, &state.settings.trusted_proxies);
        let c = service::check(&state, ip, &body.login, &body.password, body.service.as_deref()).await?;
        Ok(Json(CustomerView::of(c, state.clock.now())))
    }
}

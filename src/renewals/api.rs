//! `POST /api/v1/me/renewals`: the cabinet's Renew button (DESIGN §7).

use poem::web::Data;
use poem::Request;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};

use crate::accounts::api::require_own_password;
use crate::http::outcomes::Fail;
use crate::http::strict::Str;
use crate::renewals::service;
use crate::sessions::service::{authenticate, check_origin};
use crate::state::AppState;

#[derive(Tags)]
enum Tag {
    /// The customer's own account.
    Cabinet,
}

/// Which of the customer's services to renew.
#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct RenewalRequest {
    /// The service's slug (one the customer has, active, in grace or ended).
    pub service: Str,
}

/// The renewal order and where to pay it.
#[derive(Object)]
pub struct RenewalCreated {
    pub order_id: String,
    /// Send the customer here to pay (`/pay/{order_id}`).
    pub payment_url: String,
}

#[derive(ApiResponse)]
pub enum RenewalResponse {
    /// The renewal order for this account (the open one, if an unpaid one exists); paying it
    /// extends the access from `max(now, active_until)`.
    #[oai(status = 201)]
    Created(Json<RenewalCreated>),
}

crate::outcomes! {
    /// `POST /me/renewals`.
    pub RenewalOutcomes(json) {
        401: "No valid session (`unauthenticated`).",
        403: "The temporary password must be changed first (`password_change_required`), the account is suspended (`account_suspended`), or the request came from another origin (`csrf_rejected`).",
        409: "The service is no longer on sale (`service_not_on_sale`).",
        422: "The account has no access to this service to renew (`unknown_service`).",
        429: "Too many orders from this address (`rate_limited`); retry after `Retry-After` seconds.",
    }
}

pub struct RenewalsApi;

#[OpenApi]
impl RenewalsApi {
    /// Renew one of your services: makes (or reuses) the unpaid renewal order for your account.
    #[oai(path = "/me/renewals", method = "post", tag = "Tag::Cabinet")]
    async fn create_renewal(
        &self,
        state: Data<&AppState>,
        req: &Request,
        body: Json<RenewalRequest>,
    ) -> Result<RenewalResponse, Fail<RenewalOutcomes>> {
        check_origin(&state, req)?;
        let p = authenticate(&state, req).await?;
        require_own_password(&p.account)?;
        let ip = crate::http::client_ip::client_ip(req, &state.settings.trusted_proxies);
        state
            .limiters
            .check(crate::http::limits::Bucket::Orders, ip)
            .map_err(crate::http::api_error::ApiError::rate_limited)?;
        let order = service::renew_in_cabinet(&state, &p.account.id, body.service.trim()).await?;
        Ok(RenewalResponse::Created(Json(RenewalCreated {
            payment_url: state.link(&format!("/pay/{}", order.id)),
            order_id: order.id.into(),
        })))
    }
}

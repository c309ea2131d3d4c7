//! `POST /api/v1/password-reset` (ask for a link) and `POST /api/v1/password-reset/confirm`
//! (use it).

use poem::web::Data;
use poem::Request;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};

use crate::accounts::api::Accepted;
use crate::http::client_ip::client_ip;
use crate::http::limits::Bucket;
use crate::http::outcomes::Fail;
use crate::http::strict::Str;
use crate::orders::service::guard;
use crate::password_reset::service;
use crate::state::AppState;

#[derive(Tags)]
enum Tag {
    /// Forgot password: a single-use link by email.
    PasswordReset,
}

/// Which account forgot its password: its email address, or (instead) its login.
#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct ResetRequest {
    /// The account's email address (case does not matter).
    pub email: Option<Str>,
    /// Alternatively the account's login (`kt-…`); used when `email` is absent.
    pub login: Option<Str>,
    pub captcha_token: Option<Str>,
}

#[derive(ApiResponse)]
pub enum ResetRequested {
    /// Always the same answer: if the address or login belongs to an account that may reset
    /// its password, a link valid for one hour is on its way to the account's address.
    #[oai(status = 202)]
    Accepted(Json<Accepted>),
}

/// A new password, authorised by the link's token.
#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct ResetConfirm {
    /// The token from the reset link.
    pub token: Str,
    pub new_password: Str,
}

#[derive(ApiResponse)]
pub enum ResetDone {
    /// The password is set; every session of the account ended (log in again). An address
    /// that was waiting for confirmation is now confirmed.
    #[oai(status = 204)]
    Done,
}

crate::outcomes! {
    /// `POST /password-reset`.
    pub ResetRequestOutcomes(json) {
        400: "Malformed body (`invalid_body`), or a captcha is configured and `captcha_token` is missing (`captcha_required`).",
        403: "The captcha was not solved (`captcha_failed`).",
        429: "Too many requests from this IP address (`rate_limited`). Too many for one email address are answered 202 and send nothing.",
        503: "The captcha service or the database does not answer (`captcha_unavailable`, `unavailable`).",
    }
    /// `POST /password-reset/confirm`.
    pub ResetConfirmOutcomes(json) {
        400: "Malformed body (`invalid_body`) or an unknown link (`invalid_token`).",
        403: "The account is suspended (`account_suspended`).",
        409: "The link was already used (`token_used`).",
        410: "The link has expired (`token_expired`) or a newer email replaced it (`token_replaced`).",
        422: "The new password is too weak or too long (`weak_password`, `password_too_long`).",
        503: "Password hashing is saturated (`server_busy`) or the database does not answer (`unavailable`).",
    }
}

pub struct PasswordResetApi;

#[OpenApi]
impl PasswordResetApi {
    /// Forgot password: email a single-use link (valid 1 hour) to choose a new one.
    #[oai(path = "/password-reset", method = "post", tag = "Tag::PasswordReset")]
    async fn request_password_reset(
        &self,
        state: Data<&AppState>,
        req: &Request,
        body: Json<ResetRequest>,
    ) -> Result<ResetRequested, Fail<ResetRequestOutcomes>> {
        let ip = client_ip(req, &state.settings.trusted_proxies);
        guard(&state, Bucket::Reset, ip, body.captcha_token.as_deref()).await?;
        let named = body.email.as_deref().or(body.login.as_deref()).unwrap_or_default();
        if named.len() <= 254 {
            service::request(&state, named).await?;
        }
        Ok(ResetRequested::Accepted(Json(Accepted { status: "accepted".into() })))
    }

    /// Use a reset link: set a new password and end every session of the account.
    #[oai(path = "/password-reset/confirm", method = "post", tag = "Tag::PasswordReset")]
    async fn confirm_password_reset(
        &self,
        state: Data<&AppState>,
        body: Json<ResetConfirm>,
    ) -> Result<ResetDone, Fail<ResetConfirmOutcomes>> {
        service::confirm(&state, body.token.trim(), &body.new_password).await?;
        Ok(ResetDone::Done)
    }
}

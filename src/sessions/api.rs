//! `POST /api/v1/session` (login), `DELETE /api/v1/session` (logout).

use poem::web::Data;
use poem::Request;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};

use crate::http::client_ip::client_ip;
use crate::http::outcomes::Fail;
use crate::http::strict::Str;
use crate::sessions::service;
use crate::state::AppState;

#[derive(Tags)]
enum Tag {
    /// Logging in and out.
    Session,
}

/// Credentials.
#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct LoginRequest {
    /// The login from the credentials email (or the email address).
    pub login: Str,
    pub password: Str,
}

/// Result of a login.
#[derive(Object)]
pub struct LoginResult {
    /// True while the temporary password is in force: only a password change is allowed.
    pub must_change_password: bool,
}

#[derive(ApiResponse)]
pub enum LoginResponse {
    /// Logged in; the session cookie is set.
    #[oai(status = 200)]
    Ok(Json<LoginResult>, #[oai(header = "Set-Cookie")] String),
}

#[derive(ApiResponse)]
pub enum LogoutResponse {
    /// Logged out; the session is gone server-side.
    #[oai(status = 204)]
    Done(#[oai(header = "Set-Cookie")] String),
}

crate::outcomes! {
    /// `POST /session`.
    pub LoginOutcomes(json) {
        401: "Wrong login or password (`invalid_credentials`), or the temporary password expired (`temporary_password_expired`).",
        403: "The email is not verified yet (`email_not_verified`) or the account is suspended (`account_suspended`).",
        429: "Too many attempts from this address (`rate_limited`) or on this account (`too_many_attempts`).",
        503: "Password checks are saturated (`server_busy`) or the database does not answer (`unavailable`).",
    }
    /// `DELETE /session`.
    pub LogoutOutcomes() {
        403: "The request came from another origin (`csrf_rejected`).",
    }
}

pub struct SessionApi;

#[OpenApi]
impl SessionApi {
    /// Log in.
    #[oai(path = "/session", method = "post", tag = "Tag::Session")]
    async fn create_session(
        &self,
        state: Data<&AppState>,
        req: &Request,
        body: Json<LoginRequest>,
    ) -> Result<LoginResponse, Fail<LoginOutcomes>> {
        let ip = client_ip(req, &state.settings.trusted_proxies);
        let (token, must_change) = service::login(&state, ip, &body.login, &body.password).await?;
        Ok(LoginResponse::Ok(
            Json(LoginResult { must_change_password: must_change }),
            service::session_cookie(&state, &token),
        ))
    }

    /// Log out (ends the session server-side).
    #[oai(path = "/session", method = "delete", tag = "Tag::Session")]
    async fn delete_session(
        &self,
        state: Data<&AppState>,
        req: &Request,
    ) -> Result<LogoutResponse, Fail<LogoutOutcomes>> {
        service::check_origin(&state, req)?;
        service::logout(&state, req).await?;
        Ok(LogoutResponse::Done(service::clear_cookie(&state)))
    }
}

//! `POST/DELETE /admin/session`, `GET /admin/me`, TOTP enrolment and the owner's
//! require-TOTP switch.

use poem::web::Data;
use poem::Request;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};

use crate::admin::access::auth::{self, authenticate, authorize_write};
use crate::admin::access::roles::Permission;
use crate::admin::access::service;
use crate::admin::{AdminTag, REFUSED_WRITE, UNAUTHENTICATED};
use crate::http::client_ip::client_ip;
use crate::http::outcomes::Fail;
use crate::http::strict::Str;
use crate::sessions::service::check_origin;
use crate::state::AppState;

/// Admin credentials.
#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct AdminLogin {
    pub username: Str,
    pub password: Str,
    /// The 6-digit code from the authenticator app, when TOTP is enabled.
    pub totp: Option<Str>,
}

/// Result of an admin login.
#[derive(Object)]
pub struct AdminLoginResult {
    pub role: String,
    pub totp_enabled: bool,
    /// TOTP is required for everyone and not set up yet: this session may only enrol.
    pub totp_enrolment_required: bool,
}

#[derive(ApiResponse)]
pub enum AdminLoginResponse {
    /// Logged in; the admin session cookie is set.
    #[oai(status = 200)]
    Ok(Json<AdminLoginResult>, #[oai(header = "Set-Cookie")] String),
}

#[derive(ApiResponse)]
pub enum CookieDone {
    /// Done; the admin session cookie is replaced or cleared.
    #[oai(status = 204)]
    Done(#[oai(header = "Set-Cookie")] String),
}

#[derive(ApiResponse)]
pub enum Done {
    /// Done.
    #[oai(status = 204)]
    Done,
}

/// The logged-in administrator.
#[derive(Object)]
pub struct AdminMe {
    pub username: String,
    pub role: String,
    pub totp_enabled: bool,
    pub totp_enrolment_required: bool,
    /// What the role may do (ReadOrders, OperatePayments, ManageInvoices, ReadAccounts,
    /// ManageAccounts, ReadServices, ManageServices, ReadAudit, ManageAdmins, ManageSettings):
    /// for clients to show only what the server would allow.
    pub permissions: Vec<String>,
}

/// A TOTP secret to add to an authenticator app, then confirm with a code.
#[derive(Object)]
pub struct TotpEnrolment {
    /// Base32 secret.
    pub secret: String,
    /// `otpauth://totp/keyturn:USERNAME?secret=…&issuer=keyturn…` (for a QR code).
    pub otpauth_uri: String,
}

#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct TotpConfirm {
    pub code: Str,
}

/// The password (and code) again, for high-value actions.
#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct AdminReauth {
    pub password: Str,
    /// The 6-digit code, when TOTP is enabled.
    pub totp: Option<Str>,
}

#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct RequireTotp {
    pub required: bool,
}

crate::outcomes! {
    /// `POST /admin/session`.
    pub AdminLoginOutcomes(json) {
        401: "Wrong username or password (`invalid_credentials`), or a TOTP code is needed (`totp_required`).",
        403: "The administrator is disabled (`admin_disabled`) or the request came from another origin (`csrf_rejected`).",
        429: "Too many attempts (`rate_limited`, `too_many_attempts`); retry after `Retry-After` seconds.",
        503: "Password checks are saturated (`server_busy`) or the database does not answer (`unavailable`).",
    }
    /// `DELETE /admin/session`.
    pub AdminLogoutOutcomes() {
        403: "The request came from another origin (`csrf_rejected`).",
    }
    /// `POST /admin/session/reauth`.
    pub ReauthOutcomes(json) {
        401: UNAUTHENTICATED,
        403: "Wrong password or code (`invalid_credentials`, `totp_required`), or another origin (`csrf_rejected`).",
        429: "Too many failed attempts (`rate_limited`, `too_many_attempts`); retry after `Retry-After` seconds.",
        503: "Password checks are saturated (`server_busy`) or the database does not answer (`unavailable`).",
    }
    /// `GET /admin/me`.
    pub AdminMeOutcomes() {
        401: UNAUTHENTICATED,
    }
    /// `POST /admin/me/totp`.
    pub StartTotpOutcomes() {
        401: UNAUTHENTICATED,
        403: "The request came from another origin (`csrf_rejected`).",
        409: "TOTP is already enabled (`totp_already_enabled`).",
    }
    /// `POST /admin/me/totp/confirm`.
    pub ConfirmTotpOutcomes(json) {
        401: UNAUTHENTICATED,
        403: "The password must be confirmed first (`reauthentication_required`), or another origin (`csrf_rejected`).",
        409: "TOTP is already enabled or enrolment was not started (`totp_already_enabled`, `totp_not_started`).",
        422: "The code is not valid (`invalid_totp`).",
    }
    /// `PUT /admin/settings/require-totp`.
    pub RequireTotpOutcomes(json) {
        401: UNAUTHENTICATED,
        403: REFUSED_WRITE,
        409: "The owner must enable TOTP first (`totp_not_enabled`).",
    }
}

pub struct AdminAuthApi;

#[OpenApi(tag = "AdminTag::Admin")]
impl AdminAuthApi {
    /// Log in as an administrator.
    #[oai(path = "/admin/session", method = "post")]
    async fn create_admin_session(
        &self,
        state: Data<&AppState>,
        req: &Request,
        body: Json<AdminLogin>,
    ) -> Result<AdminLoginResponse, Fail<AdminLoginOutcomes>> {
        check_origin(&state, req)?;
        let ip = client_ip(req, &state.settings.trusted_proxies);
        let out = auth::login(&state, ip, &body.username, &body.password, body.totp.as_deref()).await?;
        Ok(AdminLoginResponse::Ok(
            Json(AdminLoginResult {
                role: out.role,
                totp_enabled: out.totp_enabled,
                totp_enrolment_required: out.totp_enrolment_required,
            }),
            auth::session_cookie(&state, &out.token),
        ))
    }

    /// Log out (ends the admin session server-side).
    #[oai(path = "/admin/session", method = "delete")]
    async fn delete_admin_session(
        &self,
        state: Data<&AppState>,
        req: &Request,
    ) -> Result<CookieDone, Fail<AdminLogoutOutcomes>> {
        check_origin(&state, req)?;
        auth::logout(&state, req).await?;
        Ok(CookieDone::Done(auth::clear_cookie(&state)))
    }

    /// Confirm the password (and TOTP code) again; refunds need this from the last
    /// `admin_reauth_minutes` (default 5). Failures count towards the login lockout.
    #[oai(path = "/admin/session/reauth", method = "post")]
    async fn reauth_admin_session(
        &self,
        state: Data<&AppState>,
        req: &Request,
        body: Json<AdminReauth>,
    ) -> Result<Done, Fail<ReauthOutcomes>> {
        check_origin(&state, req)?;
        // Enrolment-only sessions may confirm their password too: enrolling needs a recent proof.
        let p = authenticate(&state, req).await?;
        crate::admin::access::reauth::reauthenticate(&state, &p, &body.password, body.totp.as_deref()).await?;
        Ok(Done::Done)
    }

    /// The logged-in administrator.
    #[oai(path = "/admin/me", method = "get")]
    async fn get_admin_me(
        &self,
        state: Data<&AppState>,
        req: &Request,
    ) -> Result<Json<AdminMe>, Fail<AdminMeOutcomes>> {
        let p = authenticate(&state, req).await?;
        let permissions = crate::admin::access::roles::Permission::ALL
            .into_iter()
            .filter(|perm| !p.enrolment_only && p.role.is_some_and(|r| crate::admin::access::roles::allows(r, *perm)))
            .map(|perm| perm.name().to_string())
            .collect();
        Ok(Json(AdminMe {
            username: p.admin.username,
            role: p.admin.role,
            totp_enabled: p.admin.totp_secret.is_some(),
            totp_enrolment_required: p.enrolment_only,
            permissions,
        }))
    }

    /// Start TOTP enrolment: a new secret and its `otpauth://` URI (confirm with a code).
    #[oai(path = "/admin/me/totp", method = "post")]
    async fn start_totp(
        &self,
        state: Data<&AppState>,
        req: &Request,
    ) -> Result<Json<TotpEnrolment>, Fail<StartTotpOutcomes>> {
        check_origin(&state, req)?;
        let p = authenticate(&state, req).await?;
        let e = service::start_totp(&state, &p).await?;
        Ok(Json(TotpEnrolment { secret: e.secret, otpauth_uri: e.otpauth_uri }))
    }

    /// Confirm TOTP enrolment with a current code; the session is renewed.
    #[oai(path = "/admin/me/totp/confirm", method = "post")]
    async fn confirm_totp(
        &self,
        state: Data<&AppState>,
        req: &Request,
        body: Json<TotpConfirm>,
    ) -> Result<CookieDone, Fail<ConfirmTotpOutcomes>> {
        check_origin(&state, req)?;
        let p = authenticate(&state, req).await?;
        service::confirm_totp(&state, &p, &body.code).await?;
        let token = auth::rotate_session(&state, &p).await?;
        Ok(CookieDone::Done(auth::session_cookie(&state, &token)))
    }

    /// Require TOTP of every administrator (owner).
    #[oai(path = "/admin/settings/require-totp", method = "put")]
    async fn put_require_totp(
        &self,
        state: Data<&AppState>,
        req: &Request,
        body: Json<RequireTotp>,
    ) -> Result<Done, Fail<RequireTotpOutcomes>> {
        let p = authorize_write(&state, req, Permission::ManageSettings).await?;
        service::set_require_totp(&state, &p, body.required).await?;
        Ok(Done::Done)
    }
}

//! Email verification, resend, the cabinet (`/me`) and the password change.

use poem::web::Data;
use poem::Request;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};

use crate::accounts::access::{grants_of, AccessState};
use crate::accounts::{model, service};
use crate::clock::rfc3339;
use crate::http::api_error::ApiError;
use crate::http::client_ip::client_ip;
use crate::http::limits::Bucket;
use crate::http::outcomes::Fail;
use crate::http::strict::Str;
use crate::orders::service::guard;
use crate::sessions::service::{authenticate, check_origin, session_cookie};
use crate::state::AppState;

#[derive(Tags)]
enum Tag {
    /// Confirming the email address.
    Verification,
    /// The customer's own account.
    Cabinet,
}

#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct VerifyRequest {
    /// The token from the verification link.
    pub token: Str,
}

#[derive(Object)]
pub struct VerifyResult {
    /// `active`.
    pub status: model::AccountStatus,
}

#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct ResendRequest {
    pub email: Str,
    pub captcha_token: Option<Str>,
}

#[derive(Object)]
pub struct Accepted {
    /// Always `accepted`: the answer does not reveal whether the address is known.
    pub status: String,
}

#[derive(ApiResponse)]
pub enum ResendResponse {
    /// If the address belongs to an account, the email it needs is on its way: a new
    /// verification link and temporary password (unverified), new temporary credentials (active,
    /// never chose a password) or a password-reset link (active).
    #[oai(status = 202)]
    Accepted(Json<Accepted>),
}

/// A service the customer has.
#[derive(Object)]
pub struct ServiceAccess {
    pub slug: String,
    pub name: String,
    /// RFC 3339.
    pub active_until: String,
    /// `active`, `grace` (the period is over but the service still opens; renew now) or
    /// `ended` (expired, or taken back by a refund).
    pub state: String,
    /// RFC 3339: the last moment the service opens (the period plus its grace days).
    pub open_until: String,
    /// Where to use the service, when the merchant gave one.
    pub access_url: Option<String>,
    /// The service is on sale: it can be renewed (`POST /me/renewals`).
    pub renewable: bool,
}

/// The customer's cabinet.
#[derive(Object)]
pub struct Me {
    pub login: String,
    pub email: String,
    pub status: model::AccountStatus,
    pub services: Vec<ServiceAccess>,
    /// Renewal reminder emails are on (`PUT /me/preferences`); transactional emails always are.
    pub renewal_reminders: bool,
    /// The language of the customer's emails and cabinet: `en`, `ru`, `pl` or `sr`.
    pub locale: String,
}

/// The customer's choices about the emails they get.
#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct Preferences {
    /// Send renewal reminders before a service's period ends.
    pub renewal_reminders: bool,
    /// The language of the customer's emails and cabinet: `en`, `ru`, `pl` or `sr` (unchanged
    /// when left out).
    #[oai(validator(pattern = r"^(en|ru|pl|sr)$"))]
    pub locale: Option<String>,
}

#[derive(Object)]
#[oai(deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: Str,
    pub new_password: Str,
}

#[derive(ApiResponse)]
pub enum PasswordChanged {
    /// Changed; every other session ended and this one was renewed.
    #[oai(status = 204)]
    Done(#[oai(header = "Set-Cookie")] String),
}

crate::outcomes! {
    /// `POST /verify-email`.
    pub VerifyOutcomes(json) {
        400: "Malformed body (`invalid_body`) or an unknown token (`invalid_token`).",
        403: "The account is suspended (`account_suspended`); the link is not used up and works once the account is reinstated.",
        409: "The link was already used (`token_used`).",
        410: "The link has expired (`token_expired`) or a newer email replaced it (`token_replaced`).",
    }
    /// `POST /verify-email/resend`.
    pub ResendOutcomes(json) {
        400: "Malformed body (`invalid_body`), or a captcha is configured and `captcha_token` is missing (`captcha_required`).",
        403: "The captcha was not solved (`captcha_failed`).",
        429: "Too many requests from this address (`rate_limited`).",
        503: "The captcha service or the database does not answer (`captcha_unavailable`, `unavailable`).",
    }
    /// `GET /me`, `GET /me/export`.
    pub MeOutcomes() {
        401: "No valid session (`unauthenticated`).",
        403: "The temporary password must be changed first (`password_change_required`) or the account is suspended (`account_suspended`).",
    }
    /// `PUT /me/preferences`.
    pub PreferencesOutcomes(json) {
        401: "No valid session (`unauthenticated`).",
        403: "The temporary password must be changed first (`password_change_required`), the account is suspended (`account_suspended`), or the request came from another origin (`csrf_rejected`).",
        422: "`locale` is not one of `en`, `ru`, `pl`, `sr` (`validation_failed`).",
    }
    /// `POST /me/password`.
    pub PasswordOutcomes(json) {
        401: "No valid session (`unauthenticated`) or the temporary password expired (`temporary_password_expired`).",
        403: "Wrong current password (`invalid_current_password`), another origin (`csrf_rejected`) or a suspended account (`account_suspended`).",
        422: "The new password is too weak, too long or unchanged (`weak_password`, `password_too_long`).",
        503: "Password checks are saturated (`server_busy`) or the database does not answer (`unavailable`).",
    }
}

/// Refuses what needs the customer's own password while the temporary one is in force.
pub fn require_own_password(account: &model::Account) -> Result<(), ApiError> {
    if account.must_change_password {
        return Err(ApiError::forbidden(
            "password_change_required",
            "Choose your own password first (POST /api/v1/me/password).",
        ));
    }
    Ok(())
}

pub struct AccountsApi;

#[OpenApi]
impl AccountsApi {
    /// Confirm the email address (consumes the token once).
    #[oai(path = "/verify-email", method = "post", tag = "Tag::Verification")]
    async fn verify_email(
        &self,
        state: Data<&AppState>,
        body: Json<VerifyRequest>,
    ) -> Result<Json<VerifyResult>, Fail<VerifyOutcomes>> {
        service::verify_email(&state, body.token.trim()).await?;
        Ok(Json(VerifyResult { status: model::ACTIVE }))
    }

    /// Ask for a new verification email (and temporary password).
    #[oai(path = "/verify-email/resend", method = "post", tag = "Tag::Verification")]
    async fn resend_verification(
        &self,
        state: Data<&AppState>,
        req: &Request,
        body: Json<ResendRequest>,
    ) -> Result<ResendResponse, Fail<ResendOutcomes>> {
        let ip = client_ip(req, &state.settings.trusted_proxies);
        guard(&state, Bucket::Resend, ip, body.captcha_token.as_deref()).await?;
        if body.email.len() <= 254 {
            service::resend(&state, &body.email).await?;
        }
        Ok(ResendResponse::Accepted(Json(Accepted { status: "accepted".into() })))
    }

    /// The logged-in customer and their services.
    #[oai(path = "/me", method = "get", tag = "Tag::Cabinet")]
    async fn get_me(&self, state: Data<&AppState>, req: &Request) -> Result<Json<Me>, Fail<MeOutcomes>> {
        let p = authenticate(&state, req).await?;
        require_own_password(&p.account)?;
        let id = p.account.id.clone();
        let (grants, on_sale) = state
            .db
            .read(move |c| {
                let on_sale: Vec<String> = crate::catalog::model::list_active(c)?.into_iter().map(|s| s.slug).collect();
                Ok((grants_of(c, &id)?, on_sale))
            })
            .await?;
        let now = state.clock.now();
        Ok(Json(Me {
            login: p.account.login,
            email: p.account.email,
            status: p.account.status,
            renewal_reminders: p.account.renewal_reminders,
            locale: p.account.locale,
            services: grants
                .into_iter()
                .map(|g| {
                    let state = match g.state(now) {
                        AccessState::Expired => "ended",
                        other => other.as_str(),
                    };
                    ServiceAccess {
                        renewable: on_sale.contains(&g.slug),
                        state: state.into(),
                        open_until: rfc3339(g.open_until()),
                        active_until: rfc3339(g.active_until),
                        slug: g.slug,
                        name: g.name,
                        access_url: g.access_url,
                    }
                })
                .collect(),
        }))
    }

    /// Turn renewal reminders off or on (transactional emails stay on).
    #[oai(path = "/me/preferences", method = "put", tag = "Tag::Cabinet")]
    async fn put_preferences(
        &self,
        state: Data<&AppState>,
        req: &Request,
        body: Json<Preferences>,
    ) -> Result<Json<Preferences>, Fail<PreferencesOutcomes>> {
        check_origin(&state, req)?;
        let p = authenticate(&state, req).await?;
        require_own_password(&p.account)?;
        let locale = match body.locale.as_deref() {
            None => crate::i18n::Locale::from_stored(&p.account.locale),
            Some(l) => crate::i18n::Locale::ALL
                .into_iter()
                .find(|x| x.code() == l)
                .ok_or_else(|| ApiError::unprocessable("validation_failed", "locale must be one of en, ru, pl, sr"))?,
        };
        let (id, on, now) = (p.account.id.clone(), body.renewal_reminders, state.clock.now());
        state
            .db
            .write(move |c| {
                model::set_renewal_reminders(c, &id, on, now)?;
                Ok(model::set_locale(c, &id, locale, now)?)
            })
            .await?;
        tracing::info!(event = "preferences_changed", account_id = %p.account.id, renewal_reminders = on,
                       locale = locale.code(), "preferences saved");
        Ok(Json(Preferences { renewal_reminders: on, locale: Some(locale.code().into()) }))
    }

    /// Replace the (temporary) password.
    #[oai(path = "/me/password", method = "post", tag = "Tag::Cabinet")]
    async fn change_password(
        &self,
        state: Data<&AppState>,
        req: &Request,
        body: Json<PasswordChange>,
    ) -> Result<PasswordChanged, Fail<PasswordOutcomes>> {
        check_origin(&state, req)?;
        let p = authenticate(&state, req).await?;
        let token = service::change_password(&state, &p.account, &body.current_password, &body.new_password).await?;
        Ok(PasswordChanged::Done(session_cookie(&state, &token)))
    }

    /// Everything we hold about you (account, services, orders, payments, emails sent), as JSON.
    #[oai(path = "/me/export", method = "get", tag = "Tag::Cabinet")]
    async fn export_me(
        &self,
        state: Data<&AppState>,
        req: &Request,
    ) -> Result<Json<serde_json::Value>, Fail<MeOutcomes>> {
        let p = authenticate(&state, req).await?;
        require_own_password(&p.account)?;
        let account = p.account;
        Ok(Json(state.db.read(move |c| Ok(crate::accounts::export::gather(c, &account)?)).await?))
    }
}

//! Admin login, sessions (stored hashed; 15 min idle / 8 h absolute by default), the
//! principal of a request and the permission check. Unknown usernames cost the same argon2
//! work and get the same answers, growing delays and lockout as wrong passwords (their
//! failures are counted under a hash of the name); failures are counted per admin in the
//! database; every attempt lands in the audit log (never the password or the code).

use std::net::IpAddr;
use std::time::Duration;

use poem::Request;

use crate::accounts::model as accounts;
use crate::accounts::password;
use crate::accounts::service::busy;
use crate::admin::access::model::{self, Admin, AdminSession};
use crate::admin::access::roles::{allows, Permission, Role};
use crate::admin::access::totp;
use crate::audit::{self, Event};
use crate::crypto::{random_token, token_hash};
use crate::http::api_error::ApiError;
use crate::http::client_ip::client_ip;
use crate::http::cookies::{cookie_value, set_cookie};
use crate::http::limits::Bucket;
use crate::sessions::service::check_origin;
use crate::state::AppState;

/// Name of the admin session cookie (`__Host-` prefixed when served over https).
pub fn cookie_name(state: &AppState) -> &'static str {
    if state.settings.is_https() {
        "__Host-keyturn_admin"
    } else {
        "keyturn_admin"
    }
}

/// `Set-Cookie` value carrying an admin session token.
pub fn session_cookie(state: &AppState, token: &str) -> String {
    let max_age = state.settings.admin_session_absolute_hours * 3600;
    set_cookie(cookie_name(state), token, "Strict", max_age, state.settings.is_https(), None)
}

/// `Set-Cookie` value that removes the admin session cookie.
pub fn clear_cookie(state: &AppState) -> String {
    set_cookie(cookie_name(state), "", "Strict", 0, state.settings.is_https(), None)
}

fn invalid_credentials() -> ApiError {
    ApiError::unauthorized("invalid_credentials", "The username, password or code is not correct.")
}

/// A successful login.
pub struct LoginOutcome {
    pub token: String,
    pub role: String,
    pub totp_enabled: bool,
    /// TOTP is required for everyone and this admin has none yet: the session may only enrol.
    pub totp_enrolment_required: bool,
}

/// A refused login: the answer, and what the audit log records about it.
struct Refusal {
    answer: ApiError,
    reason: &'static str,
}

fn refuse(answer: ApiError, reason: &'static str) -> Refusal {
    Refusal { answer, reason }
}

/// Checks username, password and (when required) the TOTP code; starts a session.
pub async fn login(
    state: &AppState,
    ip: IpAddr,
    username: &str,
    password: &str,
    code: Option<&str>,
) -> Result<LoginOutcome, ApiError> {
    let username = username.trim().to_lowercase();
    let result = check_login(state, ip, &username, password, code).await;
    let (outcome, answer) = match result {
        Ok(ok) => (audit::SUCCESS, Ok(ok)),
        Err(r) => (r.reason, Err(r.answer)),
    };
    // Failures from our side (database down, hashing saturated) are not login attempts.
    if answer.as_ref().err().is_none_or(|e| e.parts().0.as_u16() < 500) {
        let now = state.clock.now();
        let event = Event::new(&username, &ip.to_string(), "admin.login", &username).outcome(outcome);
        state.db.write(move |c| Ok(event.append(c, now)?)).await?;
    }
    answer
}

async fn check_login(
    state: &AppState,
    ip: IpAddr,
    username: &str,
    password: &str,
    code: Option<&str>,
) -> Result<LoginOutcome, Refusal> {
    let internal = |e: ApiError| refuse(e, "error");
    state.limiters.check(Bucket::Login, ip).map_err(|s| refuse(ApiError::rate_limited(s), "rate_limited"))?;
    if username.is_empty()
        || username.len() > 64
        || username.chars().any(char::is_control)
        || password.len() > password::MAX_BYTES
    {
        return Err(refuse(invalid_credentials(), "invalid_credentials"));
    }
    let lookup = username.to_string();
    let unknown_key = format!("admin_login:{}", token_hash(username));
    let key = unknown_key.clone();
    let (admin, require_all, unknown) = state
        .db
        .read(move |c| {
            let admin = model::find_by_username(c, &lookup)?;
            Ok((admin, model::totp_required_for_all(c)?, model::unknown_failures(c, &key)?))
        })
        .await
        .map_err(|e| internal(e.into()))?;
    let now = state.clock.now();
    // An unknown name is locked like a known one: the same answer after as many failures.
    let window = match &admin {
        Some(a) => Some((a.failed_window_start, a.failed_logins)),
        None => unknown,
    };
    if let Some((window_start, failures)) = window {
        if now - window_start < 3600 && i64::from(failures) >= state.settings.login_failures_per_hour {
            let subject = admin.as_ref().map(|a| a.id.as_str()).unwrap_or("unknown");
            tracing::warn!(event = "authn_login_fail_max", admin_id = %subject, "admin locked for the hour");
            let retry = (window_start + 3600 - now).max(1) as u64;
            let answer = ApiError::TooManyRequests(
                crate::error::err("too_many_attempts", "Too many failed logins; try again later."),
                retry,
            );
            return Err(refuse(answer, "too_many_attempts"));
        }
    }
    let hash = admin.as_ref().map(|a| a.password_hash.clone());
    let verified = state.hasher.verify(password.to_string(), hash).await.map_err(|_| internal(busy()))?;
    let Some(admin) = admin else {
        let count = match state.db.write(move |c| Ok(accounts::bump(c, &unknown_key, 3600, now)?)).await {
            Ok(n) => n,
            Err(e) => return Err(refuse(e.into(), "error")),
        };
        tracing::info!(event = "authn_login_fail", reason = "unknown_admin", failures = count, ip = %ip, "admin login failed");
        failure_delay(state, count).await;
        return Err(refuse(invalid_credentials(), "invalid_credentials"));
    };
    if !verified.ok {
        return Err(count_failure(state, &admin, ip, "invalid_credentials").await);
    }
    if admin.status != model::ACTIVE {
        return Err(refuse(ApiError::forbidden("admin_disabled", "This administrator is disabled."), "admin_disabled"));
    }
    if let Some(secret) = &admin.totp_secret {
        let Some(code) = code.map(str::trim).filter(|c| !c.is_empty()) else {
            let answer = ApiError::unauthorized("totp_required", "Enter the code from your authenticator app.");
            return Err(refuse(answer, "totp_required"));
        };
        let Some(step) = totp::matching_step(secret, code, now) else {
            return Err(count_failure(state, &admin, ip, "invalid_totp").await);
        };
        let id = admin.id.clone();
        let fresh = state.db.write(move |c| Ok(model::consume_totp_step(c, &id, step)?)).await;
        if !fresh.map_err(|e| internal(e.into()))? {
            return Err(count_failure(state, &admin, ip, "totp_replayed").await);
        }
    }
    let rehash = if verified.needs_rehash {
        Some(state.hasher.hash(password.to_string()).await.map_err(|_| internal(busy()))?)
    } else {
        None
    };
    let id = admin.id.clone();
    state
        .db
        .write(move |c| {
            model::reset_failed_logins(c, &id)?;
            if let Some(h) = rehash {
                model::replace_hash(c, &id, &h)?;
            }
            Ok(())
        })
        .await
        .map_err(|e| internal(e.into()))?;
    let token = start_session(state, &admin.id, state.clock.now()).await.map_err(internal)?;
    tracing::info!(event = "authn_login_success", admin_id = %admin.id, ip = %ip, "admin logged in");
    Ok(LoginOutcome {
        token,
        role: admin.role,
        totp_enabled: admin.totp_secret.is_some(),
        totp_enrolment_required: admin.totp_secret.is_none() && require_all,
    })
}

/// Counts a failed attempt (wrong password or code) and slows repeated failures down.
async fn count_failure(state: &AppState, admin: &Admin, ip: IpAddr, reason: &'static str) -> Refusal {
    let id = admin.id.clone();
    let now = state.clock.now();
    let count = match state.db.write(move |c| Ok(model::record_failed_login(c, &id, now)?)).await {
        Ok(n) => n,
        Err(e) => return refuse(e.into(), "error"),
    };
    tracing::info!(event = "authn_login_fail", admin_id = %admin.id, reason, failures = count, ip = %ip, "admin login failed");
    failure_delay(state, i64::from(count)).await;
    refuse(invalid_credentials(), reason)
}

/// The growing delay after the fifth failure in the hour (the same for known and unknown names).
async fn failure_delay(state: &AppState, failures: i64) {
    let extra = failures - 5;
    if extra > 0 && state.settings.login_delay_ms > 0 {
        let ms = (extra as u64).saturating_mul(state.settings.login_delay_ms).min(3000);
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
}

/// Creates an admin session whose password was last proved at `reauth_at`; returns the token.
pub async fn start_session(state: &AppState, admin_id: &str, reauth_at: i64) -> Result<String, ApiError> {
    let token = random_token();
    let now = state.clock.now();
    let s = AdminSession {
        id_hash: token_hash(&token),
        admin_id: admin_id.to_string(),
        created_at: now,
        last_seen_at: now,
        absolute_expires_at: now + state.settings.admin_session_absolute_hours * 3600,
        reauth_at,
    };
    state.db.write(move |c| Ok(model::insert_session(c, &s)?)).await?;
    Ok(token)
}

/// The authenticated administrator of a request.
pub struct AdminPrincipal {
    pub admin: Admin,
    /// `None` for a role this version does not know: it may do nothing.
    pub role: Option<Role>,
    pub session_hash: String,
    /// The session may only enrol TOTP (required for everyone, none enrolled yet).
    pub enrolment_only: bool,
    /// Last time this session proved the password (login or re-authentication).
    pub reauth_at: i64,
    /// The client IP, for the audit log.
    pub ip: String,
}

/// Resolves the admin cookie, enforcing idle and absolute timeouts. Enrolment-only sessions
/// pass: use [`authorize`] for everything but the admin's own TOTP enrolment.
pub async fn authenticate(state: &AppState, req: &Request) -> Result<AdminPrincipal, ApiError> {
    let unauthenticated = || ApiError::unauthorized("unauthenticated", "Please log in as an administrator.");
    let token = cookie_value(req, cookie_name(state)).ok_or_else(unauthenticated)?;
    let hash = token_hash(&token);
    let now = state.clock.now();
    let idle = state.settings.admin_session_idle_minutes * 60;
    // Most requests only read; the write (expiry, or the idle clock every 30 s) is the exception,
    // so admin pages do not queue behind SQLite's single writer.
    let h = hash.clone();
    let found = state
        .db
        .read(move |c| {
            let Some(s) = model::find_session(c, &h)? else { return Ok(None) };
            let Some(admin) = model::find_by_id(c, &s.admin_id)? else { return Ok(None) };
            Ok(Some((s, admin, model::totp_required_for_all(c)?)))
        })
        .await?;
    let found = match found {
        Some((s, _, _)) if s.absolute_expires_at <= now || s.last_seen_at + idle <= now => {
            let h = hash.clone();
            state.db.write(move |c| Ok(model::delete_session(c, &h)?)).await?;
            None
        }
        Some((s, admin, require_all)) => {
            if now - s.last_seen_at >= 30 {
                let h = hash.clone();
                state.db.write(move |c| Ok(model::touch_session(c, &h, now)?)).await?;
            }
            Some((admin, require_all, s.reauth_at))
        }
        None => None,
    };
    let (admin, require_all, reauth_at) = found.ok_or_else(unauthenticated)?;
    if admin.status != model::ACTIVE {
        return Err(unauthenticated());
    }
    Ok(AdminPrincipal {
        role: Role::parse(&admin.role),
        enrolment_only: require_all && admin.totp_secret.is_none(),
        admin,
        session_hash: hash,
        reauth_at,
        ip: client_ip(req, &state.settings.trusted_proxies).to_string(),
    })
}

/// The principal of a full session whose role allows `permission` (401, then 403).
pub async fn authorize(state: &AppState, req: &Request, permission: Permission) -> Result<AdminPrincipal, ApiError> {
    let p = authenticate(state, req).await?;
    if p.enrolment_only {
        return Err(ApiError::forbidden(
            "totp_enrolment_required",
            "Set up two-factor authentication first (POST /api/v1/admin/me/totp).",
        ));
    }
    if !p.role.is_some_and(|r| allows(r, permission)) {
        tracing::warn!(event = "authz_fail", admin_id = %p.admin.id, role = %p.admin.role, ?permission, "admin lacks permission");
        return Err(ApiError::forbidden("forbidden", "Your role does not allow this."));
    }
    Ok(p)
}

/// [`authorize`] for a state change: the request must also come from our own origin.
pub async fn authorize_write(
    state: &AppState,
    req: &Request,
    permission: Permission,
) -> Result<AdminPrincipal, ApiError> {
    check_origin(state, req)?;
    authorize(state, req, permission).await
}

/// Replaces the session with a fresh one (privilege change); returns the new token.
pub async fn rotate_session(state: &AppState, p: &AdminPrincipal) -> Result<String, ApiError> {
    let old = p.session_hash.clone();
    state.db.write(move |c| Ok(model::delete_session(c, &old)?)).await?;
    // The new session proves nothing new: it keeps the old one's re-authentication time.
    start_session(state, &p.admin.id, p.reauth_at).await
}

/// Ends the presented session server-side (and audits it).
pub async fn logout(state: &AppState, req: &Request) -> Result<(), ApiError> {
    let Ok(p) = authenticate(state, req).await else { return Ok(()) };
    let now = state.clock.now();
    let event = Event::new(&p.admin.username, &p.ip, "admin.logout", &p.admin.username);
    let h = p.session_hash;
    state
        .db
        .write(move |c| {
            model::delete_session(c, &h)?;
            event.append(c, now)?;
            Ok(())
        })
        .await?;
    Ok(())
}

//! Re-authentication for high-value actions (refunds): the admin confirms their password (and
//! TOTP code, when enrolled) within the session; the confirmation lasts `admin_reauth_minutes`.
//! Failures count towards the same hourly lockout as logins and land in the audit log.

use crate::accounts::password;
use crate::accounts::service::busy;
use crate::admin::access::auth::AdminPrincipal;
use crate::admin::{access::model, access::totp};
use crate::audit::{Event, SUCCESS};
use crate::http::api_error::ApiError;
use crate::http::limits::Bucket;
use crate::state::AppState;

fn refused() -> ApiError {
    ApiError::forbidden("invalid_credentials", "The password or code is not correct.")
}

/// Refuses unless the session confirmed the password recently.
pub fn require_recent(state: &AppState, p: &AdminPrincipal) -> Result<(), ApiError> {
    let window = state.settings.merchant.admin_reauth_minutes * 60;
    if state.clock.now() - p.reauth_at <= window {
        return Ok(());
    }
    Err(ApiError::forbidden(
        "reauthentication_required",
        format!(
            "Confirm your password first (POST /api/v1/admin/session/reauth); it counts for {} minutes.",
            state.settings.merchant.admin_reauth_minutes
        ),
    ))
}

/// Checks the password (and code) of the session's admin; marks the session re-authenticated.
pub async fn reauthenticate(
    state: &AppState,
    p: &AdminPrincipal,
    password: &str,
    code: Option<&str>,
) -> Result<(), ApiError> {
    let result = check(state, p, password, code).await;
    let outcome = match &result {
        Ok(()) => SUCCESS.to_string(),
        Err(e) if e.parts().0.as_u16() >= 500 => return result,
        Err(e) => e.parts().1.error.clone(),
    };
    let now = state.clock.now();
    let event = Event::new(&p.admin.username, &p.ip, "admin.reauth", &p.admin.username).outcome(&outcome);
    let hash = p.session_hash.clone();
    let ok = result.is_ok();
    state
        .db
        .write(move |c| {
            if ok {
                model::mark_reauthenticated(c, &hash, now)?;
            }
            event.append(c, now)?;
            Ok(())
        })
        .await?;
    result
}

async fn check(state: &AppState, p: &AdminPrincipal, password: &str, code: Option<&str>) -> Result<(), ApiError> {
    let ip = p.ip.parse().unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED));
    state.limiters.check(Bucket::Login, ip).map_err(ApiError::rate_limited)?;
    let now = state.clock.now();
    let a = &p.admin;
    if now - a.failed_window_start < 3600 && i64::from(a.failed_logins) >= state.settings.login_failures_per_hour {
        let retry = (a.failed_window_start + 3600 - now).max(1) as u64;
        return Err(ApiError::TooManyRequests(
            crate::error::err("too_many_attempts", "Too many failed attempts; try again later."),
            retry,
        ));
    }
    if password.len() > password::MAX_BYTES {
        return Err(count_failure(state, p).await);
    }
    let verified =
        state.hasher.verify(password.to_string(), Some(a.password_hash.clone())).await.map_err(|_| busy())?;
    if !verified.ok {
        return Err(count_failure(state, p).await);
    }
    if let Some(secret) = &a.totp_secret {
        let Some(code) = code.map(str::trim).filter(|c| !c.is_empty()) else {
            return Err(ApiError::forbidden("totp_required", "Enter the code from your authenticator app."));
        };
        let Some(step) = totp::matching_step(secret, code, now) else { return Err(count_failure(state, p).await) };
        let id = a.id.clone();
        if !state.db.write(move |c| Ok(model::consume_totp_step(c, &id, step)?)).await? {
            return Err(count_failure(state, p).await);
        }
    }
    let id = a.id.clone();
    state.db.write(move |c| Ok(model::reset_failed_logins(c, &id)?)).await?;
    Ok(())
}

async fn count_failure(state: &AppState, p: &AdminPrincipal) -> ApiError {
    let id = p.admin.id.clone();
    let now = state.clock.now();
    match state.db.write(move |c| Ok(model::record_failed_login(c, &id, now)?)).await {
        Ok(n) => {
            tracing::info!(event = "authn_reauth_fail", admin_id = %p.admin.id, failures = n, "admin re-authentication failed");
            refused()
        }
        Err(e) => e.into(),
    }
}

//! Login and session rules. Unknown logins cost the same argon2 work as known ones and get
//! the same answer; failures are counted per account in the database (shared by instances).

use std::net::IpAddr;
use std::time::Duration;

use diesel::QueryResult;
use poem::Request;

use crate::accounts::model::{self as accounts, Account};
use crate::accounts::password;
use crate::accounts::service::busy;
use crate::crypto::{random_token, token_hash};
use crate::db::DbConn;
use crate::http::api_error::ApiError;
use crate::http::cookies::{cookie_value, set_cookie};
use crate::http::limits::Bucket;
use crate::sessions::model::{self, Session};
use crate::state::AppState;

/// Name of the session cookie: `__Host-` prefixed when served over https, `__Secure-` instead
/// when `cookie_domain` shares it with the services' hosts (`__Host-` forbids a Domain).
pub fn cookie_name(state: &AppState) -> &'static str {
    match (state.settings.is_https(), state.settings.access.cookie_domain.is_some()) {
        (true, false) => "__Host-keyturn_session",
        (true, true) => "__Secure-keyturn_session",
        (false, _) => "keyturn_session",
    }
}

/// `Set-Cookie` value carrying a session token.
pub fn session_cookie(state: &AppState, token: &str) -> String {
    let max_age = state.settings.session_absolute_hours * 3600;
    let domain = state.settings.access.domain();
    set_cookie(cookie_name(state), token, "Lax", max_age, state.settings.is_https(), domain.as_deref())
}

/// `Set-Cookie` value that removes the session cookie.
pub fn clear_cookie(state: &AppState) -> String {
    let domain = state.settings.access.domain();
    set_cookie(cookie_name(state), "", "Lax", 0, state.settings.is_https(), domain.as_deref())
}

fn invalid_credentials() -> ApiError {
    ApiError::unauthorized("invalid_credentials", "The login or password is not correct.")
}

/// A new session for an account (not stored yet) and the token for its cookie.
pub fn new_session(state: &AppState, account_id: &str) -> (String, Session) {
    let token = random_token();
    let now = state.clock.now();
    let s = Session {
        id_hash: token_hash(&token),
        account_id: account_id.to_string(),
        created_at: now,
        last_seen_at: now,
        absolute_expires_at: now + state.settings.session_absolute_hours * 3600,
    };
    (token, s)
}

/// What [`end_all_sign_ins`] ended.
#[derive(Debug, Clone, Copy, Default)]
pub struct SignInsEnded {
    pub sessions: usize,
    pub oidc_tokens: usize,
}

/// Ends every way the account is signed in, inside the caller's transaction: its cabinet
/// sessions, its OpenID Connect access and refresh tokens at every client, its codes not yet
/// exchanged and its unused password-reset links. Every path that changes or resets the
/// password, suspends, revokes or erases the account calls this one function, so none of
/// them can forget a kind of sign-in. (A self-service password change then stores a fresh
/// session for the browser that asked, in the same transaction.)
pub fn end_all_sign_ins(conn: &mut DbConn, account_id: &str, now: i64) -> QueryResult<SignInsEnded> {
    let sessions = model::delete_all_for_account(conn, account_id)?;
    let oidc_tokens = crate::oidc::model::revoke_all_for_account(conn, account_id, now)?;
    crate::oidc::model::delete_unused_codes_for_account(conn, account_id)?;
    crate::password_reset::model::end_links(conn, account_id, now)?;
    Ok(SignInsEnded { sessions, oidc_tokens })
}

/// Checks a login; on success starts a session and returns `(token, must_change_password)`.
/// The session is stored in the transaction that re-checks the verified hash is still the
/// account's, so a password changed during the slow check never lets the old one in.
pub async fn login(state: &AppState, ip: IpAddr, login: &str, password: &str) -> Result<(String, bool), ApiError> {
    let (account, token) = verify(state, ip, login, password, true).await?;
    let token = token.ok_or_else(invalid_credentials)?;
    tracing::info!(event = "authn_login_success", account_id = %account.id, ip = %ip, "logged in");
    Ok((token, account.must_change_password))
}

/// The cabinet login's checks without the session (also `POST /access/check`): per-IP limit,
/// hashing admission, per-account lockout counted in the database, the same work and answer
/// for unknown logins, growing delays, then the account's status. Returns the account.
pub async fn check_credentials(state: &AppState, ip: IpAddr, login: &str, password: &str) -> Result<Account, ApiError> {
    Ok(verify(state, ip, login, password, false).await?.0)
}

/// [`check_credentials`]; with `start`, also stores a new session when they pass and returns
/// its token.
async fn verify(
    state: &AppState,
    ip: IpAddr,
    login: &str,
    password: &str,
    start: bool,
) -> Result<(Account, Option<String>), ApiError> {
    let checked = check(state, ip, login, password, start).await;
    state.metrics.login(match &checked {
        Ok(_) => "success",
        Err(e) => e.parts().1.error.as_str(),
    });
    checked
}

/// [`verify`]'s work (it counts the outcome for the metrics).
async fn check(
    state: &AppState,
    ip: IpAddr,
    login: &str,
    password: &str,
    start: bool,
) -> Result<(Account, Option<String>), ApiError> {
    state.limiters.check(Bucket::Login, ip).map_err(ApiError::rate_limited)?;
    let login = login.trim().to_lowercase();
    if login.is_empty()
        || login.len() > 254
        || login.chars().any(char::is_control)
        || password.len() > password::MAX_BYTES
    {
        return Err(invalid_credentials());
    }
    // A place in the hashing queue first: under a flood the excess is refused before it
    // touches the database (and a refused attempt is not counted against the account).
    let hashing = state.hasher.admit().map_err(|_| busy())?;
    let lookup = login.clone();
    let account = state
        .db
        .read(move |c| {
            Ok(if lookup.contains('@') {
                accounts::find_by_email(c, &lookup)?
            } else {
                accounts::find_by_login(c, &lookup)?
            })
        })
        .await?;
    let now = state.clock.now();
    let limit = state.settings.login_failures_per_hour;
    // The attempt is counted BEFORE the slow check, atomically, so parallel guesses cannot
    // overshoot the limit; unknown logins are counted too (by a hash of what was typed), so
    // they get the same answers, delays and lockout as real ones: nothing to enumerate.
    let attempt: i64 = match &account {
        Some(a) => {
            let id = a.id.clone();
            i64::from(state.db.write(move |c| Ok(accounts::record_failed_login(c, &id, now)?)).await?)
        }
        None => {
            let key = format!("login:{}", token_hash(&login));
            state.db.write(move |c| Ok(accounts::bump(c, &key, 3600, now)?)).await?
        }
    };
    if attempt > limit {
        let subject = account.as_ref().map(|a| a.id.as_str()).unwrap_or("unknown");
        tracing::warn!(event = "authn_login_fail_max", account_id = %subject, "login locked for the hour");
        return Err(ApiError::TooManyRequests(
            crate::error::err("too_many_attempts", "Too many failed logins; try again later."),
            3600,
        ));
    }
    let hash = account.as_ref().and_then(|a| a.password_hash.clone());
    let verified = hashing.verify(password.to_string(), hash).await.map_err(|_| busy())?;
    let account = match account {
        Some(a) if verified.ok => a,
        other => {
            match &other {
                Some(a) => {
                    tracing::info!(event = "authn_login_fail", account_id = %a.id, failures = attempt, ip = %ip, "login failed")
                }
                None => {
                    tracing::info!(event = "authn_login_fail", reason = "unknown_login", failures = attempt, ip = %ip, "login failed")
                }
            }
            let extra = attempt - 5;
            if extra > 0 && state.settings.login_delay_ms > 0 {
                let ms = (extra as u64).saturating_mul(state.settings.login_delay_ms).min(3000);
                tokio::time::sleep(Duration::from_millis(ms)).await;
            }
            return Err(invalid_credentials());
        }
    };
    check_status(&account, now)?;
    let id = account.id.clone();
    let checked = account.password_hash.clone().unwrap_or_default();
    let rehash =
        if verified.needs_rehash { Some(hashing.hash(password.to_string()).await.map_err(|_| busy())?) } else { None };
    let (token, session) = start.then(|| new_session(state, &id)).unzip();
    let current = state
        .db
        .write(move |c| {
            // Under the account's lock: the hash just verified must still be the account's
            // (a password change or reset meanwhile wins), and its status still allow a login.
            let Some(current) = accounts::find_by_id_locked(c, &id)? else { return Ok(Err(invalid_credentials())) };
            if current.password_hash.as_deref() != Some(checked.as_str()) {
                return Ok(Err(invalid_credentials()));
            }
            if let Err(e) = check_status(&current, now) {
                return Ok(Err(e));
            }
            accounts::set_failed_logins(c, &id, 0, 0)?;
            if let Some(h) = rehash {
                accounts::replace_hash(c, &id, &checked, &h)?;
            }
            if let Some(s) = session {
                model::insert(c, &s)?;
            }
            Ok(Ok(current))
        })
        .await?;
    match current {
        Ok(current) => Ok((current, token)),
        Err(e) => {
            tracing::info!(event = "authn_login_fail", account_id = %account.id, reason = "changed_meanwhile", ip = %ip, "login failed");
            Err(e)
        }
    }
}

/// Refusals that only a correct password may learn about.
fn check_status(a: &Account, now: i64) -> Result<(), ApiError> {
    match a.status {
        accounts::PENDING_VERIFICATION => {
            return Err(ApiError::forbidden(
                "email_not_verified",
                "Please confirm your email address first: follow the link in the email we sent you.",
            ))
        }
        accounts::SUSPENDED => {
            return Err(ApiError::forbidden("account_suspended", "This account is suspended; contact support."))
        }
        accounts::ACTIVE => {}
        _ => return Err(invalid_credentials()),
    }
    if a.must_change_password && a.temp_password_expires_at.is_some_and(|t| t <= now) {
        return Err(ApiError::unauthorized(
            "temporary_password_expired",
            "The temporary password has expired; ask for a new one at /forgot-password.",
        ));
    }
    Ok(())
}

/// The session token presented by a request, if any.
pub fn presented_token(state: &AppState, req: &Request) -> Option<String> {
    cookie_value(req, cookie_name(state))
}

/// The authenticated customer: a live session of an active account.
pub struct Principal {
    pub account: Account,
    pub session_hash: String,
}

/// How stale a session's idle clock may get before a request refreshes it.
const TOUCH_EVERY_SECS: i64 = 30;

/// Resolves the session cookie to a principal, enforcing idle and absolute timeouts.
pub async fn authenticate(state: &AppState, req: &Request) -> Result<Principal, ApiError> {
    let unauthenticated = || ApiError::unauthorized("unauthenticated", "Please log in.");
    let token = presented_token(state, req).ok_or_else(unauthenticated)?;
    let hash = token_hash(&token);
    let now = state.clock.now();
    let idle = state.settings.session_idle_minutes * 60;
    // Most requests only read; the write (expiry, or the idle clock every 30 s) is the exception,
    // so cabinet requests do not queue behind SQLite's single writer.
    let found = find_with_account(state, &hash).await?;
    let found = match found {
        Some((s, _)) if s.absolute_expires_at <= now || s.last_seen_at + idle <= now => {
            let h = hash.clone();
            state.db.write(move |c| Ok(model::delete(c, &h)?)).await?;
            None
        }
        Some((s, account)) => {
            if now - s.last_seen_at >= TOUCH_EVERY_SECS {
                let h = hash.clone();
                state.db.write(move |c| Ok(model::touch(c, &h, now)?)).await?;
            }
            Some(account)
        }
        None => None,
    };
    let account = found.ok_or_else(unauthenticated)?;
    match account.status {
        accounts::ACTIVE => Ok(Principal { account, session_hash: hash }),
        accounts::SUSPENDED => Err(ApiError::forbidden("account_suspended", "This account is suspended.")),
        _ => Err(unauthenticated()),
    }
}

/// A session and its account, read only.
async fn find_with_account(state: &AppState, hash: &str) -> Result<Option<(Session, Account)>, ApiError> {
    let h = hash.to_string();
    Ok(state
        .db
        .read(move |c| {
            let Some(s) = model::find(c, &h)? else { return Ok(None) };
            Ok(accounts::find_by_id(c, &s.account_id)?.map(|a| (s, a)))
        })
        .await?)
}

/// The account behind the request's session, WITHOUT any write (forward auth runs on every
/// request of a protected site): an expired session is treated as none but left for the
/// cabinet or the sweeps to delete, and the idle clock is not moved. Any status is returned.
pub async fn peek(state: &AppState, req: &Request) -> Result<Option<Account>, ApiError> {
    Ok(peek_session(state, req).await?.map(|(_, a)| a))
}

/// Like [`peek`], with the live session itself: its `created_at` is when the customer logged
/// in (the OpenID Connect `auth_time`).
pub async fn peek_session(state: &AppState, req: &Request) -> Result<Option<(Session, Account)>, ApiError> {
    let Some(token) = presented_token(state, req) else { return Ok(None) };
    let now = state.clock.now();
    let idle = state.settings.session_idle_minutes * 60;
    Ok(find_with_account(state, &token_hash(&token))
        .await?
        .filter(|(s, _)| s.absolute_expires_at > now && s.last_seen_at + idle > now))
}

/// Ends one session server-side.
pub async fn logout(state: &AppState, req: &Request) -> Result<(), ApiError> {
    if let Some(token) = presented_token(state, req) {
        let h = token_hash(&token);
        state.db.write(move |c| Ok(model::delete(c, &h)?)).await?;
    }
    Ok(())
}

/// Refuses a cookie-authenticated state change coming from another origin (CSRF defence in
/// depth; JSON bodies and SameSite=Lax already stop simple cross-site posts).
pub fn check_origin(state: &AppState, req: &Request) -> Result<(), ApiError> {
    let Some(origin) = req.header("origin") else { return Ok(()) };
    let ours = url::Url::parse(&state.public_url).ok().map(|u| u.origin().ascii_serialization());
    if ours.as_deref() == Some(origin) {
        Ok(())
    } else {
        tracing::warn!(event = "authz_fail", reason = "cross_origin", "cross-origin state change refused");
        Err(ApiError::forbidden("csrf_rejected", "This request came from another site."))
    }
}

//! API keys (create, list, revoke, and the `Authorization: Bearer kt_…` principal) and the two
//! calls they authorise: a customer's access by login or email, and a login + password check
//! for servers that take credentials themselves (the cabinet login's own checks, reused).

use std::net::IpAddr;

use poem::Request;
use serde_json::json;

use crate::access::model::{self, ApiKey, SCOPES};
use crate::accounts::access::{admit, grants_of, Grant};
use crate::accounts::model::{self as accounts, Account};
use crate::admin::access::auth::AdminPrincipal;
use crate::admin::access::model::ACTIVE as ADMIN_ACTIVE;
use crate::admin::access::roles::{allows, Permission, Role};
use crate::audit::Event;
use crate::crypto::{random_id, random_token, token_hash};
use crate::http::api_error::ApiError;
use crate::state::AppState;

/// Prefix of every key.
pub const KEY_PREFIX: &str = "kt_";

fn invalid_key() -> ApiError {
    ApiError::unauthorized("invalid_api_key", "Send a valid API key: Authorization: Bearer kt_…")
}

/// True while an admin of `role` may manage API keys: a key lives only as long as its creator
/// could still create it (a demoted creator's keys stop at once, like a disabled one's).
fn may_hold_keys(role: &str) -> bool {
    Role::parse(role).is_some_and(|r| allows(r, Permission::ManageApiKeys))
}

/// The key presented by a request, if it holds `scope`: 401 `invalid_api_key` for a missing,
/// unknown or revoked key (or one whose creator was disabled or no longer holds
/// `ManageApiKeys`), 403 `insufficient_scope`.
pub async fn authorize_key(state: &AppState, req: &Request, scope: &'static str) -> Result<ApiKey, ApiError> {
    let presented = req
        .header("authorization")
        .and_then(|h| h.strip_prefix("Bearer ").or_else(|| h.strip_prefix("bearer ")))
        .map(str::trim)
        .filter(|k| k.starts_with(KEY_PREFIX) && k.len() <= 128)
        .ok_or_else(invalid_key)?;
    let hash = token_hash(presented);
    let found = state.db.read(move |c| Ok(model::find_by_hash(c, &hash)?)).await?;
    let key = match found {
        Some((k, admin_status, role))
            if k.revoked_at.is_none() && admin_status == ADMIN_ACTIVE.as_str() && may_hold_keys(&role) =>
        {
            k
        }
        _ => {
            tracing::warn!(event = "authn_api_key_fail", "unknown, revoked or orphaned API key");
            return Err(invalid_key());
        }
    };
    if !key.allows(scope) {
        tracing::warn!(event = "authz_fail", key_id = %key.id, scope, "API key lacks the scope");
        return Err(ApiError::forbidden("insufficient_scope", format!("This key does not hold the `{scope}` scope.")));
    }
    Ok(key)
}

/// Creates a key; returns it with the plaintext key, which is never stored or shown again.
pub async fn create_key(
    state: &AppState,
    p: &AdminPrincipal,
    name: &str,
    scopes: &[String],
) -> Result<(ApiKey, String), ApiError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(ApiError::unprocessable("validation_failed", "name must be 1 to 100 characters"));
    }
    let mut wanted: Vec<&str> = Vec::new();
    for s in scopes {
        let Some(known) = SCOPES.iter().find(|k| **k == s.trim()) else {
            return Err(ApiError::unprocessable(
                "validation_failed",
                format!("unknown scope; use {}", SCOPES.join(", ")),
            ));
        };
        if !wanted.contains(known) {
            wanted.push(known);
        }
    }
    if wanted.is_empty() {
        return Err(ApiError::unprocessable("validation_failed", "scopes must name at least one scope"));
    }
    let plain = format!("{KEY_PREFIX}{}", random_token());
    let now = state.clock.now();
    let key = ApiKey {
        id: random_id("key"),
        name: name.to_string(),
        key_hash: token_hash(&plain),
        key_prefix: plain.chars().take(KEY_PREFIX.len() + 4).collect(),
        scopes: wanted.join(","),
        created_by: p.admin.id.clone(),
        created_at: now,
        revoked_at: None,
    };
    let event = Event::new(&p.admin.username, &p.ip, "api_key.create", &key.id)
        .after(json!({"name": key.name, "scopes": wanted, "prefix": key.key_prefix}));
    let stored = key.clone();
    state
        .db
        .write(move |c| {
            model::insert(c, &stored)?;
            event.append(c, now)?;
            Ok(())
        })
        .await?;
    tracing::info!(event = "api_key_created", key_id = %key.id, admin_id = %p.admin.id, "API key created");
    Ok((key, plain))
}

/// Revokes a key (404 when unknown; revoking a revoked key changes nothing).
pub async fn revoke_key(state: &AppState, p: &AdminPrincipal, key_id: &str) -> Result<(), ApiError> {
    let now = state.clock.now();
    let event = Event::new(&p.admin.username, &p.ip, "api_key.revoke", key_id);
    let id = key_id.to_string();
    let known = state
        .db
        .write(move |c| {
            if model::find_by_id(c, &id)?.is_none() {
                return Ok(false);
            }
            if model::revoke(c, &id, now)? {
                event.append(c, now)?;
            }
            Ok(true)
        })
        .await?;
    if !known {
        return Err(ApiError::not_found("No such API key."));
    }
    tracing::info!(event = "api_key_revoked", key_id = %key_id, admin_id = %p.admin.id, "API key revoked");
    Ok(())
}

/// A customer with every access they have.
pub struct CustomerAccess {
    pub account: Account,
    pub grants: Vec<Grant>,
}

/// The customer named by login or email (404 `unknown_customer`).
pub async fn customer_access(
    state: &AppState,
    login: Option<&str>,
    email: Option<&str>,
) -> Result<CustomerAccess, ApiError> {
    let unknown = || ApiError::NotFound(crate::error::err("unknown_customer", "No customer with this login or email."));
    let (by_login, what) = match (login, email) {
        (Some(l), None) => (true, l.trim().to_lowercase()),
        (None, Some(e)) => (false, e.trim().to_lowercase()),
        _ => return Err(ApiError::bad_request("invalid_query", "Give exactly one of `login` and `email`.")),
    };
    if what.is_empty() || what.len() > 254 || what.chars().any(char::is_control) {
        return Err(unknown());
    }
    let found = state
        .db
        .read(move |c| {
            let a = if by_login { accounts::find_by_login(c, &what)? } else { accounts::find_by_email(c, &what)? };
            let Some(a) = a else { return Ok(None) };
            let grants = grants_of(c, &a.id)?;
            Ok(Some(CustomerAccess { account: a, grants }))
        })
        .await?;
    found.ok_or_else(unknown)
}

/// `access/check`: the cabinet login's checks (no session), then the temporary password and
/// the access to `service` (any, without one). Status refusals only follow a right password.
pub async fn check(
    state: &AppState,
    ip: IpAddr,
    login: &str,
    password: &str,
    service: Option<&str>,
) -> Result<CustomerAccess, ApiError> {
    let account = crate::sessions::service::check_credentials(state, ip, login, password).await?;
    if account.must_change_password {
        return Err(ApiError::forbidden(
            "password_change_required",
            "The temporary password only allows choosing a new one, in the cabinet.",
        ));
    }
    let id = account.id.clone();
    let asked = service.map(str::trim).filter(|s| !s.is_empty()).map(String::from);
    let (grants, service) =
        state.db.read(move |c| Ok((grants_of(c, &id)?, crate::access::forward::current(c, asked)?))).await?;
    if let Err(why) = admit(&grants, service.as_deref(), state.clock.now()) {
        tracing::info!(event = "authz_fail", account_id = %account.id, reason = why.code(), "access check refused");
        return Err(ApiError::forbidden("no_access", "This account has no open access to this service."));
    }
    tracing::info!(event = "access_check_success", account_id = %account.id, ip = %ip, "access check passed");
    Ok(CustomerAccess { account, grants })
}

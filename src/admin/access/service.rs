//! Admin rules: creating administrators (the CLI and `POST /admin/admins` share this),
//! TOTP enrolment and the owner's require-TOTP switch.

use serde_json::json;

use crate::accounts::password;
use crate::accounts::service::{busy, weak_password_error};
use crate::admin::access::auth::AdminPrincipal;
use crate::admin::access::model::{self, Admin};
use crate::admin::access::roles::Role;
use crate::admin::access::totp;
use crate::audit::Event;
use crate::crypto::{random_id, PasswordHasherPool};
use crate::db::Db;
use crate::http::api_error::ApiError;
use crate::state::AppState;

/// Who is creating an admin, for the audit log.
pub struct Actor<'a> {
    pub name: &'a str,
    pub ip: &'a str,
}

/// A username: 3–64 of `a-z 0-9 . _ -`, starting with a letter or digit.
pub fn validate_username(raw: &str) -> Result<String, ApiError> {
    let u = raw.trim().to_lowercase();
    let ok = (3..=64).contains(&u.len())
        && u.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b))
        && u.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric());
    if ok {
        Ok(u)
    } else {
        Err(ApiError::unprocessable(
            "validation_failed",
            "username must be 3 to 64 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit",
        ))
    }
}

/// Creates an administrator after checking the username, the role and the password policy;
/// audited in the same transaction. 409 `username_taken` when the name exists.
pub async fn create_admin(
    db: &Db,
    hasher: &PasswordHasherPool,
    now: i64,
    actor: Actor<'_>,
    username: &str,
    role: &str,
    password: &str,
) -> Result<Admin, ApiError> {
    let username = validate_username(username)?;
    let role = Role::parse(role.trim()).ok_or_else(|| {
        ApiError::unprocessable("validation_failed", "role must be one of owner, operator, support, catalog, viewer")
    })?;
    password::check(password, &[&username, "keyturn"]).map_err(weak_password_error)?;
    let hash = hasher.hash(password.to_string()).await.map_err(|_| busy())?;
    let admin = Admin {
        id: random_id("adm"),
        username: username.clone(),
        role: role.as_str().into(),
        password_hash: hash,
        status: model::ACTIVE,
        totp_secret: None,
        totp_pending_secret: None,
        totp_last_step: 0,
        failed_logins: 0,
        failed_window_start: 0,
        created_at: now,
        updated_at: now,
    };
    let event = Event::new(actor.name, actor.ip, "admin.create", &username)
        .after(json!({"username": username, "role": role.as_str(), "status": model::ACTIVE}));
    let stored = admin.clone();
    let created = db
        .write(move |c| {
            if model::find_by_username(c, &stored.username)?.is_some() {
                return Ok(false);
            }
            model::insert(c, &stored)?;
            event.append(c, now)?;
            Ok(true)
        })
        .await;
    match created {
        Ok(true) => {
            tracing::info!(event = "admin_created", admin_id = %admin.id, role = %admin.role, "administrator created");
            Ok(admin)
        }
        Err(e) if !e.is_unique_violation() => Err(e.into()),
        _ => Err(ApiError::conflict("username_taken", "An administrator with this username exists.")),
    }
}

/// A secret handed out for enrolment.
pub struct Enrolment {
    pub secret: String,
    pub otpauth_uri: String,
}

/// Starts (or restarts) TOTP enrolment; refused once TOTP is enabled.
pub async fn start_totp(state: &AppState, p: &AdminPrincipal) -> Result<Enrolment, ApiError> {
    if p.admin.totp_secret.is_some() {
        return Err(ApiError::conflict("totp_already_enabled", "Two-factor authentication is already enabled."));
    }
    let secret = totp::new_secret();
    let now = state.clock.now();
    let (id, s) = (p.admin.id.clone(), secret.clone());
    let event = Event::new(&p.admin.username, &p.ip, "admin.totp_enrolment_started", &p.admin.username);
    state
        .db
        .write(move |c| {
            model::set_pending_totp(c, &id, &s, now)?;
            event.append(c, now)?;
            Ok(())
        })
        .await?;
    let otpauth_uri = totp::otpauth_uri("keyturn", &p.admin.username, &secret);
    Ok(Enrolment { secret, otpauth_uri })
}

/// Confirms enrolment with a code from the app; TOTP is then required at every login.
pub async fn confirm_totp(state: &AppState, p: &AdminPrincipal, code: &str) -> Result<(), ApiError> {
    if p.admin.totp_secret.is_some() {
        return Err(ApiError::conflict("totp_already_enabled", "Two-factor authentication is already enabled."));
    }
    // A stolen session must not bind its own authenticator to the account: the password must
    // have been proved recently (the login itself, or POST /admin/session/reauth).
    crate::admin::access::reauth::require_recent(state, p)?;
    let Some(secret) = p.admin.totp_pending_secret.clone() else {
        return Err(ApiError::conflict("totp_not_started", "Start the enrolment first (POST /api/v1/admin/me/totp)."));
    };
    let now = state.clock.now();
    let Some(step) = totp::matching_step(&secret, code, now) else {
        return Err(ApiError::unprocessable("invalid_totp", "The code does not match; check the app's clock."));
    };
    let id = p.admin.id.clone();
    let event = Event::new(&p.admin.username, &p.ip, "admin.totp_enabled", &p.admin.username)
        .before(json!({"totp_enabled": false}))
        .after(json!({"totp_enabled": true}));
    let done = state
        .db
        .write(move |c| {
            let n = model::enable_totp(c, &id, &secret, step, now)?;
            if n == 1 {
                event.append(c, now)?;
            }
            Ok(n == 1)
        })
        .await?;
    if !done {
        return Err(ApiError::conflict("totp_not_started", "The enrolment changed meanwhile; start again."));
    }
    tracing::info!(event = "admin_totp_enabled", admin_id = %p.admin.id, "TOTP enabled");
    Ok(())
}

/// The owner's switch: every admin must use TOTP (admins without it can only enrol). The
/// owner must have TOTP before switching it on.
pub async fn set_require_totp(state: &AppState, p: &AdminPrincipal, required: bool) -> Result<(), ApiError> {
    // Turning it on without TOTP of one's own would lock the owner into enrolment too.
    if required && p.admin.totp_secret.is_none() {
        return Err(ApiError::conflict("totp_not_enabled", "Enable two-factor authentication for yourself first."));
    }
    let now = state.clock.now();
    let (actor, ip) = (p.admin.username.clone(), p.ip.clone());
    state
        .db
        .write(move |c| {
            let before = model::totp_required_for_all(c)?;
            model::put_setting(c, model::REQUIRE_TOTP, if required { "true" } else { "false" })?;
            Event::new(&actor, &ip, "settings.require_totp", model::REQUIRE_TOTP)
                .before(json!({"required": before}))
                .after(json!({"required": required}))
                .append(c, now)?;
            Ok(())
        })
        .await?;
    Ok(())
}

/// Disables (`enabled == false`) or re-enables an administrator. Disabling ends their sessions
/// at once; an admin cannot disable themselves (so an owner always remains).
pub async fn set_admin_enabled(
    state: &AppState,
    p: &AdminPrincipal,
    username: &str,
    enabled: bool,
) -> Result<(), ApiError> {
    let username = username.trim().to_lowercase();
    if username == p.admin.username && !enabled {
        return Err(ApiError::conflict("cannot_disable_self", "You cannot disable your own account."));
    }
    let now = state.clock.now();
    let status = if enabled { model::ACTIVE } else { model::DISABLED };
    let action = if enabled { "admin.enable" } else { "admin.disable" };
    let event = Event::new(&p.admin.username, &p.ip, action, &username);
    let found = state
        .db
        .write(move |c| {
            let Some(a) = model::find_by_username(c, &username)? else { return Ok(None) };
            if !enabled && a.role == "owner" && model::active_owners(c)? <= 1 {
                return Ok(Some(false));
            }
            model::set_status(c, &a.id, status, now)?;
            if !enabled {
                model::delete_sessions_of(c, &a.id)?;
            }
            event.before(json!({"status": a.status})).after(json!({"status": status})).append(c, now)?;
            Ok(Some(true))
        })
        .await?;
    match found {
        None => Err(ApiError::not_found("No such administrator.")),
        Some(false) => Err(ApiError::conflict("last_owner", "The last active owner cannot be disabled.")),
        Some(true) => Ok(()),
    }
}

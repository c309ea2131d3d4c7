//! Support's work on customer accounts: search, suspend, reinstate, revoke (final), resend
//! credentials, extend access. Each change and its audit entry share one transaction;
//! suspension and revocation end every sign-in of the customer (sessions, OpenID Connect
//! tokens, reset links) in that same transaction.

use serde_json::json;

use crate::accounts::model::{self as accounts, Account};
use crate::admin::access::auth::AdminPrincipal;
use crate::audit::Event;
use crate::catalog::model as catalog;
use crate::db::DbConn;
use crate::http::api_error::ApiError;
use crate::mail::outbox;
use crate::sessions::service::end_all_sign_ins;
use crate::state::AppState;
use crate::webhooks::events::{self as webhooks, Data};

/// An account as admins see it, with `(slug, name, active_until)` per service.
pub struct AccountView {
    pub account: Account,
    pub services: Vec<(String, String, i64)>,
}

/// Accounts whose email or login contains `q`, newest first.
pub async fn search(state: &AppState, q: Option<String>, limit: i64) -> Result<Vec<AccountView>, ApiError> {
    let found = state
        .db
        .read(move |c| {
            let list = accounts::search(c, q.as_deref(), limit)?;
            let mut out = Vec::with_capacity(list.len());
            for account in list {
                let services = accounts::access_of(c, &account.id)?;
                out.push(AccountView { account, services });
            }
            Ok(out)
        })
        .await?;
    Ok(found)
}

/// What an admin does to an account's status.
#[derive(Clone, Copy)]
pub enum StatusChange {
    Suspend,
    Reinstate,
    Revoke,
}

fn not_found() -> ApiError {
    ApiError::not_found("No account with this login.")
}

fn wrong_state(status: accounts::AccountStatus) -> ApiError {
    ApiError::conflict("invalid_state", format!("Not possible while the account is {status}."))
}

/// Finds an account by login inside a transaction (404 for malformed logins too).
pub(crate) fn find(c: &mut DbConn, login: &str) -> Result<Result<Account, ApiError>, crate::db::DbError> {
    if !crate::crypto::is_key(login) {
        return Ok(Err(not_found()));
    }
    Ok(accounts::find_by_login(c, &login.to_lowercase())?.ok_or_else(not_found))
}

/// Suspends, reinstates or revokes. Suspension and revocation end every sign-in at once;
/// revocation also forgets the password and can never be undone.
pub async fn change_status(
    state: &AppState,
    p: &AdminPrincipal,
    login: &str,
    change: StatusChange,
) -> Result<(), ApiError> {
    let now = state.clock.now();
    let (login, actor, ip) = (login.to_string(), p.admin.username.clone(), p.ip.clone());
    let outcome = state
        .db
        .write(move |c| {
            let account = match find(c, &login)? {
                Ok(a) => a,
                Err(e) => return Ok(Err(e)),
            };
            let (action, from, to): (&'static str, &[accounts::AccountStatus], accounts::AccountStatus) = match change {
                StatusChange::Suspend => {
                    ("account.suspend", &[accounts::ACTIVE, accounts::PENDING_VERIFICATION], accounts::SUSPENDED)
                }
                StatusChange::Reinstate => {
                    let back = if account.email_verified_at.is_some() {
                        accounts::ACTIVE
                    } else {
                        accounts::PENDING_VERIFICATION
                    };
                    ("account.reinstate", &[accounts::SUSPENDED], back)
                }
                StatusChange::Revoke => (
                    "account.revoke",
                    &[accounts::ACTIVE, accounts::PENDING_VERIFICATION, accounts::SUSPENDED],
                    accounts::REVOKED,
                ),
            };
            if !accounts::set_status(c, &account.id, from, to, now)? {
                return Ok(Err(wrong_state(account.status)));
            }
            let mut ended = 0;
            if !matches!(change, StatusChange::Reinstate) {
                ended = end_all_sign_ins(c, &account.id, now)?.sessions;
            }
            if matches!(change, StatusChange::Revoke) {
                accounts::clear_password(c, &account.id, now)?;
                accounts::expire_tokens(c, &account.id, now)?;
            }
            match change {
                StatusChange::Suspend => {
                    webhooks::emit(c, webhooks::ACCOUNT_SUSPENDED, Some(&account.id), Data::account(&account), now)?
                }
                StatusChange::Reinstate => {
                    webhooks::emit(c, webhooks::ACCOUNT_REINSTATED, Some(&account.id), Data::account(&account), now)?
                }
                StatusChange::Revoke => webhooks::access_revoked(c, &account, "revoked", true, now)?,
            }
            Event::new(&actor, &ip, action, &account.login)
                .before(json!({"status": account.status}))
                .after(json!({"status": to, "sessions_ended": ended}))
                .append(c, now)?;
            Ok(Ok((account.id, action)))
        })
        .await?;
    let (account_id, action) = outcome?;
    tracing::info!(event = "admin_account_change", action, account_id = %account_id, admin_id = %p.admin.id, "account status changed");
    Ok(())
}

/// Queues fresh credentials: for an unverified account the usual email (new link and
/// temporary password); for an active one a new temporary password that replaces the old
/// (made and mailed by the outbox job). Suspended and revoked accounts get nothing (409).
pub async fn resend_credentials(state: &AppState, p: &AdminPrincipal, login: &str) -> Result<(), ApiError> {
    let now = state.clock.now();
    let (login, actor, ip) = (login.to_string(), p.admin.username.clone(), p.ip.clone());
    state
        .db
        .write(move |c| {
            let account = match find(c, &login)? {
                Ok(a) => a,
                Err(e) => return Ok(Err(e)),
            };
            let kind = match account.status {
                accounts::PENDING_VERIFICATION => outbox::CREDENTIALS,
                accounts::ACTIVE => outbox::CREDENTIALS_RESET,
                other => return Ok(Err(wrong_state(other))),
            };
            outbox::enqueue(c, kind, Some(&account.id), None, now)?;
            Event::new(&actor, &ip, "account.resend_credentials", &account.login)
                .after(json!({"email": kind}))
                .append(c, now)?;
            Ok(Ok(()))
        })
        .await??;
    state.worker_wake.notify_one();
    Ok(())
}

/// Extends (or grants) access to a service by `days` (1–3650).
pub async fn extend_access(
    state: &AppState,
    p: &AdminPrincipal,
    login: &str,
    service: &str,
    days: i32,
) -> Result<i64, ApiError> {
    if !(1..=3650).contains(&days) {
        return Err(ApiError::unprocessable("validation_failed", "days must be between 1 and 3650"));
    }
    if !crate::crypto::is_key(service) {
        return Err(ApiError::unprocessable("unknown_service", "No such service."));
    }
    let now = state.clock.now();
    let (login, slug, actor, ip) = (login.to_string(), service.to_string(), p.admin.username.clone(), p.ip.clone());
    state
        .db
        .write(move |c| {
            let account = match find(c, &login)? {
                Ok(a) => a,
                Err(e) => return Ok(Err(e)),
            };
            if account.status == accounts::REVOKED {
                return Ok(Err(wrong_state(accounts::REVOKED)));
            }
            if catalog::find_by_slug(c, &slug)?.is_none() {
                return Ok(Err(ApiError::unprocessable("unknown_service", "No such service.")));
            }
            let before = accounts::access_of(c, &account.id)?.into_iter().find(|(s, _, _)| *s == slug).map(|a| a.2);
            let open_until = crate::accounts::access::open_until(c, &account.id, &slug)?;
            let until = accounts::extend_access(c, &account.id, &slug, days, now)?;
            webhooks::access_changed(c, &account.id, &slug, open_until, until, None, now)?;
            Event::new(&actor, &ip, "account.extend", &account.login)
                .before(json!({"service": slug, "active_until": before}))
                .after(json!({"service": slug, "active_until": until, "days": days}))
                .append(c, now)?;
            Ok(Ok(until))
        })
        .await?
}

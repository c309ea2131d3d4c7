//! Forgot-password rules. A request names an account by email address or login and always
//! gets the same answer: the lookup, the throttle and (for an account that may reset) one
//! outbox row happen inside the request; the link itself is made by the email job. Active and
//! still-unverified accounts may reset (following the link proves control of the mailbox, so
//! it also confirms the address); suspended and revoked ones get nothing.

use crate::accounts::model::{self as accounts, Account, EmailToken};
use crate::accounts::password;
use crate::accounts::service::{busy, weak_password_error};
use crate::crypto::{mask_email, random_token, token_hash};
use crate::db::{DbConn, DbResult};
use crate::http::api_error::ApiError;
use crate::mail::outbox;
use crate::password_reset::model::{self, LINK_TTL_SECS, PASSWORD_RESET};
use crate::state::AppState;

/// Whether an account in this state may choose a new password through a reset link.
fn may_reset(a: &Account) -> bool {
    a.status == accounts::ACTIVE || a.status == accounts::PENDING_VERIFICATION
}

/// What was typed, normalised: an email address (it holds `@`) or a login. `None` for input
/// that can name no account.
fn identifier(raw: &str) -> Option<String> {
    let typed = raw.trim().to_lowercase();
    if typed.contains('@') {
        return crate::orders::service::validate_email(&typed).ok();
    }
    (!typed.is_empty() && typed.len() <= 64 && !typed.chars().any(char::is_control)).then_some(typed)
}

/// The account named by an email address or a login.
fn find_named(c: &mut DbConn, id: &str) -> DbResult<Option<Account>> {
    Ok(if id.contains('@') { accounts::find_by_email(c, id)? } else { accounts::find_by_login(c, id)? })
}

/// Queues a reset link for the account named by `raw` (email address or login), at most
/// `resend_per_hour` per address (a login and its address share the budget; counted in the
/// database, so it holds across instances). Says nothing about whether the account exists.
pub async fn request(state: &AppState, raw: &str) -> DbResult<()> {
    let Some(id) = identifier(raw) else { return Ok(()) };
    let now = state.clock.now();
    let limit = state.settings.resend_per_hour;
    let by = if id.contains('@') { mask_email(&id) } else { "login".into() };
    let (queued, throttled) = state
        .db
        .write(move |c| {
            let account = find_named(c, &id)?;
            let address = account.as_ref().map_or(id.as_str(), |a| a.email.as_str());
            let key = format!("reset:{}", token_hash(address));
            if !accounts::throttle(c, &key, limit, 3600, now)? {
                return Ok((false, true));
            }
            match account {
                Some(a) if may_reset(&a) => {
                    outbox::enqueue(c, outbox::PASSWORD_RESET, Some(&a.id), None, now)?;
                    Ok((true, false))
                }
                _ => Ok((false, false)),
            }
        })
        .await?;
    tracing::info!(event = "password_reset_requested", by = %by, queued, throttled, "password reset requested");
    if queued {
        state.worker_wake.notify_one();
    }
    Ok(())
}

/// A fresh reset link, alive only in memory and in the email that carries it.
pub struct ResetLink {
    pub account: Account,
    pub token: String,
    pub expires_at: i64,
}

/// Makes a reset link for the email job: stores only its hash (older unused reset links of
/// the account stop working), while this worker still holds the job's claim and the account
/// may still reset. `None` when it may not (suspended, revoked or erased meanwhile).
pub async fn issue_link(state: &AppState, account_id: &str, claim: &outbox::Job) -> anyhow::Result<Option<ResetLink>> {
    let id = account_id.to_string();
    let Some(account) = state.db.read(move |c| Ok(accounts::find_by_id(c, &id)?)).await? else {
        return Ok(None);
    };
    if !may_reset(&account) {
        return Ok(None);
    }
    let token = random_token();
    let now = state.clock.now();
    let expires_at = now + LINK_TTL_SECS;
    let stored = EmailToken {
        token_hash: token_hash(&token),
        account_id: account.id.to_string(),
        purpose: PASSWORD_RESET.into(),
        expires_at,
        used_at: None,
        created_at: now,
        replaced_at: None,
    };
    let (id, held) = (account.id.clone(), claim.clone());
    let stored_now = state
        .db
        .write(move |c| {
            if !outbox::still_held(c, &held)? {
                return Ok(None);
            }
            if !accounts::find_by_id_locked(c, &id)?.is_some_and(|a| may_reset(&a)) {
                return Ok(Some(false));
            }
            model::replace_links(c, &id, now)?;
            accounts::insert_token(c, &stored)?;
            Ok(Some(true))
        })
        .await?;
    match stored_now {
        None => Err(outbox::ClaimLost.into()),
        Some(false) => Ok(None),
        Some(true) => Ok(Some(ResetLink { account, token, expires_at })),
    }
}

/// Why a reset link cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    Invalid,
    Used,
    Expired,
    Replaced,
    Suspended,
}

impl From<Refusal> for ApiError {
    fn from(r: Refusal) -> Self {
        match r {
            Refusal::Invalid => ApiError::bad_request("invalid_token", "This link is not valid."),
            Refusal::Used => {
                ApiError::conflict("token_used", "This link was already used; ask for a new one if you need to.")
            }
            Refusal::Expired => ApiError::gone("token_expired", "This link has expired; ask for a new one."),
            Refusal::Replaced => ApiError::gone(
                "token_replaced",
                "A newer email replaced this link; use the most recent email from us, or ask for a new one.",
            ),
            Refusal::Suspended => {
                ApiError::forbidden("account_suspended", "This account is suspended; contact support.")
            }
        }
    }
}

/// Whether the stored link `t` (of `account`) can set a password now.
fn usable(t: Option<&EmailToken>, account: Option<&Account>, now: i64) -> Result<(), Refusal> {
    let t = t.filter(|t| t.purpose == PASSWORD_RESET).ok_or(Refusal::Invalid)?;
    if t.used_at.is_some() {
        return Err(Refusal::Used);
    }
    // A suspension ends the account's links; while it lasts they say why.
    if account.is_some_and(|a| a.status == accounts::SUSPENDED) {
        return Err(Refusal::Suspended);
    }
    if t.replaced_at.is_some() {
        return Err(Refusal::Replaced);
    }
    if t.expires_at <= now {
        return Err(Refusal::Expired);
    }
    match account {
        Some(a) if may_reset(a) => Ok(()),
        Some(a) if a.status == accounts::SUSPENDED => Err(Refusal::Suspended),
        _ => Err(Refusal::Invalid),
    }
}

/// The link's token and its account, read only.
async fn lookup(state: &AppState, hash: &str) -> DbResult<(Option<EmailToken>, Option<Account>)> {
    let hash = hash.to_string();
    state
        .db
        .read(move |c| {
            let t = accounts::find_token(c, &hash)?;
            let a = match &t {
                Some(t) => accounts::find_by_id(c, &t.account_id)?,
                None => None,
            };
            Ok((t, a))
        })
        .await
}

fn well_formed(token: &str) -> Result<(), ApiError> {
    if token.is_empty() || token.len() > 128 {
        return Err(Refusal::Invalid.into());
    }
    Ok(())
}

/// Checks a link without using it (the reset page's GET: mail scanners prefetch links).
pub async fn check_link(state: &AppState, token: &str) -> Result<(), ApiError> {
    well_formed(token)?;
    let (t, a) = lookup(state, &token_hash(token)).await?;
    Ok(usable(t.as_ref(), a.as_ref(), state.clock.now())?)
}

/// Uses a reset link once: sets `new_password`, confirms the address of an account still
/// waiting for it, ends every sign-in (sessions, OpenID Connect tokens and codes) and every
/// other open link of the account, clears its failed-login count and queues the "password
/// changed" email — in one transaction.
pub async fn confirm(state: &AppState, token: &str, new_password: &str) -> Result<(), ApiError> {
    well_formed(token)?;
    let hash = token_hash(token);
    // A first, read-only look: the policy check and the slow hash only for a live link.
    let (t, account) = lookup(state, &hash).await?;
    usable(t.as_ref(), account.as_ref(), state.clock.now())?;
    let account = account.ok_or(Refusal::Invalid)?;
    password::check(new_password, &[&account.login, &account.email, &account.name]).map_err(weak_password_error)?;
    let hashing = state.hasher.admit().map_err(|_| busy())?;
    let new_hash = hashing.hash(new_password.to_string()).await.map_err(|_| busy())?;
    drop(hashing);
    let now = state.clock.now();
    let outcome = state
        .db
        .write(move |c| {
            // Everything again under the account's lock: a concurrent use, a suspension or a
            // newer link meanwhile wins.
            let t = accounts::find_token(c, &hash)?;
            let locked = match &t {
                Some(t) => accounts::find_by_id_locked(c, &t.account_id)?,
                None => None,
            };
            if let Err(r) = usable(t.as_ref(), locked.as_ref(), now) {
                return Ok(Err(r));
            }
            // The statement that spends the link re-checks it (unspent, not replaced, not
            // expired): of two concurrent confirmations only one sets the password.
            if !model::spend_link(c, &hash, now)? {
                let again = accounts::find_token(c, &hash)?;
                return Ok(Err(usable(again.as_ref(), locked.as_ref(), now).err().unwrap_or(Refusal::Used)));
            }
            let id = account.id.clone();
            accounts::set_password(c, &id, &new_hash, now)?;
            accounts::set_failed_logins(c, &id, 0, 0)?;
            crate::sessions::service::end_all_sign_ins(c, &id, now)?;
            accounts::expire_tokens(c, &id, now)?;
            if accounts::activate(c, &id, now)? == 1 {
                let event = crate::webhooks::events::ACCOUNT_ACTIVATED;
                crate::webhooks::events::emit_for(c, event, &id, |d| d, now)?;
            }
            outbox::enqueue(c, outbox::PASSWORD_CHANGED, Some(&id), None, now)?;
            Ok(Ok(id))
        })
        .await?;
    let id = outcome?;
    tracing::info!(event = "password_reset_done", account_id = %id, "password reset; every sign-in ended");
    state.worker_wake.notify_one();
    Ok(())
}

//! Account rules: provisioning inside the payment transaction, issuing credentials (inside
//! the email job), verifying the address, resending, changing the password.

use crate::accounts::model::{self, Account, EmailToken};
use crate::accounts::password::{self, Weak};
use crate::crypto::{mask_email, random_id, random_login, random_token, temporary_password, token_hash};
use crate::db::{DbConn, DbResult};
use crate::http::api_error::ApiError;
use crate::mail::outbox;
use crate::orders::model::Order;
use crate::state::AppState;

/// The account an order was provisioned to.
pub struct Provisioned {
    pub account_id: model::AccountId,
    /// True when the account was created now (credentials must be sent).
    pub new_account: bool,
    /// The service granted: `(slug, when the access was over before (grace included), active_until now)`.
    pub access: Option<(String, Option<i64>, i64)>,
}

/// Why a payment for `order` must not be provisioned: its account (the order's own, for a
/// renewal; else the one of its email address) can never use it (`account_revoked`; erasure
/// revokes too) or not now (`account_suspended`: an admin decides, refunding it or reinstating
/// the account and granting the access). Locks the account's row so a concurrent suspension or
/// revocation is either seen here or comes after.
pub fn hold_reason(c: &mut DbConn, order: &Order) -> DbResult<Option<&'static str>> {
    let account = match order.account_id.as_deref() {
        Some(id) => model::find_by_id_locked(c, id)?,
        None => model::find_by_email_locked(c, &order.email)?,
    };
    Ok(match account.map(|a| a.status) {
        Some(s) if s == model::REVOKED => Some("account_revoked"),
        Some(s) if s == model::SUSPENDED => Some("account_suspended"),
        _ => None,
    })
}

/// Finds or creates the customer's account and grants the ordered service; runs inside the
/// payment transaction. A new account has no password yet: the credentials job makes one.
/// A renewal order names its account from the start (`account_id`): that account is extended,
/// whatever its address is now, and no account is ever created for it.
pub fn provision_in_tx(c: &mut DbConn, order: &Order, now: i64) -> DbResult<Provisioned> {
    let existing = match order.account_id.as_deref() {
        Some(id) => Some(model::find_by_id(c, id)?.ok_or(diesel::result::Error::NotFound)?),
        None => model::find_by_email(c, &order.email)?,
    };
    let (account_id, new_account) = match existing {
        Some(a) => (a.id, false),
        None => {
            let account = Account {
                id: random_id("acc").into(),
                login: random_login(),
                email: order.email.clone(),
                name: order.customer_name.clone(),
                status: model::PENDING_VERIFICATION,
                password_hash: None,
                must_change_password: true,
                temp_password_expires_at: None,
                email_verified_at: None,
                failed_logins: 0,
                failed_window_start: 0,
                created_at: now,
                updated_at: now,
                renewal_reminders: true,
                locale: crate::i18n::Locale::from_stored(&order.locale).code().into(),
            };
            model::insert(c, &account)?;
            (account.id, true)
        }
    };
    let mut access = None;
    if let Some(slug) = order.service_slug.as_deref() {
        let period = crate::orders::model::period_of(c, order)?;
        let before = crate::accounts::access::open_until(c, &account_id, slug)?;
        let until = model::extend_access(c, &account_id, slug, period, now)?;
        access = Some((slug.to_string(), before, until));
    }
    Ok(Provisioned { account_id, new_account, access })
}

/// Fresh credentials, alive only in memory and in the email that carries them.
pub struct Credentials {
    pub account: Account,
    pub password: String,
    pub token: String,
    pub password_expires_at: i64,
    pub link_expires_at: i64,
}

/// Generates a temporary password and a verification token, stores only their hashes (the
/// older password and links stop working) and returns the plaintexts for the email.
/// `None` when the account no longer needs credentials (verified meanwhile, or gone).
pub async fn issue_credentials(
    state: &AppState,
    account_id: &str,
    claim: &outbox::Job,
) -> anyhow::Result<Option<Credentials>> {
    let id = account_id.to_string();
    let Some(account) = state.db.read(move |c| Ok(model::find_by_id(c, &id)?)).await? else {
        return Ok(None);
    };
    if account.status != model::PENDING_VERIFICATION {
        return Ok(None);
    }
    let password = temporary_password();
    let hash = state.hasher.hash_unqueued(password.clone()).await?;
    let token = random_token();
    let now = state.clock.now();
    let password_expires_at = now + state.settings.temp_password_ttl_hours * 3600;
    let link_expires_at = now + state.settings.verify_link_ttl_hours * 3600;
    let stored = EmailToken {
        token_hash: token_hash(&token),
        account_id: account.id.to_string(),
        purpose: model::VERIFY_EMAIL.into(),
        expires_at: link_expires_at,
        used_at: None,
        created_at: now,
        replaced_at: None,
    };
    let (id, held) = (account.id.clone(), claim.clone());
    let stored_now = state
        .db
        .write(move |c| {
            // Only while this worker still holds the email's claim: one that lost it (its
            // lease ran out and another worker sent fresh credentials) must not replace them.
            if !outbox::still_held(c, &held)? {
                return Ok(None);
            }
            // Only while the account still waits for them: an account verified, revoked or
            // erased while the hash was computed gets nothing.
            if model::set_temporary_password(c, &id, model::PENDING_VERIFICATION, &hash, password_expires_at, now)? == 0
            {
                return Ok(Some(false));
            }
            model::replace_tokens(c, &id, now)?;
            model::insert_token(c, &stored)?;
            Ok(Some(true))
        })
        .await?;
    match stored_now {
        None => return Err(outbox::ClaimLost.into()),
        Some(false) => return Ok(None),
        Some(true) => {}
    }
    Ok(Some(Credentials { account, password, token, password_expires_at, link_expires_at }))
}

/// A fresh temporary password for an active account, alive only in memory and in its email.
pub struct Reset {
    pub account: Account,
    pub password: String,
    pub password_expires_at: i64,
}

/// An administrator's resend for an active account: a new temporary password replaces the
/// old one (which stops working), every session ends, and the next login must choose a new
/// password. `None` unless the account is active (an unverified one gets the usual
/// credentials instead; suspended and revoked ones get nothing).
pub async fn reset_credentials(
    state: &AppState,
    account_id: &str,
    claim: &outbox::Job,
) -> anyhow::Result<Option<Reset>> {
    let id = account_id.to_string();
    let Some(account) = state.db.read(move |c| Ok(model::find_by_id(c, &id)?)).await? else {
        return Ok(None);
    };
    if account.status != model::ACTIVE {
        return Ok(None);
    }
    let password = temporary_password();
    let hash = state.hasher.hash_unqueued(password.clone()).await?;
    let now = state.clock.now();
    let password_expires_at = now + state.settings.temp_password_ttl_hours * 3600;
    let (id, held) = (account.id.clone(), claim.clone());
    let moved = state
        .db
        .write(move |c| {
            // Only while this worker still holds the email's claim (see `issue_credentials`).
            if !outbox::still_held(c, &held)? {
                return Ok(None);
            }
            // Only while still active: a suspension or revocation meanwhile wins.
            if model::set_temporary_password(c, &id, model::ACTIVE, &hash, password_expires_at, now)? == 0 {
                return Ok(Some(false));
            }
            crate::sessions::service::end_all_sign_ins(c, &id, now)?;
            Ok(Some(true))
        })
        .await?;
    match moved {
        None => return Err(outbox::ClaimLost.into()),
        Some(false) => return Ok(None),
        Some(true) => {}
    }
    tracing::info!(event = "credentials_reset", account_id = %account.id, "temporary password replaced; sessions ended");
    Ok(Some(Reset { account, password, password_expires_at }))
}

/// The language of the account a link belongs to, for its page (none for a malformed or
/// unknown link, or when the database does not answer: the page then speaks the browser's).
pub async fn link_locale(state: &AppState, token: &str) -> Option<String> {
    if token.is_empty() || token.len() > 128 {
        return None;
    }
    let hash = token_hash(token);
    state.db.read(move |c| Ok(model::locale_of_token(c, &hash)?)).await.ok().flatten()
}

/// Consumes a verification token once and activates the account.
pub async fn verify_email(state: &AppState, token: &str) -> Result<(), ApiError> {
    if token.is_empty() || token.len() > 128 {
        return Err(ApiError::bad_request("invalid_token", "This link is not valid."));
    }
    let hash = token_hash(token);
    let now = state.clock.now();
    let result = state
        .db
        .write(move |c| {
            let Some(t) = model::find_token(c, &hash)? else { return Ok(Err("invalid")) };
            if t.purpose != model::VERIFY_EMAIL {
                return Ok(Err("invalid"));
            }
            if t.used_at.is_some() {
                return Ok(Err("used"));
            }
            if t.replaced_at.is_some() {
                return Ok(Err("replaced"));
            }
            if t.expires_at <= now {
                return Ok(Err("expired"));
            }
            // A suspended account keeps its link unused (it works again once reinstated); the
            // row lock orders this against a concurrent suspension.
            if model::find_by_id_locked(c, &t.account_id)?.is_some_and(|a| a.status == model::SUSPENDED) {
                return Ok(Err("suspended"));
            }
            if !model::consume_token(c, &hash, now)? {
                return Ok(Err("used"));
            }
            if model::activate(c, &t.account_id, now)? == 1 {
                outbox::enqueue(c, outbox::ACTIVATION, Some(&t.account_id), None, now)?;
                crate::webhooks::events::emit_for(
                    c,
                    crate::webhooks::events::ACCOUNT_ACTIVATED,
                    &t.account_id,
                    |d| d,
                    now,
                )?;
            }
            Ok(Ok(t.account_id))
        })
        .await?;
    match result {
        Ok(account_id) => {
            tracing::info!(event = "email_verified", account_id = %account_id, "account activated");
            state.worker_wake.notify_one();
            Ok(())
        }
        Err("used") => Err(ApiError::conflict("token_used", "This link was already used; you can log in.")),
        Err("expired") => Err(ApiError::gone("token_expired", "This link has expired; ask for a new one.")),
        Err("suspended") => Err(ApiError::forbidden(
            "account_suspended",
            "This account is suspended, so it cannot be activated now; contact support. The link stays valid.",
        )),
        Err("replaced") => Err(ApiError::gone(
            "token_replaced",
            "A newer email replaced this link and its temporary password; use the most recent email from us.",
        )),
        Err(_) => Err(ApiError::bad_request("invalid_token", "This link is not valid.")),
    }
}

/// Queues fresh credentials for an unverified account, at most `resend_per_hour` per address.
/// An active account gets a password-reset link instead (also while its temporary password
/// is in force or expired unused: the link lets it choose its own). Says nothing about
/// whether the address exists.
pub async fn resend(state: &AppState, email: &str) -> DbResult<()> {
    let Ok(email) = crate::orders::service::validate_email(email) else {
        return Ok(());
    };
    let now = state.clock.now();
    let limit = state.settings.resend_per_hour;
    let key = format!("resend:{}", token_hash(&email));
    let masked = mask_email(&email);
    let queued = state
        .db
        .write(move |c| {
            if !model::throttle(c, &key, limit, 3600, now)? {
                return Ok(false);
            }
            match model::find_by_email(c, &email)? {
                Some(a) if a.status == model::PENDING_VERIFICATION => {
                    outbox::enqueue(c, outbox::CREDENTIALS, Some(&a.id), None, now)?;
                    Ok(true)
                }
                // Only a reset link: an address alone never replaces a password (a new
                // temporary one comes only from an administrator's "reset credentials").
                Some(a) if a.status == model::ACTIVE => {
                    outbox::enqueue(c, outbox::PASSWORD_RESET, Some(&a.id), None, now)?;
                    Ok(true)
                }
                _ => Ok(false),
            }
        })
        .await?;
    tracing::info!(event = "verification_resend", email = %masked, queued, "resend requested");
    if queued {
        state.worker_wake.notify_one();
    }
    Ok(())
}

/// Maps a password-policy refusal to the API error.
pub fn weak_password_error(w: Weak) -> ApiError {
    match w {
        Weak::TooLong => ApiError::unprocessable(
            "password_too_long",
            format!("Passwords may be at most {} bytes.", password::MAX_BYTES),
        ),
        Weak::TooShort => ApiError::unprocessable(
            "weak_password",
            format!("Choose a password of at least {} characters.", password::MIN_CHARS),
        ),
        Weak::Guessable(hint) => {
            ApiError::unprocessable("weak_password", format!("This password is too easy to guess. {hint}"))
        }
    }
}

/// Replaces the password after checking the current one and ends every sign-in of the
/// account (sessions, OpenID Connect tokens, reset links) except the asking browser's, whose
/// session is rotated: returns the new session's token. Replacing the customer's own password
/// (not the temporary one) queues a "password changed" email in the same transaction.
pub async fn change_password(
    state: &AppState,
    account: &Account,
    current: &str,
    new: &str,
) -> Result<String, ApiError> {
    let wrong_current = || ApiError::forbidden("invalid_current_password", "The current password is not correct.");
    if account.must_change_password && account.temp_password_expires_at.is_some_and(|t| t <= state.clock.now()) {
        return Err(ApiError::unauthorized(
            "temporary_password_expired",
            "The temporary password has expired; ask for a new one at /forgot-password.",
        ));
    }
    if current.len() > password::MAX_BYTES {
        return Err(wrong_current());
    }
    password::check(new, &[&account.login, &account.email, &account.name]).map_err(weak_password_error)?;
    // One place in the hashing queue covers both hashes: a correct password is not refused halfway.
    let hashing = state.hasher.admit().map_err(|_| busy())?;
    let verified = hashing.verify(current.to_string(), account.password_hash.clone()).await.map_err(|_| busy())?;
    if !verified.ok {
        return Err(wrong_current());
    }
    if current == new {
        return Err(ApiError::unprocessable("weak_password", "Choose a password different from the current one."));
    }
    let hash = hashing.hash(new.to_string()).await.map_err(|_| busy())?;
    drop(hashing);
    let id = account.id.clone();
    let old = account.password_hash.clone().unwrap_or_default();
    let now = state.clock.now();
    let was_own = !account.must_change_password;
    let (token, session) = crate::sessions::service::new_session(state, &id);
    let changed = state
        .db
        .write(move |c| {
            // Only while the password just verified is still the account's: a reset or another
            // change meanwhile wins.
            if model::set_password_from(c, &id, &old, &hash, now)? == 0 {
                return Ok(false);
            }
            crate::sessions::service::end_all_sign_ins(c, &id, now)?;
            crate::sessions::model::insert(c, &session)?;
            if was_own {
                outbox::enqueue(c, outbox::PASSWORD_CHANGED, Some(&id), None, now)?;
            }
            Ok(true)
        })
        .await?;
    if !changed {
        return Err(wrong_current());
    }
    tracing::info!(event = "password_changed", account_id = %account.id, "password changed; every other sign-in ended");
    if was_own {
        state.worker_wake.notify_one();
    }
    Ok(token)
}

/// The answer when the hashing pool is saturated.
pub fn busy() -> ApiError {
    ApiError::unavailable("server_busy", "The server is busy; please retry in a few seconds.")
}

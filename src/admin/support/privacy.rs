//! A customer's personal data on request (GDPR art. 15/20: export) and its erasure (art. 17):
//! name, address and phone are removed from the account and every order of it, sessions, links
//! and access end, unsent emails are dropped; orders and payments stay as accounting records
//! (art. 17(3)(b)) with their amounts, dates and states.

use diesel::prelude::*;
use serde_json::{json, Value};

use crate::admin::access::auth::AdminPrincipal;
use crate::admin::support::service::find;
use crate::audit::Event;
use crate::db::schema::{access_grants, email_tokens, orders, outbox};
use crate::http::api_error::ApiError;
use crate::mail::outbox::MailStatus;
use crate::orders::model::{CANCELLED, PENDING_PAYMENT};
use crate::state::AppState;

/// Everything keyturn holds about the customer with `login`, as JSON.
pub async fn export(state: &AppState, p: &AdminPrincipal, login: &str) -> Result<Value, ApiError> {
    let (login, now) = (login.to_string(), state.clock.now());
    let event = Event::new(&p.admin.username, &p.ip, "account.export", &login);
    let found = state
        .db
        .write(move |c| {
            let account = match find(c, &login)? {
                Ok(a) => a,
                Err(e) => return Ok(Err(e)),
            };
            let data = crate::accounts::export::gather(c, &account)?;
            event.append(c, now)?;
            Ok(Ok(data))
        })
        .await?;
    found
}

/// Erases the customer's personal data; the account is revoked and can never log in again.
pub async fn erase(state: &AppState, p: &AdminPrincipal, login: &str) -> Result<(), ApiError> {
    let (login, now) = (login.to_string(), state.clock.now());
    let (actor, ip) = (p.admin.username.clone(), p.ip.clone());
    let done = state
        .db
        .write(move |c| {
            let a = match find(c, &login)? {
                Ok(a) => a,
                Err(e) => return Ok(Err(e)),
            };
            if a.email.ends_with("@erased.invalid") {
                return Ok(Err(ApiError::conflict("already_erased", "This customer's data was already erased.")));
            }
            let placeholder = format!("{}@erased.invalid", a.id);
            let mine = orders::table
                .filter(orders::account_id.eq(&a.id).or(orders::email.eq(&a.email)))
                .select(orders::id)
                .load::<String>(c)?;
            // Unpaid orders (and their invoice links) end here: a later payment for one is then
            // refused as "order already cancelled" and visible to admins, never given to a
            // dead account.
            diesel::update(orders::table.filter(orders::id.eq_any(&mine)).filter(orders::status.eq(PENDING_PAYMENT)))
                .set((orders::status.eq(CANCELLED), orders::updated_at.eq(now)))
                .execute(c)?;
            let orders_changed =
                diesel::update(orders::table.filter(orders::account_id.eq(&a.id).or(orders::email.eq(&a.email))))
                    .set((
                        orders::customer_name.eq("(erased)"),
                        orders::email.eq(&placeholder),
                        orders::phone.eq(None::<String>),
                    ))
                    .execute(c)?;
            diesel::update(crate::db::schema::accounts::table.find(&a.id))
                .set((
                    crate::db::schema::accounts::email.eq(&placeholder),
                    crate::db::schema::accounts::name.eq("(erased)"),
                    crate::db::schema::accounts::status.eq(crate::accounts::model::REVOKED),
                    crate::db::schema::accounts::password_hash.eq(None::<String>),
                    crate::db::schema::accounts::updated_at.eq(now),
                ))
                .execute(c)?;
            // Receivers learn that the access ended; no stored or new event keeps the address.
            crate::webhooks::events::forget_account(c, &a.id, &mine, &a.email, &placeholder)?;
            crate::webhooks::events::access_revoked(c, &a, "erased", false, now)?;
            crate::sessions::service::end_all_sign_ins(c, &a.id, now)?;
            diesel::delete(email_tokens::table.filter(email_tokens::account_id.eq(&a.id))).execute(c)?;
            diesel::delete(access_grants::table.filter(access_grants::account_id.eq(&a.id))).execute(c)?;
            let theirs = outbox::account_id.eq(&a.id).or(outbox::order_id.eq_any(&mine));
            let dropped = diesel::update(outbox::table.filter(theirs.clone()).filter(outbox::status.ne(MailStatus::Sent)))
                .set((outbox::status.eq(MailStatus::Cancelled), outbox::locked_until.eq(None::<i64>)))
                .execute(c)?;
            // SMTP answers often quote the address.
            diesel::update(outbox::table.filter(theirs)).set(outbox::last_error.eq(None::<String>)).execute(c)?;
            Event::new(&actor, &ip, "account.erase", &a.login)
                .before(json!({"status": a.status}))
                .after(json!({"status": crate::accounts::model::REVOKED, "orders_anonymised": orders_changed, "emails_dropped": dropped}))
                .append(c, now)?;
            Ok(Ok(a.id))
        })
        .await?;
    let account_id = done?;
    // SQLite: move the overwritten pages out of the WAL now (secure_delete zeroes freed ones).
    if let Err(e) = state.db.checkpoint().await {
        tracing::warn!(event = "db_checkpoint_failed", error = %e, "erased data may stay in the WAL until the next checkpoint");
    }
    tracing::info!(event = "account_erased", account_id = %account_id, admin_id = %p.admin.id, "customer data erased");
    Ok(())
}

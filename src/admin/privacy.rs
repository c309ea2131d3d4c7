//! A customer's personal data on request (GDPR art. 15/20: export) and its erasure (art. 17):
//! name, address and phone are removed from the account and every order of it, sessions, links
//! and access end, unsent emails are dropped; orders and payments stay as accounting records
//! (art. 17(3)(b)) with their amounts, dates and states.

use diesel::prelude::*;
use serde_json::{json, Value};

use crate::admin::audit::Event;
use crate::admin::auth::AdminPrincipal;
use crate::admin::customers::find;
use crate::clock::rfc3339;
use crate::db::schema::{access_grants, email_tokens, orders, outbox, payments};
use crate::db::DbConn;
use crate::http::api_error::ApiError;
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
            let data = gather(c, &account)?;
            event.append(c, now)?;
            Ok(Ok(data))
        })
        .await?;
    found
}

fn gather(c: &mut DbConn, a: &crate::accounts::model::Account) -> QueryResult<Value> {
    let own: Vec<crate::orders::model::Order> = orders::table
        .filter(orders::account_id.eq(&a.id).or(orders::email.eq(&a.email)))
        .order(orders::created_at.asc())
        .load(c)?;
    let ids: Vec<String> = own.iter().map(|o| o.id.clone()).collect();
    let pays: Vec<crate::payments::model::Payment> =
        payments::table.filter(payments::order_id.eq_any(&ids)).order(payments::created_at.asc()).load(c)?;
    let mail: Vec<(String, String, i64, Option<i64>)> = outbox::table
        .filter(outbox::account_id.eq(&a.id))
        .select((outbox::kind, outbox::status, outbox::created_at, outbox::sent_at))
        .order(outbox::created_at.asc())
        .load(c)?;
    let access = crate::accounts::model::access_of(c, &a.id)?;
    Ok(json!({
        "account": {"login": a.login, "email": a.email, "name": a.name, "status": a.status,
                    "created_at": rfc3339(a.created_at), "email_verified_at": a.email_verified_at.map(rfc3339)},
        "services": access.iter().map(|(slug, name, until)| json!({"slug": slug, "name": name, "active_until": rfc3339(*until)})).collect::<Vec<_>>(),
        "orders": own.iter().map(|o| json!({"order_id": o.id, "item": o.item_name.clone().or(o.service_slug.clone()),
            "amount_minor": o.amount_minor, "currency": o.currency, "status": o.status, "name": o.customer_name,
            "email": o.email, "phone": o.phone, "created_at": rfc3339(o.created_at), "paid_at": o.paid_at.map(rfc3339)})).collect::<Vec<_>>(),
        "payments": pays.iter().map(|p| json!({"payment_id": p.id, "order_id": p.order_id, "gateway": p.gateway,
            "status": p.status, "amount_minor": p.amount_minor, "currency": p.currency,
            "refunded_minor": p.refunded_minor, "created_at": rfc3339(p.created_at)})).collect::<Vec<_>>(),
        "emails": mail.iter().map(|(kind, status, at, sent)| json!({"kind": kind, "status": status,
            "created_at": rfc3339(*at), "sent_at": sent.map(rfc3339)})).collect::<Vec<_>>(),
    }))
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
            crate::sessions::model::delete_all_for_account(c, &a.id)?;
            diesel::delete(email_tokens::table.filter(email_tokens::account_id.eq(&a.id))).execute(c)?;
            diesel::delete(access_grants::table.filter(access_grants::account_id.eq(&a.id))).execute(c)?;
            let dropped =
                diesel::update(outbox::table.filter(outbox::account_id.eq(&a.id)).filter(outbox::status.ne("sent")))
                    .set((outbox::status.eq("cancelled"), outbox::locked_until.eq(None::<i64>)))
                    .execute(c)?;
            Event::new(&actor, &ip, "account.erase", &a.login)
                .before(json!({"status": a.status}))
                .after(json!({"status": "revoked", "orders_anonymised": orders_changed, "emails_dropped": dropped}))
                .append(c, now)?;
            Ok(Ok(a.id))
        })
        .await?;
    let account_id = done?;
    tracing::info!(event = "account_erased", account_id = %account_id, admin_id = %p.admin.id, "customer data erased");
    Ok(())
}

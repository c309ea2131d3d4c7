//! The email outbox as admins see it: what is waiting, what was sent, and what was given up
//! (dead letters: a paying customer may be without their login), with a retry.

use diesel::prelude::*;
use serde_json::json;

use crate::admin::access::auth::AdminPrincipal;
use crate::audit::Event;
use crate::db::schema::{accounts, orders, outbox};
use crate::db::DbConn;
use crate::http::api_error::ApiError;
use crate::mail::outbox::MailStatus;
use crate::state::AppState;

/// One outbox row with its recipient.
pub struct Listed {
    pub id: String,
    pub kind: String,
    pub status: MailStatus,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub order_id: Option<String>,
    pub login: Option<String>,
    pub email: Option<String>,
    pub created_at: i64,
    pub sent_at: Option<i64>,
}

type Row = (
    String,
    String,
    MailStatus,
    i32,
    Option<String>,
    Option<String>,
    i64,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// Newest first; `status` one of pending | sent | dead | cancelled, or all. The address is the
/// account's, else the order's (an invoice link); the merchant's copy has neither.
pub fn list(conn: &mut DbConn, status: Option<&str>, limit: i64) -> QueryResult<Vec<Listed>> {
    let mut q = outbox::table
        .left_join(accounts::table.on(accounts::id.nullable().eq(outbox::account_id)))
        .left_join(orders::table.on(orders::id.nullable().eq(outbox::order_id)))
        .select((
            outbox::id,
            outbox::kind,
            outbox::status,
            outbox::attempts,
            outbox::last_error,
            outbox::order_id,
            outbox::created_at,
            outbox::sent_at,
            accounts::login.nullable(),
            accounts::email.nullable(),
            orders::email.nullable(),
        ))
        .into_boxed();
    if let Some(s) = status {
        q = q.filter(outbox::status.eq(s.to_string()));
    }
    let rows: Vec<Row> = q.order((outbox::created_at.desc(), outbox::id.desc())).limit(limit).load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(id, kind, status, attempts, last_error, order_id, created_at, sent_at, login, email, order_email)| {
            let merchants = kind == crate::mail::outbox::MERCHANT_COPY.as_str();
            Listed {
                id,
                kind,
                status,
                attempts,
                last_error,
                order_id,
                login,
                email: if merchants { None } else { email.or(order_email) },
                created_at,
                sent_at,
            }
        })
        .collect())
}

/// Queues a dead-lettered email again (a credentials email then carries a fresh temporary
/// password). 404 unknown; 409 when it is not dead.
pub async fn retry(state: &AppState, p: &AdminPrincipal, id: &str) -> Result<(), ApiError> {
    if !crate::crypto::is_key(id) {
        return Err(ApiError::not_found("No such email."));
    }
    let now = state.clock.now();
    let event = Event::new(&p.admin.username, &p.ip, "email.retry", id);
    let job = id.to_string();
    let found = state
        .db
        .write(move |c| {
            let Some((kind, status)) = outbox::table
                .find(&job)
                .select((outbox::kind, outbox::status))
                .first::<(String, MailStatus)>(c)
                .optional()?
            else {
                return Ok(None);
            };
            if status != MailStatus::Dead {
                return Ok(Some(Err(status)));
            }
            // `attempts` starts over (a fresh budget of retries); the claim identity is the
            // `claim_token`, new on every claim, so a worker of an earlier round cannot act.
            diesel::update(outbox::table.find(&job))
                .set((
                    outbox::status.eq(MailStatus::Pending),
                    outbox::attempts.eq(0),
                    outbox::run_at.eq(now),
                    outbox::locked_until.eq(None::<i64>),
                ))
                .execute(c)?;
            event
                .before(json!({"status": MailStatus::Dead, "kind": kind}))
                .after(json!({"status": MailStatus::Pending}))
                .append(c, now)?;
            Ok(Some(Ok(())))
        })
        .await?;
    match found {
        None => Err(ApiError::not_found("No such email.")),
        Some(Err(status)) => Err(ApiError::conflict(
            "email_not_dead",
            format!("Only a given-up email can be retried; this one is {status}."),
        )),
        Some(Ok(())) => {
            tracing::info!(event = "email_requeued", job_id = %id, admin = %p.admin.username, "dead-lettered email queued again");
            state.worker_wake.notify_one();
            Ok(())
        }
    }
}

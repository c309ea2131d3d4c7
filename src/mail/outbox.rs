//! The transactional outbox: rows written in the same transaction as the change that needs
//! an email, claimed by workers with a lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL),
//! retried with backoff, dead-lettered after a cap. Rows hold ids only, never secrets.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Nullable, Text};

use crate::crypto::random_id;
use crate::db::schema::outbox;
use crate::db::DbConn;

/// Email kinds the worker knows how to send.
pub const PAYMENT_CONFIRMATION: &str = "payment_confirmation";
pub const CREDENTIALS: &str = "credentials";
pub const ACTIVATION: &str = "activation";
pub const ACCESS_EXTENDED: &str = "access_extended";
/// New temporary credentials an administrator asked for (an active account that lost its password).
pub const CREDENTIALS_RESET: &str = "credentials_reset";
/// The merchant's copy of a paid invoice's confirmation (to `merchant_email`; skipped when unset).
pub const MERCHANT_COPY: &str = "merchant_copy";
/// A pay-by-link invoice's link, sent to the customer when the admin asks for it.
pub const INVOICE_LINK: &str = "invoice_link";

/// How long a claimed job is leased before another worker may take it over.
pub const LEASE_SECS: i64 = 300;

/// A claimed job.
#[derive(Debug, Clone, QueryableByName)]
pub struct Job {
    #[diesel(sql_type = Text)]
    pub id: String,
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub account_id: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub order_id: Option<String>,
    #[diesel(sql_type = Integer)]
    pub attempts: i32,
}

/// Queues an email; call inside the transaction that made it necessary.
pub fn enqueue(
    conn: &mut DbConn,
    kind: &str,
    account_id: Option<&str>,
    order_id: Option<&str>,
    now: i64,
) -> QueryResult<String> {
    let id = random_id("job");
    diesel::insert_into(outbox::table)
        .values((
            outbox::id.eq(&id),
            outbox::kind.eq(kind),
            outbox::account_id.eq(account_id),
            outbox::order_id.eq(order_id),
            outbox::status.eq("pending"),
            outbox::attempts.eq(0),
            outbox::run_at.eq(now),
            outbox::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(id)
}

const CLAIM_SQLITE: &str = "UPDATE outbox SET locked_until = ?1, attempts = attempts + 1 \
     WHERE id = (SELECT id FROM outbox WHERE status = 'pending' AND run_at <= ?2 \
     AND (locked_until IS NULL OR locked_until < ?2) ORDER BY run_at, created_at, CASE kind WHEN 'payment_confirmation' THEN 0 ELSE 1 END LIMIT 1) \
     RETURNING id, kind, account_id, order_id, attempts";

const CLAIM_POSTGRES: &str = "UPDATE outbox SET locked_until = $1, attempts = attempts + 1 \
     WHERE id = (SELECT id FROM outbox WHERE status = 'pending' AND run_at <= $2 \
     AND (locked_until IS NULL OR locked_until < $2) ORDER BY run_at, created_at, CASE kind WHEN 'payment_confirmation' THEN 0 ELSE 1 END LIMIT 1 \
     FOR UPDATE SKIP LOCKED) \
     RETURNING id, kind, account_id, order_id, attempts";

/// Claims the next due job (if any) for `LEASE_SECS`. Among jobs queued together the
/// payment confirmation goes first, then the credentials.
pub fn claim(conn: &mut DbConn, now: i64) -> QueryResult<Option<Job>> {
    let until = now + LEASE_SECS;
    match conn {
        DbConn::Sqlite(c) => {
            diesel::sql_query(CLAIM_SQLITE).bind::<BigInt, _>(until).bind::<BigInt, _>(now).get_result(c).optional()
        }
        DbConn::Pg(c) => {
            diesel::sql_query(CLAIM_POSTGRES).bind::<BigInt, _>(until).bind::<BigInt, _>(now).get_result(c).optional()
        }
    }
}

/// Marks a claimed job sent (a job cancelled meanwhile, e.g. by an erasure, stays cancelled).
pub fn mark_sent(conn: &mut DbConn, id: &str, now: i64) -> QueryResult<usize> {
    diesel::update(outbox::table.find(id).filter(outbox::status.eq("pending")))
        .set((
            outbox::status.eq("sent"),
            outbox::sent_at.eq(now),
            outbox::locked_until.eq(None::<i64>),
            outbox::last_error.eq(None::<String>),
        ))
        .execute(conn)
}

/// Records a failed attempt: retry at `retry_at`, or dead-letter when `retry_at` is `None`.
pub fn mark_failed(conn: &mut DbConn, id: &str, error: &str, retry_at: Option<i64>) -> QueryResult<usize> {
    let error: String = error.chars().take(500).collect();
    match retry_at {
        Some(at) => diesel::update(outbox::table.find(id).filter(outbox::status.eq("pending")))
            .set((outbox::run_at.eq(at), outbox::locked_until.eq(None::<i64>), outbox::last_error.eq(error)))
            .execute(conn),
        None => diesel::update(outbox::table.find(id).filter(outbox::status.eq("pending")))
            .set((outbox::status.eq("dead"), outbox::locked_until.eq(None::<i64>), outbox::last_error.eq(error)))
            .execute(conn),
    }
}

/// Jobs not yet sent (pending or leased): what a clean shutdown or a test expects to be 0.
pub fn pending_count(conn: &mut DbConn) -> QueryResult<i64> {
    outbox::table.filter(outbox::status.eq("pending")).count().get_result(conn)
}

/// Backoff before attempt `attempts + 1`: 30 s doubling, capped at one hour.
pub fn backoff_secs(attempts: i32) -> i64 {
    let exp = attempts.clamp(1, 8) as u32 - 1;
    (30i64 << exp).min(3600)
}

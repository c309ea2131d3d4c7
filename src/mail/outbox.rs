//! The transactional outbox: rows written in the same transaction as the change that needs
//! an email, claimed by workers with a lease (`FOR UPDATE SKIP LOCKED` on PostgreSQL),
//! retried with backoff, dead-lettered after a cap. Rows hold ids only, never secrets.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Nullable, Text};

use crate::crypto::random_id;
use crate::db::schema::outbox;
use crate::db::DbConn;

crate::text_enum! {
    /// The emails the worker knows how to send (`outbox.kind`).
    pub enum MailKind("email kind") {
        PaymentConfirmation = "payment_confirmation",
        Credentials = "credentials",
        Activation = "activation",
        AccessExtended = "access_extended",
        /// New temporary credentials an administrator asked for (an active account that lost its password).
        CredentialsReset = "credentials_reset",
        /// The merchant's copy of a paid invoice's confirmation (to `merchant_email`; skipped when unset).
        MerchantCopy = "merchant_copy",
        /// A pay-by-link invoice's link, sent to the customer when the admin asks for it.
        InvoiceLink = "invoice_link",
        /// A single-use link to choose a new password (forgot password); the token is made in the job.
        PasswordReset = "password_reset",
        /// "Your password was changed" (after a reset or a change in the cabinet).
        PasswordChanged = "password_changed",
        /// A renewal reminder a service's reminder day before the period ends, with a renewal
        /// link the job issues when it sends (the access and period: the job's `access_notices` row).
        RenewalReminder = "renewal_reminder",
        /// The access ended (its grace is over); points to the cabinet.
        AccessExpired = "access_expired",
        /// A refund landed (our own or the gateway's): how much, and what became of the access.
        Refund = "refund",
        /// An authorisation was voided and the order cancelled.
        Cancellation = "cancellation",
    }
}

pub const PAYMENT_CONFIRMATION: MailKind = MailKind::PaymentConfirmation;
pub const CREDENTIALS: MailKind = MailKind::Credentials;
pub const ACTIVATION: MailKind = MailKind::Activation;
pub const ACCESS_EXTENDED: MailKind = MailKind::AccessExtended;
pub const CREDENTIALS_RESET: MailKind = MailKind::CredentialsReset;
pub const MERCHANT_COPY: MailKind = MailKind::MerchantCopy;
pub const INVOICE_LINK: MailKind = MailKind::InvoiceLink;
pub const PASSWORD_RESET: MailKind = MailKind::PasswordReset;
pub const PASSWORD_CHANGED: MailKind = MailKind::PasswordChanged;
pub const RENEWAL_REMINDER: MailKind = MailKind::RenewalReminder;
pub const ACCESS_EXPIRED: MailKind = MailKind::AccessExpired;
pub const REFUND: MailKind = MailKind::Refund;
pub const CANCELLATION: MailKind = MailKind::Cancellation;

crate::text_enum! {
    /// Where an outbox job stands (`outbox.status`).
    pub enum MailStatus("outbox status") {
        /// Waiting or leased to a worker.
        Pending = "pending",
        Sent = "sent",
        /// Given up (dead-lettered).
        Dead = "dead",
        /// Dropped (an erasure).
        Cancelled = "cancelled",
    }
}

/// A worker's claim on a job was lost (taken over, or the job cancelled) before it stored
/// what only the claim's holder may store.
#[derive(Debug, thiserror::Error)]
#[error("the job was taken over by another worker")]
pub struct ClaimLost;

/// A claimed job. `claim_token` is the claim's identity: every claim writes a fresh random
/// one, so a worker whose lease ran out (and was taken over) can no longer heartbeat, store
/// credentials, hand over or record, even after an admin's retry reset `attempts`.
#[derive(Debug, Clone, QueryableByName)]
pub struct Job {
    #[diesel(sql_type = Text)]
    pub id: String,
    /// Read as text, not as [`MailKind`]: a row of a kind this version does not know (written by
    /// a newer one) is given up by the worker instead of failing every claim.
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub account_id: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub order_id: Option<String>,
    #[diesel(sql_type = Integer)]
    pub attempts: i32,
    #[diesel(sql_type = Text)]
    pub claim_token: String,
    /// Set when an earlier attempt handed the message to the transport and no answer was
    /// recorded (the process died meanwhile): this attempt may deliver a second copy.
    #[diesel(sql_type = Nullable<BigInt>)]
    pub handed_over_at: Option<i64>,
}

/// Queues an email; call inside the transaction that made it necessary.
pub fn enqueue(
    conn: &mut DbConn,
    kind: MailKind,
    account_id: Option<&str>,
    order_id: Option<&str>,
    now: i64,
) -> QueryResult<String> {
    enqueue_kind(conn, kind.as_str(), account_id, order_id, now)
}

/// Queues a job of any kind, also one the worker does not know (tests of the worker's limits).
#[cfg(test)]
pub fn enqueue_raw(
    conn: &mut DbConn,
    kind: &str,
    account_id: Option<&str>,
    order_id: Option<&str>,
    now: i64,
) -> QueryResult<String> {
    enqueue_kind(conn, kind, account_id, order_id, now)
}

fn enqueue_kind(
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
            outbox::status.eq(MailStatus::Pending),
            outbox::attempts.eq(0),
            outbox::run_at.eq(now),
            outbox::created_at.eq(now),
        ))
        .execute(conn)?;
    Ok(id)
}

const CLAIM_SQLITE: &str = "UPDATE outbox SET locked_until = ?1, attempts = attempts + 1, claim_token = ?3 \
     WHERE id = (SELECT id FROM outbox WHERE status = 'pending' AND run_at <= ?2 \
     AND (locked_until IS NULL OR locked_until < ?2) ORDER BY run_at, created_at, CASE kind WHEN 'payment_confirmation' THEN 0 ELSE 1 END LIMIT 1) \
     RETURNING id, kind, account_id, order_id, attempts, claim_token, handed_over_at";

const CLAIM_POSTGRES: &str = "UPDATE outbox SET locked_until = $1, attempts = attempts + 1, claim_token = $3 \
     WHERE id = (SELECT id FROM outbox WHERE status = 'pending' AND run_at <= $2 \
     AND (locked_until IS NULL OR locked_until < $2) ORDER BY run_at, created_at, CASE kind WHEN 'payment_confirmation' THEN 0 ELSE 1 END LIMIT 1 \
     FOR UPDATE SKIP LOCKED) \
     RETURNING id, kind, account_id, order_id, attempts, claim_token, handed_over_at";

/// Claims the next due job (if any) with a lease of `lease_secs`, which the worker renews
/// while it works ([`heartbeat`]); a job whose worker died is free again once the lease runs
/// out. Among jobs queued together the payment confirmation goes first, then the credentials.
pub fn claim(conn: &mut DbConn, now: i64, lease_secs: i64) -> QueryResult<Option<Job>> {
    let until = now + lease_secs;
    let token = random_id("clm");
    match conn {
        DbConn::Sqlite(c) => diesel::sql_query(CLAIM_SQLITE)
            .bind::<BigInt, _>(until)
            .bind::<BigInt, _>(now)
            .bind::<Text, _>(token)
            .get_result(c)
            .optional(),
        DbConn::Pg(c) => diesel::sql_query(CLAIM_POSTGRES)
            .bind::<BigInt, _>(until)
            .bind::<BigInt, _>(now)
            .bind::<Text, _>(token)
            .get_result(c)
            .optional(),
        #[cfg(feature = "mysql")]
        DbConn::Mysql(c) => {
            let Some(id) = crate::db::claim_first_mysql(c, CLAIM_MYSQL_DUE, CLAIM_MYSQL_LOCK, now)? else {
                return Ok(None);
            };
            diesel::update(outbox::table.find(&id))
                .set((
                    outbox::locked_until.eq(until),
                    outbox::attempts.eq(outbox::attempts + 1),
                    outbox::claim_token.eq(&token),
                ))
                .execute(c)?;
            diesel::sql_query(
                "SELECT id, kind, account_id, order_id, attempts, claim_token, handed_over_at FROM outbox WHERE id = ?",
            )
            .bind::<Text, _>(&id)
            .get_result(c)
            .optional()
        }
    }
}

#[cfg(feature = "mysql")]
const CLAIM_MYSQL_DUE: &str = "SELECT id FROM outbox WHERE status = 'pending' AND run_at <= ? \
     AND (locked_until IS NULL OR locked_until < ?) \
     ORDER BY run_at, created_at, CASE kind WHEN 'payment_confirmation' THEN 0 ELSE 1 END LIMIT 10";

#[cfg(feature = "mysql")]
const CLAIM_MYSQL_LOCK: &str = "SELECT id FROM outbox WHERE id = ? AND status = 'pending' AND run_at <= ? \
     AND (locked_until IS NULL OR locked_until < ?) FOR UPDATE SKIP LOCKED";

/// The row while `job`'s claim holds it: still pending and not claimed again since (each
/// claim writes a new `claim_token`). A lease that ran out with nobody taking over still holds.
macro_rules! held {
    ($job:expr) => {
        outbox::table
            .find(&$job.id)
            .filter(outbox::status.eq(MailStatus::Pending))
            .filter(outbox::claim_token.eq(&$job.claim_token))
    };
}

/// Whether `job`'s claim still holds the row. Call it inside the transaction that stores what
/// only the claim's holder may store (a new password), so a worker that lost its claim stores
/// nothing. It is a no-op UPDATE rather than a read so that it takes the row's lock until the
/// transaction ends (PostgreSQL): a takeover's claim (`FOR UPDATE SKIP LOCKED`) passes the row by
/// until this transaction ends, and a takeover committed first has changed `claim_token`, so
/// the two can never both store.
pub fn still_held(conn: &mut DbConn, job: &Job) -> QueryResult<bool> {
    let n = diesel::update(held!(job)).set(outbox::claim_token.eq(&job.claim_token)).execute(conn)?;
    Ok(n == 1)
}

/// Renews the lease of a job in hand; false when the claim was lost (another worker took the
/// job over, or it was cancelled).
pub fn heartbeat(conn: &mut DbConn, job: &Job, now: i64, lease_secs: i64) -> QueryResult<bool> {
    let n = diesel::update(held!(job)).set(outbox::locked_until.eq(now + lease_secs)).execute(conn)?;
    Ok(n == 1)
}

/// Records, before the message goes to the transport, that it is being handed over (and
/// renews the lease); a repeat (an earlier hand-over of this job had no recorded answer) is
/// marked `possible_repeat`. False when the claim was lost: then this worker must not send.
pub fn record_handover(conn: &mut DbConn, job: &Job, now: i64, lease_secs: i64) -> QueryResult<bool> {
    let repeat = job.handed_over_at.is_some();
    let n = diesel::update(held!(job))
        .set((outbox::handed_over_at.eq(now), outbox::locked_until.eq(now + lease_secs)))
        .execute(conn)?;
    if n == 1 && repeat {
        diesel::update(outbox::table.find(&job.id)).set(outbox::possible_repeat.eq(true)).execute(conn)?;
    }
    Ok(n == 1)
}

/// Marks a claimed job sent (a job cancelled meanwhile, e.g. by an erasure, stays cancelled).
/// A credentials email also moves its account's paid orders to provisioned (`provisions`),
/// in the same write, so a failure there cannot make an email already sent fail its job.
/// Orders are provisioned only when this worker still held the job: a worker whose claim was
/// taken over sent credentials that the newer claim has replaced.
pub fn mark_sent(conn: &mut DbConn, job: &Job, now: i64, provisions: Option<&str>) -> QueryResult<usize> {
    let n = diesel::update(held!(job))
        .set((
            outbox::status.eq(MailStatus::Sent),
            outbox::sent_at.eq(now),
            outbox::locked_until.eq(None::<i64>),
            outbox::last_error.eq(None::<String>),
        ))
        .execute(conn)?;
    if let (1, Some(account)) = (n, provisions) {
        crate::orders::model::mark_provisioned_for_account(conn, account, now)?;
    }
    Ok(n)
}

/// Records a failed attempt: retry at `retry_at`, or dead-letter when `retry_at` is `None`.
/// Only when the SMTP server `refused` the message (it answered MAIL, RCPT or DATA with an
/// error) did nothing of this attempt reach the customer: then the hand-over mark goes back
/// to what it was before this attempt. Any other failure after a hand-over (a timeout, a
/// dropped connection, a panic, the time limit) keeps it, so the next copy is a known repeat.
pub fn mark_failed(
    conn: &mut DbConn,
    job: &Job,
    error: &str,
    retry_at: Option<i64>,
    refused: bool,
) -> QueryResult<usize> {
    let error: String = error.chars().take(500).collect();
    let n = match retry_at {
        Some(at) => diesel::update(held!(job))
            .set((outbox::run_at.eq(at), outbox::locked_until.eq(None::<i64>), outbox::last_error.eq(error)))
            .execute(conn)?,
        None => diesel::update(held!(job))
            .set((
                outbox::status.eq(MailStatus::Dead),
                outbox::locked_until.eq(None::<i64>),
                outbox::last_error.eq(error),
            ))
            .execute(conn)?,
    };
    if n == 1 && refused {
        diesel::update(outbox::table.find(&job.id)).set(outbox::handed_over_at.eq(job.handed_over_at)).execute(conn)?;
    }
    Ok(n)
}

/// When the job was queued: in the same transaction as the change it tells of, so the time of
/// that change (an email sent late, after an outage or a retry, still states it).
pub fn queued_at(conn: &mut DbConn, id: &str) -> QueryResult<Option<i64>> {
    outbox::table.find(id).select(outbox::created_at).first(conn).optional()
}

/// Jobs not yet sent (pending or leased): what a clean shutdown or a test expects to be 0.
pub fn pending_count(conn: &mut DbConn) -> QueryResult<i64> {
    outbox::table.filter(outbox::status.eq(MailStatus::Pending)).count().get_result(conn)
}

/// Pending jobs due at `now` (leased ones included): 0 once every due email was dealt with.
pub fn due_count(conn: &mut DbConn, now: i64) -> QueryResult<i64> {
    outbox::table.filter(outbox::status.eq(MailStatus::Pending)).filter(outbox::run_at.le(now)).count().get_result(conn)
}

/// True when an email of `kind` was queued for the order (whatever became of it): e.g. whether
/// paying it created an account (credentials) or extended one.
pub fn queued_for_order(conn: &mut DbConn, order_id: &str, kind: MailKind) -> QueryResult<bool> {
    let n: i64 =
        outbox::table.filter(outbox::order_id.eq(order_id)).filter(outbox::kind.eq(kind)).count().get_result(conn)?;
    Ok(n > 0)
}

/// Backoff before attempt `attempts + 1`: 30 s doubling, capped at one hour.
pub fn backoff_secs(attempts: i32) -> i64 {
    let exp = attempts.clamp(1, 8) as u32 - 1;
    (30i64 << exp).min(3600)
}

//! `webhook_endpoints`, `webhook_events` and `webhook_deliveries`: the endpoints owners manage,
//! the events written in the transaction of the change they report, and one delivery per
//! (event, endpoint), claimed by workers with a lease like the mail outbox.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Text};

use crate::crypto::random_id;
use crate::db::schema::{webhook_deliveries, webhook_endpoints, webhook_events};
use crate::db::DbConn;

/// Endpoint states: `active` receives; `disabled` (the receiver answered 410 Gone) receives
/// nothing until an owner enables it; `deleted` is gone from every listing and its secret wiped.
pub const ACTIVE: &str = "active";
pub const DISABLED: &str = "disabled";
pub const DELETED: &str = "deleted";

/// Delivery states.
pub const PENDING: &str = "pending";
pub const DELIVERED: &str = "delivered";
pub const DEAD: &str = "dead";
pub const CANCELLED: &str = "cancelled";

/// A stored endpoint (its secrets never leave the server after creation or rotation).
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_endpoints)]
pub struct Endpoint {
    pub id: String,
    pub url: String,
    /// JSON array of event types; `None` = every type.
    pub events: Option<String>,
    pub secret: String,
    pub previous_secret: Option<String>,
    pub previous_until: Option<i64>,
    pub status: String,
    pub disabled_reason: Option<String>,
    pub created_by: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Endpoint {
    /// The event types this endpoint asked for (`None` = all).
    pub fn event_filter(&self) -> Option<Vec<String>> {
        self.events.as_deref().and_then(|e| serde_json::from_str(e).ok())
    }

    /// Whether an event of `kind` goes to this endpoint.
    pub fn wants(&self, kind: &str) -> bool {
        self.event_filter().is_none_or(|list| list.iter().any(|k| k == kind))
    }

    /// The secrets that sign at `now`: the current one, and the previous one during a rotation.
    pub fn signing_secrets(&self, now: i64) -> Vec<&str> {
        let mut all = vec![self.secret.as_str()];
        if let (Some(prev), Some(until)) = (&self.previous_secret, self.previous_until) {
            if now < until {
                all.push(prev);
            }
        }
        all
    }
}

pub fn insert_endpoint(conn: &mut DbConn, e: &Endpoint) -> QueryResult<usize> {
    diesel::insert_into(webhook_endpoints::table).values(e).execute(conn)
}

pub fn find_endpoint(conn: &mut DbConn, id: &str) -> QueryResult<Option<Endpoint>> {
    webhook_endpoints::table
        .find(id)
        .filter(webhook_endpoints::status.ne(DELETED))
        .select(Endpoint::as_select())
        .first(conn)
        .optional()
}

/// Every endpoint but the deleted ones, oldest first.
pub fn list_endpoints(conn: &mut DbConn) -> QueryResult<Vec<Endpoint>> {
    webhook_endpoints::table
        .filter(webhook_endpoints::status.ne(DELETED))
        .order((webhook_endpoints::created_at.asc(), webhook_endpoints::id.asc()))
        .select(Endpoint::as_select())
        .load(conn)
}

/// The endpoints new events go to.
pub fn active_endpoints(conn: &mut DbConn) -> QueryResult<Vec<Endpoint>> {
    webhook_endpoints::table.filter(webhook_endpoints::status.eq(ACTIVE)).select(Endpoint::as_select()).load(conn)
}

/// Sets an endpoint's status (and why). Deleting or disabling cancels its waiting deliveries
/// (an owner can send each again); deleting also wipes its secrets.
pub fn set_endpoint_status(
    conn: &mut DbConn,
    id: &str,
    status: &str,
    reason: Option<&str>,
    now: i64,
) -> QueryResult<usize> {
    let n = diesel::update(webhook_endpoints::table.find(id).filter(webhook_endpoints::status.ne(DELETED)))
        .set((
            webhook_endpoints::status.eq(status),
            webhook_endpoints::disabled_reason.eq(reason),
            webhook_endpoints::updated_at.eq(now),
        ))
        .execute(conn)?;
    if n == 1 && status == DELETED {
        diesel::update(webhook_endpoints::table.find(id))
            .set((webhook_endpoints::secret.eq(""), webhook_endpoints::previous_secret.eq(None::<String>)))
            .execute(conn)?;
    }
    if n == 1 && status != ACTIVE {
        diesel::update(
            webhook_deliveries::table
                .filter(webhook_deliveries::endpoint_id.eq(id))
                .filter(webhook_deliveries::status.eq(PENDING)),
        )
        .set((webhook_deliveries::status.eq(CANCELLED), webhook_deliveries::locked_until.eq(None::<i64>)))
        .execute(conn)?;
    }
    Ok(n)
}

/// Replaces the signing secret; the old one keeps signing until `previous_until`.
pub fn rotate_secret(conn: &mut DbConn, id: &str, secret: &str, previous_until: i64, now: i64) -> QueryResult<usize> {
    diesel::update(webhook_endpoints::table.find(id).filter(webhook_endpoints::status.ne(DELETED)))
        .set((
            webhook_endpoints::previous_secret.eq(webhook_endpoints::secret.nullable()),
            webhook_endpoints::previous_until.eq(previous_until),
            webhook_endpoints::secret.eq(secret),
            webhook_endpoints::updated_at.eq(now),
        ))
        .execute(conn)
}

/// A stored event.
#[derive(Debug, Clone, Queryable, Selectable, Insertable)]
#[diesel(table_name = webhook_events)]
pub struct StoredEvent {
    pub id: String,
    pub kind: String,
    pub account_id: Option<String>,
    pub payload: String,
    pub created_at: i64,
}

/// Stores an event and queues one delivery per endpoint in `to`.
pub fn insert_event(conn: &mut DbConn, event: &StoredEvent, to: &[&Endpoint], now: i64) -> QueryResult<()> {
    diesel::insert_into(webhook_events::table).values(event).execute(conn)?;
    for endpoint in to {
        diesel::insert_into(webhook_deliveries::table)
            .values((
                webhook_deliveries::id.eq(random_id("whd")),
                webhook_deliveries::event_id.eq(&event.id),
                webhook_deliveries::endpoint_id.eq(&endpoint.id),
                webhook_deliveries::status.eq(PENDING),
                webhook_deliveries::attempts.eq(0),
                webhook_deliveries::run_at.eq(now),
                webhook_deliveries::created_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(())
}

pub fn find_event(conn: &mut DbConn, id: &str) -> QueryResult<Option<StoredEvent>> {
    webhook_events::table.find(id).select(StoredEvent::as_select()).first(conn).optional()
}

/// The stored events about an account, and those about no account (an order's event may name
/// only an order): an erasure looks through them.
pub fn events_of_customer(conn: &mut DbConn, account_id: &str) -> QueryResult<Vec<StoredEvent>> {
    webhook_events::table
        .filter(webhook_events::account_id.eq(account_id).or(webhook_events::account_id.is_null()))
        .select(StoredEvent::as_select())
        .load(conn)
}

/// Forgets what receivers answered to these events' deliveries.
pub fn clear_delivery_errors(conn: &mut DbConn, event_ids: &[String]) -> QueryResult<usize> {
    let mut n = 0;
    for ids in event_ids.chunks(500) {
        n += diesel::update(webhook_deliveries::table.filter(webhook_deliveries::event_id.eq_any(ids)))
            .set(webhook_deliveries::last_error.eq(None::<String>))
            .execute(conn)?;
    }
    Ok(n)
}

pub fn replace_payload(conn: &mut DbConn, id: &str, payload: &str) -> QueryResult<usize> {
    diesel::update(webhook_events::table.find(id)).set(webhook_events::payload.eq(payload)).execute(conn)
}

/// A delivery as the log shows it.
#[derive(Debug, Clone, Queryable)]
pub struct DeliveryRow {
    pub id: String,
    pub event_id: String,
    pub kind: String,
    pub status: String,
    pub attempts: i32,
    pub run_at: i64,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub delivered_at: Option<i64>,
}

/// An endpoint's deliveries, newest first: after `after` (`(created_at, id)` of the last one
/// seen) and only with `status` when given.
pub fn deliveries_of(
    conn: &mut DbConn,
    endpoint_id: &str,
    status: Option<&str>,
    after: Option<(i64, String)>,
    limit: i64,
) -> QueryResult<Vec<DeliveryRow>> {
    let mut q = webhook_deliveries::table
        .inner_join(webhook_events::table)
        .filter(webhook_deliveries::endpoint_id.eq(endpoint_id))
        .into_boxed();
    if let Some(s) = status {
        q = q.filter(webhook_deliveries::status.eq(s.to_string()));
    }
    if let Some((at, id)) = after {
        q = q.filter(
            webhook_deliveries::created_at
                .lt(at)
                .or(webhook_deliveries::created_at.eq(at).and(webhook_deliveries::id.lt(id))),
        );
    }
    q.order((webhook_deliveries::created_at.desc(), webhook_deliveries::id.desc()))
        .limit(limit)
        .select((
            webhook_deliveries::id,
            webhook_deliveries::event_id,
            webhook_events::kind,
            webhook_deliveries::status,
            webhook_deliveries::attempts,
            webhook_deliveries::run_at,
            webhook_deliveries::last_status,
            webhook_deliveries::last_error,
            webhook_deliveries::created_at,
            webhook_deliveries::delivered_at,
        ))
        .load(conn)
}

/// Queues a delivery of `endpoint_id` again now, with a fresh budget of attempts (unless it is
/// still pending). Returns its status before, `None` when the endpoint has no such delivery.
pub fn requeue(conn: &mut DbConn, endpoint_id: &str, delivery_id: &str, now: i64) -> QueryResult<Option<String>> {
    let found: Option<String> = webhook_deliveries::table
        .find(delivery_id)
        .filter(webhook_deliveries::endpoint_id.eq(endpoint_id))
        .select(webhook_deliveries::status)
        .first(conn)
        .optional()?;
    let Some(status) = found else { return Ok(None) };
    if status != PENDING {
        diesel::update(webhook_deliveries::table.find(delivery_id))
            .set((
                webhook_deliveries::status.eq(PENDING),
                webhook_deliveries::attempts.eq(0),
                webhook_deliveries::run_at.eq(now),
                webhook_deliveries::locked_until.eq(None::<i64>),
            ))
            .execute(conn)?;
    }
    Ok(Some(status))
}

/// A claimed delivery; `claim_token` is the claim's identity (fresh on every claim).
#[derive(Debug, Clone, QueryableByName)]
pub struct Claimed {
    #[diesel(sql_type = Text)]
    pub id: String,
    #[diesel(sql_type = Text)]
    pub event_id: String,
    #[diesel(sql_type = Text)]
    pub endpoint_id: String,
    #[diesel(sql_type = Integer)]
    pub attempts: i32,
    #[diesel(sql_type = Text)]
    pub claim_token: String,
}

const CLAIM_SQLITE: &str =
    "UPDATE webhook_deliveries SET locked_until = ?1, attempts = attempts + 1, claim_token = ?3 \
     WHERE id = (SELECT d.id FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id \
     WHERE d.status = 'pending' AND d.run_at <= ?2 AND (d.locked_until IS NULL OR d.locked_until < ?2) \
     AND e.status = 'active' ORDER BY d.run_at, d.created_at LIMIT 1) \
     RETURNING id, event_id, endpoint_id, attempts, claim_token";

const CLAIM_POSTGRES: &str =
    "UPDATE webhook_deliveries SET locked_until = $1, attempts = attempts + 1, claim_token = $3 \
     WHERE id = (SELECT d.id FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id \
     WHERE d.status = 'pending' AND d.run_at <= $2 AND (d.locked_until IS NULL OR d.locked_until < $2) \
     AND e.status = 'active' ORDER BY d.run_at, d.created_at LIMIT 1 FOR UPDATE OF d SKIP LOCKED) \
     RETURNING id, event_id, endpoint_id, attempts, claim_token";

/// Claims the next due delivery of an active endpoint with a lease of `lease_secs`.
pub fn claim(conn: &mut DbConn, now: i64, lease_secs: i64) -> QueryResult<Option<Claimed>> {
    let (until, token) = (now + lease_secs, random_id("clm"));
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
            diesel::update(webhook_deliveries::table.find(&id))
                .set((
                    webhook_deliveries::locked_until.eq(until),
                    webhook_deliveries::attempts.eq(webhook_deliveries::attempts + 1),
                    webhook_deliveries::claim_token.eq(&token),
                ))
                .execute(c)?;
            diesel::sql_query(
                "SELECT id, event_id, endpoint_id, attempts, claim_token FROM webhook_deliveries WHERE id = ?",
            )
            .bind::<Text, _>(&id)
            .get_result(c)
            .optional()
        }
    }
}

#[cfg(feature = "mysql")]
const CLAIM_MYSQL_DUE: &str = "SELECT d.id FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id \
     WHERE d.status = 'pending' AND d.run_at <= ? AND (d.locked_until IS NULL OR d.locked_until < ?) \
     AND e.status = 'active' ORDER BY d.run_at, d.created_at LIMIT 10";

#[cfg(feature = "mysql")]
const CLAIM_MYSQL_LOCK: &str = "SELECT id FROM webhook_deliveries WHERE id = ? AND status = 'pending' AND run_at <= ? \
     AND (locked_until IS NULL OR locked_until < ?) FOR UPDATE SKIP LOCKED";

/// The row while `d`'s claim holds it.
macro_rules! held {
    ($d:expr) => {
        webhook_deliveries::table
            .find(&$d.id)
            .filter(webhook_deliveries::status.eq(PENDING))
            .filter(webhook_deliveries::claim_token.eq(&$d.claim_token))
    };
}

/// Renews the lease; false when the claim was lost.
pub fn heartbeat(conn: &mut DbConn, d: &Claimed, now: i64, lease_secs: i64) -> QueryResult<bool> {
    Ok(diesel::update(held!(d)).set(webhook_deliveries::locked_until.eq(now + lease_secs)).execute(conn)? == 1)
}

/// What one attempt ended in.
pub struct Attempt<'a> {
    /// The receiver's HTTP status, when it answered.
    pub status: Option<i32>,
    pub error: Option<&'a str>,
    /// `delivered`, `dead` or `pending` (then `retry_at`).
    pub outcome: &'a str,
    pub retry_at: i64,
}

/// Records an attempt while the claim holds; false when it was lost.
pub fn record(conn: &mut DbConn, d: &Claimed, a: &Attempt, now: i64) -> QueryResult<bool> {
    let error = a.error.map(|e| e.chars().take(500).collect::<String>());
    let n = diesel::update(held!(d))
        .set((
            webhook_deliveries::status.eq(a.outcome),
            webhook_deliveries::run_at.eq(a.retry_at),
            webhook_deliveries::locked_until.eq(None::<i64>),
            webhook_deliveries::last_status.eq(a.status),
            webhook_deliveries::last_error.eq(error),
            webhook_deliveries::delivered_at.eq((a.outcome == DELIVERED).then_some(now)),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// Deliveries of active endpoints due at `now` (leased ones included).
pub fn due_count(conn: &mut DbConn, now: i64) -> QueryResult<i64> {
    webhook_deliveries::table
        .inner_join(webhook_endpoints::table)
        .filter(webhook_endpoints::status.eq(ACTIVE))
        .filter(webhook_deliveries::status.eq(PENDING))
        .filter(webhook_deliveries::run_at.le(now))
        .count()
        .get_result(conn)
}

//! The append-only audit log: who did what to which object, before/after, from where, and
//! how it ended. Rows are only ever inserted; nothing updates or deletes them.

use diesel::prelude::*;
use serde_json::Value;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use rand::RngCore;

use crate::db::schema::audit_log;
use crate::db::DbConn;

/// Actor of entries written by the command line.
pub const CLI: &str = "cli";
/// Actor of entries written by the service itself.
pub const SYSTEM: &str = "system";
/// Outcome of an action that happened.
pub const SUCCESS: &str = "success";

/// A stored entry.
#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = audit_log)]
pub struct Entry {
    pub id: String,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub before_json: Option<String>,
    pub after_json: Option<String>,
    pub ip: String,
    pub outcome: String,
}

/// An entry being written.
#[derive(Clone)]
pub struct Event {
    actor: String,
    action: &'static str,
    target: String,
    ip: String,
    before: Option<Value>,
    after: Option<Value>,
    outcome: String,
}

impl Event {
    /// `actor` did `action` (e.g. `account.suspend`) to `target`, from `ip`; outcome success.
    pub fn new(actor: &str, ip: &str, action: &'static str, target: &str) -> Event {
        Event {
            actor: clean(actor),
            action,
            target: clean(target),
            ip: clean(ip),
            before: None,
            after: None,
            outcome: SUCCESS.into(),
        }
    }

    pub fn before(mut self, v: Value) -> Event {
        self.before = Some(v);
        self
    }

    pub fn after(mut self, v: Value) -> Event {
        self.after = Some(v);
        self
    }

    /// Anything but success: the error code that ended it.
    pub fn outcome(mut self, outcome: &str) -> Event {
        self.outcome = clean(outcome);
        self
    }

    /// Appends the entry; call inside the transaction that made the change.
    pub fn append(self, conn: &mut DbConn, now: i64) -> QueryResult<usize> {
        let entry = Entry {
            id: ordered_id(),
            at: now,
            actor: self.actor,
            action: self.action.to_string(),
            target: self.target,
            before_json: self.before.map(|v| v.to_string()),
            after_json: self.after.map(|v| v.to_string()),
            ip: self.ip,
            outcome: self.outcome,
        };
        diesel::insert_into(audit_log::table).values(&entry).execute(conn)
    }
}

/// An id that sorts in the order entries were written (within this process: strictly), so
/// entries of the same second still list newest first: `aud_<nanoseconds><random>`.
fn ordered_id() -> String {
    static LAST: AtomicU64 = AtomicU64::new(0);
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or_default();
    let prev = LAST.fetch_max(now, Ordering::SeqCst);
    let nanos = if prev >= now { LAST.fetch_add(1, Ordering::SeqCst) + 1 } else { now };
    format!("aud_{nanos:020}{:08x}", rand::rngs::OsRng.next_u32())
}

/// Caller-supplied text (a typed username) kept short and free of control characters.
fn clean(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).take(128).collect()
}

/// Filters of `GET /admin/audit`.
#[derive(Default)]
pub struct Filter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub from: Option<i64>,
    pub to: Option<i64>,
    pub before: Option<(i64, String)>,
    pub limit: i64,
}

/// Entries matching `f`, newest first.
pub fn list(conn: &mut DbConn, f: &Filter) -> QueryResult<Vec<Entry>> {
    let mut q = audit_log::table.into_boxed();
    if let Some(a) = &f.actor {
        q = q.filter(audit_log::actor.eq(a.clone()));
    }
    if let Some(a) = &f.action {
        q = q.filter(audit_log::action.eq(a.clone()));
    }
    if let Some(t) = f.from {
        q = q.filter(audit_log::at.ge(t));
    }
    if let Some(t) = f.to {
        q = q.filter(audit_log::at.le(t));
    }
    if let Some((at, id)) = &f.before {
        q = q.filter(audit_log::at.lt(*at).or(audit_log::at.eq(*at).and(audit_log::id.lt(id.clone()))));
    }
    q.order((audit_log::at.desc(), audit_log::id.desc())).limit(f.limit).load(conn)
}

//! What waits in the two queues (emails, webhook deliveries), for the metrics' gauges.

use diesel::dsl::{count_star, min};
use diesel::prelude::*;

use crate::db::schema::{outbox, webhook_deliveries};
use crate::db::DbConn;
use crate::mail::outbox::MailStatus;

/// One queue as seen now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queue {
    /// `mail` or `webhook`.
    pub name: &'static str,
    /// Jobs waiting or being worked on.
    pub pending: i64,
    /// Seconds since the oldest waiting job was queued (0 when none waits).
    pub oldest_age_secs: i64,
    /// Jobs given up after their last attempt.
    pub dead: i64,
}

/// Both queues, read in one go.
pub fn read(conn: &mut DbConn, now: i64) -> QueryResult<Vec<Queue>> {
    let (mail_pending, mail_oldest): (i64, Option<i64>) = outbox::table
        .filter(outbox::status.eq(MailStatus::Pending))
        .select((count_star(), min(outbox::created_at)))
        .get_result(conn)?;
    let mail_dead: i64 = outbox::table.filter(outbox::status.eq(MailStatus::Dead)).count().get_result(conn)?;
    let (hook_pending, hook_oldest): (i64, Option<i64>) = webhook_deliveries::table
        .filter(webhook_deliveries::status.eq(crate::webhooks::model::PENDING))
        .select((count_star(), min(webhook_deliveries::created_at)))
        .get_result(conn)?;
    let hook_dead: i64 = webhook_deliveries::table
        .filter(webhook_deliveries::status.eq(crate::webhooks::model::DEAD))
        .count()
        .get_result(conn)?;
    let age = |oldest: Option<i64>| oldest.map_or(0, |t| (now - t).max(0));
    Ok(vec![
        Queue { name: "mail", pending: mail_pending, oldest_age_secs: age(mail_oldest), dead: mail_dead },
        Queue { name: "webhook", pending: hook_pending, oldest_age_secs: age(hook_oldest), dead: hook_dead },
    ])
}

//! The access expiry sweep (DESIGN §7): at each of its service's reminder days before an
//! access's `active_until`, `access.expiring` and the `renewal_reminder` email; once it has
//! ended (its service's grace days after `active_until`), `access.expired` and the
//! `access_expired` email. An access a refund ended (taken back) gets neither: the refund
//! already told the customer. A reminder day is owed only when its moment (`active_until` less
//! the day) comes after the grant's last change (`updated_at`): an access bought or extended
//! with less than `d` days left never gets the `d`-day reminder. The `renewal_reminder` email
//! goes only for a service still on sale (the webhook goes regardless). Each notice is claimed in the
//! database first (one row per access, period end and kind in `access_notices`, inserted with
//! ON CONFLICT DO NOTHING in the transaction that writes the event and queues the email), so
//! several instances send it once and an instance that was down catches up on its next pass:
//! with only the most recent reminder that is due (the older days are claimed as skipped).
//!
//! Who gets the emails: reminders go to live accounts (active, or still to verify their address)
//! that kept `renewal_reminders` on; `access_expired` is transactional (it says the doors
//! closed) and goes to live accounts whatever that setting. Suspended and revoked accounts get
//! neither; the webhooks go for every account but revoked ones.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Text};

use crate::accounts::access::ends_at;
use crate::accounts::model::{self as accounts, AccountStatus};
use crate::catalog::model::parse_reminder_days;
use crate::db::schema::{access_grants, access_notices, accounts as accounts_table, services};
use crate::db::{DbConn, DbResult};
use crate::mail::outbox::{self, MailKind};
use crate::webhooks::events::{self, Data};

const DAY: i64 = 86_400;
/// How far back an ended access still gets its `access.expired` (a long outage, or the first
/// start of a version with webhooks, does not replay years of history).
pub const CATCH_UP_SECS: i64 = 7 * DAY;
/// Accesses looked at per pass (per service and reminder day for reminders).
const BATCH: i64 = 500;

/// Whether an access that is over at `ended_at` ([`crate::accounts::access::ends_at`]: the end
/// of its grace) has ended at `now`.
pub fn has_ended(ended_at: i64, now: i64) -> bool {
    now >= ended_at
}

/// The claim kind of the reminder `days` before the end, e.g. `access.expiring:7`.
pub fn reminder_kind(days: i32) -> String {
    format!("{}:{days}", events::ACCESS_EXPIRING)
}

/// The reminder day of a claim kind written by [`reminder_kind`].
pub fn reminder_day(kind: &str) -> Option<i32> {
    kind.strip_prefix(events::ACCESS_EXPIRING)?.strip_prefix(':')?.parse().ok()
}

/// Which reminder day is due for an access ending at `until`, with `days` largest first: the
/// smallest day whose moment (`until - day`) has come, while the period still runs. Only that
/// one is sent; the larger ones, passed while nobody swept, are skipped.
pub fn due_reminder(days: &[i32], until: i64, now: i64) -> Option<i32> {
    if now >= until {
        return None;
    }
    days.iter().copied().filter(|d| until - i64::from(*d) * DAY <= now).min()
}

/// Whether an account in `status` gets emails from the sweep.
fn mailable(status: AccountStatus) -> bool {
    status == accounts::ACTIVE || status == accounts::PENDING_VERIFICATION
}

/// The SQL of [`crate::accounts::access::ends_at`] over `access_grants` joined with `services`.
fn ended_at_sql() -> diesel::expression::SqlLiteral<BigInt> {
    diesel::dsl::sql::<BigInt>(
        "(access_grants.active_until + CASE WHEN access_grants.taken_back_at IS NULL AND services.grace_days > 0 \
         THEN services.grace_days * 86400 ELSE 0 END)",
    )
}

/// One notice: an access, the period end it is about, and its kind.
struct Notice<'a> {
    account_id: &'a str,
    slug: &'a str,
    period_end: i64,
    kind: &'a str,
}

impl Notice<'_> {
    /// Claims the notice; true for the one caller that got it. `skipped`: claimed so that it
    /// is never sent (a reminder overtaken by a later one).
    fn claim(&self, c: &mut DbConn, now: i64, skipped: bool) -> QueryResult<bool> {
        let sql = |p: [&str; 6]| {
            let insert = format!(
                "INSERT INTO access_notices (account_id, service_slug, period_end, kind, created_at, skipped) \
                 VALUES ({}, {}, {}, {}, {}, {})",
                p[0], p[1], p[2], p[3], p[4], p[5]
            );
            if p[0] == "?" {
                insert
            } else {
                format!("{insert} ON CONFLICT DO NOTHING")
            }
        };
        macro_rules! run {
            ($c:expr, $p:expr) => {
                diesel::sql_query(sql($p))
                    .bind::<Text, _>(self.account_id)
                    .bind::<Text, _>(self.slug)
                    .bind::<BigInt, _>(self.period_end)
                    .bind::<Text, _>(self.kind)
                    .bind::<BigInt, _>(now)
                    .bind::<Bool, _>(skipped)
                    .execute($c)
            };
        }
        let n = match c {
            DbConn::Sqlite(c) => run!(c, ["?1", "?2", "?3", "?4", "?5", "?6"])?,
            DbConn::Pg(c) => run!(c, ["$1", "$2", "$3", "$4", "$5", "$6"])?,
            #[cfg(feature = "mysql")]
            DbConn::Mysql(c) => crate::db::unless_duplicate(run!(c, ["?"; 6]))?,
        };
        Ok(n == 1)
    }

    /// Queues the notice's email (in the claim's transaction) and records its job on the claim,
    /// where the job finds the access and period it is about.
    fn enqueue(&self, c: &mut DbConn, kind: MailKind, now: i64) -> QueryResult<()> {
        let job = outbox::enqueue(c, kind, Some(self.account_id), None, now)?;
        diesel::update(access_notices::table.find((self.account_id, self.slug, self.period_end, self.kind)))
            .set(access_notices::outbox_id.eq(job))
            .execute(c)?;
        Ok(())
    }
}

/// What a notice's email job is about, read back from its claim.
#[derive(Debug, Clone, Queryable)]
pub struct NoticeOfJob {
    pub account_id: String,
    pub service_slug: String,
    pub period_end: i64,
    pub kind: String,
}

/// The notice whose email the outbox job `job_id` carries.
pub fn notice_of_job(c: &mut DbConn, job_id: &str) -> QueryResult<Option<NoticeOfJob>> {
    access_notices::table
        .filter(access_notices::outbox_id.eq(job_id))
        .select((
            access_notices::account_id,
            access_notices::service_slug,
            access_notices::period_end,
            access_notices::kind,
        ))
        .first(c)
        .optional()
}

/// A grant owed a notice: account, service, active_until, grace_days, taken_back_at, login,
/// email, account status, renewal reminders on.
type Candidate = (String, String, i64, i32, Option<i64>, String, String, AccountStatus, bool);

/// The columns of a [`Candidate`].
macro_rules! candidate_columns {
    () => {
        (
            access_grants::account_id,
            access_grants::service_slug,
            access_grants::active_until,
            services::grace_days,
            access_grants::taken_back_at,
            accounts_table::login,
            accounts_table::email,
            accounts_table::status,
            accounts_table::renewal_reminders,
        )
    };
}

/// A notice of `$kind` already claimed for the grant's current period end.
macro_rules! noticed {
    ($kind:expr) => {
        diesel::dsl::exists(
            access_notices::table
                .filter(access_notices::account_id.eq(access_grants::account_id))
                .filter(access_notices::service_slug.eq(access_grants::service_slug))
                .filter(access_notices::period_end.eq(access_grants::active_until))
                .filter(access_notices::kind.eq($kind)),
        )
    };
}

/// One pass: writes the due notices; returns how many events were written.
pub fn sweep(c: &mut DbConn, now: i64) -> DbResult<usize> {
    Ok(expire(c, now)? + remind(c, now)?)
}

/// `access.expired` and the `access_expired` email for accesses whose grace is over (within
/// the catch-up window). Rows that are owed nothing are filtered in SQL, never skipped in the
/// loop, so they cannot fill every batch. The order is total, so two instances lock the same
/// rows in the same order (no PostgreSQL deadlock).
fn expire(c: &mut DbConn, now: i64) -> DbResult<usize> {
    let grants: Vec<Candidate> = access_grants::table
        .inner_join(accounts_table::table)
        .inner_join(services::table)
        .filter(accounts_table::status.ne(accounts::REVOKED))
        .filter(access_grants::taken_back_at.is_null())
        .filter(access_grants::active_until.le(now))
        .filter(ended_at_sql().le(now))
        .filter(ended_at_sql().gt(now - CATCH_UP_SECS))
        .filter(diesel::dsl::not(noticed!(events::ACCESS_EXPIRED)))
        .select(candidate_columns!())
        .order((access_grants::active_until.asc(), access_grants::account_id.asc(), access_grants::service_slug.asc()))
        .limit(BATCH)
        .load(c)?;
    let mut written = 0;
    for (account_id, slug, until, grace_days, taken_back_at, login, email, status, _) in grants {
        if taken_back_at.is_some() {
            continue;
        }
        let end = ends_at(until, grace_days, false);
        if !has_ended(end, now) || now - end > CATCH_UP_SECS {
            continue;
        }
        let notice = Notice { account_id: &account_id, slug: &slug, period_end: until, kind: events::ACCESS_EXPIRED };
        if !notice.claim(c, now, false)? {
            continue;
        }
        let data = Data::default().with("login", login).with("email", email).access(&slug, until);
        events::emit(c, events::ACCESS_EXPIRED, Some(&account_id), data, now)?;
        if mailable(status) {
            notice.enqueue(c, outbox::ACCESS_EXPIRED, now)?;
        }
        written += 1;
    }
    Ok(written)
}

/// `access.expiring` and the `renewal_reminder` email at each reminder day of each service.
/// For the day `d` (the days largest first, `next` the one after it) the accesses owed it are
/// those ending within `(now + next, now + d]` days, whose `d`-day moment is later than their
/// last change (`updated_at`: bought or extended with less than `d` days left, they are not
/// owed it), with no claim of `d` for their current period end: after a renewal
/// (`active_until` moved) the claims of the old period no longer count. An access whose older
/// days were never sent (the process was down) gets only this one; the older days are claimed
/// as skipped. The email goes only while the service is on sale (a link to renew something
/// that cannot be bought helps nobody); the webhook goes regardless.
fn remind(c: &mut DbConn, now: i64) -> DbResult<usize> {
    let catalog: Vec<(String, String, bool)> = services::table
        .select((services::slug, services::reminder_days, services::active))
        .order(services::slug.asc())
        .load(c)?;
    let mut written = 0;
    for (service, text, on_sale) in catalog {
        let days = parse_reminder_days(&text);
        for (i, &day) in days.iter().enumerate() {
            let after = days.get(i + 1).map_or(now, |next| now + i64::from(*next) * DAY);
            let kind = reminder_kind(day);
            let grants: Vec<Candidate> = access_grants::table
                .inner_join(accounts_table::table)
                .inner_join(services::table)
                .filter(access_grants::service_slug.eq(&service))
                .filter(accounts_table::status.ne(accounts::REVOKED))
                .filter(access_grants::active_until.gt(after))
                .filter(access_grants::active_until.le(now + i64::from(day) * DAY))
                .filter(access_grants::active_until.gt(access_grants::updated_at + i64::from(day) * DAY))
                .filter(diesel::dsl::not(noticed!(&kind)))
                .select(candidate_columns!())
                .order((access_grants::active_until.asc(), access_grants::account_id.asc()))
                .limit(BATCH)
                .load(c)?;
            for (account_id, slug, until, _, _, login, email, status, reminders_on) in grants {
                if due_reminder(&days, until, now) != Some(day) {
                    continue;
                }
                let notice = Notice { account_id: &account_id, slug: &slug, period_end: until, kind: &kind };
                if !notice.claim(c, now, false)? {
                    continue;
                }
                for older in &days[..i] {
                    let kind = reminder_kind(*older);
                    Notice { kind: &kind, ..notice }.claim(c, now, true)?;
                }
                let data = Data::default()
                    .with("login", login)
                    .with("email", email)
                    .with("days_before", day)
                    .access(&slug, until);
                events::emit(c, events::ACCESS_EXPIRING, Some(&account_id), data, now)?;
                if mailable(status) && reminders_on && on_sale {
                    notice.enqueue(c, outbox::RENEWAL_REMINDER, now)?;
                }
                written += 1;
            }
        }
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_most_recent_due_reminder_is_sent() {
        let until = 100 * DAY;
        let days = [7, 1];
        assert_eq!(due_reminder(&days, until, until - 8 * DAY), None, "not yet");
        assert_eq!(due_reminder(&days, until, until - 7 * DAY), Some(7));
        assert_eq!(due_reminder(&days, until, until - 2 * DAY), Some(7));
        assert_eq!(due_reminder(&days, until, until - DAY), Some(1), "the 7-day one is overtaken");
        assert_eq!(due_reminder(&days, until, until - 1), Some(1));
        assert_eq!(due_reminder(&days, until, until), None, "the period is over");
        assert_eq!(due_reminder(&[], until, until - DAY), None);
    }

    #[test]
    fn reminder_kinds_name_their_day() {
        assert_eq!(reminder_kind(7), "access.expiring:7");
        assert_eq!(reminder_day(&reminder_kind(30)), Some(30));
        assert_eq!(reminder_day(events::ACCESS_EXPIRED), None);
        assert_eq!(reminder_day(events::ACCESS_EXPIRING), None);
    }
}

//! The access expiry sweep: `access.expiring` 7 days before an access's `active_until` and
//! `access.expired` once it has ended (its service's grace days after `active_until`; a period
//! taken back by a refund has no grace). Each notice is claimed in the database first (one row
//! per access, period end and kind in `access_notices`, inserted with ON CONFLICT DO NOTHING
//! in the transaction that writes the event), so several instances emit it once and an
//! instance that was down catches up on its next pass.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use crate::accounts::access::ends_at;
use crate::accounts::model as accounts;
use crate::db::schema::{access_grants, access_notices, accounts as accounts_table, services};
use crate::db::{DbConn, DbResult};
use crate::webhooks::events::{self, Data};

/// How long before the end `access.expiring` goes out.
pub const EXPIRING_SECS: i64 = 7 * 86_400;
/// How far back an ended access still gets its `access.expired` (a long outage, or the first
/// start of a version with webhooks, does not replay years of history).
pub const CATCH_UP_SECS: i64 = 7 * 86_400;
/// Accesses looked at per pass.
const BATCH: i64 = 500;

/// Whether an access that is over at `ended_at` ([`crate::accounts::access::ends_at`]: the end
/// of its grace) has ended at `now`.
pub fn has_ended(ended_at: i64, now: i64) -> bool {
    now >= ended_at
}

/// The SQL of [`crate::accounts::access::ends_at`] over `access_grants` joined with `services`.
fn ended_at_sql() -> diesel::expression::SqlLiteral<BigInt> {
    diesel::dsl::sql::<BigInt>(
        "(access_grants.active_until + CASE WHEN access_grants.taken_back_at IS NULL AND services.grace_days > 0 \
         THEN CAST(services.grace_days AS BIGINT) * 86400 ELSE 0 END)",
    )
}

/// Claims the notice `(account, service, period end, kind)`; true for the one caller that got it.
fn claim_notice(
    c: &mut DbConn,
    account_id: &str,
    slug: &str,
    period_end: i64,
    kind: &str,
    now: i64,
) -> QueryResult<bool> {
    let sql = |p: [&str; 5]| {
        format!(
            "INSERT INTO access_notices (account_id, service_slug, period_end, kind, created_at) \
             VALUES ({}, {}, {}, {}, {}) ON CONFLICT DO NOTHING",
            p[0], p[1], p[2], p[3], p[4]
        )
    };
    let n = match c {
        DbConn::Sqlite(c) => diesel::sql_query(sql(["?1", "?2", "?3", "?4", "?5"]))
            .bind::<Text, _>(account_id)
            .bind::<Text, _>(slug)
            .bind::<BigInt, _>(period_end)
            .bind::<Text, _>(kind)
            .bind::<BigInt, _>(now)
            .execute(c)?,
        DbConn::Pg(c) => diesel::sql_query(sql(["$1", "$2", "$3", "$4", "$5"]))
            .bind::<Text, _>(account_id)
            .bind::<Text, _>(slug)
            .bind::<BigInt, _>(period_end)
            .bind::<Text, _>(kind)
            .bind::<BigInt, _>(now)
            .execute(c)?,
    };
    Ok(n == 1)
}

/// A grant owed a notice: account, service, active_until, grace_days, taken_back_at, login, email.
type Candidate = (String, String, i64, i32, Option<i64>, String, String);

/// One pass: writes the due notices; returns how many events were written.
pub fn sweep(c: &mut DbConn, now: i64) -> DbResult<usize> {
    // A notice already claimed for this access, period end and kind.
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
    // Candidates: accesses of live accounts still owed a notice: `access.expiring` before
    // `active_until` (within the warning window), `access.expired` once the grace is over (within
    // the catch-up window). Rows that are owed nothing are filtered here, never skipped in the
    // loop, so they cannot fill every batch. The order is total, so two instances lock the same
    // rows in the same order (no PostgreSQL deadlock).
    let grants: Vec<Candidate> = access_grants::table
        .inner_join(accounts_table::table)
        .inner_join(services::table)
        .filter(accounts_table::status.ne(accounts::REVOKED))
        .filter(access_grants::active_until.le(now + EXPIRING_SECS))
        .filter(ended_at_sql().gt(now - CATCH_UP_SECS))
        .filter(diesel::dsl::not(noticed!(events::ACCESS_EXPIRED)))
        .filter(
            ended_at_sql()
                .le(now)
                .or(access_grants::active_until.gt(now).and(diesel::dsl::not(noticed!(events::ACCESS_EXPIRING)))),
        )
        .select((
            access_grants::account_id,
            access_grants::service_slug,
            access_grants::active_until,
            services::grace_days,
            access_grants::taken_back_at,
            accounts_table::login,
            accounts_table::email,
        ))
        .order((access_grants::active_until.asc(), access_grants::account_id.asc(), access_grants::service_slug.asc()))
        .limit(BATCH)
        .load(c)?;
    let mut written = 0;
    for (account_id, slug, until, grace_days, taken_back_at, login, email) in grants {
        let end = ends_at(until, grace_days, taken_back_at.is_some());
        let kind = if has_ended(end, now) {
            if now - end > CATCH_UP_SECS {
                continue;
            }
            events::ACCESS_EXPIRED
        } else if now < until && until - now <= EXPIRING_SECS {
            events::ACCESS_EXPIRING
        } else {
            continue;
        };
        if !claim_notice(c, &account_id, &slug, until, kind, now)? {
            continue;
        }
        let data = Data::default().with("login", login).with("email", email).access(&slug, until);
        events::emit(c, kind, Some(&account_id), data, now)?;
        written += 1;
    }
    Ok(written)
}

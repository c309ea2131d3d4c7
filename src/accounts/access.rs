//! The one truth every door uses (forward auth, the access API, access/check, the cabinet):
//! the state of an access at a moment, from its `active_until` and its service's grace.

use diesel::prelude::*;

use crate::db::schema::{access_grants, services};
use crate::db::DbConn;

const DAY: i64 = 86_400;

/// Where an access stands (DESIGN §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessState {
    /// Before `active_until`.
    Active,
    /// After `active_until`, within the service's grace days: the doors still open, the cabinet warns.
    Grace,
    /// Over (ran out, or taken back by a refund).
    Expired,
}

impl AccessState {
    /// True while the doors open (active or in grace).
    pub fn opens(self) -> bool {
        !matches!(self, AccessState::Expired)
    }

    /// `active`, `grace` or `expired`.
    pub fn as_str(self) -> &'static str {
        match self {
            AccessState::Active => "active",
            AccessState::Grace => "grace",
            AccessState::Expired => "expired",
        }
    }
}

/// The state of an access ending at `active_until` with `grace_days` of grace, at `now`.
pub fn access_state(active_until: i64, grace_days: i32, now: i64) -> AccessState {
    if now < active_until {
        AccessState::Active
    } else if now < active_until + i64::from(grace_days.max(0)) * DAY {
        AccessState::Grace
    } else {
        AccessState::Expired
    }
}

/// When an access running until `active_until` is over: its grace ends (DESIGN §7); a period
/// taken back by a refund has none. The expiry sweep's query says the same in SQL.
pub fn ends_at(active_until: i64, grace_days: i32, taken_back: bool) -> i64 {
    let grace = if taken_back { 0 } else { grace_days.max(0) };
    active_until + i64::from(grace) * DAY
}

/// When the account's access to `slug` is over ([`ends_at`]), if it has one.
pub fn open_until(conn: &mut DbConn, account_id: &str, slug: &str) -> QueryResult<Option<i64>> {
    let row: Option<(i64, i32, Option<i64>)> = access_grants::table
        .inner_join(services::table)
        .filter(access_grants::account_id.eq(account_id))
        .filter(access_grants::service_slug.eq(slug))
        .select((access_grants::active_until, services::grace_days, access_grants::taken_back_at))
        .first(conn)
        .optional()?;
    Ok(row.map(|(until, grace, back)| ends_at(until, grace, back.is_some())))
}

/// One access of an account, with what its service says about it.
#[derive(Debug, Clone, Queryable)]
pub struct Grant {
    pub slug: String,
    pub name: String,
    pub access_url: Option<String>,
    pub active_until: i64,
    pub grace_days: i32,
    /// A refund took the period back: no grace for it.
    pub taken_back_at: Option<i64>,
}

impl Grant {
    /// The state at `now` ([`access_state`]; a period taken back by a refund gets no grace).
    pub fn state(&self, now: i64) -> AccessState {
        access_state(self.active_until, self.grace(), now)
    }

    /// The last moment the doors open: the end of the period plus its grace.
    pub fn open_until(&self) -> i64 {
        ends_at(self.active_until, self.grace_days, self.taken_back_at.is_some())
    }

    fn grace(&self) -> i32 {
        if self.taken_back_at.is_some() {
            0
        } else {
            self.grace_days.max(0)
        }
    }
}

/// The columns a [`Grant`] is loaded from (`access_grants` joined with `services`).
pub type GrantColumns = (
    services::slug,
    services::name,
    services::access_url,
    access_grants::active_until,
    services::grace_days,
    access_grants::taken_back_at,
);

/// Select these (in a query joining `access_grants` with `services`) to load a [`Grant`].
pub const GRANT_COLUMNS: GrantColumns = (
    services::slug,
    services::name,
    services::access_url,
    access_grants::active_until,
    services::grace_days,
    access_grants::taken_back_at,
);

/// Every access of an account, by service slug (one read).
pub fn grants_of(conn: &mut DbConn, account_id: &str) -> QueryResult<Vec<Grant>> {
    access_grants::table
        .inner_join(services::table)
        .filter(access_grants::account_id.eq(account_id))
        .select(GRANT_COLUMNS)
        .order(services::slug.asc())
        .load(conn)
}

/// Why a door stays shut for an account that is logged in (or whose password was right).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No access to the service (or to any service) at all.
    NoAccess,
    /// The access ran out (grace included) or was taken back.
    Expired,
}

impl Refusal {
    /// `no_access` or `expired`.
    pub fn code(self) -> &'static str {
        match self {
            Refusal::NoAccess => "no_access",
            Refusal::Expired => "expired",
        }
    }
}

/// The door's decision for `service` (or, without one, any service): the grant that opens it.
/// Without a service, the open grant that lasts longest is returned.
pub fn admit<'a>(grants: &'a [Grant], service: Option<&str>, now: i64) -> Result<&'a Grant, Refusal> {
    let candidates: Vec<&Grant> = grants.iter().filter(|g| service.is_none_or(|s| g.slug == s)).collect();
    if candidates.is_empty() {
        return Err(Refusal::NoAccess);
    }
    candidates.into_iter().filter(|g| g.state(now).opens()).max_by_key(|g| g.active_until).ok_or(Refusal::Expired)
}

/// The slugs whose doors are open at `now`.
pub fn open_slugs(grants: &[Grant], now: i64) -> Vec<&str> {
    grants.iter().filter(|g| g.state(now).opens()).map(|g| g.slug.as_str()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(slug: &str, until: i64, grace: i32, taken_back: bool) -> Grant {
        Grant {
            slug: slug.into(),
            name: slug.into(),
            access_url: None,
            active_until: until,
            grace_days: grace,
            taken_back_at: taken_back.then_some(until),
        }
    }

    #[test]
    fn active_then_grace_then_expired() {
        let until = 1_000_000;
        assert_eq!(access_state(until, 3, until - 1), AccessState::Active);
        assert_eq!(access_state(until, 3, until), AccessState::Grace);
        assert_eq!(access_state(until, 3, until + 3 * DAY - 1), AccessState::Grace);
        assert_eq!(access_state(until, 3, until + 3 * DAY), AccessState::Expired);
        assert_eq!(access_state(until, 0, until), AccessState::Expired);
        assert_eq!(access_state(until, -5, until), AccessState::Expired, "a negative grace is none");
        assert!(AccessState::Grace.opens() && !AccessState::Expired.opens());
    }

    #[test]
    fn a_period_taken_back_gets_no_grace() {
        let g = grant("vpn", 1_000, 3, true);
        assert_eq!(g.state(1_001), AccessState::Expired);
        assert_eq!(g.open_until(), 1_000);
        assert_eq!(grant("vpn", 1_000, 3, false).open_until(), 1_000 + 3 * DAY);
        assert_eq!(grant("vpn", 1_000, 3, false).state(1_001), AccessState::Grace);
    }

    #[test]
    fn the_door_names_why_it_stays_shut() {
        let now = 10 * DAY;
        let grants = vec![grant("course", now + DAY, 3, false), grant("vpn", now - 4 * DAY, 3, false)];
        assert_eq!(admit(&grants, Some("course"), now).unwrap().slug, "course");
        assert_eq!(admit(&grants, Some("vpn"), now).unwrap_err(), Refusal::Expired);
        assert_eq!(admit(&grants, Some("files"), now).unwrap_err(), Refusal::NoAccess);
        assert_eq!(admit(&grants, None, now).unwrap().slug, "course");
        assert_eq!(admit(&grants[1..], None, now).unwrap_err(), Refusal::Expired);
        assert_eq!(admit(&[], None, now).unwrap_err(), Refusal::NoAccess);
        assert_eq!(open_slugs(&grants, now), vec!["course"]);
    }
}

//! The `services` table.

use diesel::prelude::*;

use crate::db::schema::services;
use crate::db::DbConn;

/// A service in the catalog.
#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = services)]
pub struct Service {
    pub slug: String,
    pub name: String,
    pub price_minor: i64,
    pub currency: String,
    pub period_days: i32,
    pub active: bool,
    pub created_at: i64,
    pub updated_at: i64,
    /// Days an access keeps opening the doors after `active_until` (DESIGN §7).
    pub grace_days: i32,
    /// Where the customer uses the service (shown in the cabinet).
    pub access_url: Option<String>,
    /// Days before `active_until` at which a renewal reminder goes out: a JSON array of
    /// distinct positive integers below `period_days`, largest first (DESIGN §7; default `[7,1]`).
    pub reminder_days: String,
}

impl Service {
    /// The reminder days, largest first ([`parse_reminder_days`]).
    pub fn reminder_day_list(&self) -> Vec<i32> {
        parse_reminder_days(&self.reminder_days)
    }
}

/// Most reminder days a service may have.
pub const MAX_REMINDER_DAYS: usize = 5;
/// The longest a reminder may go out before the period ends.
pub const MAX_REMINDER_DAY: i32 = 365;

/// The stored reminder days, largest first. Text that is not a JSON array of integers (only
/// writable by hand in the database) gives no reminders rather than a failing sweep; values
/// out of range are dropped.
pub fn parse_reminder_days(text: &str) -> Vec<i32> {
    let mut days: Vec<i32> = serde_json::from_str::<Vec<i64>>(text)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|d| i32::try_from(d).ok())
        .filter(|d| (1..=MAX_REMINDER_DAY).contains(d))
        .collect();
    days.sort_unstable_by(|a, b| b.cmp(a));
    days.dedup();
    days
}

/// Checks reminder days given by an admin for a service of `period_days` (whole days from 1 to
/// less than the period and at most 365, at most 5 once repeats are removed; empty: no
/// reminders) and returns them as stored: a JSON array, largest first, each day once. A day
/// as long as the period would fall on (or before) the purchase itself.
pub fn reminder_days_text(days: &[i32], period_days: i32) -> Result<String, String> {
    let mut sorted = days.to_vec();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    sorted.dedup();
    if sorted.len() > MAX_REMINDER_DAYS {
        return Err(format!("reminder_days may list at most {MAX_REMINDER_DAYS} different days"));
    }
    let longest = (period_days - 1).min(MAX_REMINDER_DAY);
    if sorted.iter().any(|d| !(1..=longest).contains(d)) {
        return Err(format!(
            "reminder_days must be whole days from 1 to {longest} (less than period_days, {period_days})"
        ));
    }
    Ok(serde_json::to_string(&sorted).unwrap_or_else(|_| "[]".into()))
}

/// Grace days of a new service.
pub const DEFAULT_GRACE_DAYS: i32 = 3;
/// Reminder days of a new service (stored as JSON text).
pub const DEFAULT_REMINDER_DAYS: &str = "[7,1]";

pub fn list_active(conn: &mut DbConn) -> QueryResult<Vec<Service>> {
    services::table.filter(services::active.eq(true)).order(services::slug.asc()).load(conn)
}

pub fn find_by_slug(conn: &mut DbConn, slug: &str) -> QueryResult<Option<Service>> {
    services::table.find(slug).first(conn).optional()
}

pub fn count(conn: &mut DbConn) -> QueryResult<i64> {
    services::table.count().get_result(conn)
}

pub fn insert(conn: &mut DbConn, s: &Service) -> QueryResult<usize> {
    diesel::insert_into(services::table).values(s).execute(conn)
}

/// Every service, inactive ones included (admins).
pub fn list_all(conn: &mut DbConn) -> QueryResult<Vec<Service>> {
    services::table.order(services::slug.asc()).load(conn)
}

/// Stores every field of `s` but its slug and creation time.
pub fn update(conn: &mut DbConn, s: &Service) -> QueryResult<usize> {
    diesel::update(services::table.find(&s.slug))
        .set((
            services::name.eq(&s.name),
            services::price_minor.eq(s.price_minor),
            services::currency.eq(&s.currency),
            services::period_days.eq(s.period_days),
            services::active.eq(s.active),
            services::updated_at.eq(s.updated_at),
            services::grace_days.eq(s.grace_days),
            services::access_url.eq(&s.access_url),
            services::reminder_days.eq(&s.reminder_days),
        ))
        .execute(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reminder_days_are_checked_and_stored_largest_first() {
        assert_eq!(reminder_days_text(&[1, 7], 30).unwrap(), "[7,1]");
        assert_eq!(reminder_days_text(&[], 30).unwrap(), "[]");
        assert_eq!(reminder_days_text(&[365, 1], 3650).unwrap(), "[365,1]");
        assert_eq!(reminder_days_text(&[7, 7, 1, 7], 30).unwrap(), "[7,1]", "repeats removed");
        assert_eq!(reminder_days_text(&[29], 30).unwrap(), "[29]");
        assert!(reminder_days_text(&[30], 30).is_err(), "a day as long as the period");
        assert!(reminder_days_text(&[7], 3).is_err());
        assert!(reminder_days_text(&[1], 1).is_err(), "a one-day period has no reminder day");
        assert!(reminder_days_text(&[0], 30).is_err());
        assert!(reminder_days_text(&[366], 3650).is_err());
        assert!(reminder_days_text(&[-1], 30).is_err());
        assert!(reminder_days_text(&(1..=6).collect::<Vec<_>>(), 30).is_err());
        assert!(reminder_days_text(&[5, 4, 3, 2, 1, 1, 2], 30).is_ok(), "five once repeats are gone");
    }

    #[test]
    fn stored_reminder_days_are_read_leniently() {
        assert_eq!(parse_reminder_days("[7,1]"), vec![7, 1]);
        assert_eq!(parse_reminder_days("[1,7,7]"), vec![7, 1]);
        assert_eq!(parse_reminder_days("[]"), Vec::<i32>::new());
        assert_eq!(parse_reminder_days("not json"), Vec::<i32>::new());
        assert_eq!(parse_reminder_days("[0,3,9999999999]"), vec![3]);
    }
}

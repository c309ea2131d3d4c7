//! Query parameters shared by the admin listings: time bounds (RFC 3339 or unix seconds),
//! page size, and an opaque newest-first cursor `<unix>.<id>`.

use crate::crypto::is_key;
use crate::http::api_error::ApiError;

/// Default and largest page size.
pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;

fn bad(field: &str, msg: &str) -> ApiError {
    ApiError::bad_request("invalid_query", format!("{field}: {msg}"))
}

/// `2026-11-23T10:00:00Z` or `1795000000`.
pub fn parse_time(field: &str, raw: Option<&str>) -> Result<Option<i64>, ApiError> {
    let Some(raw) = raw.map(str::trim).filter(|s| !s.is_empty()) else { return Ok(None) };
    if let Ok(unix) = raw.parse::<i64>() {
        return Ok(Some(unix));
    }
    chrono::DateTime::parse_from_rfc3339(raw)
        .map(|t| Some(t.timestamp()))
        .map_err(|_| bad(field, "expected an RFC 3339 time or unix seconds"))
}

/// 1 ..= [`MAX_LIMIT`], default [`DEFAULT_LIMIT`].
pub fn limit(raw: Option<i64>) -> Result<i64, ApiError> {
    match raw {
        None => Ok(DEFAULT_LIMIT),
        Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        Some(_) => Err(bad("limit", "must be between 1 and 200")),
    }
}

/// The position after which the next page starts.
pub fn parse_cursor(raw: Option<&str>) -> Result<Option<(i64, String)>, ApiError> {
    let Some(raw) = raw.filter(|s| !s.is_empty()) else { return Ok(None) };
    let parsed = raw.split_once('.').and_then(|(t, id)| Some((t.parse::<i64>().ok()?, id.to_string())));
    match parsed {
        Some((t, id)) if is_key(&id) => Ok(Some((t, id))),
        _ => Err(bad("cursor", "not a cursor from a previous page")),
    }
}

pub fn cursor(at: i64, id: &str) -> String {
    format!("{at}.{id}")
}

/// An optional text filter: trimmed, non-empty, at most `max` characters, without control characters.
pub fn text_filter(field: &str, raw: Option<&str>, max: usize) -> Result<Option<String>, ApiError> {
    let Some(v) = raw.map(str::trim).filter(|s| !s.is_empty()) else { return Ok(None) };
    if v.chars().count() > max || v.chars().any(char::is_control) {
        return Err(bad(field, "too long or contains control characters"));
    }
    Ok(Some(v.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_cursors_and_limits() {
        assert_eq!(parse_time("from", Some("1700000000")).unwrap(), Some(1_700_000_000));
        assert_eq!(parse_time("from", Some("2023-11-14T22:13:20Z")).unwrap(), Some(1_700_000_000));
        assert_eq!(parse_time("from", None).unwrap(), None);
        assert!(parse_time("from", Some("yesterday")).is_err());
        assert_eq!(parse_cursor(Some(&cursor(5, "ord_ab"))).unwrap(), Some((5, "ord_ab".into())));
        assert!(parse_cursor(Some("5.x y")).is_err());
        assert!(parse_cursor(Some("nope")).is_err());
        assert_eq!(limit(None).unwrap(), 50);
        assert!(limit(Some(201)).is_err());
        assert!(limit(Some(0)).is_err());
    }
}

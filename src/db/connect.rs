//! Opening connections for the pool: each backend's own `establish`, so a failure names its
//! real cause ("Connection refused", "database … does not exist") instead of diesel's
//! multi-connection fallback ("Invalid connection url"), and an outage is logged once when
//! it starts, at most once a minute while it lasts, and once when it ends.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::r2d2::{Error as PoolError, ManageConnection, R2D2Connection};
use diesel::Connection;

use super::{Backend, DbConn};

/// How often a continuing outage is logged again.
const REPEAT_EVERY: Duration = Duration::from_secs(60);

/// The pool's connection manager.
pub struct Manager {
    backend: Backend,
    url: String,
    outage: Arc<OutageLog>,
}

impl Manager {
    pub fn new(backend: Backend, url: String) -> Manager {
        Manager { backend, url, outage: Arc::new(OutageLog::default()) }
    }
}

impl ManageConnection for Manager {
    type Connection = DbConn;
    type Error = PoolError;

    fn connect(&self) -> Result<DbConn, PoolError> {
        let made = match self.backend {
            Backend::Sqlite => diesel::SqliteConnection::establish(&self.url).map(DbConn::Sqlite),
            Backend::Postgres => diesel::PgConnection::establish(&self.url).map(DbConn::Pg),
            #[cfg(feature = "mysql")]
            Backend::Mysql => diesel::MysqlConnection::establish(&self.url).map(DbConn::Mysql),
            #[cfg(not(feature = "mysql"))]
            Backend::Mysql => Err(diesel::ConnectionError::BadConnection(
                "this keyturn was built without MySQL/MariaDB support: build it with `--features mysql`".into(),
            )),
        };
        match made {
            Ok(conn) => {
                self.outage.connected();
                Ok(conn)
            }
            Err(e) => {
                // libpq may quote the URL it was given (a mistyped scheme): never with its password.
                let cause = redact_credentials(e.to_string().trim(), &self.url);
                self.outage.failed(&cause);
                Err(PoolError::ConnectionError(diesel::ConnectionError::BadConnection(cause)))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), PoolError> {
        conn.ping().map_err(PoolError::QueryError)
    }

    fn has_broken(&self, conn: &mut DbConn) -> bool {
        std::thread::panicking() || conn.is_broken()
    }
}

#[derive(Default)]
struct Outage {
    since: Option<Instant>,
    logged_at: Option<Instant>,
    suppressed: u64,
}

/// Deduplicates the log lines of failed connection attempts.
#[derive(Default)]
pub struct OutageLog {
    state: Mutex<Outage>,
}

impl OutageLog {
    fn failed(&self, cause: &str) {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        match (s.since, s.logged_at) {
            (None, _) => {
                s.since = Some(now);
                s.logged_at = Some(now);
                s.suppressed = 0;
                tracing::error!(event = "db_connect_failed", error = %cause, "cannot connect to the database");
            }
            (Some(since), Some(at)) if now.duration_since(at) >= REPEAT_EVERY => {
                let repeats = std::mem::take(&mut s.suppressed);
                s.logged_at = Some(now);
                tracing::error!(
                    event = "db_connect_failed",
                    error = %cause,
                    down_secs = now.duration_since(since).as_secs(),
                    failures_since_last_line = repeats,
                    "still cannot connect to the database"
                );
            }
            _ => s.suppressed += 1,
        }
    }

    fn connected(&self) {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(since) = s.since.take() {
            let repeats = std::mem::take(&mut s.suppressed);
            tracing::info!(
                event = "db_connect_restored",
                down_secs = since.elapsed().as_secs(),
                failures_not_logged = repeats,
                "connected to the database again"
            );
        }
    }
}

/// `text` without credentials: the configured URL's password wherever it appears, the user
/// information of anything URL-like (`scheme://user:pw@host` becomes `scheme://***@host`),
/// and the value of a `password=` connection parameter.
pub fn redact_credentials(text: &str, url: &str) -> String {
    let mut out = text.to_string();
    if let Some(pw) = url::Url::parse(url).ok().and_then(|u| u.password().map(str::to_string)) {
        if !pw.is_empty() {
            out = out.replace(&pw, "***");
            let decoded = url::form_urlencoded::parse(format!("x={pw}").as_bytes()).next().map(|(_, v)| v.into_owned());
            if let Some(d) = decoded.filter(|d| !d.is_empty() && *d != pw) {
                out = out.replace(&d, "***");
            }
        }
    }
    let mut result = String::with_capacity(out.len());
    let mut rest = out.as_str();
    while let Some(at) = rest.find("://") {
        let (head, tail) = rest.split_at(at + 3);
        result.push_str(head);
        let end = tail
            .find(|c: char| c.is_whitespace() || matches!(c, '/' | '"' | '\'' | '`' | '?' | '#'))
            .unwrap_or(tail.len());
        let authority = &tail[..end];
        match authority.rfind('@') {
            Some(i) => {
                result.push_str("***");
                result.push_str(&authority[i..]);
            }
            None => result.push_str(authority),
        }
        rest = &tail[end..];
    }
    result.push_str(rest);
    redact_password_params(&result)
}

/// `password=secret` (a libpq key/value string) becomes `password=***`.
fn redact_password_params(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let mut result = String::with_capacity(text.len());
    let mut copied = 0;
    let mut from = 0;
    while let Some(found) = lower[from..].find("password") {
        let key_end = from + found + "password".len();
        // `password=value`, `password = value`, `password='quoted value'` (libpq's forms).
        let after_key = text[key_end..].trim_start();
        let Some(value) = after_key.strip_prefix('=') else {
            from = key_end;
            continue;
        };
        let value = value.trim_start();
        let value_start = text.len() - value.len();
        let value_end = match value.strip_prefix('\'') {
            Some(quoted) => {
                let mut end = quoted.len();
                let mut escaped = false;
                for (i, c) in quoted.char_indices() {
                    match c {
                        _ if escaped => escaped = false,
                        '\\' => escaped = true,
                        '\'' => {
                            end = i + 1;
                            break;
                        }
                        _ => {}
                    }
                }
                value_start + 1 + end
            }
            None => {
                value_start + value.find(|c: char| c.is_whitespace() || c == '&' || c == '"').unwrap_or(value.len())
            }
        };
        result.push_str(&text[copied..value_start]);
        result.push_str("***");
        copied = value_end;
        from = value_end;
    }
    result.push_str(&text[copied..]);
    result
}

/// The message of a panic payload, for the log.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-text panic payload".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_and_spaced_password_parameters_are_redacted() {
        for text in [
            "host=h password='se cret\\'x' user=u",
            "host=h password = secret user=u",
            "postgres://u@h/db?password=secret&sslmode=require",
            "PASSWORD=secret",
        ] {
            let out = redact_password_params(text);
            assert!(!out.contains("secret") && !out.contains("cret"), "{text} -> {out}");
            assert!(out.contains("***"), "{out}");
        }
        assert_eq!(redact_password_params("host=h password='a b' user=u"), "host=h password=*** user=u");
        assert_eq!(redact_password_params("no passwords here"), "no passwords here");
    }

    #[test]
    fn a_refused_postgres_connection_names_the_real_cause() {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let m = Manager::new(Backend::Postgres, format!("postgres://u@127.0.0.1:{port}/x"));
        let e = m.connect().err().expect("nothing listens there").to_string();
        assert!(e.to_lowercase().contains("connection refused"), "{e}");
        assert!(!e.contains("Invalid connection url"), "{e}");
    }

    #[test]
    fn connection_errors_never_carry_the_database_password() {
        let url = "postgress://shop:s3cr%40t@db.example/shop";
        let libpq = "invalid connection string \"postgress://shop:s3cr%40t@db.example/shop\": bad scheme; \
                     also tried postgres://other:hunter2@10.0.0.1:5432/x?sslmode=require and password=letmein port=5";
        let clean = redact_credentials(libpq, url);
        for secret in ["s3cr%40t", "s3cr@t", "hunter2", "letmein", "shop:", "other:"] {
            assert!(!clean.contains(secret), "{secret} left in {clean}");
        }
        assert!(clean.contains("postgress://***@db.example/shop"), "{clean}");
        assert!(clean.contains("postgres://***@10.0.0.1:5432/x?sslmode=require"), "{clean}");
        assert!(clean.contains("password=*** port=5"), "{clean}");
        // The password alone, wherever libpq quotes it.
        assert_eq!(redact_credentials("auth failed for s3cr@t", url), "auth failed for ***");
        assert_eq!(redact_credentials("connection refused", url), "connection refused");
    }

    #[test]
    fn a_failed_connect_returns_and_logs_no_password() {
        let m = Manager::new(Backend::Postgres, "postgress://u:topsecret-pw@127.0.0.1:1/x".into());
        let e = m.connect().err().expect("a mistyped scheme cannot connect").to_string();
        assert!(!e.contains("topsecret-pw"), "{e}");
    }
}

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
        };
        match made {
            Ok(conn) => {
                self.outage.connected();
                Ok(conn)
            }
            Err(e) => {
                let cause = e.to_string();
                self.outage.failed(cause.trim());
                Err(PoolError::ConnectionError(e))
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
    fn a_refused_postgres_connection_names_the_real_cause() {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let m = Manager::new(Backend::Postgres, format!("postgres://u@127.0.0.1:{port}/x"));
        let e = m.connect().err().expect("nothing listens there").to_string();
        assert!(e.to_lowercase().contains("connection refused"), "{e}");
        assert!(!e.contains("Invalid connection url"), "{e}");
    }
}

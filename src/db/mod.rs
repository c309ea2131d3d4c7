//! Storage: one diesel `MultiConnection` over SQLite (embedded) and PostgreSQL (production),
//! chosen by the URL scheme; an r2d2 pool; every query runs on the blocking thread pool.
//!
//! SQLite is single-instance: its writers are serialised in-process by a write gate so no
//! transaction ever fails with SQLITE_BUSY; PostgreSQL relies on row locks and constraints.

pub mod backup;
mod connect;
pub mod schema;
pub mod types;

pub use connect::panic_message;

use std::sync::Arc;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::r2d2::{CustomizeConnection, NopErrorHandler, Pool};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use diesel::Connection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");
#[cfg(feature = "mysql")]
const MYSQL_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/mysql");

/// A connection to whichever backend is configured.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Sqlite(diesel::SqliteConnection),
    Pg(diesel::PgConnection),
    #[cfg(feature = "mysql")]
    Mysql(diesel::MysqlConnection),
}

/// `$locked` with `$c` bound to a backend's own connection where rows are locked (PostgreSQL,
/// MySQL/MariaDB: several instances), else `$plain` with `$other` the connection (SQLite, whose
/// writers are serialised in-process).
#[macro_export]
macro_rules! with_row_locks {
    ($conn:expr, $c:ident => $locked:expr, $other:ident => $plain:expr) => {
        match $conn {
            $crate::db::DbConn::Pg($c) => $locked,
            #[cfg(feature = "mysql")]
            $crate::db::DbConn::Mysql($c) => $locked,
            $other => $plain,
        }
    };
}

/// An insert-if-absent's rows on MySQL/MariaDB: a plain INSERT whose duplicate-key refusal
/// means "already there" (0 rows). Not `ON DUPLICATE KEY UPDATE pk = pk`, which reports 1 row for
/// a duplicate too (diesel connects with CLIENT_FOUND_ROWS), nor `INSERT IGNORE`, which would also
/// hide a foreign-key violation or a cut value. MariaDB keeps the transaction usable after it.
#[cfg(feature = "mysql")]
pub fn unless_duplicate(inserted: diesel::QueryResult<usize>) -> diesel::QueryResult<usize> {
    match inserted {
        Err(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => Ok(0),
        other => other,
    }
}

/// One `id` column of a raw query.
#[derive(diesel::QueryableByName)]
pub struct IdRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    pub id: String,
}

/// A claim on MySQL/MariaDB, which has no `UPDATE … RETURNING` and whose `SELECT … ORDER BY …
/// LIMIT 1 FOR UPDATE SKIP LOCKED` locks every row it sorts: the due candidates are read without
/// locks (`candidates`, binding `now` twice), then taken one by one by primary key with SKIP
/// LOCKED (`lock`, binding the id and `now` twice: a locking read sees the latest row, so the
/// conditions are checked again); the first one taken is returned. In the caller's transaction.
#[cfg(feature = "mysql")]
pub fn claim_first_mysql(
    c: &mut diesel::MysqlConnection,
    candidates: &str,
    lock: &str,
    now: i64,
) -> diesel::QueryResult<Option<String>> {
    use diesel::sql_types::{BigInt, Text};
    use diesel::RunQueryDsl;
    let due: Vec<IdRow> = diesel::sql_query(candidates).bind::<BigInt, _>(now).bind::<BigInt, _>(now).load(c)?;
    for row in due {
        let taken: Option<IdRow> = diesel::OptionalExtension::optional(
            diesel::sql_query(lock)
                .bind::<Text, _>(&row.id)
                .bind::<BigInt, _>(now)
                .bind::<BigInt, _>(now)
                .get_result(c),
        )?;
        if let Some(t) = taken {
            return Ok(Some(t.id));
        }
    }
    Ok(None)
}

/// Which backend a pool talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
    /// MySQL / MariaDB (the cargo feature `mysql`).
    Mysql,
}

/// MySQL/MariaDB migrations that only widen columns, each with the last migration whose tables
/// it alters (versions as diesel spells them: the folder's date without dashes): a restore
/// applies them before the rows go in (see [`Db::migrate_until`]).
const MYSQL_WIDENINGS: &[(&str, &str)] = &[("20261207000100", "20261204000400")];

/// Errors of the storage layer as the rest of the application sees them.
#[derive(thiserror::Error)]
pub enum DbError {
    /// The database cannot be reached (pool timeout, connection refused): answer 503.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// A query failed. Shown with email addresses masked: MariaDB quotes the duplicate value
    /// in its unique-violation message, and these messages reach the logs. The diesel error
    /// is deliberately not the `source()`: an error chain printed with `{:#}` would show it
    /// unmasked.
    #[error("{}", crate::crypto::mask_emails_in(&.0.to_string()))]
    Query(DieselError),
    /// The closure given to `read`/`write` panicked: a bug, never an outage (answer 500).
    #[error("database closure panicked: {0}")]
    Panicked(String),
}

impl From<DieselError> for DbError {
    fn from(e: DieselError) -> Self {
        DbError::Query(e)
    }
}

/// As `Display` (masked), with the variant's name.
impl std::fmt::Debug for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let variant = match self {
            DbError::Unavailable(_) => "Unavailable",
            DbError::Query(_) => "Query",
            DbError::Panicked(_) => "Panicked",
        };
        write!(f, "DbError::{variant}({self})")
    }
}

impl DbError {
    /// True when the server ended the transaction to break a deadlock (or, on PostgreSQL, a
    /// serialization failure): nothing of it was kept, and running it again is safe.
    pub fn is_deadlock(&self) -> bool {
        match self {
            DbError::Query(DieselError::DatabaseError(DatabaseErrorKind::SerializationFailure, _)) => true,
            DbError::Query(DieselError::DatabaseError(_, info)) => {
                let m = info.message();
                m.contains("Deadlock found") || m.contains("deadlock detected")
            }
            _ => false,
        }
    }

    /// True for a unique-constraint violation (a duplicate insert lost a race).
    pub fn is_unique_violation(&self) -> bool {
        matches!(self, DbError::Query(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, _)))
    }
}

/// How many times [`Db::write`] runs a transaction again after a deadlock ended it.
pub const DEADLOCK_RETRIES: u32 = 3;

/// Convenience alias for query results.
pub type DbResult<T> = Result<T, DbError>;

/// Per-connection settings. SQLite: `synchronous = FULL`, so a commit (an acknowledged callback
/// among them) survives a power loss, which WAL's `NORMAL` does not promise. MariaDB: READ
/// COMMITTED like PostgreSQL's default (the code's locking is written for it), strict mode so an
/// over-long value is refused rather than cut.
#[derive(Debug)]
struct SqlitePragmas;

impl CustomizeConnection<DbConn, diesel::r2d2::Error> for SqlitePragmas {
    fn on_acquire(&self, conn: &mut DbConn) -> Result<(), diesel::r2d2::Error> {
        if let DbConn::Sqlite(c) = conn {
            c.batch_execute(
                "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 10000; \
                 PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA secure_delete = ON;",
            )
            .map_err(diesel::r2d2::Error::QueryError)?;
        }
        #[cfg(feature = "mysql")]
        if let DbConn::Mysql(c) = conn {
            c.batch_execute(
                "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED; \
                 SET SESSION sql_mode = 'STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION';",
            )
            .map_err(diesel::r2d2::Error::QueryError)?;
        }
        Ok(())
    }
}

/// The pool plus what it needs to run queries off the async threads.
#[derive(Clone)]
pub struct Db {
    pool: Pool<connect::Manager>,
    backend: Backend,
    write_gate: Option<Arc<std::sync::Mutex<()>>>,
}

fn connection_url(url: &str) -> (Backend, String) {
    if let Some(path) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
        (Backend::Sqlite, path.to_string())
    } else if url.starts_with("mysql://") || url.starts_with("mariadb://") {
        (Backend::Mysql, url.replacen("mariadb://", "mysql://", 1))
    } else {
        (Backend::Postgres, url.to_string())
    }
}

impl Db {
    /// Opens the pool and applies pending migrations.
    pub fn connect(url: &str, pool_size: u32) -> anyhow::Result<Db> {
        let db = Db::open(url, pool_size)?;
        db.migrate()?;
        Ok(db)
    }

    /// Opens the pool (creating the SQLite file's folder) without migrating.
    pub fn open(url: &str, pool_size: u32) -> anyhow::Result<Db> {
        let (backend, conn_url) = connection_url(url);
        #[cfg(not(feature = "mysql"))]
        anyhow::ensure!(
            backend != Backend::Mysql,
            "a MySQL/MariaDB database_url needs a keyturn built with `cargo build --release --features mysql`"
        );
        if backend == Backend::Sqlite {
            if let Some(parent) = std::path::Path::new(&conn_url).parent() {
                if !parent.as_os_str().is_empty() {
                    std::fs::create_dir_all(parent)?;
                }
            }
        }
        let pool = Pool::builder()
            .max_size(pool_size)
            .min_idle(Some(1))
            .connection_timeout(Duration::from_secs(5))
            .connection_customizer(Box::new(SqlitePragmas))
            // connect::Manager logs failed attempts itself, once per outage.
            .error_handler(Box::new(NopErrorHandler))
            .build(connect::Manager::new(backend, conn_url))
            .map_err(|e| anyhow::anyhow!("cannot open the database: {e}"))?;
        let db =
            Db { pool, backend, write_gate: (backend == Backend::Sqlite).then(|| Arc::new(std::sync::Mutex::new(()))) };
        Ok(db)
    }

    /// Which backend this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Applies pending embedded migrations; returns how many ran. On PostgreSQL an advisory
    /// lock makes instances that start together migrate one after the other.
    pub fn migrate(&self) -> anyhow::Result<usize> {
        let mut conn = self.pool.get().map_err(|e| anyhow::anyhow!("cannot reach the database: {e}"))?;
        let applied = match &mut *conn {
            DbConn::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
            DbConn::Pg(c) => {
                c.batch_execute("SELECT pg_advisory_lock(7418935)")?;
                let result = c.run_pending_migrations(POSTGRES_MIGRATIONS).map(|v| v.len());
                c.batch_execute("SELECT pg_advisory_unlock(7418935)")?;
                result
            }
            #[cfg(feature = "mysql")]
            DbConn::Mysql(c) => {
                // GET_LOCK answers 1 when taken, 0 on timeout and NULL on error: migrate only
                // under the lock, as on PostgreSQL.
                use diesel::sql_types::{BigInt, Nullable};
                let lock = diesel::select(diesel::dsl::sql::<Nullable<BigInt>>("GET_LOCK('keyturn-migrate', 600)"));
                let got: Option<i64> = diesel::RunQueryDsl::get_result(lock, c)?;
                match got {
                    Some(1) => {}
                    Some(_) => anyhow::bail!("migration failed: another instance held the migration lock for 600 s"),
                    None => anyhow::bail!("migration failed: the server could not take the migration lock"),
                }
                let result = c.run_pending_migrations(MYSQL_MIGRATIONS).map(|v| v.len());
                // The migrations' own failure first; the lock ends with the session anyway.
                let released = c.batch_execute("DO RELEASE_LOCK('keyturn-migrate')");
                if result.is_ok() {
                    released?;
                }
                result
            }
        }
        .map_err(|e| anyhow::anyhow!("migration failed: {e}"))?;
        Ok(applied)
    }

    /// The versions of the migrations this build carries.
    pub fn known_migrations(&self) -> Vec<String> {
        let source = match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS,
            Backend::Postgres => POSTGRES_MIGRATIONS,
            #[cfg(feature = "mysql")]
            Backend::Mysql => MYSQL_MIGRATIONS,
            #[cfg(not(feature = "mysql"))]
            Backend::Mysql => return Vec::new(),
        };
        let all = diesel::migration::MigrationSource::<diesel::sqlite::Sqlite>::migrations(&source);
        let mut v: Vec<String> =
            all.map(|m| m.iter().map(|m| m.name().version().to_string()).collect()).unwrap_or_default();
        v.sort();
        v
    }

    /// The versions of the migrations applied to the database (none for a new one).
    pub async fn applied_migrations(&self) -> anyhow::Result<Vec<String>> {
        let found = self
            .read(|c| {
                let mut v: Vec<String> = c
                    .applied_migrations()
                    .map(|m| m.into_iter().map(|v| v.to_string()).collect())
                    .map_err(|e| DbError::Query(DieselError::QueryBuilderError(e.to_string().into())))?;
                v.sort();
                Ok(v)
            })
            .await?;
        Ok(found)
    }

    /// Applies the pending migrations up to and including version `last` (a backup's schema),
    /// and on MySQL/MariaDB the later ones that only widen columns [`MYSQL_WIDENINGS`] whose
    /// tables exist by then, so values of an older backup that fit the newer schema go in.
    pub fn migrate_until(&self, last: &str) -> anyhow::Result<()> {
        let mut conn = self.pool.get().map_err(|e| anyhow::anyhow!("cannot reach the database: {e}"))?;
        let early = |version: &str| {
            self.backend == Backend::Mysql && MYSQL_WIDENINGS.iter().any(|(v, needs)| *v == version && *needs <= last)
        };
        macro_rules! until {
            ($c:expr, $source:expr) => {{
                let pending = $c.pending_migrations($source).map_err(|e| anyhow::anyhow!("migration failed: {e}"))?;
                for m in pending.iter().filter(|m| {
                    let v = m.name().version().to_string();
                    v.as_str() <= last || early(&v)
                }) {
                    $c.run_migration(m.as_ref()).map_err(|e| anyhow::anyhow!("migration failed: {e}"))?;
                }
            }};
        }
        match &mut *conn {
            DbConn::Sqlite(c) => until!(c, SQLITE_MIGRATIONS),
            DbConn::Pg(c) => until!(c, POSTGRES_MIGRATIONS),
            #[cfg(feature = "mysql")]
            DbConn::Mysql(c) => until!(c, MYSQL_MIGRATIONS),
        }
        Ok(())
    }

    /// Runs read-only work on a pooled connection, off the async threads.
    pub async fn read<T, F>(&self, f: F) -> DbResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> DbResult<T> + Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get().map_err(|e| DbError::Unavailable(e.to_string()))?;
            f(&mut conn)
        })
        .await
        .map_err(joined)?
    }

    /// Runs `f` inside one transaction (committed when it returns `Ok`). A transaction the
    /// server ended as a deadlock's victim (MariaDB/InnoDB picks one; PostgreSQL too) changed
    /// nothing: it runs again, from the start, up to [`DEADLOCK_RETRIES`] times.
    pub async fn write<T, F>(&self, f: F) -> DbResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> DbResult<T> + Clone + Send + 'static,
    {
        let pool = self.pool.clone();
        let gate = self.write_gate.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get().map_err(|e| DbError::Unavailable(e.to_string()))?;
            let _held = gate.as_ref().map(|g| g.lock().unwrap_or_else(|p| p.into_inner()));
            let mut tries = 0;
            loop {
                let attempt = f.clone();
                match conn.transaction::<T, DbError, _>(|c| attempt(c)) {
                    Err(e) if e.is_deadlock() && tries < DEADLOCK_RETRIES => {
                        tries += 1;
                        tracing::info!(
                            event = "db_deadlock_retried",
                            attempt = tries,
                            "a deadlock ended the transaction; running it again"
                        );
                        std::thread::sleep(Duration::from_millis(5 * tries as u64));
                    }
                    done => return done,
                }
            }
        })
        .await
        .map_err(joined)?
    }

    /// [`Db::write`] for work that cannot run twice (it consumes what it writes, e.g. a file
    /// being read): no retry after a deadlock.
    pub async fn write_once<T, F>(&self, f: F) -> DbResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> DbResult<T> + Send + 'static,
    {
        let pool = self.pool.clone();
        let gate = self.write_gate.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get().map_err(|e| DbError::Unavailable(e.to_string()))?;
            let _held = gate.as_ref().map(|g| g.lock().unwrap_or_else(|p| p.into_inner()));
            conn.transaction::<T, DbError, _>(|c| f(c))
        })
        .await
        .map_err(joined)?
    }

    /// Like [`Db::write`] with the caller's own error type (which must absorb storage errors),
    /// without the retry: the caller runs a deadlock victim again (see `payments::apply_callback`).
    pub async fn write_with<T, E, F>(&self, f: F) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<DbError> + From<DieselError> + Send + 'static,
        F: FnOnce(&mut DbConn) -> Result<T, E> + Send + 'static,
    {
        let pool = self.pool.clone();
        let gate = self.write_gate.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get().map_err(|e| E::from(DbError::Unavailable(e.to_string())))?;
            let _held = gate.as_ref().map(|g| g.lock().unwrap_or_else(|p| p.into_inner()));
            conn.transaction::<T, E, _>(|c| f(c))
        })
        .await
        .map_err(|e| E::from(joined(e)))?
    }

    /// True when the database answers a trivial query.
    pub async fn ping(&self) -> bool {
        self.read(|c| c.batch_execute("SELECT 1").map_err(DbError::from)).await.is_ok()
    }

    /// SQLite: copies the WAL into the database file and truncates it (after an erasure, so old
    /// values do not linger there). Nothing on PostgreSQL.
    pub async fn checkpoint(&self) -> DbResult<()> {
        self.read(|c| match c {
            DbConn::Sqlite(s) => s.batch_execute("PRAGMA wal_checkpoint(TRUNCATE);").map_err(DbError::from),
            _ => Ok(()),
        })
        .await
    }
}

/// A blocking task that did not finish: a panic in the closure is a bug (its connection is
/// dropped, not returned to the pool), anything else (the runtime shutting down) an outage.
fn joined(e: tokio::task::JoinError) -> DbError {
    if e.is_panic() {
        DbError::Panicked(connect::panic_message(e.into_panic().as_ref()))
    } else {
        DbError::Unavailable(format!("worker thread failed: {e}"))
    }
}

#[cfg(test)]
mod tests;

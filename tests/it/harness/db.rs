//! A fresh database per test app on the server `KEYTURN_TEST_DATABASE_URL` names: PostgreSQL
//! (`postgres://…`) or, in a build with the `mysql` feature, MariaDB/MySQL (`mysql://…`).

use diesel::pg::PgConnection;
use diesel::{Connection, RunQueryDsl};
use keyturn::db::DbConn;

pub const ENV: &str = "KEYTURN_TEST_DATABASE_URL";

/// A connection to `url`: PostgreSQL, MySQL/MariaDB, or the SQLite file `url`.
pub fn connect(url: &str) -> DbConn {
    if url.starts_with("postgres") {
        return DbConn::Pg(PgConnection::establish(url).unwrap_or_else(|e| panic!("cannot connect to {url}: {e}")));
    }
    if url.starts_with("mysql") {
        #[cfg(feature = "mysql")]
        return DbConn::Mysql(
            diesel::MysqlConnection::establish(url).unwrap_or_else(|e| panic!("cannot connect to {url}: {e}")),
        );
        #[cfg(not(feature = "mysql"))]
        panic!("{ENV} is a MySQL URL: run the tests with `--features mysql`");
    }
    DbConn::Sqlite(diesel::sqlite::SqliteConnection::establish(url).unwrap())
}

/// True when the tests run on MySQL/MariaDB.
pub fn is_mysql() -> bool {
    base_url().is_some_and(|u| u.starts_with("mysql"))
}

/// A throw-away database `kt_<hex>` on the test server, dropped on drop.
pub struct PgDb {
    base: String,
    name: String,
    pub url: String,
}

/// The server to create test databases on, if the run asks for PostgreSQL.
pub fn base_url() -> Option<String> {
    std::env::var(ENV).ok().filter(|s| !s.trim().is_empty())
}

impl PgDb {
    pub fn create(base: &str) -> PgDb {
        let name = format!("kt_{}", hex::encode(rand::random::<[u8; 8]>()));
        let mut conn = connect(base);
        let charset = if base.starts_with("mysql") { " CHARACTER SET utf8mb4 COLLATE utf8mb4_bin" } else { "" };
        diesel::sql_query(format!("CREATE DATABASE {name}{charset}")).execute(&mut conn).unwrap();
        let mut url = url::Url::parse(base).expect("KEYTURN_TEST_DATABASE_URL is not a URL");
        url.set_path(&format!("/{name}"));
        PgDb { base: base.to_string(), name, url: url.to_string() }
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        let base = self.base.clone();
        let sql = if base.starts_with("mysql") {
            format!("DROP DATABASE IF EXISTS {}", self.name)
        } else {
            format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)
        };
        // Blocking work off the async worker thread.
        let _ = std::thread::spawn(move || {
            let _ = diesel::sql_query(sql).execute(&mut connect(&base));
        })
        .join();
    }
}

#[derive(diesel::QueryableByName)]
struct N {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

#[derive(diesel::QueryableByName)]
struct Line {
    #[diesel(sql_type = diesel::sql_types::Text)]
    v: String,
}

/// `sql` (one BIGINT column named `n`) on the database at `url` (a server's, or the SQLite file `url`).
pub fn count(url: &str, sql: &str) -> i64 {
    diesel::sql_query(sql).get_result::<N>(&mut connect(url)).unwrap().n
}

/// Puts the demo service on sale in the PostgreSQL database at `url` (only the embedded SQLite
/// default seeds it; the tests sell it on PostgreSQL too). Idempotent.
pub fn seed_demo(url: &str) {
    let mut c = connect(url);
    diesel::sql_query(
        "INSERT INTO services (slug, name, price_minor, currency, period_days, active, created_at, updated_at) \
         SELECT 'demo', 'Demo service', 1990, 'EUR', 30, TRUE, 0, 0 WHERE NOT EXISTS (SELECT 1 FROM services)",
    )
    .execute(&mut c)
    .unwrap();
}

/// Every row of every table of the server database at `url`, as JSON text lines: what a
/// secrets-at-rest scan reads there (the data files belong to the server).
pub fn dump_text(url: &str) -> String {
    if url.starts_with("mysql") {
        return dump_text_mysql(url);
    }
    let mut c = PgConnection::establish(url).unwrap();
    let tables: Vec<Line> =
        diesel::sql_query("SELECT tablename::text AS v FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
            .load(&mut c)
            .unwrap();
    let mut out = String::new();
    for t in tables {
        let sql = format!("SELECT row_to_json(t)::text AS v FROM \"{}\" t", t.v);
        for row in diesel::sql_query(sql).load::<Line>(&mut c).unwrap() {
            out.push_str(&t.v);
            out.push(' ');
            out.push_str(&row.v);
            out.push('\n');
        }
    }
    out
}

/// [`dump_text`] on MySQL/MariaDB.
fn dump_text_mysql(url: &str) -> String {
    let mut c = connect(url);
    let tables: Vec<Line> = diesel::sql_query(
        "SELECT table_name AS v FROM information_schema.TABLES WHERE table_schema = DATABASE() ORDER BY table_name",
    )
    .load(&mut c)
    .unwrap();
    let mut out = String::new();
    for t in tables {
        let columns: Vec<Line> = diesel::sql_query(format!(
            "SELECT column_name AS v FROM information_schema.COLUMNS WHERE table_schema = DATABASE() \
             AND table_name = '{}' ORDER BY ordinal_position",
            t.v
        ))
        .load(&mut c)
        .unwrap();
        let pairs: Vec<String> = columns.iter().map(|col| format!("'{0}', `{0}`", col.v)).collect();
        let sql = format!("SELECT JSON_OBJECT({}) AS v FROM `{}`", pairs.join(", "), t.v);
        for row in diesel::sql_query(sql).load::<Line>(&mut c).unwrap() {
            out.push_str(&t.v);
            out.push(' ');
            out.push_str(&row.v);
            out.push('\n');
        }
    }
    out
}

//! A fresh PostgreSQL database per test app, when `KEYTURN_TEST_DATABASE_URL` is set.

use diesel::pg::PgConnection;
use diesel::{Connection, RunQueryDsl};

pub const ENV: &str = "KEYTURN_TEST_DATABASE_URL";

/// A throw-away database `kt_<hex>`, dropped (WITH (FORCE)) on drop.
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
        let mut conn = PgConnection::establish(base).unwrap_or_else(|e| panic!("{ENV}: cannot connect to {base}: {e}"));
        diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut conn).unwrap();
        let mut url = url::Url::parse(base).expect("KEYTURN_TEST_DATABASE_URL is not a URL");
        url.set_path(&format!("/{name}"));
        PgDb { base: base.to_string(), name, url: url.to_string() }
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        let base = self.base.clone();
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        // Blocking work off the async worker thread.
        let _ = std::thread::spawn(move || {
            if let Ok(mut conn) = PgConnection::establish(&base) {
                let _ = diesel::sql_query(sql).execute(&mut conn);
            }
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

/// `sql` (one BIGINT column named `n`) on PostgreSQL at `url`, or on the SQLite file `url`.
pub fn count(url: &str, sql: &str) -> i64 {
    if url.starts_with("postgres") {
        let mut c = PgConnection::establish(url).unwrap();
        diesel::sql_query(sql).get_result::<N>(&mut c).unwrap().n
    } else {
        let mut c = diesel::sqlite::SqliteConnection::establish(url).unwrap();
        diesel::sql_query(sql).get_result::<N>(&mut c).unwrap().n
    }
}

/// Puts the demo service on sale in the PostgreSQL database at `url` (only the embedded SQLite
/// default seeds it; the tests sell it on PostgreSQL too). Idempotent.
pub fn seed_demo(url: &str) {
    let mut c = PgConnection::establish(url).unwrap();
    diesel::sql_query(
        "INSERT INTO services (slug, name, price_minor, currency, period_days, active, created_at, updated_at) \
         SELECT 'demo', 'Demo service', 1990, 'EUR', 30, TRUE, 0, 0 WHERE NOT EXISTS (SELECT 1 FROM services)",
    )
    .execute(&mut c)
    .unwrap();
}

/// Every row of every table of the PostgreSQL database at `url`, as JSON text lines: what a
/// secrets-at-rest scan reads there (the data files belong to the server).
pub fn dump_text(url: &str) -> String {
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

//! `keyturn backup` and `keyturn restore` (DESIGN §9): every row of keyturn's tables in one
//! portable file, taken from one consistent snapshot while the service runs, and put back into
//! an empty database of either backend.
//!
//! The file is JSON lines: a header (`format`, `version`, the backend and the applied
//! migrations), then one line per row (`{"t": table, "r": {column: value}}`) with tables in
//! foreign-key order, then `{"end": true, "rows": N}`. A file without its end line was cut off
//! and is refused. The snapshot is a read transaction (SQLite's WAL gives it) or a repeatable-read,
//! read-only transaction (PostgreSQL). The file is written next to its destination and renamed
//! into place once it is complete and synced, so a crash never leaves a half file under the name.
//!
//! Restore refuses a database with rows in it and a backup from a newer keyturn. It migrates the
//! empty database to the backup's schema, inserts every row in one transaction (only the
//! columns the backup has: columns added since take their defaults), then applies the newer
//! migrations, so data migrations run on restored data as they would have on the original.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufWriter, Write};
use std::path::Path;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::Text;
use serde_json::{json, Value};

use crate::db::{Backend, Db, DbConn};

/// The file format's name and version.
pub const FORMAT: &str = "keyturn-backup";
pub const VERSION: u64 = 1;

#[derive(QueryableByName)]
struct Line {
    #[diesel(sql_type = Text)]
    j: String,
}

fn texts(c: &mut DbConn, sql: &str) -> QueryResult<Vec<String>> {
    Ok(diesel::sql_query(sql).load::<Line>(c)?.into_iter().map(|l| l.j).collect())
}

fn texts_for(c: &mut DbConn, sql: &str, arg: &str) -> QueryResult<Vec<String>> {
    Ok(diesel::sql_query(sql).bind::<Text, _>(arg).load::<Line>(c)?.into_iter().map(|l| l.j).collect())
}

/// `"name"` for SQL, `` `name` `` on MySQL/MariaDB (our table and column names are plain, but
/// quote them anyway: `key` is a reserved word there).
fn quoted(backend: Backend, name: &str) -> String {
    match backend {
        Backend::Mysql => format!("`{}`", name.replace('`', "``")),
        _ => format!("\"{}\"", name.replace('"', "\"\"")),
    }
}

fn backend_of(c: &DbConn) -> Backend {
    match c {
        DbConn::Sqlite(_) => Backend::Sqlite,
        DbConn::Pg(_) => Backend::Postgres,
        #[cfg(feature = "mysql")]
        DbConn::Mysql(_) => Backend::Mysql,
    }
}

/// `(name, type)` of a MySQL/MariaDB table's stored columns (not generated ones), in order.
fn mysql_columns(c: &mut DbConn, table: &str) -> QueryResult<Vec<(String, String)>> {
    let rows = texts_for(
        c,
        "SELECT CONCAT(column_name, ' ', column_type) AS j FROM information_schema.COLUMNS \
         WHERE table_schema = DATABASE() AND table_name = ? AND is_generated = 'NEVER' ORDER BY ordinal_position",
        table,
    )?;
    Ok(rows.into_iter().filter_map(|r| r.split_once(' ').map(|(n, t)| (n.to_string(), t.to_string()))).collect())
}

/// keyturn's tables, each after the tables it refers to.
fn tables_in_order(c: &mut DbConn) -> QueryResult<Vec<String>> {
    let backend = backend_of(c);
    let names = match backend {
        Backend::Sqlite => texts(
            c,
            "SELECT name AS j FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
             AND name <> '__diesel_schema_migrations' ORDER BY name",
        )?,
        Backend::Postgres => texts(
            c,
            "SELECT table_name::text AS j FROM information_schema.tables WHERE table_schema = current_schema() \
             AND table_type = 'BASE TABLE' AND table_name <> '__diesel_schema_migrations' ORDER BY table_name",
        )?,
        Backend::Mysql => texts(
            c,
            "SELECT table_name AS j FROM information_schema.TABLES WHERE table_schema = DATABASE() \
             AND table_type = 'BASE TABLE' AND table_name <> '__diesel_schema_migrations' ORDER BY table_name",
        )?,
    };
    let mut refers: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for t in &names {
        let parents = match backend {
            Backend::Sqlite => {
                texts(c, &format!("SELECT \"table\" AS j FROM pragma_foreign_key_list('{}')", t.replace('\'', "''")))?
            }
            // pg_constraint, not information_schema: the latter shows only tables the role owns.
            Backend::Postgres => texts_for(
                c,
                "SELECT DISTINCT parent.relname::text AS j FROM pg_constraint fk \
                 JOIN pg_class child ON fk.conrelid = child.oid \
                 JOIN pg_class parent ON fk.confrelid = parent.oid \
                 JOIN pg_namespace ns ON child.relnamespace = ns.oid \
                 WHERE fk.contype = 'f' AND ns.nspname = current_schema() AND child.relname = $1",
                t,
            )?,
            Backend::Mysql => texts_for(
                c,
                "SELECT DISTINCT referenced_table_name AS j FROM information_schema.REFERENTIAL_CONSTRAINTS \
                 WHERE constraint_schema = DATABASE() AND table_name = ?",
                t,
            )?,
        };
        refers.insert(t.clone(), parents.into_iter().filter(|p| p != t && names.contains(p)).collect());
    }
    let mut ordered: Vec<String> = Vec::new();
    while ordered.len() < names.len() {
        let before = ordered.len();
        for t in &names {
            if !ordered.contains(t) && refers[t].iter().all(|p| ordered.contains(p)) {
                ordered.push(t.clone());
            }
        }
        if ordered.len() == before {
            // A cycle (none in keyturn's schema): the rest in name order.
            ordered.extend(names.iter().filter(|t| !ordered.contains(t)).cloned().collect::<Vec<_>>());
        }
    }
    Ok(ordered)
}

fn migrations_of(c: &mut DbConn) -> QueryResult<Vec<String>> {
    texts(c, "SELECT version AS j FROM __diesel_schema_migrations ORDER BY version")
}

/// Every row of `table` as a JSON object.
fn rows_of(c: &mut DbConn, table: &str) -> QueryResult<Vec<String>> {
    match backend_of(c) {
        Backend::Sqlite => {
            let columns = texts(
                c,
                &format!("SELECT name AS j FROM pragma_table_info('{}') ORDER BY cid", table.replace('\'', "''")),
            )?;
            let q = |n: &str| quoted(Backend::Sqlite, n);
            let pairs: Vec<String> = columns.iter().map(|col| format!("'{col}', {}", q(col))).collect();
            texts(c, &format!("SELECT json_object({}) AS j FROM {}", pairs.join(", "), q(table)))
        }
        Backend::Postgres => {
            texts(c, &format!("SELECT row_to_json(x)::text AS j FROM {} AS x", quoted(Backend::Postgres, table)))
        }
        // Booleans (`tinyint(1)`) as JSON booleans, so the file restores on every backend.
        Backend::Mysql => {
            let q = |n: &str| quoted(Backend::Mysql, n);
            let pairs: Vec<String> = mysql_columns(c, table)?
                .iter()
                .map(|(col, ty)| {
                    let value = if ty == "tinyint(1)" {
                        format!(
                            "IF({0} IS NULL, NULL, IF({0}, JSON_EXTRACT('true', '$'), JSON_EXTRACT('false', '$')))",
                            q(col)
                        )
                    } else {
                        q(col)
                    };
                    format!("'{}', {value}", col.replace('\'', "''"))
                })
                .collect();
            texts(c, &format!("SELECT JSON_OBJECT({}) AS j FROM {}", pairs.join(", "), q(table)))
        }
    }
}

/// What a backup did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    pub tables: usize,
    pub rows: u64,
}

fn write_snapshot(c: &mut DbConn, out: &mut impl Write, now: i64) -> anyhow::Result<Summary> {
    let backend = match backend_of(c) {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
        Backend::Mysql => "mysql",
    };
    let header = json!({"format": FORMAT, "version": VERSION, "backend": backend, "created_at": now,
                        "migrations": migrations_of(c)?});
    writeln!(out, "{header}")?;
    let tables = tables_in_order(c)?;
    let mut rows = 0u64;
    for t in &tables {
        for r in rows_of(c, t)? {
            writeln!(out, "{{\"t\":{},\"r\":{r}}}", Value::from(t.as_str()))?;
            rows += 1;
        }
    }
    writeln!(out, "{}", json!({"end": true, "rows": rows}))?;
    Ok(Summary { tables: tables.len(), rows })
}

/// What to do when the destination exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// Replace it (`keyturn backup --to`).
    Replace,
    /// Keep it and write nothing (a scheduled backup another instance took already).
    Keep,
}

/// A new file beside `to` that nobody else has (created, never opened if it exists; not
/// followed if it is a link), readable by its owner only: it will hold password hashes and
/// signing secrets.
fn fresh_beside(to: &Path) -> anyhow::Result<(std::path::PathBuf, std::fs::File)> {
    let dir = to.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = to.file_name().and_then(|n| n.to_str()).unwrap_or("keyturn");
    for _ in 0..8 {
        let candidate = dir.join(format!(".{name}.{}.partial", hex::encode(rand::random::<[u8; 8]>())));
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(&candidate) {
            Ok(file) => return Ok((candidate, file)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => anyhow::bail!("{}: {e}", candidate.display()),
        }
    }
    anyhow::bail!("{}: could not create a temporary file beside it", to.display())
}

/// Writes a backup of `db` to `to` from one consistent snapshot. The file appears under its
/// name only once complete; with [`Existing::Keep`], `Ok(None)` when `to` exists already.
pub async fn backup(db: &Db, to: &Path, now: i64, existing: Existing) -> anyhow::Result<Option<Summary>> {
    let (partial, file) = fresh_beside(to)?;
    let written = db
        .read(move |c| {
            let mut out = BufWriter::new(file);
            let backend = backend_of(c);
            let written = if backend == Backend::Mysql {
                // One snapshot for every table, started by hand: MariaDB takes the isolation
                // level only before the transaction, and diesel's would be a plain BEGIN.
                c.batch_execute(
                    "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ; \
                     START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY;",
                )
                .map_err(anyhow::Error::from)
                .and_then(|()| {
                    let written = write_snapshot(c, &mut out, now);
                    let ended = c.batch_execute(if written.is_ok() { "COMMIT" } else { "ROLLBACK" });
                    let summary = written?;
                    ended?;
                    Ok(summary)
                })
            } else {
                c.transaction::<_, anyhow::Error, _>(|c| {
                    if backend == Backend::Postgres {
                        // One snapshot for every table; the backup never writes.
                        c.batch_execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")?;
                    }
                    write_snapshot(c, &mut out, now)
                })
            };
            let summary = written
                .and_then(|summary| {
                    let file = out.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?;
                    file.sync_all()?;
                    Ok(summary)
                })
                .map_err(|e| {
                    crate::db::DbError::Query(diesel::result::Error::QueryBuilderError(e.to_string().into()))
                })?;
            Ok(summary)
        })
        .await;
    let summary = match written {
        Ok(s) => s,
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            anyhow::bail!("backup failed: {e}");
        }
    };
    let published = match existing {
        Existing::Replace => std::fs::rename(&partial, to).map(|()| true),
        // A hard link never replaces: the first instance to finish publishes its file.
        Existing::Keep => match std::fs::hard_link(&partial, to) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
            Err(e) => Err(e),
        },
    };
    let _ = std::fs::remove_file(&partial);
    let published = published.map_err(|e| anyhow::anyhow!("{}: {e}", to.display()))?;
    if let Some(dir) = to.parent().filter(|d| !d.as_os_str().is_empty()) {
        // The new name survives a crash too.
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(published.then_some(summary))
}

/// The header of a backup file.
#[derive(Debug)]
struct Header {
    backend: String,
    migrations: Vec<String>,
}

fn read_header(line: &str) -> anyhow::Result<Header> {
    let v: Value = serde_json::from_str(line).map_err(|_| anyhow::anyhow!("not a keyturn backup"))?;
    anyhow::ensure!(v["format"] == FORMAT, "not a keyturn backup");
    let version = v["version"].as_u64().unwrap_or(0);
    anyhow::ensure!(version == VERSION, "backup format version {version}: this keyturn reads version {VERSION}");
    let migrations = v["migrations"]
        .as_array()
        .map(|a| a.iter().filter_map(|m| m.as_str().map(String::from)).collect())
        .unwrap_or_default();
    Ok(Header { backend: v["backend"].as_str().unwrap_or_default().to_string(), migrations })
}

/// The columns of each table, read once per restore (MySQL/MariaDB only).
type TableColumns = BTreeMap<String, BTreeSet<String>>;

/// Inserts one row (only the columns it has: columns added since take their defaults).
fn insert_row(
    c: &mut DbConn,
    table: &str,
    row: &serde_json::Map<String, Value>,
    types: &mut TableColumns,
) -> QueryResult<usize> {
    let backend = backend_of(c);
    let columns: Vec<&String> = row.keys().collect();
    let list = columns.iter().map(|k| quoted(backend, k)).collect::<Vec<_>>().join(", ");
    let body = Value::Object(row.clone()).to_string();
    let sql = match backend {
        Backend::Sqlite => {
            let picks: Vec<String> =
                columns.iter().map(|k| format!("json_extract(?1, '$.\"{}\"')", k.replace('\'', "''"))).collect();
            format!("INSERT INTO {} ({list}) SELECT {}", quoted(backend, table), picks.join(", "))
        }
        Backend::Postgres => format!(
            "INSERT INTO {t} ({list}) SELECT {list} FROM json_populate_record(NULL::{t}, $1::json)",
            t = quoted(backend, table)
        ),
        Backend::Mysql => {
            if !types.contains_key(table) {
                let found = mysql_columns(c, table)?.into_iter().map(|(name, _)| name).collect();
                types.insert(table.to_string(), found);
            }
            if let Some(k) = columns.iter().find(|k| !types[table].contains(k.as_str())) {
                return Err(diesel::result::Error::QueryBuilderError(
                    format!("the backup has a column {k:?} that table {table} does not have").into(),
                ));
            }
            #[cfg(feature = "mysql")]
            if let DbConn::Mysql(m) = c {
                return insert_row_mysql(m, table, row);
            }
            return Err(diesel::result::Error::QueryBuilderError("this build has no MySQL support".into()));
        }
    };
    diesel::sql_query(sql).bind::<Text, _>(body).execute(c)
}

/// One row into MySQL/MariaDB as `INSERT ... VALUES` with each value bound as its JSON type,
/// so the server's strict mode refuses a value its column cannot hold (a string longer than a
/// `VARCHAR`, say) instead of cutting it, as a `JSON_TABLE` conversion would.
#[cfg(feature = "mysql")]
fn insert_row_mysql(
    c: &mut diesel::MysqlConnection,
    table: &str,
    row: &serde_json::Map<String, Value>,
) -> QueryResult<usize> {
    use diesel::sql_types::{BigInt, Bool, Nullable};
    let list = row.keys().map(|k| quoted(Backend::Mysql, k)).collect::<Vec<_>>().join(", ");
    let marks = vec!["?"; row.len()].join(", ");
    let sql = format!("INSERT INTO {} ({list}) VALUES ({marks})", quoted(Backend::Mysql, table));
    let mut q = diesel::sql_query(sql).into_boxed::<diesel::mysql::Mysql>();
    for v in row.values() {
        q = match v {
            Value::Null => q.bind::<Nullable<Text>, _>(None::<String>),
            Value::Bool(b) => q.bind::<Bool, _>(*b),
            // No column holds a fraction or a number beyond BIGINT: such a value is refused.
            Value::Number(n) => match n.as_i64() {
                Some(i) => q.bind::<BigInt, _>(i),
                None => {
                    return Err(diesel::result::Error::QueryBuilderError(
                        format!("table {table}: the number {n} fits no column").into(),
                    ))
                }
            },
            Value::String(s) => q.bind::<Text, _>(s.clone()),
            other => q.bind::<Text, _>(other.to_string()),
        };
    }
    q.execute(c)
}

/// What a restore put back.
pub async fn restore(db: &Db, from: &Path) -> anyhow::Result<Summary> {
    let file = std::fs::File::open(from).map_err(|e| anyhow::anyhow!("{}: {e}", from.display()))?;
    let mut lines = std::io::BufReader::new(file).lines();
    let first = lines.next().transpose()?.unwrap_or_default();
    let header = read_header(&first)?;
    let known = db.known_migrations();
    if let Some(newer) = header.migrations.iter().find(|m| !known.contains(m)) {
        anyhow::bail!("the backup comes from a newer keyturn (migration {newer}); restore it with that version");
    }
    let last = header.migrations.last().cloned().unwrap_or_default();
    let applied = db.applied_migrations().await?;
    if let Some(ahead) = applied.iter().find(|m| m.as_str() > last.as_str()) {
        anyhow::bail!("the database is ahead of the backup (migration {ahead}): restore into an empty database");
    }
    // Before anything changes: a database with rows is refused as it is.
    let nonempty = db
        .read(|c| {
            for t in tables_in_order(c)? {
                let n: i64 = diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {}", quoted(backend_of(c), &t)))
                    .load::<Count>(c)?
                    .first()
                    .map_or(0, |r| r.n);
                if n > 0 {
                    return Ok(Some(t));
                }
            }
            Ok(None)
        })
        .await?;
    if let Some(t) = nonempty {
        anyhow::bail!("the database is not empty (table {t} has rows): restore only into an empty database");
    }
    db.migrate_until(&last)?;
    let known_tables: BTreeSet<String> = db.read(|c| Ok(tables_in_order(c)?)).await?.into_iter().collect();
    let inserted = db
        .write_once(move |c| {
            let mut tables = BTreeSet::new();
            let mut types = TableColumns::new();
            let fail = |m: String| crate::db::DbError::Query(diesel::result::Error::QueryBuilderError(m.into()));
            for (rows, line) in (0u64..).zip(lines) {
                let line = line.map_err(|e| fail(e.to_string()))?;
                let v: Value = serde_json::from_str(&line).map_err(|e| fail(format!("a line of the backup: {e}")))?;
                if v["end"] == true {
                    if v["rows"].as_u64() != Some(rows) {
                        return Err(fail(format!("the backup says {} rows but holds {rows}", v["rows"])));
                    }
                    return Ok(Summary { tables: tables.len(), rows });
                }
                let (Some(t), Some(r)) = (v["t"].as_str(), v["r"].as_object()) else {
                    return Err(fail("a line of the backup is not a row".into()));
                };
                if !known_tables.contains(t) {
                    return Err(fail(format!("the backup has rows of an unknown table {t:?}")));
                }
                insert_row(c, t, r, &mut types)?;
                tables.insert(t.to_string());
            }
            Err(fail("the backup is cut off (no end line): nothing was restored".into()))
        })
        .await
        .map_err(|e| anyhow::anyhow!("restore failed, nothing was restored: {e}"))?;
    db.migrate()?;
    tracing::info!(event = "restored", from_backend = %header.backend, rows = inserted.rows, "backup restored");
    Ok(inserted)
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

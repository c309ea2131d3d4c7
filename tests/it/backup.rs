//! `keyturn backup` / `restore` (DESIGN §9): a backup taken while paid callbacks arrive restores
//! into an empty database, of the same backend or the other one, where every customer logs in
//! with their own password and keeps their access, and every paid order has its payment; a
//! non-empty database, a cut-off file and a foreign file are refused.

use std::path::Path;

use serde_json::json;

use keyturn::db::backup::Existing::Replace as REPLACE;

use crate::harness::db::{base_url, count, is_mysql, PgDb};
use crate::harness::*;

/// A customer of the original instance: how they log in and what they have.
struct Known {
    login: String,
    password: String,
    services: serde_json::Value,
}

async fn known(app: &TestApp) -> Vec<Known> {
    let mut out = Vec::new();
    for _ in 0..3 {
        let a = app.active().await;
        let me = json_status(a.customer.me().await, 200).await;
        out.push(Known { login: a.login, password: a.password, services: me["services"].clone() });
    }
    out
}

/// Restores `file` into the empty database at `url` (not started), then starts an instance on it.
async fn restored(file: &Path, url: &str) -> TestApp {
    let (u, f) = (url.to_string(), file.to_path_buf());
    let db = tokio::task::spawn_blocking(move || keyturn::db::Db::open(&u, 2)).await.unwrap().unwrap();
    let done = keyturn::db::backup::restore(&db, &f).await.expect("restore");
    assert!(done.rows > 0 && done.tables > 5, "{done:?}");
    TestApp::builder().set("database_url", url).start().await
}

/// On the restored instance: the known customers log in with their own passwords and keep
/// their services; every paid order has its payment and its customer's account.
async fn check(app: &TestApp, customers: &[Known]) {
    for k in customers {
        let c = app.customer();
        json_status(c.login(&k.login, &k.password).await, 200).await;
        let me = json_status(c.me().await, 200).await;
        assert_eq!(me["services"], k.services, "{} lost access", k.login);
    }
    let owner = app.admin("owner").await;
    let orders = json_status(owner.get("/orders?limit=200").await, 200).await;
    let list = orders["orders"].as_array().expect("orders");
    let paid: Vec<_> = list.iter().filter(|o| o["status"] == "provisioned" || o["status"] == "paid").collect();
    assert!(paid.len() >= customers.len(), "{orders}");
    for o in paid {
        let id = o["order_id"].as_str().unwrap();
        let detail = json_status(owner.get(&format!("/orders/{id}")).await, 200).await;
        assert!(!detail["payments"].as_array().unwrap().is_empty(), "paid without its payment: {detail}");
        assert!(detail["account_id"].is_string(), "paid without its account: {detail}");
    }
}

fn sqlite_url(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("restored.db").display())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_during_paid_callbacks_restores_every_customer() {
    let app = TestApp::builder().start().await;
    let customers = known(&app).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("keyturn.backup");

    // Six customers pay while the backup runs.
    let mut burst = Vec::new();
    for _ in 0..6 {
        let order = app.order(&unique_email()).await;
        burst.push(order);
    }
    let paying = async {
        let calls = burst.iter().map(|o| app.pay_by_callback(o, "authenticated"));
        futures_util::future::join_all(calls).await;
    };
    let (done, ()) = tokio::join!(keyturn::db::backup::backup(app.db(), &file, app.clock.now(), REPLACE), paying);
    let done = done.expect("backup").expect("published");
    assert!(done.rows > 0, "{done:?}");
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().flatten().map(|e| e.file_name()).collect();
    assert_eq!(left, vec![std::ffi::OsString::from("keyturn.backup")], "a temporary file is left behind");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "a backup holds secrets: owner only");
    }

    // Into the other backend too when PostgreSQL is there.
    match base_url() {
        Some(base) => {
            let pg = tokio::task::spawn_blocking(move || PgDb::create(&base)).await.unwrap();
            let b = restored(&file, &pg.url).await;
            check(&b, &customers).await;
            b.stop().await;
            let other = tempfile::tempdir().unwrap();
            let b = restored(&file, &sqlite_url(other.path())).await;
            check(&b, &customers).await;
            b.stop().await;
            drop(pg);
            // And into the third backend when the run names one (`.ci/run`: MariaDB → PostgreSQL).
            if let Some(third) = std::env::var("KEYTURN_TEST_OTHER_DATABASE_URL").ok().filter(|u| !u.is_empty()) {
                let db = tokio::task::spawn_blocking(move || PgDb::create(&third)).await.unwrap();
                let b = restored(&file, &db.url).await;
                check(&b, &customers).await;
                b.stop().await;
            }
        }
        None => {
            let other = tempfile::tempdir().unwrap();
            let b = restored(&file, &sqlite_url(other.path())).await;
            check(&b, &customers).await;
            b.stop().await;
        }
    }
    app.stop().await;
}

/// SQLite → PostgreSQL: a shop moving to production keeps its customers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_shop_moves_to_postgresql() {
    let Some(base) = base_url() else { return };
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::builder().set("database_url", &sqlite_url(dir.path())).start().await;
    let customers = known(&app).await;
    let file = dir.path().join("move.backup");
    keyturn::db::backup::backup(app.db(), &file, app.clock.now(), REPLACE).await.expect("backup");
    app.stop().await;
    let pg = tokio::task::spawn_blocking(move || PgDb::create(&base)).await.unwrap();
    let b = restored(&file, &pg.url).await;
    check(&b, &customers).await;
    b.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_refuses_a_nonempty_database_a_cut_off_file_and_a_foreign_file() {
    let app = TestApp::builder().start().await;
    app.active().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("keyturn.backup");
    keyturn::db::backup::backup(app.db(), &file, app.clock.now(), REPLACE).await.expect("backup");

    // Into the running instance's own (non-empty) database.
    let err = keyturn::db::backup::restore(app.db(), &file).await.unwrap_err().to_string();
    assert!(err.contains("not empty"), "{err}");

    let fresh = || {
        let d = tempfile::tempdir().unwrap();
        let url = sqlite_url(d.path());
        (d, keyturn::db::Db::open(&url, 1).unwrap())
    };
    // Cut off before its end line: nothing is restored.
    let text = std::fs::read_to_string(&file).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let cut = dir.path().join("cut.backup");
    std::fs::write(&cut, lines[..lines.len() - 1].join("\n")).unwrap();
    let (_d, db) = fresh();
    let err = keyturn::db::backup::restore(&db, &cut).await.unwrap_err().to_string();
    assert!(err.contains("cut off"), "{err}");
    let rows = db.read(|c| Ok(keyturn::accounts::model::find_by_email(c, "nobody@example.com")?)).await.unwrap();
    assert!(rows.is_none());
    // The same file whole restores into that database: the failed attempt left it empty.
    keyturn::db::backup::restore(&db, &file).await.expect("a whole file restores after a refused one");

    // Not a backup, and a backup of a newer keyturn.
    let foreign = dir.path().join("foreign.json");
    std::fs::write(&foreign, "{\"hello\": 1}\n").unwrap();
    let (_d2, db2) = fresh();
    let err = keyturn::db::backup::restore(&db2, &foreign).await.unwrap_err().to_string();
    assert!(err.contains("not a keyturn backup"), "{err}");
    let mut header: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
    header["migrations"].as_array_mut().unwrap().push(json!("2999-01-01-000000"));
    let newer = dir.path().join("newer.backup");
    std::fs::write(&newer, format!("{header}\n{}", lines[1..].join("\n"))).unwrap();
    let err = keyturn::db::backup::restore(&db2, &newer).await.unwrap_err().to_string();
    assert!(err.contains("newer keyturn"), "{err}");
    // A row of a table keyturn does not have (the migrations' own table among them).
    let alien = dir.path().join("alien.backup");
    let row = "{\"t\":\"__diesel_schema_migrations\",\"r\":{\"version\":\"3000\"}}";
    std::fs::write(&alien, format!("{}\n{row}\n{{\"end\":true,\"rows\":1}}\n", lines[0])).unwrap();
    let err = keyturn::db::backup::restore(&db2, &alien).await.unwrap_err().to_string();
    assert!(err.contains("unknown table"), "{err}");
    app.stop().await;
}

/// Scheduled backups: one per period in `backup_dir`, the oldest deleted beyond `backup_keep`,
/// and the newest restores.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_backups_are_kept_to_their_number_and_restore() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("backups");
    let app = TestApp::builder()
        .set("backup_dir", folder.to_str().unwrap())
        .set("backup_every_hours", "1")
        .set("backup_keep", "2")
        .start()
        .await;
    let customers = known(&app).await;
    let state = app.state();
    let mut written = Vec::new();
    for _ in 0..3 {
        // The instance took this period's backup at start, or this pass takes it; a second
        // pass in the same period takes none.
        keyturn::jobs::backups::run_once(state).await.expect("backup pass");
        assert_eq!(keyturn::jobs::backups::run_once(state).await.expect("backup pass"), None);
        written.push(keyturn::jobs::backups::list(&folder).last().cloned().unwrap());
        app.clock.advance(3600);
    }
    let kept = keyturn::jobs::backups::list(&folder);
    assert_eq!(kept, written[1..].to_vec(), "the two newest are kept");
    app.stop().await;
    let other = tempfile::tempdir().unwrap();
    let b = restored(kept.last().unwrap(), &sqlite_url(other.path())).await;
    check(&b, &customers).await;
    b.stop().await;
}

/// A value the target's column cannot hold (a 300-character login from SQLite, whose TEXT has
/// no length, into MariaDB's VARCHAR(255)) fails the restore with nothing restored; it is never
/// cut short. PostgreSQL's TEXT holds it whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_value_too_long_for_the_target_is_refused_never_cut() {
    let Some(base) = base_url() else { return };
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::builder().set("database_url", &sqlite_url(dir.path())).start().await;
    let a = app.active().await;
    let file = dir.path().join("shop.backup");
    keyturn::db::backup::backup(app.db(), &file, app.clock.now(), REPLACE).await.expect("backup");
    app.stop().await;
    let long_login = format!("l{}", "o".repeat(299));
    let text = std::fs::read_to_string(&file).unwrap();
    let edited = text.replace(&format!("\"login\":\"{}\"", a.login), &format!("\"login\":\"{long_login}\""));
    assert_ne!(edited, text, "the account's login is in the backup");
    std::fs::write(&file, edited).unwrap();

    let target = tokio::task::spawn_blocking(move || PgDb::create(&base)).await.unwrap();
    let (u, f) = (target.url.clone(), file.clone());
    let db = tokio::task::spawn_blocking(move || keyturn::db::Db::open(&u, 2)).await.unwrap().unwrap();
    let result = keyturn::db::backup::restore(&db, &f).await;
    let whole = "SELECT COUNT(*) AS n FROM accounts WHERE LENGTH(login) = 300";
    if is_mysql() {
        let err = result.expect_err("MariaDB cannot hold a 300-character login").to_string();
        assert!(err.contains("nothing was restored") && err.contains("too long"), "{err}");
        let url = target.url.clone();
        let left =
            tokio::task::spawn_blocking(move || count(&url, "SELECT COUNT(*) AS n FROM accounts")).await.unwrap();
        assert_eq!(left, 0, "a refused restore leaves nothing behind");
    } else {
        result.expect("PostgreSQL holds it");
        let url = target.url.clone();
        let n = tokio::task::spawn_blocking(move || count(&url, whole)).await.unwrap();
        assert_eq!(n, 1, "the login is whole");
    }
}

/// A backup of a keyturn from before MariaDB's gateway-id columns were widened, holding a
/// 250-character gateway payment id, restores whole on every backend: the widening is applied
/// before the rows go in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_older_backup_with_a_long_gateway_id_restores_whole() {
    let Some(base) = base_url() else { return };
    let dir = tempfile::tempdir().unwrap();
    let app = TestApp::builder().set("database_url", &sqlite_url(dir.path())).start().await;
    let customer = app.active().await;
    let file = dir.path().join("older.backup");
    keyturn::db::backup::backup(app.db(), &file, app.clock.now(), REPLACE).await.expect("backup");
    app.stop().await;
    let long_id = format!("pi_{}", "7".repeat(247));
    let text = std::fs::read_to_string(&file).unwrap();
    let mut lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let header = lines[0]["migrations"].as_array_mut().unwrap();
    header.retain(|m| m.as_str().unwrap() < "20261207");
    let mut edited = 0;
    for line in &mut lines[1..] {
        if line["t"] == "payments" {
            line["r"]["gateway_payment_id"] = json!(long_id);
            edited += 1;
        }
        assert_ne!(line["t"], "payment_aliases", "no rows of a table the older schema lacks");
    }
    assert_eq!(edited, 1, "one payment in the shop");
    let body: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    std::fs::write(&file, body.join("\n") + "\n").unwrap();

    let target = tokio::task::spawn_blocking(move || PgDb::create(&base)).await.unwrap();
    let b = restored(&file, &target.url).await;
    let url = target.url.clone();
    let sql = "SELECT COUNT(*) AS n FROM payments WHERE LENGTH(gateway_payment_id) = 250";
    assert_eq!(tokio::task::spawn_blocking(move || count(&url, sql)).await.unwrap(), 1, "the id is whole");
    json_status(b.customer().login(&customer.login, &customer.password).await, 200).await;
    b.stop().await;
}

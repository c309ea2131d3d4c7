//! Tests of the storage layer: migrations on populated databases, connection settings, the
//! MySQL widenings list and masked errors.

mod migration_tests {
    use diesel::connection::SimpleConnection;
    use diesel::sqlite::SqliteConnection;
    use diesel::{Connection, RunQueryDsl};
    use diesel_migrations::MigrationHarness;

    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }

    fn count(c: &mut SqliteConnection, sql: &str) -> i64 {
        diesel::sql_query(sql).get_result::<Count>(c).unwrap().n
    }

    /// The SQLite migration that rebuilds `orders` keeps existing rows and every foreign key.
    #[test]
    fn upgrading_a_populated_sqlite_database_keeps_orders_and_their_references() {
        let mut c = SqliteConnection::establish(":memory:").unwrap();
        c.batch_execute("PRAGMA foreign_keys = ON;").unwrap();
        for _ in 0..3 {
            c.run_next_migration(crate::db::SQLITE_MIGRATIONS).unwrap();
        }
        c.batch_execute(
            "INSERT INTO services VALUES ('s', 'S', 100, 'EUR', 30, 1, 0, 0);
             INSERT INTO orders VALUES ('o1', 's', 'n', 'e@x', NULL, 'en', 100, 'EUR', 'paid', NULL, 0, 0, 5, 9);
             INSERT INTO payments (id, order_id, gateway, gateway_payment_id, status, amount_minor, currency,
                                   three_ds, created_at, updated_at)
                 VALUES ('p1', 'o1', 'sandbox', 'x', 'succeeded', 100, 'EUR', NULL, 0, 0);",
        )
        .unwrap();
        c.run_pending_migrations(crate::db::SQLITE_MIGRATIONS).unwrap();
        assert_eq!(
            count(&mut c, "SELECT COUNT(*) AS n FROM orders WHERE id = 'o1' AND paid_at = 5 AND service_slug = 's'"),
            1
        );
        assert_eq!(count(&mut c, "SELECT captured_minor AS n FROM payments WHERE id = 'p1'"), 100);
        assert_eq!(count(&mut c, "SELECT COUNT(*) AS n FROM pragma_foreign_key_check"), 0);
        assert_eq!(count(&mut c, "SELECT foreign_keys AS n FROM pragma_foreign_keys"), 1);
        // Still enforced after the rebuild, and an order may now have no service.
        let orphan =
            "INSERT INTO payments (id, order_id, gateway, gateway_payment_id, status, amount_minor, currency, \
                      created_at, updated_at) VALUES ('p2', 'nosuch', 'g', 'y', 's', 1, 'EUR', 0, 0)";
        assert!(c.batch_execute(orphan).is_err());
        c.batch_execute(
            "INSERT INTO orders (id, service_slug, customer_name, email, locale, amount_minor, currency, status,
                                 created_at, updated_at, expires_at) VALUES ('o2', NULL, 'n', 'e', 'en', 5, 'EUR', 'x', 0, 0, 0)",
        )
        .unwrap();
    }

    /// Reminder claims of the version before per-day kinds (`access.expiring`) count as the
    /// 7-day reminder after the upgrade, so it is not sent again; a `:7` claim already there wins.
    #[test]
    fn upgrading_maps_old_reminder_claims_to_the_seven_day_kind() {
        use diesel::migration::MigrationSource;
        let mut c = SqliteConnection::establish(":memory:").unwrap();
        let all = MigrationSource::<diesel::sqlite::Sqlite>::migrations(&crate::db::SQLITE_MIGRATIONS).unwrap();
        let before = all.iter().position(|m| m.name().to_string().starts_with("2026-12-05-000200")).unwrap();
        for _ in 0..before {
            c.run_next_migration(crate::db::SQLITE_MIGRATIONS).unwrap();
        }
        c.batch_execute(
            "INSERT INTO access_notices (account_id, service_slug, period_end, kind, created_at) VALUES
                 ('a', 's', 100, 'access.expiring', 1),
                 ('b', 's', 100, 'access.expiring', 1), ('b', 's', 100, 'access.expiring:7', 2),
                 ('c', 's', 100, 'access.expired', 1);",
        )
        .unwrap();
        c.run_pending_migrations(crate::db::SQLITE_MIGRATIONS).unwrap();
        let n = |c: &mut SqliteConnection, kind: &str| {
            count(c, &format!("SELECT COUNT(*) AS n FROM access_notices WHERE kind = '{kind}'"))
        };
        assert_eq!(n(&mut c, "access.expiring"), 0);
        assert_eq!(n(&mut c, "access.expiring:7"), 2, "a's claim mapped, b's kept once");
        assert_eq!(n(&mut c, "access.expired"), 1);
        assert_eq!(count(&mut c, "SELECT created_at AS n FROM access_notices WHERE account_id = 'b'"), 2);
    }
}

mod pragma_tests {
    use diesel::RunQueryDsl;

    #[derive(diesel::QueryableByName)]
    struct Synchronous {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        synchronous: i32,
    }

    /// Every pooled SQLite connection syncs each commit to disk (FULL = 2), so an acknowledged
    /// callback survives a power loss.
    #[tokio::test]
    async fn sqlite_connections_commit_with_synchronous_full() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("k.db").display());
        let db = crate::db::Db::open(&url, 2).unwrap();
        for _ in 0..2 {
            let level = db
                .write(|c| Ok(diesel::sql_query("PRAGMA synchronous").get_result::<Synchronous>(c)?.synchronous))
                .await
                .unwrap();
            assert_eq!(level, 2, "PRAGMA synchronous");
        }
    }
}

mod widening_tests {
    /// Every widening names two migrations of the MySQL folder, as diesel spells their versions.
    #[test]
    fn widenings_name_real_mysql_migrations_in_order() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/mysql");
        let versions: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().split('_').next().unwrap().replace('-', ""))
            .collect();
        for (v, needs) in crate::db::MYSQL_WIDENINGS {
            assert!(versions.iter().any(|x| x == v), "{v} is not a migration");
            assert!(versions.iter().any(|x| x == needs), "{needs} is not a migration");
            assert!(needs < v, "{v} must come after {needs}");
        }
    }
}

mod error_tests {
    use crate::db::{DatabaseErrorKind, DbError, DieselError};

    /// MariaDB's unique-violation message quotes the duplicate value; an address never reaches a log.
    #[test]
    fn a_query_error_shows_no_email_address() {
        let info = "Duplicate entry 'jane.doe@example.com' for key 'accounts_email_key'".to_string();
        let e = DbError::Query(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, Box::new(info)));
        let shown = e.to_string();
        assert_eq!(shown, "Duplicate entry '***@example.com' for key 'accounts_email_key'");
        assert!(e.is_unique_violation());
        // Nor through an error chain or Debug.
        let chained = format!("{:#}", anyhow::Error::from(e));
        assert!(!chained.contains("jane.doe") && chained.contains("***@example.com"), "{chained}");
        let info = "Duplicate entry 'jane.doe@example.com' for key 'accounts_email_key'".to_string();
        let e = DbError::Query(DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, Box::new(info)));
        assert!(!format!("{e:?}").contains("jane.doe"), "{e:?}");
    }
}

//! Migrator: `migrate` and `migration_status`, and the backend name.

use super::*;

/// The migration files of one backend, sorted.
fn files(backend: Backend) -> Vec<String> {
    let dir = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    let path = format!("{}/../migrations/{dir}", env!("CARGO_MANIFEST_DIR"));
    let mut v: Vec<String> = std::fs::read_dir(path)
        .expect("migrations dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

contract!(every_migration_is_applied_once, |db: Db| async move {
    let expected = match db.backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    assert_eq!(db.backend(), expected);

    let status = db.migration_status().await.expect("status");
    let names: Vec<String> = status.iter().map(|m| m.name.clone()).collect();
    assert_eq!(names, files(db.backend), "status lists every migration file of the backend");
    for (i, m) in status.iter().enumerate() {
        assert_eq!(m.version, i as i64 + 1, "{m:?}");
        assert_eq!(m.applied_at, Some(MIGRATED_AT), "{m:?}");
    }

    // Migrating again applies nothing and leaves the record alone.
    assert_eq!(db.migrate(NOW).await.expect("second migrate"), 0);
    assert_eq!(db.migration_status().await.expect("status"), status);
    // A second daemon starting on a migrated database applies nothing either.
    assert_eq!(db.daemon().await.migrate(NOW).await.expect("sibling migrate"), 0);
});

contract!(a_fresh_database_shows_nothing_applied_until_migrated, |db: Db| async move {
    let fresh = Scratch::new(db.backend).await.expect("a second scratch database");
    let store = fresh.open().await;
    let before = store.migration_status().await.expect("status of an empty database");
    assert_eq!(before.len(), files(db.backend).len());
    assert!(before.iter().all(|m| m.applied_at.is_none()), "{before:?}");

    let ran = store.migrate(NOW).await.expect("migrate");
    assert_eq!(ran, before.len());
    let after = store.migration_status().await.expect("status");
    assert!(after.iter().all(|m| m.applied_at == Some(NOW)), "{after:?}");
    assert_eq!(store.migrate(NOW + 1).await.expect("again"), 0);
});

/// Several daemons starting at once on one database, each migrating: every migration runs once
/// and every daemon starts. PostgreSQL only: a SQLite file belongs to one daemon, and
/// `store/migrate.rs` serialises migrators on PostgreSQL alone (SQLite answers "database is
/// locked" to the losers).
async fn racing_migrators(db: &Db, bookkeeping_first: bool) {
    if db.backend == Backend::Sqlite {
        eprintln!("NOT APPLICABLE (SQLite): one daemon per database file");
        return;
    }
    let fresh = Scratch::new(db.backend).await.expect("a second scratch database");
    let stores = [fresh.open().await, fresh.open().await, fresh.open().await];
    if bookkeeping_first {
        // `migration_status` creates the (empty) bookkeeping table, as a first start would.
        assert!(stores[0].migration_status().await.expect("status").iter().all(|m| m.applied_at.is_none()));
    }
    let ran = join_all(stores.iter().map(|s| s.migrate(NOW))).await;
    let ran: Vec<usize> = ran.into_iter().map(|r| r.expect("every migrator succeeds")).collect();
    assert_eq!(ran.iter().sum::<usize>(), files(db.backend).len(), "each migration ran exactly once: {ran:?}");
    let status = stores[0].migration_status().await.expect("status");
    assert!(status.iter().all(|m| m.applied_at == Some(NOW)), "{status:?}");
}

contract!(racing_migrators_apply_each_migration_once, |db: Db| async move {
    racing_migrators(&db, true).await;
});

contract!(racing_migrators_on_a_new_database_all_start, |db: Db| async move {
    racing_migrators(&db, false).await;
});

contract!(a_newer_schema_is_refused, |db: Db| async move {
    db.exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, '9999_future.sql', 1)").await;
    match db.migrate(NOW).await {
        Err(StoreError::Migration(msg)) => assert!(msg.contains("newer"), "{msg}"),
        other => panic!("expected a migration error, got {other:?}"),
    }
});

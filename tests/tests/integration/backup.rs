//! `barongctl backup FILE` (issue 12): an online copy of the SQLite database that a new data dir,
//! with the master key beside it, starts on and serves the same users from; PostgreSQL is
//! pointed at its own tools.

use super::*;

const EMAIL: &str = "kept@example.com";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_restores_into_a_new_data_dir() {
    let Some(srv) = TestServer::spawn(Backend::Sqlite).await else { return };
    within_limit(srv, |srv| async move {
        operator_user(&srv, EMAIL);
        let dir = tempfile::tempdir().expect("dir");
        let copy = dir.path().join("barong-copy.db");
        let copy_arg = copy.display().to_string();
        let info = ctl_json(&srv, &["backup", &copy_arg]);
        assert_eq!(info["path"], copy_arg.as_str(), "{info}");
        assert!(info["bytes"].as_u64() > Some(0), "{info}");
        assert!(info["master_key"].as_str().is_some_and(|k| k.ends_with("keys/master.key")), "{info}");
        let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&copy).expect("copy").permissions());
        assert_eq!(mode & 0o777, 0o600, "the copy holds sealed secrets and PII indexes");
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).expect("dir").flatten().map(|e| e.file_name()).collect();
        assert_eq!(leftovers.len(), 1, "no partial file left: {leftovers:?}");

        // Never over an existing file, never a relative path taken from the daemon's directory.
        let (code, out, err) = srv.ctl(&["--json", "backup", &copy_arg], None);
        assert_eq!(code, 1, "{out} {err}");
        assert!(out.contains("backup.file_exists"), "{out}");
        let (code, out, _) = srv.ctl(&["--json", "backup", "/nonexistent-dir/x.db"], None);
        assert_eq!(code, 1);
        assert!(out.contains("backup.bad_path"), "{out}");

        // A user made after the copy is not in it; the one before is.
        operator_user(&srv, "later@example.com");
        let restored_dir = tempfile::tempdir().expect("restored");
        let restored = restored_dir.path().to_path_buf();
        std::fs::create_dir_all(restored.join("keys")).expect("keys dir");
        std::fs::copy(srv.data_dir.join("keys/master.key"), restored.join("keys/master.key")).expect("master key");
        std::fs::copy(&copy, restored.join("barong.db")).expect("database");
        let opts = Options { data_dir: Some(restored.clone()), ..Default::default() };
        let back = TestServer::spawn_with(Backend::Sqlite, opts).await.expect("restored daemon");
        let (s, b) =
            post(&back.client(), &back.url("identity/sessions"), json!({"email": EMAIL, "password": PASSWORD})).await;
        assert_eq!(s, 200, "the user signs in on the restored copy: {b}");
        let (s, _) = post(
            &back.client(),
            &back.url("identity/sessions"),
            json!({"email": "later@example.com", "password": PASSWORD}),
        )
        .await;
        assert_eq!(s, 401, "a user made after the backup is not in it");
        // A user's sealed values (its TOTP seed would be one) open with the copied key: the
        // operator's own view decrypts the profile-free user without an error.
        let shown = ctl_json(&back, &["user", "show", EMAIL]);
        assert_eq!(shown["email"], EMAIL, "{shown}");
        drop(back);
        drop(restored_dir);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_backups_are_left_to_pg_dump() {
    let Some(srv) = TestServer::spawn(Backend::Postgres).await else { return };
    within_limit(srv, |srv| async move {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("copy.db").display().to_string();
        let (code, out, err) = srv.ctl(&["--json", "backup", &path], None);
        assert_eq!(code, 1, "{out} {err}");
        assert!(out.contains("backup.use_pg_dump") && out.contains("pg_dump"), "{out}");
        assert!(!dir.path().join("copy.db").exists());
        assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 0, "no partial file left");
    })
    .await;
}

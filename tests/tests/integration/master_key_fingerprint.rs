//! The master-key trap (issue 14): on PostgreSQL barongd never makes a master key; the key's
//! fingerprint is recorded in the database, so a wrong key (from BARONG_MASTER_KEY or a file), a
//! backup restored without its key, or an old key after a rotation is named as such at start.

use hmac::Mac;

use super::production_mode::barongd_exit;
use super::*;

/// The fingerprint barongd records: HMAC-SHA256 of a fixed label under the key, first 8 bytes.
fn fingerprint(master_hex: &str) -> String {
    let key = hex::decode(master_hex.trim()).expect("hex key");
    let mut mac = <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(&key).expect("key");
    mac.update(b"barong-rs master key id v1");
    hex::encode(&mac.finalize().into_bytes()[..8])
}

const WRONG_KEY: &str = "0f0e0d0c0b0a09080706050403020100000102030405060708090a0b0c0d0e0f";

async fn recorded(srv: &TestServer) -> Vec<String> {
    srv.sql_texts("SELECT key_id FROM master_key_fingerprint").await
}

/// barongd on `srv`'s data dir, config and database, until it exits.
fn start_again(srv: &TestServer, env: &[(&str, &str)]) -> (Option<i32>, String) {
    let config = srv.data_dir.with_extension("yml").display().to_string();
    let data = srv.data_dir.display().to_string();
    let args = ["--config", &config, "--data-dir", &data, "--database-url", &srv.database_url];
    let (code, _, err) = barongd_exit(&args, env);
    (code, err)
}

fn mismatch(source: &str, got: &str, expected: &str) -> String {
    format!(
        "master key from {source}: this master key is not the one this database was sealed with (fingerprint {}, \
         expected {})",
        fingerprint(got),
        fingerprint(expected)
    )
}

both!(
    a_wrong_master_key_is_named_at_start,
    per_backend = |backend| async move {
        let Some(mut srv) = TestServer::spawn(backend).await else { return };
        let right = srv.master_key();
        assert_eq!(recorded(&srv).await, [fingerprint(&right)], "recorded at the first start");
        srv.kill();

        let (code, err) = start_again(&srv, &[("BARONG_MASTER_KEY", WRONG_KEY)]);
        assert_eq!(code, Some(2), "{err}");
        assert!(err.contains(&mismatch("BARONG_MASTER_KEY", WRONG_KEY, &right)), "{err}");
        assert!(!err.contains(WRONG_KEY) && !err.contains(&right), "no key in the message: {err}");

        let key_file = srv.data_dir.join("keys/master.key");
        std::fs::write(&key_file, WRONG_KEY).expect("wrong key file");
        let (code, err) = start_again(&srv, &[]);
        assert_eq!(code, Some(2), "{err}");
        assert!(err.contains(&mismatch(&key_file.display().to_string(), WRONG_KEY, &right)), "{err}");

        std::fs::write(&key_file, &right).expect("right key file");
        srv.restart();
        operator_user(&srv, "after@example.com");
    }
);

both!(
    an_upgraded_database_adopts_only_a_key_that_opens_its_values,
    per_backend = |backend| async move {
        let Some(mut srv) = TestServer::spawn(backend).await else { return };
        let right = srv.master_key();
        // As before this version: sealed values (the signing key), no fingerprint.
        srv.sql("DELETE FROM master_key_fingerprint").await;
        srv.kill();
        let (code, err) = start_again(&srv, &[("BARONG_MASTER_KEY", WRONG_KEY)]);
        assert_eq!(code, Some(2), "{err}");
        assert!(
            err.contains(&format!(
                "this master key (fingerprint {}) is not the one this database",
                fingerprint(WRONG_KEY)
            )) && err.contains("does not open signing_keys.private_sealed"),
            "{err}"
        );
        assert!(recorded(&srv).await.is_empty(), "a wrong key is not adopted");
        srv.restart();
        assert_eq!(recorded(&srv).await, [fingerprint(&right)], "the key that opens the values is adopted");
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgresql_without_a_master_key_refuses_and_writes_none() {
    let Some(admin) = pg_url() else {
        assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true requires BARONG_TEST_PG_URL");
        eprintln!("SKIPPED (PostgreSQL): BARONG_TEST_PG_URL is not set");
        return;
    };
    let pg = PgDatabase::create(&admin).await;
    let url = pg.url();
    let tmp = tempfile::tempdir().expect("tmp");
    let data = tmp.path().join("data");
    let data_arg = data.display().to_string();
    let args = ["--data-dir", &data_arg, "--database-url", &url, "--listen", "127.0.0.1:0"];
    let (code, _, err) = barongd_exit(&args, &[]);
    assert_eq!(code, Some(2), "{err}");
    let key_file = data.join("keys/master.key");
    assert!(
        err.contains("no master key: set BARONG_MASTER_KEY or provide")
            && err.contains(&format!("barongd keys new-master --out {}", key_file.display())),
        "{err}"
    );
    assert_eq!(std::fs::read_dir(data.join("keys")).map(|d| d.count()).unwrap_or(0), 0, "no key file written");

    // The command the message gives: a 0600 file with 64 hex characters, never over a key.
    let out = key_file.display().to_string();
    let (code, _, err) = barongd_exit(&["keys", "new-master", "--out", &out], &[]);
    assert_eq!(code, Some(0), "{err}");
    let key = std::fs::read_to_string(&key_file).expect("key file");
    assert!(key.len() == 64 && hex::decode(&key).is_ok(), "{key}");
    let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&key_file).expect("meta").permissions());
    assert_eq!(mode & 0o777, 0o600);
    let (code, _, _) = barongd_exit(&["keys", "new-master", "--out", &out], &[]);
    assert_eq!(code, Some(2), "an existing key is never replaced");
    assert_eq!(std::fs::read_to_string(&key_file).expect("key"), key);
    let (code, printed, _) = barongd_exit(&["keys", "new-master"], &[]);
    assert_eq!(code, Some(0));
    assert!(printed.trim().len() == 64 && printed.trim() != key, "{printed}");

    let opts = Options { data_dir: Some(data.clone()), database_url: Some(url.clone()), ..Default::default() };
    let srv = TestServer::spawn_with(Backend::Postgres, opts).await.expect("starts with the key");
    within_limit(srv, |srv: TestServer| async move {
        assert_eq!(recorded(&srv).await, [fingerprint(&key)]);
        // A second daemon with its own data dir and no key: refused, nothing written (the trap).
        let other = tempfile::tempdir().expect("tmp");
        let other_data = other.path().join("data").display().to_string();
        let args = ["--data-dir", &other_data, "--database-url", &srv.database_url, "--listen", "127.0.0.1:0"];
        let (code, _, err) = barongd_exit(&args, &[]);
        assert_eq!(code, Some(2), "{err}");
        assert!(err.contains("no master key"), "{err}");
        assert!(!other.path().join("data/keys/master.key").exists());
        // With another key: named as the wrong one.
        let (code, _, err) = barongd_exit(&args, &[("BARONG_MASTER_KEY", WRONG_KEY)]);
        assert_eq!(code, Some(2), "{err}");
        assert!(err.contains(&mismatch("BARONG_MASTER_KEY", WRONG_KEY, &key)), "{err}");
        // With the same key, as the README says: it serves.
        let sibling = srv.sibling("").await;
        operator_user(&sibling, "second@example.com");
    })
    .await;
    drop(pg);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_restored_without_its_key_is_refused() {
    let Some(srv) = TestServer::spawn(Backend::Sqlite).await else { return };
    within_limit(srv, |srv| async move {
        operator_user(&srv, "kept@example.com");
        let right = srv.master_key();
        let dir = tempfile::tempdir().expect("dir");
        let copy = dir.path().join("copy.db");
        ctl_json(&srv, &["backup", &copy.display().to_string()]);
        let restored = dir.path().join("restored");
        std::fs::create_dir_all(&restored).expect("dir");
        std::fs::copy(&copy, restored.join("barong.db")).expect("database");
        let data = restored.display().to_string();
        let args = ["--data-dir", &data, "--listen", "127.0.0.1:0"];

        let (code, _, err) = barongd_exit(&args, &[]);
        assert_eq!(code, Some(2), "{err}");
        assert!(
            err.contains(&format!(
                "{} is missing, and this database holds values sealed under its master key (fingerprint {})",
                restored.join("keys/master.key").display(),
                fingerprint(&right)
            )),
            "{err}"
        );
        assert!(!restored.join("keys/master.key").exists(), "no new key written");
        // Still none after a second try, and a wrong key is named as wrong, not as missing.
        let (code, _, err) = barongd_exit(&args, &[("BARONG_MASTER_KEY", WRONG_KEY)]);
        assert_eq!(code, Some(2), "{err}");
        assert!(err.contains(&mismatch("BARONG_MASTER_KEY", WRONG_KEY, &right)), "{err}");
        assert!(!restored.join("keys/master.key").exists());

        std::fs::create_dir_all(restored.join("keys")).expect("keys dir");
        std::fs::write(restored.join("keys/master.key"), &right).expect("the backup's key");
        let opts = Options { data_dir: Some(restored.clone()), ..Default::default() };
        let back = TestServer::spawn_with(Backend::Sqlite, opts).await.expect("restored daemon");
        assert_eq!(ctl_json(&back, &["user", "show", "kept@example.com"])["email"], "kept@example.com");
    })
    .await;
}

both!(
    a_rotation_moves_the_fingerprint_and_restarts,
    per_backend = |backend| async move {
        let Some(mut srv) = TestServer::spawn(backend).await else { return };
        operator_user(&srv, "rotated@example.com");
        let old = srv.master_key();
        let done = ctl_json(&srv, &["keys", "rotate-master", "--yes", "--wait"]);
        assert_eq!(done["state"], "finished", "{done}");
        let new = srv.master_key();
        assert_ne!(new, old);
        assert_eq!(recorded(&srv).await, [fingerprint(&new)], "moved when the rotation finished");
        srv.restart();
        operator_user(&srv, "after-rotation@example.com");
        srv.kill();
        // The old key (a backup of it restored by mistake) is named as not this database's.
        std::fs::write(srv.data_dir.join("keys/master.key"), &old).expect("old key");
        let (code, err) = start_again(&srv, &[]);
        assert_eq!(code, Some(2), "{err}");
        let file = srv.data_dir.join("keys/master.key").display().to_string();
        assert!(err.contains(&mismatch(&file, &old, &new)), "{err}");
    }
);

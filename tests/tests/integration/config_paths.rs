//! Relative paths of the config file are relative to its folder, whatever the daemon's working
//! directory; a configured file that is missing stops start-up (issue 14, 4). `barongctl seed`
//! reads its file from the caller's working directory.

use std::process::Command;

use super::*;

/// A `pass` prefix of a rules file beside the config, in no built-in rule: with the built-in
/// rules it is refused (401), with the file it passes.
const RULES: &str = "rules:\n  pass:\n    - api/v2/custom/public\n  block:\n    - api/v2/barong/management\n";

async fn rules_beside_the_config(backend: Backend) {
    let tmp = tempfile::tempdir().expect("tmp");
    // The harness writes the config at <data dir>.yml, so it sits in `tmp` beside the rules.
    std::fs::create_dir_all(tmp.path().join("conf")).expect("dir");
    std::fs::write(tmp.path().join("conf/rules.yml"), RULES).expect("rules");
    let opts = Options {
        data_dir: Some(tmp.path().join("data")),
        config: "authz_rules_file: conf/rules.yml\n".into(),
        ..Default::default()
    };
    let Some(srv) = TestServer::spawn_with(backend, opts).await else { return };
    within_limit(srv, |srv: TestServer| async move {
        // The daemon runs in the test crate's folder, not in `tmp`.
        assert_ne!(std::env::current_dir().expect("cwd"), srv.data_dir.parent().expect("tmp"));
        let anon = reqwest::Client::new();
        let auth = |p: &str| format!("{}/api/v2/auth/{p}", srv.base);
        let status = |r: reqwest::Response| r.status().as_u16();
        assert_eq!(status(anon.get(auth("api/v2/custom/public/x")).send().await.expect("pass")), 200);
        assert_eq!(status(anon.get(auth("api/v2/peatio/public/markets")).send().await.expect("built-in")), 401);
    })
    .await;
}

both!(a_relative_rules_file_is_read_beside_the_config, per_backend = rules_beside_the_config);

fn barongd(args: &[&str]) -> (i32, String) {
    let out = Command::new(binary("barongd"))
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("BARONG_CONFIG")
        .env_remove("LOG_LEVEL")
        .output()
        .expect("runs");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn a_configured_file_that_is_missing_stops_start_up_with_key_and_path() {
    let tmp = tempfile::tempdir().expect("tmp");
    let cfg = tmp.path().join("barong.yml");
    let path = cfg.display().to_string();
    let data = tmp.path().join("data").display().to_string();
    let dir = tmp.path().display().to_string();
    std::fs::write(&cfg, "listen: 127.0.0.1:0\nauthz_rules_file: config/authz_rules.yml\n").expect("write");
    for args in [vec!["--config", &path, "config", "check"], vec!["--config", &path, "--data-dir", &data]] {
        let (code, err) = barongd(&args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert_eq!(
            err.trim_end(),
            format!(
                "barongd: configuration error: config file {path}: authz_rules_file at line 2: \
                 {dir}/config/authz_rules.yml does not exist (relative paths are resolved against {dir}, the \
                 config file's folder)"
            )
        );
    }
    assert!(!tmp.path().join("data").exists(), "nothing was started");
    // Every file setting, each named; all at once.
    std::fs::write(
        &cfg,
        "management_api:\n  file: mgmt.yml\nmailer:\n  templates_dir: /nonexistent/templates\nabilities_file: a.yml\n",
    )
    .expect("write");
    let (code, err) = barongd(&["--config", &path, "config", "check"]);
    assert_eq!(code, 2);
    for needle in [
        format!("management_api.file at line 2: {dir}/mgmt.yml does not exist"),
        "mailer.templates_dir at line 4: /nonexistent/templates does not exist".to_string(),
        format!("abilities_file at line 5: {dir}/a.yml does not exist"),
    ] {
        assert!(err.contains(&needle), "{needle} not in {err}");
    }
    // From a variable, the path is the caller's, named by the variable.
    let out = Command::new(binary("barongd"))
        .args(["config", "check"])
        .current_dir(tmp.path())
        .env_remove("DATABASE_URL")
        .env_remove("BARONG_CONFIG")
        .env("BARONG_MAXMINDDB_PATH", "geo/Country.mmdb")
        .output()
        .expect("runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&format!("BARONG_MAXMINDDB_PATH (maxminddb_path): {dir}/geo/Country.mmdb does not exist")),
        "{err}"
    );
}

#[test]
fn data_dir_and_sqlite_paths_of_the_file_are_beside_it() {
    let tmp = tempfile::tempdir().expect("tmp");
    std::fs::create_dir_all(tmp.path().join("etc")).expect("dir");
    let cfg = tmp.path().join("etc/barong.yml");
    std::fs::write(&cfg, "data_dir: state\nuploads_dir: ../kyc\n").expect("write");
    let (code, out) = {
        let o = Command::new(binary("barongd"))
            .args(["--config", &cfg.display().to_string(), "config", "check"])
            .env_remove("DATABASE_URL")
            .output()
            .expect("runs");
        (o.status.code(), String::from_utf8_lossy(&o.stdout).into_owned())
    };
    assert_eq!(code, Some(0));
    let etc = tmp.path().join("etc").display().to_string();
    assert!(out.contains(&format!("data_dir: {etc}/state\n")), "{out}");
    assert!(out.contains(&format!("uploads_dir: {etc}/../kyc\n")), "{out}");
    assert!(out.contains(&format!("database_url: sqlite://{etc}/state/barong.db\n")), "{out}");
}

async fn seed_from_elsewhere(backend: Backend) {
    let Some(srv) = TestServer::spawn(backend).await else { return };
    within_limit(srv, |srv: TestServer| async move {
        let caller = tempfile::tempdir().expect("tmp");
        std::fs::create_dir_all(caller.path().join("ops")).expect("dir");
        let seeds = "levels:\n  - {key: email, value: verified}\nusers:\n  - {email: seeded@example.com, level: 1}\n";
        std::fs::write(caller.path().join("ops/seeds.yml"), seeds).expect("seeds");
        let out = Command::new(binary("barongctl"))
            .args(["--data-dir", &srv.data_dir.display().to_string(), "seed", "ops/seeds.yml"])
            .current_dir(caller.path())
            .output()
            .expect("barongctl");
        let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert_eq!(out.status.code(), Some(0), "{stdout}{stderr}");
        assert_eq!(
            stdout.trim(),
            "added 0 levels, 0 permissions, 1 users, 0 restrictions (rows already there are kept as they are)"
        );
        assert_eq!(ctl_json(&srv, &["user", "show", "seeded@example.com"])["email"], "seeded@example.com");
        // A missing file is named as the caller wrote it, before the daemon is asked.
        let out = Command::new(binary("barongctl"))
            .args(["--data-dir", &srv.data_dir.display().to_string(), "seed", "ops/absent.yml"])
            .current_dir(caller.path())
            .output()
            .expect("barongctl");
        assert_eq!(out.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&out.stderr).contains("ops/absent.yml"));
    })
    .await;
}

both!(barongctl_seed_reads_its_file_from_the_callers_folder, per_backend = seed_from_elsewhere);

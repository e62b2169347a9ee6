//! `barongctl import barong` (migration spec §2, §8): a Barong 2.7 database built in MariaDB by
//! the independent fixture generator is imported into a fresh barong-rs on SQLite and on
//! PostgreSQL, and what the manifest says Barong held is checked through barong-rs's own
//! surfaces: counts, sign-ins with Barong's passwords and TOTP seeds, the Admin API's clear PII,
//! API keys signing through the gateway, and the database file free of clear PII and of Barong's
//! ciphertexts.

use reqwest::Method;

use super::*;

/// The fixture, a daemon configured with the fixture's `barong.yml`, and the secret inputs as
/// files.
struct Imported {
    fx: BarongFixture,
    srv: TestServer,
}

async fn setup(backend: Backend) -> Option<Imported> {
    let fx = BarongFixture::build(60, 7, &[])?;
    // One `key: <JSON>` line per setting: JSON values are YAML, and the lines join the test's file.
    let config: String = fx.manifest["barong_yml"]
        .as_object()
        .expect("barong_yml")
        .iter()
        .filter(|(k, _)| matches!(k.as_str(), "document_types" | "user_storage_titles"))
        .map(|(k, v)| format!("{k}: {v}\n"))
        .collect();
    let srv = TestServer::spawn_with(backend, Options { config, ..Default::default() }).await?;
    write_secret_files(&fx);
    Some(Imported { fx, srv })
}

/// The fixture's SECRET_KEY_BASE and transit key, as the files the import reads.
pub(super) fn write_secret_files(fx: &BarongFixture) {
    std::fs::write(fx.path("skb"), fx.manifest["barong_env"]["SECRET_KEY_BASE"].as_str().expect("skb"))
        .expect("skb file");
    let transit = json!({"data": {"keys": {"1": fx.manifest["vault"]["transit_key_b64"]}}});
    std::fs::write(fx.path("transit.json"), transit.to_string()).expect("transit file");
}

fn import(i: &Imported, extra: &[&str]) -> (i32, Value, String) {
    import_from(&i.srv, &i.fx, extra)
}

/// `barongctl --json import barong …` with every input of `fx` into `srv`; (exit code, final
/// status, stderr).
pub(super) fn import_from(srv: &TestServer, fx: &BarongFixture, extra: &[&str]) -> (i32, Value, String) {
    let p = |n: &str| fx.path(n).display().to_string();
    let (skb, secrets, transit, uploads) = (p("skb"), p("secrets.json"), p("transit.json"), p("uploads"));
    let mut args = vec![
        "--json",
        "import",
        "barong",
        "--from",
        &fx.url,
        "--secret-key-base-file",
        &skb,
        "--secrets-file",
        &secrets,
        "--transit-key-file",
        &transit,
        "--uploads",
        &uploads,
    ];
    args.extend_from_slice(extra);
    let (code, out, err) = srv.ctl(&args, None);
    (code, serde_json::from_str(&out).unwrap_or(Value::Null), err)
}

fn table<'a>(status: &'a Value, name: &str) -> &'a Value {
    status["tables"]
        .as_array()
        .and_then(|t| t.iter().find(|e| e[0] == name))
        .map(|e| &e[1])
        .unwrap_or_else(|| panic!("no table {name} in {status}"))
}

fn users(fx: &BarongFixture) -> Vec<Value> {
    fx.manifest["users"].as_array().expect("users").clone()
}

async fn login(srv: &TestServer, email: &str, password: &str, otp: Option<String>) -> (reqwest::Client, u16, Value) {
    let c = srv.client();
    let mut body = json!({"email": email, "password": password});
    if let Some(code) = otp {
        body["otp_code"] = json!(code);
    }
    let (s, v) = post(&c, &srv.url("identity/sessions"), body).await;
    (c, s, v)
}

fn totp_of(user: &Value) -> totp_rs::TOTP {
    let b32 = user["totp"]["secret_b32"].as_str().expect("seed");
    let seed = totp_rs::Secret::Encoded(b32.to_string()).to_bytes().expect("base32 seed");
    totp_rs::TOTP::new_unchecked(totp_rs::Algorithm::SHA1, 6, 1, 30, seed, None, String::new())
}

both!(
    a_barong_database_imports_and_signs_in,
    per_backend = |backend| async move {
        let Some(i) = setup(backend).await else { return };
        let srv_limit = TEST_LIMIT;
        tokio::time::timeout(srv_limit, imports_and_signs_in(&i)).await.expect("within the test limit");
    }
);

async fn imports_and_signs_in(i: &Imported) {
    let (srv, fx) = (&i.srv, &i.fx);
    // A dry run reads, decrypts and checks everything and writes only its job and report. Its
    // second secrets file is larger than one admin-socket frame (an export of a big exchange):
    // barongctl sends it in pieces, and its entries for keys Barong never had are reported.
    let stale = 25_000;
    let entries: Vec<Value> = (0..stale)
        .map(|n| json!({"kid": format!("e{n:015x}"), "secret": "0123456789abcdef0123456789abcdef"}))
        .collect();
    let big = json!({"format": "barong-secrets", "version": 1, "api_keys": entries}).to_string();
    assert!(big.len() > 1024 * 1024, "larger than one admin-socket frame: {} bytes", big.len());
    std::fs::write(fx.path("stale-secrets.json"), &big).expect("big secrets file");
    let big_path = fx.path("stale-secrets.json").display().to_string();
    let (code, dry, err) = import(i, &["--dry-run", "--secrets-file", &big_path]);
    assert_eq!((code, dry["state"].as_str()), (0, Some("dry_run")), "dry run: {err}\n{dry}");
    assert_eq!(table(&dry, "users")["inserted"], 60, "{dry}");
    let report = ctl_json(srv, &["import", "report"]);
    let unused = report["items"]
        .as_array()
        .map(|items| items.iter().filter(|i| i["code"] == "secret_unused" && i["table"] == "apikeys").count());
    assert_eq!(unused, Some(stale), "every stale kid is reported");
    let rows = srv
        .sql_texts("SELECT CAST(COUNT(*) AS TEXT) FROM users UNION ALL SELECT CAST(COUNT(*) AS TEXT) FROM import_rows")
        .await;
    assert_eq!(rows, ["0", "0"], "a dry run writes no rows");
    let (s, _) = get(&srv.client(), &srv.url("identity/time")).await;
    assert_eq!(s, 200);

    // A second daemon on the same PostgreSQL, started before the import, learns import mode from
    // the database.
    let sibling = match srv.backend {
        Backend::Postgres => Some(srv.sibling("").await),
        Backend::Sqlite => None,
    };
    let (code, status, err) = import(i, &[]);
    assert_eq!(code, 0, "import: {err}\n{status}\n{}", srv.logs());
    assert_eq!(status["state"], "completed", "{status}");
    if let Some(other) = &sibling {
        let url = other.url("identity/sessions");
        eventually(Duration::from_secs(5), || async {
            let (s, b) = post(&other.client(), &url, json!({"email": "x@y.z", "password": "p"})).await;
            s == 503 && errors(&b) == ["server.import_in_progress"]
        })
        .await;
    }
    for (name, n) in fx.manifest["counts"].as_object().expect("counts") {
        let t = table(&status, name);
        assert_eq!(t["source"], *n, "{name}: {t}");
        assert_eq!(
            t["inserted"].as_i64().unwrap_or(0) + t["skipped"].as_i64().unwrap_or(0),
            n.as_i64().unwrap_or(-1),
            "{name}: {t}"
        );
    }
    let report = ctl_json(srv, &["import", "report"]);
    assert_eq!(report["tables"]["users"]["inserted"], 60, "{report}");
    assert!(report["secrets"]["totp"]["missing"].as_i64() >= Some(1), "{}", report["secrets"]);

    // While the import is open the API is closed, except the general endpoints.
    let (s, b) = post(&srv.client(), &srv.url("identity/sessions"), json!({"email": "x@y.z", "password": "p"})).await;
    assert_eq!((s, errors(&b)), (503, vec!["server.import_in_progress".to_string()]), "{b}");
    let (s, _) = get(&srv.client(), &srv.url("identity/ping")).await;
    assert_eq!(s, 200);
    let (code, out, _) = srv.ctl(&["--json", "label", "set", "ID61E8DAA1EB", "vip", "yes"], None);
    assert!(code != 0 && out.contains("import.in_progress"), "operator writes wait for finish: {out}");

    // A second run over an unchanged source writes nothing.
    let (code, again, err) = import(i, &[]);
    assert_eq!(code, 0, "second run: {err}");
    for k in ["inserted", "updated", "deleted"] {
        assert_eq!(again["last_run"][k].as_i64().unwrap_or(0), 0, "second run {k}: {again}");
    }

    // Barong still writes: finish refuses, the next run carries the change and the deletion.
    fx.sql("UPDATE labels SET value = 'pending', updated_at = NOW() WHERE user_id = 7 AND `key` = 'document'");
    fx.sql("DELETE FROM labels WHERE user_id = 7 AND `key` = 'phone'");
    let (code, out, err) = srv.ctl(&["--json", "import", "finish", "--yes"], None);
    assert_eq!(code, 1, "finish after a change: {out} {err}");
    assert!(out.contains("import.source_changed"), "{out}");
    let (code, third, err) = import(i, &[]);
    assert_eq!(code, 0, "third run: {err}");
    let run = &third["last_run"];
    assert_eq!(
        (run["inserted"].as_i64(), run["updated"].as_i64(), run["deleted"].as_i64()),
        (Some(0), Some(1), Some(1)),
        "{third}"
    );

    let (code, out, err) = srv.ctl(&["--json", "import", "finish", "--yes"], None);
    assert_eq!(code, 0, "finish: {err} {out}");
    assert_eq!(serde_json::from_str::<Value>(&out).unwrap_or_default()["state"], "finished", "{out}");
    let logged = srv
        .sql_texts(
            "SELECT topic || '/' || action || '/' || result FROM activities \
             WHERE category = 'admin' AND topic = 'import' ORDER BY id DESC",
        )
        .await;
    assert_eq!(logged.first().map(String::as_str), Some("import/finish/succeed"), "the admin log names the finish");
    if let Some(other) = &sibling {
        let url = other.url("identity/sessions");
        eventually(Duration::from_secs(5), || async {
            let (s, _) = post(&other.client(), &url, json!({"email": "x@y.z", "password": "p"})).await;
            s == 401
        })
        .await;
    }

    let all = users(fx);
    // Password only: Barong's bcrypt digest signs in and becomes argon2id.
    let plain = all.iter().find(|u| u["login_after_import"] == "password" && u["state"] == "active").expect("user");
    let email = plain["email"].as_str().expect("email").trim();
    let (_, s, b) = login(srv, email, plain["password"].as_str().expect("password"), None).await;
    assert_eq!(s, 200, "login {email}: {b}");
    let digest = srv
        .sql_texts(&format!("SELECT password_digest FROM users WHERE uid = '{}'", plain["uid"].as_str().unwrap_or("")))
        .await;
    assert!(digest[0].starts_with("$argon2id$"), "rehashed: {}", &digest[0][..10]);

    // Password and TOTP: the seed carried from the secrets file.
    let admin = all
        .iter()
        .find(|u| u["login_after_import"] == "password_and_totp" && u["role"] == "superadmin")
        .expect("admin");
    let code = totp_of(admin).generate_current().expect("clock");
    let (ac, s, b) =
        login(srv, admin["email"].as_str().expect("email").trim(), admin["password"].as_str().expect("pw"), Some(code))
            .await;
    assert_eq!(s, 200, "TOTP login: {b}");
    let csrf = b["csrf_token"].as_str().expect("csrf").to_string();

    // The safe state: 2FA on, no seed carried.
    let safe = all.iter().find(|u| u["login_after_import"] == "refused_2fa_reset_required").expect("safe-state user");
    let row = srv
        .sql_texts(&format!(
            "SELECT CASE WHEN otp_secret_sealed IS NULL THEN 'none' ELSE 'sealed' END FROM users WHERE uid = '{}'",
            safe["uid"].as_str().unwrap_or("")
        ))
        .await;
    assert_eq!(row, ["none"]);
    let (safe_email, safe_password) =
        (safe["email"].as_str().expect("email").trim(), safe["password"].as_str().expect("password"));
    let (_, s, b) = login(srv, safe_email, safe_password, Some("123456".into())).await;
    assert_eq!((s, &b), (403, &json!({"errors": ["identity.session.otp_reset_required"]})), "seed not carried");

    // The drift rule (§2.5): a restriction no private label explains keeps its stored state and
    // gains the private `<first trigger key>=migrated` label, listed in the report.
    let first_key = |state: &str| match state {
        "banned" => "ban",
        "locked" => "suspicious",
        "deleted" => "delete",
        _ => "",
    };
    let drift: std::collections::HashMap<String, String> = fx.manifest["expect"]["state_drift"]
        .as_array()
        .expect("state_drift")
        .iter()
        .filter(|d| !first_key(d["barong_state"].as_str().unwrap_or("")).is_empty())
        .map(|d| {
            let uid = d["uid"].as_str().unwrap_or("").to_string();
            (uid, first_key(d["barong_state"].as_str().unwrap_or("")).to_string())
        })
        .collect();
    assert!(!drift.is_empty(), "the fixture has restrictive drift cases");
    let final_report = ctl_json(srv, &["import", "report"]);
    let restrictive: Vec<String> = final_report["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|i| i["code"] == "state_drift_restrictive")
        .map(|i| i["uid"].as_str().unwrap_or("").to_string())
        .collect();
    let mut want_uids: Vec<String> = drift.keys().cloned().collect();
    want_uids.sort();
    let mut got_uids = restrictive.clone();
    got_uids.sort();
    assert_eq!(got_uids, want_uids, "{}", final_report["items"]);

    // Levels, states, roles and labels as Barong stored them.
    for u in &all {
        let uid = u["uid"].as_str().expect("uid");
        let got = srv
            .sql_texts(&format!(
                "SELECT role || '/' || state || '/' || CAST(level AS TEXT) FROM users WHERE uid = '{uid}'"
            ))
            .await;
        assert_eq!(
            got,
            [format!("{}/{}/{}", u["role"].as_str().unwrap_or(""), u["state"].as_str().unwrap_or(""), u["level"])]
        );
        let mut labels = srv.sql_texts(&format!(
            "SELECT l.key || '=' || l.value || '/' || l.scope FROM labels l JOIN users x ON x.id = l.user_id WHERE x.uid = '{uid}'"
        )).await;
        labels.sort();
        let mut want: Vec<String> = u["labels"]
            .as_array()
            .expect("labels")
            .iter()
            .map(|l| {
                format!(
                    "{}={}/{}",
                    l["key"].as_str().unwrap_or(""),
                    l["value"].as_str().unwrap_or(""),
                    l["scope"].as_str().unwrap_or("")
                )
            })
            .collect();
        if u["id"] == 7 {
            want.retain(|l| !l.starts_with("phone=") && !l.starts_with("document="));
            want.push("document=pending/private".into());
        }
        if let Some(key) = drift.get(uid) {
            want.push(format!("{key}=migrated/private"));
        }
        want.sort();
        assert_eq!(labels, want, "labels of {uid}");
    }

    // Clear PII through the Admin API equals the manifest's.
    let kyc = all
        .iter()
        .find(|u| {
            !u["profiles"].as_array().is_none_or(|p| p.is_empty())
                && !u["phones"].as_array().is_none_or(|p| p.is_empty())
        })
        .expect("a KYC user");
    let uid = kyc["uid"].as_str().expect("uid");
    let r =
        ac.get(srv.url(&format!("admin/users/{uid}"))).header("X-CSRF-Token", &csrf).send().await.expect("admin get");
    let (s, v) = read(r).await;
    assert_eq!(s, 200, "admin user: {v}");
    let shown = v.to_string();
    for p in kyc["profiles"].as_array().expect("profiles") {
        for f in ["first_name", "last_name", "dob"] {
            if let Some(want) = p[f].as_str() {
                assert!(shown.contains(want), "{f} {want} in {shown}");
            }
        }
    }

    // A carried API key signs through the gateway; an uncarried one is disabled.
    let key = all
        .iter()
        .flat_map(|u| u["api_keys"].as_array().cloned().unwrap_or_default())
        .find(|k| k["usable_after_import"] == true && k["holder_type"] == "User")
        .expect("usable key");
    let headers = signed_headers(key["kid"].as_str().expect("kid"), key["secret"].as_str().expect("secret"), now_ms());
    let (s, auth, body, _) =
        authz_call(&srv.client(), Method::GET, &auth_url(srv, "api/v2/peatio/account/balances"), &headers).await;
    assert_eq!(s, 200, "API key through authz: {body}");
    assert!(auth.is_some_and(|a| a.starts_with("Bearer ")));
    // The secrets file carries the exported keys, the transit key every other `vault:v1:` one;
    // a key with no ciphertext at all (a pre-2.6 key) is imported disabled, without a secret.
    let keys = fx.api_keys();
    for k in &keys {
        let want = if k["secret_format"] == "none" || k["state"] != "active" { "disabled" } else { "active" };
        let kid = k["kid"].as_str().unwrap_or("");
        let got = srv
            .sql_texts(&format!(
                "SELECT state || CASE WHEN secret_unavailable THEN '/unavailable' ELSE '' END FROM api_keys WHERE kid = '{kid}'"
            ))
            .await;
        let want = if k["secret_format"] == "none" { format!("{want}/unavailable") } else { want.to_string() };
        assert_eq!(got, [want], "{kid}");
    }
    let by_source = &report["secrets"]["api_keys"]["by_source"];
    assert!(by_source["file"].as_i64() > Some(0) && by_source["transit_key"].as_i64() > Some(0), "{by_source}");
    let missing: Vec<&Value> =
        report["items"].as_array().expect("items").iter().filter(|i| i["code"] == "secret_missing").collect();
    assert_eq!(missing.len(), keys.iter().filter(|k| k["secret_format"] == "none").count(), "{missing:?}");

    // Referral links use Barong's numeric ids.
    let referred = all.iter().find(|u| u["referral_id"].is_number()).expect("a referred user");
    let got = srv
        .sql_texts(&format!(
            "SELECT CAST(referral_id AS TEXT) FROM users WHERE uid = '{}'",
            referred["uid"].as_str().unwrap_or("")
        ))
        .await;
    assert_eq!(got, [referred["referral_id"].to_string()]);

    // No clear PII and no Barong ciphertext in the SQLite file.
    if srv.backend == Backend::Sqlite {
        let path = srv.database_url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
        let path = path.split('?').next().unwrap_or(path);
        let mut bytes = std::fs::read(path).expect("database file");
        if let Ok(wal) = std::fs::read(format!("{path}-wal")) {
            bytes.extend(wal);
        }
        let hay = String::from_utf8_lossy(&bytes);
        for u in &all {
            for p in u["profiles"].as_array().cloned().unwrap_or_default() {
                for f in ["first_name", "last_name", "address"] {
                    if let Some(v) = p[f].as_str().filter(|v| v.len() >= 6) {
                        let at = hay
                            .find(v)
                            .map(|i| hay[i.saturating_sub(80)..(i + v.len() + 80).min(hay.len())].to_string());
                        assert!(at.is_none(), "clear {f} {v:?} in the database file: {at:?}");
                    }
                }
            }
            for ph in u["phones"].as_array().cloned().unwrap_or_default() {
                assert!(!hay.contains(ph["number"].as_str().unwrap_or("-")), "clear phone in the database file");
            }
        }
        assert!(!hay.contains("vault:v1:") && !hay.contains("vault:dev:"), "Barong's key ciphertexts");
        assert!(
            !hay.contains("--")
                || !regex::Regex::new(r"\d{6}\.[A-Za-z0-9+/=]+--[A-Za-z0-9+/=]+--").expect("re").is_match(&hay),
            "Barong's PII ciphertexts"
        );
    }

    // Support lets the safe-state user in (last: it changes the user's labels and keys).
    let safe_uid = safe["uid"].as_str().expect("uid");
    let (code, out, err) =
        srv.ctl(&["user", "reset-2fa", safe_uid, "--reason", "identity checked by support", "--yes"], None);
    assert_eq!(code, 0, "reset-2fa: {err} {out}");
    let (_, s, b) = login(srv, safe_email, safe_password, None).await;
    assert_eq!(s, 200, "after reset-2fa the password alone signs in: {b}");
}

//! `barongctl import barong --vault-addr …` (migration spec §2.1, §2.3, §2.8): with no secrets
//! file and no exported transit key, TOTP seeds and API-key secrets come from Vault itself — a
//! stand-in that answers Vault's documented shapes over HTTP and decrypts with real AES-GCM. The
//! token is checked up front, stock Vault's raw storage works as well as the openware export,
//! `--vault-verify-totp` stops a run whose seeds do not give Vault's codes, and the imported users
//! then sign in with their old authenticator and their bots with their old key.

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use base64::Engine;
use reqwest::Method;

use super::*;

const TOKEN: &str = "hvs.import-test-token-5b1e";

fn run(
    srv: &TestServer,
    fx: &BarongFixture,
    vault: &VaultStandIn,
    token_file: &str,
    extra: &[&str],
) -> (i32, Value, String) {
    let skb = fx.path("skb").display().to_string();
    let uploads = fx.path("uploads").display().to_string();
    let mut args = vec![
        "--json",
        "import",
        "barong",
        "--from",
        &fx.url,
        "--secret-key-base-file",
        &skb,
        "--uploads",
        &uploads,
        "--vault-addr",
        &vault.url,
        "--vault-token-file",
        token_file,
    ];
    args.extend_from_slice(extra);
    let (code, out, err) = srv.ctl(&args, None);
    (code, serde_json::from_str(&out).unwrap_or(Value::Null), err)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seeds_and_key_secrets_come_from_vault() {
    let Some(fx) = BarongFixture::build(40, 23, &[]) else { return };
    let Some(srv) = TestServer::spawn(Backend::Sqlite).await else { return };
    within_limit(srv, move |srv| async move {
        let users = fx.manifest["users"].as_array().expect("users").clone();
        let seeds: HashMap<String, String> = users
            .iter()
            .filter_map(|u| Some((u["uid"].as_str()?.to_string(), u["totp"]["secret_b32"].as_str()?.to_string())))
            .collect();
        let transit_key = base64::engine::general_purpose::STANDARD
            .decode(fx.manifest["vault"]["transit_key_b64"].as_str().expect("transit key"))
            .expect("base64 key");
        let vault = vault_standin(TOKEN, "barong", transit_key, seeds.clone()).await;
        std::fs::write(fx.path("skb"), fx.manifest["barong_env"]["SECRET_KEY_BASE"].as_str().expect("skb"))
            .expect("skb");
        let (good, bad) = (fx.path("token"), fx.path("wrong-token"));
        std::fs::write(&good, format!("{TOKEN}\n")).expect("token file");
        std::fs::write(&bad, "hvs.not-the-token\n").expect("token file");
        let (good, bad) = (good.display().to_string(), bad.display().to_string());
        let otp_users = users.iter().filter(|u| u["otp"] == true).count();
        let keys = fx.api_keys();
        let transit_keys = keys.iter().filter(|k| k["secret_format"] == "transit").count();
        assert!(otp_users > 2 && transit_keys > 0, "the fixture has 2FA users and transit keys");

        // A token Vault refuses stops the run before it starts, and the token is nowhere.
        let (code, status, err) = run(&srv, &fx, &vault, &bad, &["--dry-run"]);
        assert_eq!(code, 3, "{err}\n{status}");
        assert!(err.contains("import.vault_unreachable") && err.contains("permission denied"), "{err}");
        for text in [err.as_str(), &status.to_string(), &srv.logs()] {
            assert!(!text.contains("hvs.not-the-token") && !text.contains(TOKEN), "a token leaked: {text}");
        }

        // Stock Vault: seeds from the raw storage API, the mount's UUID from sys/mounts.
        let (code, dry, err) = run(&srv, &fx, &vault, &good, &["--dry-run", "--vault-totp", "raw"]);
        assert_eq!((code, dry["state"].as_str()), (0, Some("dry_run")), "{err}\n{dry}");
        let report = ctl_json(&srv, &["import", "report", "--section", "secrets"]);
        assert_eq!(report["totp"]["carried"], otp_users, "{report}");
        assert_eq!(report["totp"]["missing"], 0, "{report}");
        let seen = vault.requests.lock().expect("log").clone();
        assert!(seen.iter().any(|r| r.starts_with("GET /v1/sys/raw/logical/")), "{seen:?}");

        // Seeds that do not give Vault's codes stop the run.
        vault.lie_about_codes.store(true, Ordering::SeqCst);
        let (code, status, err) = run(&srv, &fx, &vault, &good, &["--dry-run", "--vault-verify-totp", "3"]);
        vault.lie_about_codes.store(false, Ordering::SeqCst);
        assert_eq!(code, 4, "{err}\n{status}");
        assert!(status["last_error"].as_str().is_some_and(|e| e.contains("import.totp_export_mismatch")), "{status}");

        // The real run: the openware export, every seed checked against Vault's code.
        let verify = otp_users.to_string();
        let (code, status, err) = run(&srv, &fx, &vault, &good, &["--vault-verify-totp", &verify]);
        assert_eq!((code, status["state"].as_str()), (0, Some("completed")), "{err}\n{status}\n{}", srv.logs());
        let report = ctl_json(&srv, &["import", "report"]);
        assert_eq!(report["secrets"]["totp"]["carried"], otp_users, "{}", report["secrets"]);
        assert_eq!(report["secrets"]["api_keys"]["by_source"]["vault"], transit_keys, "{}", report["secrets"]);
        let codes = vault.requests.lock().expect("log").iter().filter(|r| r.starts_with("GET /v1/totp/code/")).count();
        assert!(codes >= otp_users, "every seed was checked: {codes}");
        let (code, out, err) = srv.ctl(&["--json", "import", "finish", "--yes"], None);
        assert_eq!(code, 0, "finish: {err} {out}");

        // A user with 2FA signs in with the seed Vault held (no secrets file was given).
        let user = users
            .iter()
            .find(|u| {
                u["login_after_import"] == "password_and_totp"
                    || u["login_after_import"] == "refused_2fa_reset_required"
            })
            .expect("an active 2FA user");
        let seed = totp_rs::Secret::Encoded(user["totp"]["secret_b32"].as_str().expect("seed").to_string())
            .to_bytes()
            .expect("base32");
        let totp = totp_rs::TOTP::new_unchecked(totp_rs::Algorithm::SHA1, 6, 1, 30, seed, None, String::new());
        let body = json!({"email": user["email"].as_str().expect("email").trim(),
            "password": user["password"], "otp_code": totp.generate_current().expect("clock")});
        let (s, b) = post(&srv.client(), &srv.url("identity/sessions"), body).await;
        assert_eq!(s, 200, "2FA login with the seed Vault held: {b}");

        // A bot whose key was never exported signs with its old secret.
        let key = keys
            .iter()
            .find(|k| k["secret_format"] == "transit" && k["state"] == "active" && k["holder_type"] == "User")
            .expect("an active transit key");
        let headers =
            signed_headers(key["kid"].as_str().expect("kid"), key["secret"].as_str().expect("secret"), now_ms());
        let (s, _, body, _) =
            authz_call(&srv.client(), Method::GET, &auth_url(&srv, "api/v2/peatio/account/balances"), &headers).await;
        assert_eq!(s, 200, "API key decrypted by Vault: {body}");
    })
    .await;
}

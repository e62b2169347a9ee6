//! Management API (spec admin-and-management §4): requests signed by an independent signer
//! (tests/tools/mgmt_sign.py, jwcrypto) with keys made by the openssl CLI, sent to a real daemon.
//! The signer needs `BARONG_TEST_PYTHON` (a python with jwcrypto); without it these tests say
//! SKIPPED, and under `CI=true` they fail.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};

use super::*;

mod api_keys;
mod auth;
mod documents;
mod import;
mod labels;
mod otp;
mod phones;
mod service_accounts;
mod users;

fn python() -> Option<String> {
    match std::env::var("BARONG_TEST_PYTHON") {
        Ok(p) if !p.is_empty() => Some(p),
        _ => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "BARONG_TEST_PYTHON is not set, and CI=true requires the Management API tests"
            );
            eprintln!("SKIPPED (Management API): BARONG_TEST_PYTHON (a python with jwcrypto) is not set");
            None
        }
    }
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("runs");
    assert!(out.status.success(), "{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf8")
}

/// Signers' keys in a directory of their own: `rsa` (2048) and `ec` (P-256), `.pem` private and
/// `.pub` public.
struct Keys {
    dir: tempfile::TempDir,
    py: String,
}

impl Keys {
    fn new(py: String) -> Keys {
        let dir = tempfile::tempdir().expect("tmp");
        let keys = Keys { dir, py };
        for (name, opt) in [("rsa", "rsa_keygen_bits:2048"), ("ec", "ec_paramgen_curve:P-256")] {
            let alg = if name == "rsa" { "RSA" } else { "EC" };
            let pem = keys.path(&format!("{name}.pem"));
            run(Command::new("openssl").args(["genpkey", "-algorithm", alg, "-pkeyopt", opt, "-out"]).arg(&pem));
            let public = keys.path(&format!("{name}.pub"));
            run(Command::new("openssl").arg("pkey").arg("-in").arg(&pem).arg("-pubout").arg("-out").arg(&public));
        }
        keys
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A keychain value: URL-safe base64 of the public key's PEM, as Barong's docs make it.
    fn value(&self, name: &str) -> String {
        use base64::Engine;
        let pem = std::fs::read(self.path(&format!("{name}.pub"))).expect("pub");
        base64::engine::general_purpose::URL_SAFE.encode(pem)
    }

    /// The general JSON JWS of `claims`, signed by each `(kid, alg, key file)`.
    fn sign(&self, claims: &Value, signers: &[(&str, &str, &str)]) -> Value {
        let mut cmd = Command::new(&self.py);
        cmd.arg(workspace_root().join("tests/tools/mgmt_sign.py")).arg(claims.to_string());
        for (kid, alg, file) in signers {
            cmd.arg(format!("{kid}:{alg}:{}", self.path(file).display()));
        }
        serde_json::from_str(&run(&mut cmd)).expect("the signer prints JSON")
    }

    /// A `management_api.yml` with both signers and `scopes` (YAML lines under `scopes:`).
    fn yml(&self, scopes: &str) -> PathBuf {
        let text = format!(
            "keychain:\n  applogic:\n    algorithm: RS256\n    value: {}\n  backoffice:\n    algorithm: ES256\n    value: {}\njwt:\n  verify_iss: true\n  iss: applogic\nscopes:\n{scopes}",
            self.value("rsa"),
            self.value("ec")
        );
        let path = self.path(&format!("management_api_{}.yml", JTI.fetch_add(1, Ordering::SeqCst)));
        std::fs::write(&path, text).expect("write");
        path
    }
}

const SCOPES: &str = "  tools: {permitted_signers: [applogic, backoffice], mandatory_signers: [applogic]}\n  read_labels: {permitted_signers: [applogic], mandatory_signers: [applogic]}\n  write_labels: {permitted_signers: [applogic, backoffice], mandatory_signers: [applogic, backoffice]}\n  read_users: {permitted_signers: [applogic], mandatory_signers: [applogic]}\n  read_phones: {permitted_signers: [applogic], mandatory_signers: [applogic]}\n  write_phones: {permitted_signers: [applogic], mandatory_signers: [applogic]}\n  read_service_accounts: {permitted_signers: [applogic], mandatory_signers: [applogic]}\n  write_users: {permitted_signers: [applogic, backoffice], mandatory_signers: [applogic, backoffice]}\n  write_service_accounts: {permitted_signers: [applogic], mandatory_signers: [applogic]}\n  write_apikeys: {permitted_signers: [applogic], mandatory_signers: [applogic]}\n  otp_sign: {permitted_signers: [applogic], mandatory_signers: [applogic]}\n  write_documents: {permitted_signers: [applogic], mandatory_signers: [applogic]}\n";

static JTI: AtomicU64 = AtomicU64::new(1);

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs() as i64
}

/// Claims as Applogic sends them: `iat`, `exp = iat + 60`, a fresh `jti`, `iss`.
fn claims(data: Value) -> Value {
    let jti = format!("{:x}{:08x}", now(), JTI.fetch_add(1, Ordering::SeqCst));
    json!({"data": data, "iat": now(), "exp": now() + 60, "jti": jti, "iss": "applogic"})
}

fn mgmt(srv: &TestServer, path: &str) -> String {
    format!("{}/api/v2/management/{path}", srv.base)
}

async fn send(srv: &TestServer, method: reqwest::Method, path: &str, body: &Value) -> (u16, Value) {
    let r = reqwest::Client::new().request(method, mgmt(srv, path)).json(body).send().await.expect("request");
    read(r).await
}

async fn post_signed(srv: &TestServer, path: &str, body: &Value) -> (u16, Value) {
    send(srv, reqwest::Method::POST, path, body).await
}

fn error(text: &str) -> Value {
    json!({ "error": text })
}

/// Starts a daemon whose `management_api` section is `file: <yml with scopes>` plus `extra`
/// lines, then runs `body` with it and the keys; returns at once when skipped.
async fn with_management<F, Fut>(backend: Backend, scopes: &str, extra: &str, body: F)
where
    F: FnOnce(TestServer, Keys) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let Some(py) = python() else { return };
    let keys = Keys::new(py);
    let yml = keys.yml(scopes);
    let config = format!("management_api:\n  file: {}\n{extra}", yml.display());
    let Some(srv) = TestServer::spawn_with(backend, Options { config, ..Default::default() }).await else { return };
    within_limit(srv, |srv| body(srv, keys)).await;
}

/// An Event API pointing at a closed port: events stay in the outbox, where tests read them.
const EVENTS_KEPT: &str = "event_api_rabbitmq_url: \"amqp://guest:guest@127.0.0.1:1/%2f\"\n";

/// The names of the queued events, oldest first.
async fn queued_events(srv: &TestServer) -> Vec<String> {
    srv.sql_texts("SELECT name FROM event_outbox ORDER BY id").await
}

const FAILED: &str = "Failed to verify JWT.";
const NOT_ENOUGH: &str = "Not enough signatures for the action.";

//! Passkeys in a real browser: headless Chromium (Debian's `chromium`, driven by Playwright over
//! CDP) with its virtual authenticator enrols a passkey and logs in through the test page
//! tests/fixtures/webauthn/page.html, the same JavaScript as the README's frontend example.
//! tests/tools/webauthn_browser.py serves the page and proxies /api/ to barongd from one origin,
//! http://localhost:PORT (a secure context, as WebAuthn requires), which the daemon is configured
//! to trust; it reports what each click answered and this test asserts on it and on the server.

use std::process::Stdio;

use base64::Engine as _;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};

use super::*;

const EMAIL: &str = "passkey@example.com";
const KEY_NAME: &str = "Laptop passkey";

/// The python with Playwright (`BARONG_TEST_BROWSER_PYTHON`) and the Chromium binary
/// (`BARONG_TEST_CHROMIUM`, default Debian's /usr/bin/chromium), or None after a loud skip (a
/// failure under CI, which installs both).
fn browser() -> Option<(String, String)> {
    let python = std::env::var("BARONG_TEST_BROWSER_PYTHON").unwrap_or_default();
    let chromium = std::env::var("BARONG_TEST_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let missing = if python.is_empty() {
        "BARONG_TEST_BROWSER_PYTHON (a python with playwright) is not set".to_string()
    } else if !std::path::Path::new(&chromium).exists() {
        format!("{chromium} is missing (apt-get install chromium)")
    } else {
        return Some((python, chromium));
    };
    assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true requires the browser test: {missing}");
    eprintln!("SKIPPED (browser): {missing}");
    None
}

/// The driver script, started before the daemon: the daemon must know the page's origin.
struct Driver {
    child: Child,
    origin: String,
}

impl Driver {
    async fn start(python: &str, chromium: &str) -> Driver {
        let mut child = Command::new(python)
            .arg(workspace_root().join("tests/tools/webauthn_browser.py"))
            .env("BARONG_TEST_CHROMIUM", chromium)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("the browser driver starts");
        let stdout = child.stdout.as_mut().expect("stdout piped");
        let mut first = String::new();
        let mut lines = BufReader::new(stdout);
        let read = lines.read_line(&mut first);
        tokio::time::timeout(Duration::from_secs(30), read).await.expect("the driver listens").expect("read");
        let Some(origin) =
            serde_json::from_str::<Value>(&first).ok().and_then(|h| h["origin"].as_str().map(str::to_string))
        else {
            let mut err = String::new();
            let _ = child.stderr.take().expect("stderr piped").read_to_string(&mut err).await;
            panic!("the browser driver said {first:?}; its stderr:\n{err}");
        };
        Driver { child, origin }
    }

    /// Hands the driver the daemon and the user, waits for its report.
    async fn run(mut self, upstream: &str, email: &str, password: &str) -> Value {
        let job = json!({"upstream": upstream, "email": email, "password": password, "name": KEY_NAME});
        let mut stdin = self.child.stdin.take().expect("stdin piped");
        stdin.write_all(format!("{job}\n").as_bytes()).await.expect("write the job");
        drop(stdin);
        let (mut out, mut err) = (String::new(), String::new());
        let mut stdout = self.child.stdout.take().expect("stdout piped");
        let mut stderr = self.child.stderr.take().expect("stderr piped");
        let (o, e) = tokio::join!(stdout.read_to_string(&mut out), stderr.read_to_string(&mut err));
        o.and(e).expect("read the driver's output");
        let status = self.child.wait().await.expect("the driver ends");
        assert!(status.success(), "the browser driver failed: {err}");
        serde_json::from_str(out.trim()).unwrap_or_else(|_| panic!("driver report {out:?}; stderr {err}"))
    }
}

/// The report entry of one click: `{step, status, body, usedPasskey?}`.
fn step<'a>(report: &'a Value, name: &str) -> &'a Value {
    let steps = report["steps"].as_array().expect("steps");
    steps.iter().find(|s| s["step"] == name).unwrap_or_else(|| panic!("no step {name} in {report}"))
}

/// The virtual authenticator's one credential at a point of the run.
fn authenticator_credential<'a>(report: &'a Value, when: &str) -> &'a Value {
    let creds = report["authenticator"][when].as_array().expect("authenticator credentials");
    assert_eq!(creds.len(), 1, "one credential in the authenticator {when}: {creds:?}");
    &creds[0]
}

/// The default policy: webauthn-rs's security-key ceremonies (user verification preferred).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passkey_in_chromium_verification_preferred() {
    enrol_and_log_in("preferred").await;
}

/// `required`: webauthn-rs's passkey ceremonies, user verification on every use.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passkey_in_chromium_verification_required() {
    enrol_and_log_in("required").await;
}

/// The whole flow in the browser with `webauthn_user_verification: <uv>`, then the server's view.
async fn enrol_and_log_in(uv: &str) {
    let Some((python, chromium)) = browser() else { return };
    let driver = Driver::start(&python, &chromium).await;
    let origin = driver.origin.clone();
    // The page's origin is the exchange's frontend: barongd signs browsers in from it only.
    let config = format!(
        "webauthn_rp_id: localhost\nwebauthn_rp_name: barong-rs browser test\nwebauthn_origins: [\"{origin}\"]\n\
         webauthn_user_verification: {uv}\nfrontend_url: {origin}\n"
    );
    let opts = Options { config, ..Default::default() };
    let srv = TestServer::spawn_with(Backend::Sqlite, opts).await.expect("barongd");
    within_limit(srv, |srv| async move {
        operator_user(&srv, EMAIL);
        let report = driver.run(&srv.base, EMAIL, PASSWORD).await;
        let context = format!("report: {report}\ndaemon log:\n{}", srv.logs());
        assert_eq!(report["secure_context"], json!(true), "{context}");

        // Password only: no passkey yet, Barong's user entity, a session.
        let login = step(&report, "login_password");
        assert_eq!((&login["status"], &login["usedPasskey"]), (&json!(200), &json!(false)), "{context}");
        assert_eq!(login["body"]["email"], EMAIL, "{context}");

        // Enrolment through navigator.credentials.create(): the credential entity, no key material.
        let enrol = step(&report, "enrol");
        assert_eq!(enrol["status"], 201, "{context}");
        let entity = &enrol["body"];
        assert_eq!(entity["name"], KEY_NAME, "{context}");
        assert!(entity["created_at"].is_string() && entity["last_used_at"].is_null(), "{entity}");
        let fields: Vec<&String> = entity.as_object().expect("entity").keys().collect();
        assert!(fields.iter().all(|f| ["id", "name", "created_at", "last_used_at"].contains(&f.as_str())), "{entity}");
        let held = authenticator_credential(&report, "after_enrol");
        // (Discoverable or not is the relying party's choice, per webauthn_user_verification.)
        assert_eq!(held["rpId"], "localhost", "{held}");

        // Logged out, the session is gone.
        assert_eq!(step(&report, "logout")["status"], 200, "{context}");
        assert_eq!(step(&report, "me_logged_out")["status"], 401, "{context}");

        // Password, then Barong's missing-otp answer with a challenge, then the assertion.
        let login = step(&report, "login_passkey");
        assert_eq!((&login["status"], &login["usedPasskey"]), (&json!(200), &json!(true)), "{context}");
        assert!(login["body"]["csrf_token"].is_string(), "{context}");
        // The Barong `otp` flag stays TOTP's.
        assert_eq!(login["body"]["otp"], false, "{context}");
        let me = step(&report, "me");
        assert_eq!((&me["status"], &me["body"]["email"]), (&json!(200), &json!(EMAIL)), "{context}");

        // The server counted the use; the authenticator signed once more.
        let list = step(&report, "list");
        assert_eq!(list["status"], 200, "{context}");
        let listed = list["body"].as_array().expect("a list");
        assert_eq!(listed.len(), 1, "{context}");
        assert_eq!((&listed[0]["id"], &listed[0]["name"]), (&entity["id"], &entity["name"]), "{context}");
        assert!(listed[0]["last_used_at"].is_string(), "last_used_at set by the login: {context}");
        let used = authenticator_credential(&report, "after_login");
        assert_eq!(used["credentialId"], held["credentialId"]);
        let count = |c: &Value| c["signCount"].as_u64().expect("signCount");
        assert!(count(used) > count(held), "the login's assertion was signed: {held} then {used}");

        // Server side, without the browser: a password login now asks for that very credential.
        let c = srv.client();
        let body = json!({"email": EMAIL, "password": PASSWORD});
        let (s, answer) = post(&c, &srv.url("identity/sessions"), body).await;
        assert_err(&(s, answer.clone()), 401, &["identity.session.missing_otp"]);
        let options = &answer["webauthn"]["publicKey"];
        assert!(answer["webauthn"]["challenge_id"].is_string(), "{answer}");
        assert_eq!(options["rpId"], "localhost", "{answer}");
        assert_eq!(options["userVerification"], uv, "the configured policy: {answer}");
        let held_id = base64::engine::general_purpose::STANDARD
            .decode(held["credentialId"].as_str().expect("credentialId"))
            .expect("CDP gives base64");
        let allowed: Vec<Vec<u8>> = options["allowCredentials"]
            .as_array()
            .map(|a| a.iter().filter_map(|c| c["id"].as_str()).filter_map(b64url).collect())
            .unwrap_or_default();
        assert!(allowed.contains(&held_id), "the enrolled credential is allowed: {answer}");
    })
    .await;
}

/// Bytes of a WebAuthn JSON binary field (base64url, unpadded).
fn b64url(s: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s.trim_end_matches('=')).ok()
}

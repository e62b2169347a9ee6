//! KYCAID as the KYC provider (issue 15), end to end against a fake KYCAID on loopback that
//! records every request and answers as KYCAID does: the applicant of a submitted profile, a
//! passport set sent as files, documents and a verification, the signed callback (a bad or
//! missing signature changes nothing), retries through an outage, and the address flow.

use std::process::Command;
use std::sync::Mutex;

use hmac::{Hmac, Mac};
use reqwest::Method;

use super::documents::{FUTURE, PNG, upload};
use super::*;

const TOKEN: &str = "kycaid-test-token-7f3a";

/// One request as the fake KYCAID received it.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    auth: Option<String>,
    body: String,
}

impl Seen {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

#[derive(Default)]
struct FakeState {
    seen: Vec<Seen>,
    /// Requests still to answer with 503 (an outage).
    outage: usize,
    next_id: usize,
    /// What `GET /verifications/{id}` answers, by id.
    verifications: std::collections::HashMap<String, Value>,
}

#[derive(Clone)]
struct FakeKycaid {
    url: String,
    state: Arc<Mutex<FakeState>>,
}

impl FakeKycaid {
    async fn start() -> FakeKycaid {
        let state = Arc::new(Mutex::new(FakeState::default()));
        let s = state.clone();
        let url = fake_router(move |req: &FakeRequest| {
            let mut st = s.lock().expect("fake state");
            st.seen.push(Seen {
                method: req.method.clone(),
                path: req.path.clone(),
                auth: req.header("authorization").map(str::to_string),
                body: req.body.clone(),
            });
            if st.outage > 0 {
                st.outage -= 1;
                return (503, r#"{"error":"maintenance"}"#.to_string());
            }
            st.next_id += 1;
            let n = st.next_id;
            let path = req.path.as_str();
            match (req.method.as_str(), path) {
                ("POST", "/applicants") => (201, json!({"applicant_id": format!("app-{n}")}).to_string()),
                ("POST", "/files") => (201, json!({"file_id": format!("file-{n}")}).to_string()),
                ("POST", "/documents") => (201, json!({"document_id": format!("doc-{n}")}).to_string()),
                ("PATCH", p) if p.starts_with("/documents/") => {
                    (200, json!({"document_id": p.trim_start_matches("/documents/")}).to_string())
                }
                ("POST", "/addresses") => (201, json!({"address_id": format!("addr-{n}")}).to_string()),
                ("POST", "/verifications") => (201, json!({"verification_id": format!("ver-{n}")}).to_string()),
                ("GET", p) if p.starts_with("/verifications/") => {
                    match st.verifications.get(p.trim_start_matches("/verifications/")) {
                        Some(v) => (200, v.to_string()),
                        None => (404, json!({"type": "NOT_FOUND", "errors": []}).to_string()),
                    }
                }
                _ => (404, json!({"error": "no such route"}).to_string()),
            }
        })
        .await;
        FakeKycaid { url, state }
    }

    fn seen(&self) -> Vec<Seen> {
        self.state.lock().expect("fake state").seen.clone()
    }

    fn calls(&self, method: &str, path: &str) -> Vec<Seen> {
        self.seen().into_iter().filter(|s| s.method == method && s.path == path).collect()
    }

    fn set_verification(&self, id: &str, answer: Value) {
        self.state.lock().expect("fake state").verifications.insert(id.to_string(), answer);
    }

    fn outage(&self, requests: usize) {
        self.state.lock().expect("fake state").outage = requests;
    }

    fn config(&self) -> String {
        format!(
            "kyc_provider: kycaid\nkycaid_authorization_token: {TOKEN}\nkycaid_api_endpoint: {}/\n\
             kycaid_form_id: form-9\ndomain: https://barong.example\n\
             kycaid_worker:\n  retry_seconds: 1\n  timeout_ms: 3000\n",
            self.url
        )
    }
}

/// KYCAID's signature of a callback body: hex HMAC-SHA512 over the body's base64, keyed by
/// the API token (computed here independently of barongd's code).
fn kycaid_signature(token: &str, body: &str) -> String {
    use base64::Engine;
    let mut mac = <Hmac<sha2::Sha512> as Mac>::new_from_slice(token.as_bytes()).expect("key");
    mac.update(base64::engine::general_purpose::STANDARD.encode(body).as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

async fn callback(srv: &TestServer, body: &str, signature: Option<&str>) -> (u16, Value) {
    let mut r =
        srv.client().post(srv.url("public/kyc")).header("content-type", "application/json").body(body.to_string());
    if let Some(sig) = signature {
        r = r.header("x-data-integrity", sig);
    }
    read(r.send().await.expect("callback")).await
}

async fn label(srv: &TestServer, email: &str, key: &str) -> Option<String> {
    srv.sql_texts(&format!(
        "SELECT l.value FROM labels l JOIN users u ON u.id = l.user_id \
         WHERE u.email = '{email}' AND l.key = '{key}' AND l.scope = 'private'"
    ))
    .await
    .pop()
}

async fn jobs(srv: &TestServer) -> usize {
    srv.sql_texts("SELECT id FROM kycaid_jobs").await.len()
}

/// Polls `check` until it holds, failing with `what` and the daemon's log after 20 s.
async fn until(srv: &TestServer, what: &str, check: impl Fn() -> bool) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while !check() {
        assert!(std::time::Instant::now() < deadline, "timed out waiting for {what}\n{}", srv.logs());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the user's private `key` label is `value`.
async fn wait_label(srv: &TestServer, email: &str, key: &str, value: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while label(srv, email, key).await.as_deref() != Some(value) {
        assert!(std::time::Instant::now() < deadline, "timed out waiting for {key}={value}\n{}", srv.logs());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until no KYCAID job is left.
async fn wait_jobs_done(srv: &TestServer) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while jobs(srv).await > 0 {
        assert!(std::time::Instant::now() < deadline, "KYCAID jobs left\n{}", srv.logs());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn spawn(backend: Backend, fake: &FakeKycaid) -> Option<TestServer> {
    TestServer::spawn_with(backend, Options { config: fake.config(), ..Default::default() }).await
}

/// A verified phone (level 2 of the seeded levels), so a verified document is level 3.
async fn verified_phone(srv: &TestServer, email: &str) {
    srv.sql(&format!(
        "INSERT INTO labels (user_id, key, value, scope, created_at, updated_at) \
         SELECT id, 'phone', 'verified', 'private', 0, 0 FROM users WHERE email = '{email}'"
    ))
    .await;
}

fn png_with(marker: &str) -> Vec<u8> {
    let mut b = PNG.to_vec();
    b.extend_from_slice(marker.as_bytes());
    b
}

async fn identity_flow(backend: Backend) {
    let fake = FakeKycaid::start().await;
    let Some(srv) = spawn(backend, &fake).await else { return };
    within_limit(srv, |srv| async move {
        let email = "kycaid@example.com";
        let (c, csrf) = active_user(&srv, email).await;
        verified_phone(&srv, email).await;

        // The submitted profile becomes an applicant; the profile is then verified.
        let profile = json!({"first_name": "Jean", "last_name": "Dupont", "dob": "1990-05-17",
                             "country": "FR", "city": "Paris", "confirm": true});
        let (s, b) = send_json(&c, Method::POST, &srv.url("resource/profiles"), Some(&csrf), Some(profile)).await;
        assert_eq!(s, 201, "{b}");
        wait_label(&srv, email, "profile", "verified").await;
        let applicants = fake.calls("POST", "/applicants");
        assert_eq!(applicants.len(), 1);
        assert_eq!(applicants[0].auth.as_deref(), Some(format!("Token {TOKEN}").as_str()));
        let a = applicants[0].json();
        assert_eq!(
            (&a["type"], &a["first_name"], &a["last_name"], &a["dob"], &a["residence_country"], &a["email"]),
            (&json!("PERSON"), &json!("Jean"), &json!("Dupont"), &json!("1990-05-17"), &json!("FR"), &json!(email))
        );
        let applicant_id = srv.sql_texts("SELECT applicant_id FROM profiles").await.remove(0);
        assert!(applicant_id.starts_with("app-"), "{applicant_id}");
        let (_, me) = get(&c, &srv.url("resource/profiles/me")).await;
        assert_eq!(me[0]["state"], "verified", "{me}");

        // A passport is front + selfie: the first file alone sends nothing.
        let url = srv.url("resource/documents");
        let fields = |category: &'static str| {
            vec![
                ("doc_type", "Passport"),
                ("doc_number", "AB123456CD"),
                ("doc_expire", FUTURE),
                ("identificator", "set-1"),
                ("doc_category", category),
            ]
        };
        let front = png_with("FRONT-SIDE-BYTES");
        let (s, b) = upload(&c, &url, &csrf, &fields("front_side"), &[("front.png", front.as_slice())]).await;
        assert_eq!(s, 201, "{b}");
        assert_eq!(label(&srv, email, "document").await, None);
        let selfie = png_with("SELFIE-BYTES");
        let (s, b) = upload(&c, &url, &csrf, &fields("selfie"), &[("selfie.png", selfie.as_slice())]).await;
        assert_eq!(s, 201, "{b}");
        assert_eq!(label(&srv, email, "document").await.as_deref(), Some("pending"));
        until(&srv, "the document verification", || !fake.calls("POST", "/verifications").is_empty()).await;
        let files = fake.calls("POST", "/files");
        assert_eq!(files.len(), 2);
        assert!(files[0].body.contains("FRONT-SIDE-BYTES") && files[1].body.contains("SELFIE-BYTES"));
        assert!(files.iter().all(|f| f.body.contains("name=\"file\"") && f.auth.is_some()));
        let docs: Vec<Value> = fake.calls("POST", "/documents").iter().map(Seen::json).collect();
        assert_eq!(docs.len(), 2, "{docs:?}");
        assert_eq!((&docs[0]["type"], &docs[0]["document_number"]), (&json!("PASSPORT"), &json!("AB123456CD")));
        assert_eq!((&docs[0]["applicant_id"], &docs[0]["expiry_date"]), (&json!(applicant_id), &json!(FUTURE)));
        assert!(docs[0]["front_side_id"].as_str().is_some_and(|f| f.starts_with("file-")));
        assert_eq!(docs[1]["type"], "SELFIE_IMAGE");
        let v = fake.calls("POST", "/verifications")[0].json();
        assert_eq!(v["types"], json!(["DOCUMENT", "FACIAL"]));
        assert_eq!(v["callback_url"], "https://barong.example/api/v2/barong/public/kyc");
        assert_eq!((&v["applicant_id"], &v["form_id"]), (&json!(applicant_id), &json!("form-9")));
        let metadata = srv.sql_texts("SELECT metadata FROM documents ORDER BY id").await;
        assert!(metadata.iter().all(|m| m.contains("\"document_id\":\"doc-")), "{metadata:?}");
        wait_jobs_done(&srv).await;

        // KYCAID decided; a callback without its signature changes nothing and asks nothing.
        let verification_id = format!("ver-{}", fake.state.lock().expect("state").next_id);
        fake.set_verification(
            &verification_id,
            json!({
                "verification_id": verification_id, "applicant_id": applicant_id, "status": "completed",
                "verified": true,
                "verifications": {"document": {"verified": true, "comment": ""}, "facial": {"verified": true}},
            }),
        );
        let body =
            json!({"verification_id": verification_id, "applicant_id": applicant_id, "verified": true}).to_string();
        let refused = json!({"errors": ["public.kyc.invalid_signature"]});
        assert_eq!(callback(&srv, &body, None).await, (401, refused.clone()));
        assert_eq!(callback(&srv, &body, Some(&kycaid_signature("wrong-token", &body))).await, (401, refused.clone()));
        let tampered = body.replace("\"verified\":true", "\"verified\":false");
        assert_eq!(callback(&srv, &tampered, Some(&kycaid_signature(TOKEN, &body))).await, (401, refused));
        assert_eq!(jobs(&srv).await, 0, "nothing queued");
        let gets_before = fake.seen().iter().filter(|s| s.method == "GET").count();
        assert_eq!(gets_before, 0);
        assert_eq!(label(&srv, email, "document").await.as_deref(), Some("pending"));
        assert!(!srv.logs().contains(TOKEN), "the token is never logged");

        // Signed, while KYCAID is down for two requests: retried until it answers.
        fake.outage(2);
        assert_eq!(callback(&srv, &body, Some(&kycaid_signature(TOKEN, &body))).await, (200, json!(200)));
        wait_label(&srv, email, "document", "verified").await;
        let gets = fake.calls("GET", &format!("/verifications/{verification_id}"));
        assert_eq!(gets.len(), 3, "two failed attempts and the one that worked");
        let level = srv.sql_texts(&format!("SELECT CAST(level AS TEXT) FROM users WHERE email = '{email}'")).await;
        assert_eq!(level, vec!["3".to_string()], "the verified document raises the level");
        let history = srv.sql_texts("SELECT check_key || ':' || verdict || ':' || author FROM kyc_reviews").await;
        assert!(history.contains(&"document:verified:kycaid".to_string()), "{history:?}");

        // A signed callback about an unknown applicant: 200, nothing queued or asked.
        let other = json!({"verification_id": "ver-x", "applicant_id": "app-unknown"}).to_string();
        assert_eq!(callback(&srv, &other, Some(&kycaid_signature(TOKEN, &other))).await, (200, json!(200)));
        assert_eq!(jobs(&srv).await, 0);
        assert!(fake.calls("GET", "/verifications/ver-x").is_empty());
        assert!(!srv.logs().contains(TOKEN), "the token is never logged");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identity_documents_go_to_kycaid_and_its_signed_verdict_sets_the_label_sqlite() {
    identity_flow(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identity_documents_go_to_kycaid_and_its_signed_verdict_sets_the_label_postgres() {
    identity_flow(Backend::Postgres).await;
}

async fn address_flow(backend: Backend) {
    let fake = FakeKycaid::start().await;
    let Some(srv) = spawn(backend, &fake).await else { return };
    within_limit(srv, |srv| async move {
        let email = "kycaid-address@example.com";
        let (c, csrf) = active_user(&srv, email).await;
        let profile = json!({"first_name": "Ana", "last_name": "Silva", "country": "PT", "confirm": true});
        let (s, _) = send_json(&c, Method::POST, &srv.url("resource/profiles"), Some(&csrf), Some(profile)).await;
        assert_eq!(s, 201);
        wait_label(&srv, email, "profile", "verified").await;
        let applicant_id = srv.sql_texts("SELECT applicant_id FROM profiles").await.remove(0);

        let fields = [("country", "PT"), ("address", "Rua Augusta 1"), ("city", "Lisboa"), ("postcode", "1100-048")];
        let bill = png_with("UTILITY-BILL");
        let address_url = srv.url("resource/addresses");
        // Two attempts: KYCAID rejects the first, verifies the second.
        for (round, verified) in [(1, false), (2, true)] {
            let verifications_before = fake.calls("POST", "/verifications").len();
            let (s, b) = upload(&c, &address_url, &csrf, &fields, &[("bill.png", bill.as_slice())]).await;
            assert_eq!(s, 201, "{b}");
            assert_eq!(label(&srv, email, "address").await.as_deref(), Some("pending"));
            until(&srv, "the address verification", || {
                fake.calls("POST", "/verifications").len() > verifications_before
            })
            .await;
            let addresses = fake.calls("POST", "/addresses");
            assert_eq!(addresses.len(), round);
            let a = addresses[round - 1].json();
            assert_eq!(
                (&a["type"], &a["country"], &a["city"], &a["postal_code"], &a["full_address"], &a["applicant_id"]),
                (
                    &json!("REGISTERED"),
                    &json!("PT"),
                    &json!("Lisboa"),
                    &json!("1100-048"),
                    &json!("Rua Augusta 1"),
                    &json!(applicant_id)
                )
            );
            assert!(fake.calls("POST", "/files").last().is_some_and(|f| f.body.contains("UTILITY-BILL")));
            let v = fake.calls("POST", "/verifications").pop().expect("verification").json();
            assert_eq!(v["types"], json!(["ADDRESS"]));
            let verification_id = format!("ver-{}", fake.state.lock().expect("state").next_id);
            fake.set_verification(
                &verification_id,
                json!({
                    "verification_id": verification_id, "applicant_id": applicant_id, "status": "completed",
                    "verifications": {"address": {"verified": verified, "comment": "blurry"}},
                }),
            );
            let body = json!({"verification_id": verification_id, "applicant_id": applicant_id}).to_string();
            assert_eq!(callback(&srv, &body, Some(&kycaid_signature(TOKEN, &body))).await, (200, json!(200)));
            let expected = if verified { "verified" } else { "rejected" };
            wait_label(&srv, email, "address", expected).await;
        }
        // The typed address went to KYCAID only: nothing of it is stored in the clear.
        let metadata = srv.sql_texts("SELECT metadata FROM documents WHERE doc_type = 'Address'").await;
        assert!(metadata.iter().all(|m| m.contains("\"address_id\":\"addr-")), "{metadata:?}");
        wait_jobs_done(&srv).await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_goes_to_kycaid_rejected_then_verified_sqlite() {
    address_flow(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_address_goes_to_kycaid_rejected_then_verified_postgres() {
    address_flow(Backend::Postgres).await;
}

/// `barongd config check` with `env`: (exit code, stderr).
fn config_check(env: &[(&str, &str)]) -> (i32, String) {
    let out = Command::new(binary("barongd"))
        .args(["config", "check"])
        .env_remove("DATABASE_URL")
        .env_remove("BARONG_CONFIG")
        .env_remove("BARONG_KYC_PROVIDER")
        .envs(env.iter().copied())
        .output()
        .expect("runs");
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn kycaid_without_a_token_or_with_a_bad_endpoint_stops_startup_with_one_line() {
    let (code, err) = config_check(&[("BARONG_KYC_PROVIDER", "kycaid")]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("kycaid_authorization_token: required when kyc_provider is kycaid"), "{err}");
    let (code, err) = config_check(&[
        ("BARONG_KYC_PROVIDER", "kycaid"),
        ("BARONG_KYCAID_AUTHORIZATION_TOKEN", "secret-token-value"),
        ("BARONG_KYCAID_API_ENDPOINT", "ftp://kycaid"),
    ]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("(kycaid_api_endpoint): `ftp://kycaid` is not an http(s) URL"), "{err}");
    assert!(!err.contains("secret-token-value"), "{err}");
    // Barong's own default was kycaid: an environment that names no provider starts as local.
    let (code, err) = config_check(&[("BARONG_KYCAID_AUTHORIZATION_TOKEN", "secret-token-value")]);
    assert_eq!(code, 0, "{err}");
}

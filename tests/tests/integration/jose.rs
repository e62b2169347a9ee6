//! Every signed thing barongd emits verifies with an independent JOSE implementation in another
//! language: events consumed from the real RabbitMQ and the gateway's upstream JWTs are checked
//! by tests/tools/jose_check.py (Python jwcrypto, strict about RFC 7515), with the daemon's JWKS,
//! for RS256, ES256 and EdDSA keys. Tampered and old-format messages are refused by the same
//! check, so it is known to fail when it should.

use std::io::Write as _;
use std::process::{Command, Stdio};

use base64::Engine as _;
use reqwest::Method;

use super::events::{Consumer, amqp_url, events_config, unique_email};
use super::*;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The python with jwcrypto (`BARONG_TEST_PYTHON`), or None after a loud skip (a failure under CI).
fn python() -> Option<String> {
    match std::env::var("BARONG_TEST_PYTHON") {
        Ok(p) if !p.is_empty() => Some(p),
        _ => {
            assert!(std::env::var("CI").as_deref() != Ok("true"), "CI=true requires BARONG_TEST_PYTHON (jwcrypto)");
            eprintln!("SKIPPED (JOSE): BARONG_TEST_PYTHON (a python with jwcrypto) is not set");
            None
        }
    }
}

/// What jwcrypto says of `items` (see the script's docstring): the JWKS problems and one result
/// per item.
fn jose_check(py: &str, jwks: &Value, items: &[Value]) -> (Vec<String>, Vec<Value>) {
    let script = workspace_root().join("tests/tools/jose_check.py");
    let mut child = Command::new(py)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python runs");
    let request = json!({"jwks": jwks, "now": now_ms() / 1000, "items": items});
    child.stdin.take().expect("stdin").write_all(request.to_string().as_bytes()).expect("write");
    let out = child.wait_with_output().expect("python ends");
    assert!(out.status.success(), "jose_check.py: {}", String::from_utf8_lossy(&out.stderr));
    let answer: Value = serde_json::from_slice(&out.stdout).expect("the checker prints JSON");
    let problems = answer["jwks"].as_array().expect("jwks").iter().map(|p| p.to_string()).collect();
    (problems, answer["items"].as_array().expect("items").clone())
}

fn event(message: &str) -> Value {
    json!({"kind": "event", "message": message})
}

fn jwt(token: &str) -> Value {
    json!({"kind": "jwt", "token": token, "audience": "peatio"})
}

/// The message with its payload's last characters changed (the signature no longer matches).
fn tampered(message: &str) -> String {
    let mut body: Value = serde_json::from_str(message).expect("JSON");
    let claims: Value =
        serde_json::from_slice(&B64.decode(body["payload"].as_str().expect("payload")).expect("b64")).expect("claims");
    let mut forged = claims.clone();
    forged["event"]["record"]["user"]["level"] = json!(99);
    body["payload"] = json!(B64.encode(forged.to_string()));
    body.to_string()
}

/// The message as barongd wrote it before (the key's id as `kid` in the protected header, next
/// to the signer's `kid` in the unprotected one), signature kept: what strict libraries refused.
fn with_duplicate_kid(message: &str) -> String {
    let mut body: Value = serde_json::from_str(message).expect("JSON");
    let protected = body["signatures"][0]["protected"].as_str().expect("protected");
    let mut header: Value = serde_json::from_slice(&B64.decode(protected).expect("b64")).expect("header");
    header["kid"] = header["jwks_kid"].clone();
    body["signatures"][0]["protected"] = json!(B64.encode(header.to_string()));
    body.to_string()
}

/// The compact JWT with another `alg` in its header.
fn relabelled(token: &str, alg: &str) -> String {
    let (head, rest) = token.split_once('.').expect("segments");
    let mut header: Value = serde_json::from_slice(&B64.decode(head).expect("b64")).expect("header");
    header["alg"] = json!(alg);
    format!("{}.{rest}", B64.encode(header.to_string()))
}

both!(events_and_jwts_verify_with_jwcrypto, per_backend = events_and_jwts_verify_with_jwcrypto);
async fn events_and_jwts_verify_with_jwcrypto(backend: Backend) {
    let Some(py) = python() else { return };
    for alg in ["RS256", "ES256", "EdDSA"] {
        let bindings = [
            ("barong.events.system", "session.create"),
            ("barong.events.system", "user.email.confirmation.token"),
            ("barong.events.model", "user.created"),
            ("barong.events.model", "user.updated"),
        ];
        let Some(mut consumer) = Consumer::connect(&bindings).await else { return };
        let opts =
            Options { config: format!("{}jwt_algorithm: {alg}\n", events_config(&amqp_url())), ..Options::unpinned() };
        let Some(srv) = TestServer::spawn_with(backend, opts).await else { return };
        let py = py.clone();
        within_limit(srv, |srv| async move {
            let email = unique_email(&format!("jose-{}", alg.to_lowercase()));
            let (c, _) = active_user(&srv, &email).await;
            let wait = Duration::from_secs(20);
            let names = [
                "model.user.created",
                "system.user.email.confirmation.token",
                "model.user.updated",
                "system.session.create",
            ];
            let mut seen = consumer.collect(wait, &email, &names).await;
            let messages: Vec<String> =
                names.iter().map(|n| seen.remove(*n).unwrap_or_else(|| panic!("{n}")).raw).collect();
            let (s, auth, body, _) =
                authz_call(&c, Method::GET, &auth_url(&srv, "api/v2/peatio/account/balances"), &[]).await;
            assert_eq!(s, 200, "gateway: {body}");
            let token = auth.expect("Authorization").strip_prefix("Bearer ").expect("Bearer").to_string();
            let (s, jwks) = get(&srv.client(), &format!("{}/.well-known/jwks.json", srv.base)).await;
            assert_eq!(s, 200, "{jwks}");
            let kid = jwks["keys"][0]["kid"].as_str().expect("kid").to_string();
            assert_eq!(jwks["keys"][0]["alg"], alg, "{jwks}");

            let mut items: Vec<Value> = messages.iter().map(|m| event(m)).collect();
            items.push(jwt(&token));
            // What must be refused: a tampered event, the old duplicated header, a tampered JWT
            // and a JWT relabelled to another algorithm.
            items.push(event(&tampered(&messages[0])));
            items.push(event(&with_duplicate_kid(&messages[0])));
            let (head, rest) = token.split_once('.').expect("segments");
            let (payload, signature) = rest.split_once('.').expect("segments");
            let mut claims: Value = serde_json::from_slice(&B64.decode(payload).expect("b64")).expect("claims");
            claims["role"] = json!("superadmin");
            items.push(jwt(&format!("{head}.{}.{signature}", B64.encode(claims.to_string()))));
            items.push(jwt(&relabelled(&token, if alg == "RS256" { "ES256" } else { "RS256" })));

            let (problems, results) = jose_check(&py, &jwks, &items);
            assert!(problems.is_empty(), "{alg}: JWKS {problems:?}\n{jwks}");
            let genuine = messages.len() + 1;
            for (i, r) in results[..genuine].iter().enumerate() {
                assert_eq!(r["ok"], true, "{alg}: item {i} refused by jwcrypto: {r}\n{}", items[i]);
                assert_eq!((r["alg"].as_str(), r["kid"].as_str()), (Some(alg), Some(kid.as_str())), "{r}");
            }
            let names: Vec<&str> =
                results[..messages.len()].iter().filter_map(|r| r["claims"]["event"]["name"].as_str()).collect();
            assert_eq!(
                names,
                [
                    "model.user.created",
                    "system.user.email.confirmation.token",
                    "model.user.updated",
                    "system.session.create"
                ]
            );
            assert_eq!(results[messages.len()]["claims"]["email"], email.as_str());
            let refused = &results[genuine..];
            assert_eq!(refused.len(), 4);
            for (i, r) in refused.iter().enumerate() {
                assert_eq!(r["ok"], false, "{alg}: forged item {i} passed: {r}");
            }
            let why = |i: usize| refused[i]["error"].as_str().unwrap_or_default().to_string();
            assert!(why(0).contains("Verification failed"), "{}", why(0));
            assert!(why(1).contains("Duplicate header"), "the old format is what strict consumers refused: {}", why(1));
        })
        .await;
    }
}

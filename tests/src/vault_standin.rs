//! A Vault stand-in for the import tests, answering the paths the importer reads with the shapes
//! Vault documents (migration spec §1.6, §1.7): `sys/health`, batch `transit/decrypt` (real
//! AES-256-GCM under the fixture's transit key), the openware build's `totp/export`, stock
//! Vault's `sys/mounts` and `sys/raw` storage entries (Go units: algorithm enum, period in ns)
//! and `totp/code`. Every request must carry the token, as Vault's would.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use crate::fakes::{FakeRequest, fake_router};

pub const TOTP_MOUNT_UUID: &str = "5c0a7e1e-0d3b-4a8f-9d0b-7f1d0c2a9e11";

pub struct VaultStandIn {
    pub url: String,
    /// `METHOD path` of every request, in order.
    pub requests: Arc<Mutex<Vec<String>>>,
    /// While set, `totp/code` answers a code that no seed gives.
    pub lie_about_codes: Arc<AtomicBool>,
}

/// Serves `seeds` (uid → Base32) as TOTP keys `<app>_<uid>` and decrypts `vault:v1:` values with
/// `transit_key` (32 bytes) for `<app>_apikeys_secret`.
pub async fn vault_standin(
    token: &str,
    app: &str,
    transit_key: Vec<u8>,
    seeds: HashMap<String, String>,
) -> VaultStandIn {
    let requests = Arc::new(Mutex::new(Vec::new()));
    let lie = Arc::new(AtomicBool::new(false));
    let (log, lying, token, app) = (requests.clone(), lie.clone(), token.to_string(), app.to_string());
    let url = fake_router(move |req: &FakeRequest| {
        if let Ok(mut l) = log.lock() {
            l.push(format!("{} {}", req.method, req.path));
        }
        if req.header("x-vault-token") != Some(token.as_str()) {
            return (403, json!({"errors": ["permission denied"]}).to_string());
        }
        let (status, body) = answer(req, &app, &transit_key, &seeds, lying.load(Ordering::SeqCst));
        (status, body.to_string())
    })
    .await;
    VaultStandIn { url, requests, lie_about_codes: lie }
}

fn answer(
    req: &FakeRequest,
    app: &str,
    transit_key: &[u8],
    seeds: &HashMap<String, String>,
    lie: bool,
) -> (u16, Value) {
    let path = req.path.strip_prefix("/v1/").unwrap_or("");
    let seed_of = |name: &str| name.strip_prefix(&format!("{app}_")).and_then(|uid| seeds.get(uid));
    let not_found = (404, json!({"errors": []}));
    match (req.method.as_str(), path) {
        ("GET", "sys/health") => (200, json!({"initialized": true, "sealed": false, "standby": false})),
        ("GET", "sys/mounts") => (
            200,
            json!({"data": {"totp/": {"type": "totp", "uuid": TOTP_MOUNT_UUID},
                            "transit/": {"type": "transit", "uuid": "0b5e"}}}),
        ),
        ("POST", p) if p == format!("transit/decrypt/{app}_apikeys_secret") => {
            let body: Value = serde_json::from_str(&req.body).unwrap_or(Value::Null);
            let results: Vec<Value> = body["batch_input"]
                .as_array()
                .map(|items| {
                    items.iter().map(|i| decrypt(transit_key, i["ciphertext"].as_str().unwrap_or(""))).collect()
                })
                .unwrap_or_default();
            (200, json!({"data": {"batch_results": results}}))
        }
        ("GET", p) if p.starts_with("totp/export/") => match seed_of(&p["totp/export/".len()..]) {
            Some(seed) => (
                200,
                json!({"data": {"key": seed, "issuer": "Barong", "account_name": "", "period": 30,
                                "algorithm": "SHA1", "digits": 6}}),
            ),
            None => not_found,
        },
        ("GET", p) if p.starts_with(&format!("sys/raw/logical/{TOTP_MOUNT_UUID}/key/")) => {
            let name = p.rsplit('/').next().unwrap_or("");
            match seed_of(name) {
                Some(seed) => {
                    let entry = json!({"key": seed, "issuer": "Barong", "account_name": "",
                        "period": 30_000_000_000u64, "algorithm": 0, "digits": 6, "skew": 1, "qr_size": 300});
                    (200, json!({"data": {"value": entry.to_string()}}))
                }
                None => not_found,
            }
        }
        ("GET", p) if p.starts_with("totp/code/") => match seed_of(&p["totp/code/".len()..]) {
            Some(seed) => {
                let bytes = totp_rs::Secret::Encoded(seed.clone()).to_bytes().unwrap_or_default();
                let totp = totp_rs::TOTP::new_unchecked(totp_rs::Algorithm::SHA1, 6, 1, 30, bytes, None, String::new());
                let code = totp.generate_current().unwrap_or_default();
                let code =
                    if lie { format!("{:06}", (code.parse::<u32>().unwrap_or(0) + 1) % 1_000_000) } else { code };
                (200, json!({"data": {"code": code}}))
            }
            None => not_found,
        },
        _ => (404, json!({"errors": [format!("no handler for route \"{path}\"")]})),
    }
}

/// `vault:v1:` + Base64(nonce ‖ ciphertext ‖ tag) → `{"plaintext": Base64}` or Vault's error item.
fn decrypt(key: &[u8], stored: &str) -> Value {
    let clear = stored
        .strip_prefix("vault:v1:")
        .and_then(|b64| STANDARD.decode(b64).ok())
        .filter(|raw| raw.len() > 12)
        .and_then(|raw| {
            let cipher = Aes256Gcm::new_from_slice(key).ok()?;
            cipher.decrypt(Nonce::from_slice(&raw[..12]), &raw[12..]).ok()
        });
    match clear {
        Some(c) => json!({"plaintext": STANDARD.encode(c)}),
        None => json!({"error": "cipher: message authentication failed"}),
    }
}

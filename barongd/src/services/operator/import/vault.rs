//! Vault's HTTP API as the importer uses it (migration spec §1.6, §1.7, §2.8): health, batch
//! `transit/decrypt`, TOTP keys through the openware build's `totp/export` or stock Vault's raw
//! storage, and `totp/code` to check an export. Read-only on Vault's side. The token goes in a
//! header and never into an error text.

use std::time::Duration;

use barong_legacy::secrets_file::{KeySecret, TotpSecret};
use barong_legacy::vault_api;
use common::admin::VaultOptions;
use serde_json::{Value, json};
use zeroize::Zeroizing;

/// How long one Vault request may take; a batch of 1,000 decryptions is well inside it.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

pub struct Vault {
    http: reqwest::Client,
    addr: String,
    token: Zeroizing<String>,
    pub options: VaultOptions,
    app_name: String,
}

/// `import.vault_unreachable: …`: the refusal key the preflight lists and a run stops with.
pub fn unreachable(detail: impl std::fmt::Display) -> String {
    format!("import.vault_unreachable: {detail}")
}

impl Vault {
    pub fn new(options: &VaultOptions, token: Option<&str>, app_name: &str) -> Result<Vault, String> {
        let token = token.filter(|t| !t.is_empty()).ok_or_else(|| unreachable("--vault-addr needs a Vault token"))?;
        if !matches!(options.totp.as_str(), "export" | "raw" | "none") {
            return Err(unreachable(format!("--vault-totp {:?}: use export, raw or none", options.totp)));
        }
        let mut builder = reqwest::Client::builder().timeout(REQUEST_TIMEOUT).connect_timeout(Duration::from_secs(10));
        if let Some(pem) = &options.ca_pem {
            let ca = reqwest::Certificate::from_pem(pem.as_bytes())
                .map_err(|e| unreachable(format!("--vault-ca-file: {e}")))?;
            builder = builder.add_root_certificate(ca);
        }
        if options.skip_verify {
            builder = builder.danger_accept_invalid_certs(true);
        }
        let http = builder.build().map_err(|e| unreachable(format!("HTTP client: {e}")))?;
        Ok(Vault {
            http,
            addr: options.addr.trim_end_matches('/').to_string(),
            token: Zeroizing::new(token.to_string()),
            options: options.clone(),
            app_name: app_name.to_string(),
        })
    }

    /// The Vault key name of a user's TOTP key: `<app>_<uid>`.
    fn totp_key(&self, uid: &str) -> String {
        format!("{}_{uid}", self.app_name)
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<&Value>) -> Result<(u16, Value), String> {
        let url = format!("{}/v1/{path}", self.addr);
        let mut req = self.http.request(method, &url).header("X-Vault-Token", self.token.as_str());
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req.send().await.map_err(|e| unreachable(format!("{}: {}", self.addr, describe(e))))?;
        let status = resp.status().as_u16();
        let text = resp.text().await.map_err(|e| unreachable(format!("{}: {}", self.addr, describe(e))))?;
        Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
    }

    /// `sys/health`: 200 active, 429 standby and 472/473 performance standbys all serve reads.
    pub async fn health(&self) -> Result<(), String> {
        let (status, body) = self.call(reqwest::Method::GET, "sys/health", None).await?;
        match status {
            200 | 429 | 472 | 473 => Ok(()),
            501 => Err(unreachable(format!("{} is not initialised", self.addr))),
            503 => Err(unreachable(format!("{} is sealed", self.addr))),
            s => Err(unreachable(format!("{} sys/health answered {s}: {}", self.addr, vault_api::errors(&body)))),
        }
    }

    /// `transit/decrypt/<app>_apikeys_secret` over a batch, one verdict per ciphertext.
    pub async fn decrypt(&self, ciphertexts: &[&str]) -> Result<Vec<KeySecret>, String> {
        let path = format!("{}/decrypt/{}_apikeys_secret", self.options.transit_mount, self.app_name);
        let batch: Vec<Value> = ciphertexts.iter().map(|c| json!({"ciphertext": c})).collect();
        let (status, body) = self.call(reqwest::Method::POST, &path, Some(&json!({"batch_input": batch}))).await?;
        // Vault answers 400 when every item of a batch failed; the items still say why.
        if status != 200 && body["data"]["batch_results"].is_null() {
            return Err(unreachable(format!("{path} answered {status}: {}", vault_api::errors(&body))));
        }
        vault_api::transit_batch(&body, ciphertexts.len()).map_err(unreachable)
    }

    /// The seed Vault holds for `uid`, `None` when it has no key for that user. `raw_uuid`: the
    /// TOTP mount's UUID in raw mode.
    pub async fn totp_seed(&self, uid: &str, raw_uuid: Option<&str>) -> Result<Option<TotpSecret>, String> {
        let name = self.totp_key(uid);
        let path = match raw_uuid {
            Some(uuid) => format!("sys/raw/logical/{uuid}/key/{name}"),
            None => format!("{}/export/{name}", self.options.totp_mount),
        };
        let (status, body) = self.call(reqwest::Method::GET, &path, None).await?;
        match status {
            200 if raw_uuid.is_some() => Ok(Some(vault_api::totp_raw(&body))),
            200 => Ok(Some(vault_api::totp_export(&body))),
            404 => Ok(None),
            s => Err(unreachable(format!("GET {path} answered {s}: {}", vault_api::errors(&body)))),
        }
    }

    /// The TOTP mount's UUID from `sys/mounts` (raw mode).
    pub async fn totp_mount_uuid(&self) -> Result<String, String> {
        let (status, body) = self.call(reqwest::Method::GET, "sys/mounts", None).await?;
        if status != 200 {
            return Err(unreachable(format!("sys/mounts answered {status}: {}", vault_api::errors(&body))));
        }
        vault_api::mount_uuid(&body, &self.options.totp_mount)
            .ok_or_else(|| unreachable(format!("sys/mounts names no UUID for {}/", self.options.totp_mount)))
    }

    /// The code Vault computes now for `uid` (`GET totp/code/<app>_<uid>`, read-only).
    pub async fn totp_code(&self, uid: &str) -> Result<String, String> {
        let path = format!("{}/code/{}", self.options.totp_mount, self.totp_key(uid));
        let (status, body) = self.call(reqwest::Method::GET, &path, None).await?;
        match body["data"]["code"].as_str() {
            Some(code) if status == 200 => Ok(code.to_string()),
            _ => Err(unreachable(format!("GET {path} answered {status}: {}", vault_api::errors(&body)))),
        }
    }
}

/// reqwest's error with its causes ("error sending request" alone says little), without the URL
/// (the caller names the address).
fn describe(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut text = e.to_string();
    let mut cause = std::error::Error::source(&e);
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

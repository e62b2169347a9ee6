//! KYCAID's REST API as barongd uses it: JSON calls authorised by `Authorization: Token …` and
//! file uploads, each bounded by `kycaid_worker.timeout_ms`. The token never appears in an
//! error or a log line (errors name the path and KYCAID's own error text only).

use std::time::Duration;

use reqwest::{Method, StatusCode, Url};
use serde_json::Value;

use crate::config::Config;
use crate::config::Secret;

/// Longest piece of KYCAID's answer kept in an error (and so in logs and `kycaid_jobs`).
const MAX_ERROR_CHARS: usize = 300;

/// Why a KYCAID call failed.
#[derive(Debug, Clone, PartialEq)]
pub enum CallError {
    /// Worth retrying: the network, a timeout, a 5xx, 408 or 429.
    Transient(String),
    /// KYCAID refused the request (a 4xx, or a 2xx carrying `error`/`errors`, as Barong
    /// checked): retrying would not help.
    Refused(String),
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::Transient(m) => write!(f, "KYCAID unavailable: {m}"),
            CallError::Refused(m) => write!(f, "KYCAID refused: {m}"),
        }
    }
}

pub type CallResult<T> = Result<T, CallError>;

#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: Url,
    token: Secret,
}

impl Client {
    /// The client `c` describes; start-up has validated the endpoint already.
    pub fn new(c: &Config) -> Result<Client, String> {
        let mut endpoint = c.kycaid_api_endpoint.trim().to_string();
        // `Url::join` replaces the last segment of a base without a trailing slash.
        if !endpoint.ends_with('/') {
            endpoint.push('/');
        }
        let base = Url::parse(&endpoint).map_err(|e| format!("kycaid_api_endpoint: {e}"))?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_millis(c.kycaid_worker.timeout_ms))
            .connect_timeout(Duration::from_millis(c.kycaid_worker.timeout_ms.min(5000)))
            .build()
            .map_err(|e| format!("KYCAID HTTP client: {e}"))?;
        Ok(Client { http, base, token: c.kycaid_authorization_token.clone() })
    }

    /// The API token, which also keys the callbacks' signature.
    pub fn token(&self) -> &str {
        self.token.expose()
    }

    fn url(&self, path: &str) -> CallResult<Url> {
        self.base.join(path).map_err(|e| CallError::Refused(format!("{path}: {e}")))
    }

    /// A JSON call; the answer's JSON.
    pub async fn json(&self, method: Method, path: &str, body: Option<&Value>) -> CallResult<Value> {
        let mut req = self.http.request(method, self.url(path)?).header("Authorization", self.auth());
        if let Some(body) = body {
            req = req.json(body);
        }
        answer(path, req.send().await).await
    }

    /// `POST /files`: uploads one file (multipart field `file`); its `file_id`.
    pub async fn upload(&self, file_name: &str, mime: &str, bytes: Vec<u8>) -> CallResult<String> {
        let part = reqwest::multipart::Part::bytes(bytes)
            .file_name(file_name.to_string())
            .mime_str(mime)
            .map_err(|e| CallError::Refused(format!("files: {e}")))?;
        let form = reqwest::multipart::Form::new().part("file", part);
        let req = self.http.post(self.url("files")?).header("Authorization", self.auth()).multipart(form);
        let v = answer("files", req.send().await).await?;
        id_of(&v, "file_id", "files")
    }

    fn auth(&self) -> String {
        format!("Token {}", self.token.expose())
    }
}

/// The id field `key` of a successful answer.
pub fn id_of(v: &Value, key: &str, path: &str) -> CallResult<String> {
    match v.get(key) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
        Some(Value::Number(n)) => Ok(n.to_string()),
        _ => Err(CallError::Refused(format!("{path}: the answer has no {key}"))),
    }
}

async fn answer(path: &str, sent: reqwest::Result<reqwest::Response>) -> CallResult<Value> {
    // Without the URL: it holds no secret, but the path says enough.
    let resp = sent.map_err(|e| CallError::Transient(format!("{path}: {}", e.without_url())))?;
    let status = resp.status();
    let text = resp.text().await.map_err(|e| CallError::Transient(format!("{path}: {}", e.without_url())))?;
    let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    let transient =
        status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::REQUEST_TIMEOUT;
    if transient {
        return Err(CallError::Transient(format!("{path}: HTTP {}", status.as_u16())));
    }
    let has = |k: &str| body.get(k).is_some_and(|v| !v.is_null());
    if !status.is_success() || has("error") || has("errors") {
        let detail = if body.is_null() { String::new() } else { truncate(&body.to_string()) };
        return Err(CallError::Refused(format!("{path}: HTTP {} {detail}", status.as_u16())));
    }
    Ok(body)
}

fn truncate(s: &str) -> String {
    s.chars().take(MAX_ERROR_CHARS).collect()
}

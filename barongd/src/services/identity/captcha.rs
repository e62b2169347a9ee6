//! Captcha checks (reCAPTCHA or Geetest) on the configured endpoints. Verifiers are remote, so
//! every call has a short timeout and an unreachable verifier is a refusal, never a hang.

use std::time::Duration;

use crate::config::{CaptchaMode, Config};
use md5::{Digest, Md5};
use serde_json::{Map, Value};

use crate::services::error::{ServiceError, ServiceResult};

/// The endpoints Barong can protect (names from `captcha_protected_endpoints`).
#[derive(Debug, Clone, Copy)]
pub enum Endpoint {
    UserCreate,
    SessionCreate,
    PasswordReset,
    EmailConfirmation,
}

impl Endpoint {
    fn name(self) -> &'static str {
        match self {
            Endpoint::UserCreate => "user_create",
            Endpoint::SessionCreate => "session_create",
            Endpoint::PasswordReset => "password_reset",
            Endpoint::EmailConfirmation => "email_confirmation",
        }
    }
}

/// What the client sent as `captcha_response`.
#[derive(Debug, Clone)]
pub enum Answer {
    Text(String),
    Fields(Map<String, Value>),
}

pub struct Captcha {
    mode: CaptchaMode,
    protected: Vec<String>,
    http: reqwest::Client,
    recaptcha_url: String,
    recaptcha_secret: String,
    geetest_url: String,
    geetest_id: String,
    geetest_key: String,
}

fn md5_hex(s: &str) -> String {
    hex::encode(Md5::digest(s.as_bytes()))
}

impl Captcha {
    pub fn new(c: &Config) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_millis(c.captcha_timeout_ms.min(5000)))
            .build()
            .map_err(|e| format!("captcha HTTP client: {e}"))?;
        Ok(Captcha {
            mode: c.captcha,
            protected: c.captcha_protected_endpoints.clone(),
            http,
            recaptcha_url: c.recaptcha_verify_url.clone(),
            recaptcha_secret: c.recaptcha_secret_key.expose().to_string(),
            geetest_url: c.geetest_api_url.trim_end_matches('/').to_string(),
            geetest_id: c.geetest_id.clone(),
            geetest_key: c.geetest_key.expose().to_string(),
        })
    }

    /// Barong's `verify_captcha!`: runs after parameter validation, before anything else.
    pub async fn verify(&self, endpoint: Endpoint, answer: Option<&Answer>) -> ServiceResult<()> {
        if self.mode == CaptchaMode::None || !self.protected.iter().any(|p| p == endpoint.name()) {
            return Ok(());
        }
        let blank = match answer {
            None => true,
            Some(Answer::Text(t)) => t.trim().is_empty(),
            Some(Answer::Fields(f)) => f.is_empty(),
        };
        if blank {
            return Err(ServiceError::rejected("identity.captcha.required"));
        }
        let ok = match (self.mode, answer) {
            (CaptchaMode::Recaptcha, Some(Answer::Text(token))) => self.recaptcha(token).await,
            (CaptchaMode::Recaptcha, _) => false,
            (CaptchaMode::Geetest, Some(Answer::Fields(f))) => {
                let field = |k: &str| f.get(k).and_then(Value::as_str).map(str::to_string);
                let (Some(challenge), Some(validate), Some(seccode)) =
                    (field("geetest_challenge"), field("geetest_validate"), field("geetest_seccode"))
                else {
                    return Err(ServiceError::rejected("identity.captcha.mandatory_fields"));
                };
                self.geetest(&challenge, &validate, &seccode).await
            }
            (CaptchaMode::Geetest, _) => return Err(ServiceError::rejected("identity.captcha.mandatory_fields")),
            (CaptchaMode::None, _) => true,
        };
        if ok { Ok(()) } else { Err(ServiceError::invalid("identity.captcha.verification_failed")) }
    }

    async fn recaptcha(&self, token: &str) -> bool {
        let form = [("secret", self.recaptcha_secret.as_str()), ("response", token)];
        let reply = self.http.post(&self.recaptcha_url).form(&form).send().await;
        match reply {
            Ok(r) => {
                r.json::<Value>().await.ok().and_then(|v| v.get("success").and_then(Value::as_bool)).unwrap_or(false)
            }
            Err(e) => {
                tracing::warn!(error = %e.without_url(), "reCAPTCHA verifier unreachable");
                false
            }
        }
    }

    async fn geetest(&self, challenge: &str, validate: &str, seccode: &str) -> bool {
        if validate != md5_hex(&format!("{}geetest{challenge}", self.geetest_key)) {
            return false;
        }
        let url = format!("{}/validate.php", self.geetest_url);
        let form = [("seccode", seccode), ("challenge", challenge), ("json_format", "0")];
        match self.http.post(url).form(&form).send().await {
            Ok(r) => r.text().await.map(|t| t.trim() == md5_hex(seccode)).unwrap_or(false),
            Err(e) => {
                tracing::warn!(error = %e.without_url(), "Geetest verifier unreachable");
                false
            }
        }
    }

    /// `GET identity/users/register_geetest`: `{"gt":..,"challenge":..}` or `""` when Geetest fails.
    pub async fn register_geetest(&self) -> Value {
        let url = format!("{}/register.php", self.geetest_url);
        let reply = self.http.get(url).query(&[("gt", self.geetest_id.as_str())]).send().await;
        let challenge = match reply {
            Ok(r) if r.status().is_success() => r.text().await.ok().map(|t| t.trim().to_string()),
            _ => None,
        };
        match challenge {
            Some(c) if c.len() == 32 => {
                serde_json::json!({"gt": self.geetest_id, "challenge": md5_hex(&format!("{c}{}", self.geetest_key))})
            }
            _ => Value::String(String::new()),
        }
    }
}

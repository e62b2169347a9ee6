//! Barong's `kycaid_*` settings and barong-rs's bounds on the KYCAID worker, with the checks
//! that stop start-up when `kyc_provider: kycaid` cannot work.

use crate::config::KycProvider;
use crate::config::settings::Config;

/// Each problem as `KEY: what is wrong`; nothing is checked while the provider is `local`.
pub fn kycaid_errors(c: &Config, errors: &mut Vec<String>) {
    if c.kyc_provider != KycProvider::Kycaid {
        return;
    }
    if c.kycaid_authorization_token.expose().trim().is_empty() {
        errors.push(
            "kycaid_authorization_token: required when kyc_provider is kycaid (BARONG_KYCAID_AUTHORIZATION_TOKEN)"
                .into(),
        );
    }
    match reqwest::Url::parse(&c.kycaid_api_endpoint) {
        Ok(u) if matches!(u.scheme(), "https" | "http") && u.host_str().is_some() => {}
        _ => errors.push(format!(
            "kycaid_api_endpoint: `{}` is not an http(s) URL (default https://api.kycaid.com/)",
            c.kycaid_api_endpoint
        )),
    }
    let w = &c.kycaid_worker;
    if w.retry_seconds < 1 || w.retry_seconds > 3600 {
        errors.push("kycaid_worker.retry_seconds: must be 1 to 3600".into());
    }
    if w.max_attempts < 1 {
        errors.push("kycaid_worker.max_attempts: must be at least 1".into());
    }
    if w.timeout_ms < 100 || w.timeout_ms > 120_000 {
        errors.push("kycaid_worker.timeout_ms: must be 100 to 120000".into());
    }
}

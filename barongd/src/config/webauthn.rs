//! WebAuthn settings (`webauthn_*`): the relying party and its origins, checked together at load.

use crate::config::settings::Config;

impl Config {
    /// WebAuthn is on when its relying party and origins are both set.
    pub fn webauthn_enabled(&self) -> bool {
        !self.webauthn_rp_id.trim().is_empty() && !self.webauthn_origins.is_empty()
    }
}

/// Half a configuration is an error, not a way to turn WebAuthn off; every origin must be a bare
/// `scheme://host[:port]` on the relying party's domain (browsers refuse the ceremony otherwise).
pub fn webauthn_errors(c: &Config, errors: &mut Vec<String>) {
    let rp_id = c.webauthn_rp_id.trim();
    match (rp_id.is_empty(), c.webauthn_origins.is_empty()) {
        (false, true) => errors.push("webauthn_origins: required when webauthn_rp_id is set".into()),
        (true, false) => errors.push("webauthn_rp_id: required when webauthn_origins is set".into()),
        _ => {}
    }
    for origin in &c.webauthn_origins {
        let Ok(url) = reqwest::Url::parse(origin) else {
            errors.push(format!("webauthn_origins: `{origin}` is not a URL (https://exchange.example)"));
            continue;
        };
        let bare = url.path() == "/" && url.query().is_none() && url.fragment().is_none();
        if !matches!(url.scheme(), "https" | "http") || !bare {
            errors.push(format!("webauthn_origins: `{origin}` must be an origin: https://host[:port], no path"));
            continue;
        }
        let host = url.host_str().unwrap_or_default();
        if !rp_id.is_empty() && host != rp_id && !host.ends_with(&format!(".{rp_id}")) {
            errors.push(format!("webauthn_origins: `{origin}` is not on webauthn_rp_id `{rp_id}`"));
        }
    }
    if c.webauthn_max_credentials < 1 {
        errors.push("webauthn_max_credentials: must be at least 1".into());
    }
    if c.webauthn_enrol_window < 1 || c.webauthn_challenge_lifetime < 1 {
        errors.push("webauthn_enrol_window and webauthn_challenge_lifetime: must be at least 1 second".into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(rp_id: &str, origins: &[&str]) -> Vec<String> {
        let c = Config {
            webauthn_rp_id: rp_id.into(),
            webauthn_origins: origins.iter().map(|o| o.to_string()).collect(),
            ..Default::default()
        };
        let mut e = Vec::new();
        webauthn_errors(&c, &mut e);
        e
    }

    #[test]
    fn both_or_neither_and_origins_on_the_rp_domain() {
        assert!(errors("", &[]).is_empty());
        assert!(
            errors("exchange.example", &["https://exchange.example", "https://app.exchange.example:8443"]).is_empty()
        );
        assert!(errors("localhost", &["http://localhost:8080"]).is_empty());
        assert_eq!(errors("localhost", &[]), vec!["webauthn_origins: required when webauthn_rp_id is set"]);
        assert_eq!(errors("", &["https://a.example"]), vec!["webauthn_rp_id: required when webauthn_origins is set"]);
        assert!(errors("exchange.example", &["https://evil-exchange.example"])[0].contains("not on webauthn_rp_id"));
        assert!(errors("exchange.example", &["https://exchange.example/login"])[0].contains("no path"));
        assert!(errors("exchange.example", &["exchange.example"])[0].contains("not a URL"));
    }
}

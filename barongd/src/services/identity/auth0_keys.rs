//! The Auth0 tenant's ID-token verification: its signing keys (JWKS), fetched when first needed
//! and cached, refetched when a token names a key the cache lacks (Auth0 rotated), at most once
//! per `REFETCH_INTERVAL` so forged `kid`s cannot make barongd hammer the tenant; every fetch is
//! bounded in time and size, so a slow tenant fails a login, never hangs it.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, Jwk};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use tokio::sync::Mutex;

use crate::config::settings::Config;

/// A fetch of the JWKS: connect and answer, whole.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// The least time between two fetches (a token with an unknown `kid` waits for the next one).
const REFETCH_INTERVAL: Duration = Duration::from_secs(30);
/// Keys older than this are refetched on the next login (Auth0 rotates keys rarely).
const MAX_AGE: Duration = Duration::from_secs(3600);
/// A JWKS is a few kilobytes; anything much larger is not one.
const MAX_JWKS_BYTES: usize = 256 * 1024;

/// Why a token was not accepted; only logged (the client gets Barong's one key).
#[derive(Debug)]
pub enum Refused {
    Token(String),
    Keys(String),
}

/// The tenant's ID tokens: where their keys are, who must have issued them and for whom.
pub struct Tenant {
    issuer: String,
    audience: String,
    jwks_url: String,
    http: reqwest::Client,
    cache: Mutex<KeyCache>,
}

#[derive(Default)]
struct KeyCache {
    keys: HashMap<String, DecodingKey>,
    fetched: Option<Instant>,
    tried: Option<Instant>,
}

impl Tenant {
    /// `None` when Auth0 login is off (start-up refused a half-made configuration).
    pub fn new(c: &Config) -> Result<Option<Tenant>, String> {
        let (domain, client) = (c.auth0_domain.trim(), c.auth0_client_id.trim());
        if domain.is_empty() || client.is_empty() {
            return Ok(None);
        }
        let jwks_url = match c.auth0_jwks_url.as_str() {
            "" => format!("https://{domain}/.well-known/jwks.json"),
            url => url.to_string(),
        };
        let http = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .connect_timeout(FETCH_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("Auth0 HTTP client: {e}"))?;
        Ok(Some(Tenant {
            issuer: format!("https://{domain}/"),
            audience: client.to_string(),
            jwks_url,
            http,
            cache: Mutex::default(),
        }))
    }

    /// The claims of `token` once it is proven an RS256 ID token of this tenant for this client
    /// (issuer, audience, signature). Expiry is checked against `now` (the daemon's clock), with
    /// no leeway, as Barong's own tokens.
    pub async fn verify<C: DeserializeOwned>(&self, token: &str, now: i64) -> Result<C, Refused> {
        let header = jsonwebtoken::decode_header(token).map_err(|e| Refused::Token(format!("header: {e}")))?;
        if header.alg != Algorithm::RS256 {
            return Err(Refused::Token(format!("algorithm {:?}", header.alg)));
        }
        let kid = header.kid.ok_or_else(|| Refused::Token("no kid".into()))?;
        let key = self.key(&kid).await?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.validate_exp = false;
        validation.leeway = 0;
        let data = jsonwebtoken::decode::<serde_json::Value>(token, &key, &validation)
            .map_err(|e| Refused::Token(e.to_string()))?;
        let times: Times = serde_json::from_value(data.claims.clone()).map_err(|e| Refused::Token(e.to_string()))?;
        if now >= times.exp {
            return Err(Refused::Token("expired".into()));
        }
        if times.nbf.is_some_and(|nbf| now < nbf) {
            return Err(Refused::Token("not yet valid".into()));
        }
        serde_json::from_value(data.claims).map_err(|e| Refused::Token(e.to_string()))
    }

    /// The key `kid`, from the cache or a fetch the rate limit allows.
    async fn key(&self, kid: &str) -> Result<DecodingKey, Refused> {
        let mut cache = self.cache.lock().await;
        let fresh = cache.fetched.is_some_and(|t| t.elapsed() < MAX_AGE);
        if fresh && let Some(k) = cache.keys.get(kid) {
            return Ok(k.clone());
        }
        let may_fetch = cache.tried.is_none_or(|t| t.elapsed() >= REFETCH_INTERVAL);
        if may_fetch {
            cache.tried = Some(Instant::now());
            match self.fetch().await {
                Ok(keys) => {
                    cache.keys = keys;
                    cache.fetched = Some(Instant::now());
                }
                // The keys held stay usable: a tenant briefly unreachable must not stop logins.
                Err(e) => tracing::warn!(url = %self.jwks_url, error = %e, "fetching Auth0's signing keys failed"),
            }
        }
        cache.keys.get(kid).cloned().ok_or_else(|| Refused::Keys(format!("no signing key {kid}")))
    }

    async fn fetch(&self) -> Result<HashMap<String, DecodingKey>, String> {
        let mut resp = self.http.get(&self.jwks_url).send().await.map_err(|e| e.without_url().to_string())?;
        if !resp.status().is_success() {
            return Err(format!("HTTP {}", resp.status().as_u16()));
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| e.without_url().to_string())? {
            if body.len() + chunk.len() > MAX_JWKS_BYTES {
                return Err(format!("answer larger than {MAX_JWKS_BYTES} bytes"));
            }
            body.extend_from_slice(&chunk);
        }
        parse_jwks(&body)
    }
}

#[derive(Deserialize)]
struct Times {
    exp: i64,
    nbf: Option<i64>,
}

/// The RSA signing keys of a JWKS by `kid`; keys of other kinds or uses are left out, not errors.
fn parse_jwks(body: &[u8]) -> Result<HashMap<String, DecodingKey>, String> {
    #[derive(Deserialize)]
    struct Set {
        keys: Vec<serde_json::Value>,
    }
    let set: Set = serde_json::from_slice(body).map_err(|e| format!("not a JWKS: {e}"))?;
    let mut keys = HashMap::new();
    for raw in set.keys {
        let Ok(jwk) = serde_json::from_value::<Jwk>(raw) else { continue };
        let (Some(kid), AlgorithmParameters::RSA(_)) = (jwk.common.key_id.clone(), &jwk.algorithm) else { continue };
        if jwk.common.public_key_use.as_ref().is_some_and(|u| *u != jsonwebtoken::jwk::PublicKeyUse::Signature) {
            continue;
        }
        if let Ok(key) = DecodingKey::from_jwk(&jwk) {
            keys.insert(kid, key);
        }
    }
    if keys.is_empty() {
        return Err("the JWKS holds no RSA signing key".into());
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::parse_jwks;

    #[test]
    fn only_rsa_signing_keys_are_kept() {
        let n = "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw";
        let body = serde_json::json!({"keys": [
            {"kty": "RSA", "kid": "a", "use": "sig", "alg": "RS256", "n": n, "e": "AQAB"},
            {"kty": "RSA", "kid": "enc", "use": "enc", "n": n, "e": "AQAB"},
            {"kty": "RSA", "use": "sig", "n": n, "e": "AQAB"},
            {"kty": "oct", "kid": "h", "k": "c2VjcmV0"},
            {"unknown": true},
        ]});
        let keys = parse_jwks(body.to_string().as_bytes()).expect("one key");
        assert_eq!(keys.keys().collect::<Vec<_>>(), ["a"]);
        assert!(parse_jwks(b"{\"keys\":[]}").is_err());
        assert!(parse_jwks(b"<html>").is_err());
    }
}

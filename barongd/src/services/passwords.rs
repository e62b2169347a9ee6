//! Password hashing (argon2id on the blocking pool, behind a semaphore so a login flood cannot
//! exhaust memory) and Barong's password policy (regexp, then entropy).

use std::sync::Arc;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use common::config::{Argon2Settings, Config};
use tokio::sync::Semaphore;

use super::error::{ServiceError, ServiceResult};
use super::password_strength;

/// Upper bound on accepted password length, bytes: keeps hashing cost bounded for huge inputs.
pub const MAX_PASSWORD_BYTES: usize = 4096;

#[derive(Clone)]
pub struct Hasher {
    argon: Arc<Argon2<'static>>,
    permits: Arc<Semaphore>,
    /// A real hash of a random password: verifying unknown emails against it costs the same as a
    /// real check, so response time does not reveal which emails exist.
    dummy: Arc<String>,
}

impl Hasher {
    pub fn new(s: &Argon2Settings) -> Result<Self, String> {
        let params = Params::new(s.memory_kib, s.iterations, s.parallelism, None)
            .map_err(|e| format!("argon2: invalid parameters: {e}"))?;
        let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let permits = if s.max_concurrent > 0 {
            s.max_concurrent
        } else {
            let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
            let by_memory = (256 * 1024 / s.memory_kib.max(1) as usize).max(1);
            (cores * 2).min(by_memory).max(1)
        };
        let salt = SaltString::generate(&mut OsRng);
        let mut pw = [0u8; 24];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut pw);
        let dummy = argon.hash_password(&pw, &salt).map_err(|e| format!("argon2: {e}"))?.to_string();
        Ok(Hasher { argon: Arc::new(argon), permits: Arc::new(Semaphore::new(permits)), dummy: Arc::new(dummy) })
    }

    pub async fn hash(&self, password: &str) -> ServiceResult<String> {
        let _permit = self.permits.acquire().await.map_err(ServiceError::internal)?;
        let argon = self.argon.clone();
        let password = password.as_bytes().to_vec();
        tokio::task::spawn_blocking(move || {
            let salt = SaltString::generate(&mut OsRng);
            argon.hash_password(&password, &salt).map(|h| h.to_string())
        })
        .await
        .map_err(ServiceError::internal)?
        .map_err(ServiceError::internal)
    }

    /// Checks `password` against `digest`; with no digest, burns the same work and says no.
    pub async fn verify(&self, password: &str, digest: Option<&str>) -> ServiceResult<bool> {
        let _permit = self.permits.acquire().await.map_err(ServiceError::internal)?;
        let argon = self.argon.clone();
        let known = digest.is_some();
        let digest = digest.map(str::to_string).unwrap_or_else(|| self.dummy.as_str().to_string());
        let password = password.as_bytes().to_vec();
        let ok = tokio::task::spawn_blocking(move || match PasswordHash::new(&digest) {
            Ok(parsed) => argon.verify_password(&password, &parsed).is_ok(),
            Err(_) => false,
        })
        .await
        .map_err(ServiceError::internal)?;
        Ok(ok && known)
    }
}

/// Barong's `password_regexp` + `password_min_entropy` policy.
pub struct Policy {
    regexp: fancy_regex::Regex,
    /// The configured source, for `/configs` (rendered the Ruby way).
    pub source: String,
    pub min_entropy: f64,
    pub use_dictionary: bool,
}

impl Policy {
    pub fn new(config: &Config) -> Result<Self, String> {
        // Ruby's `^`/`$` are line anchors; here they anchor the whole text, so a multi-line
        // password cannot satisfy the policy with one short line (Barong weakness 11).
        let regexp = fancy_regex::Regex::new(&config.password_regexp)
            .map_err(|e| format!("password_regexp: invalid regular expression: {e}"))?;
        Ok(Policy {
            regexp,
            source: config.password_regexp.clone(),
            min_entropy: config.password_min_entropy,
            use_dictionary: config.password_use_dictionary,
        })
    }

    pub fn entropy(&self, password: &str) -> f64 {
        password_strength::entropy(password, self.min_entropy, self.use_dictionary)
    }

    /// Model errors for a new password, in Barong's order: `password.requirements`, `password.weak`.
    pub fn check(&self, password: &str) -> Option<&'static str> {
        if password.len() > MAX_PASSWORD_BYTES || !self.regexp.is_match(password).unwrap_or(false) {
            return Some("password.requirements");
        }
        if self.entropy(password) < self.min_entropy {
            return Some("password.weak");
        }
        None
    }

    /// `(?-mix:<source>)`, as Ruby's `Regexp#to_s` renders it in `/configs`.
    pub fn ruby_source(&self) -> String {
        format!("(?-mix:{})", self.source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fast() -> Argon2Settings {
        Argon2Settings { memory_kib: 64, iterations: 1, parallelism: 1, max_concurrent: 2 }
    }

    #[tokio::test]
    async fn hash_then_verify() {
        let h = Hasher::new(&fast()).expect("hasher");
        let d = h.hash("Tecohvi0!x").await.expect("hash");
        assert!(d.starts_with("$argon2id$"));
        assert!(h.verify("Tecohvi0!x", Some(&d)).await.expect("verify"));
        assert!(!h.verify("wrong", Some(&d)).await.expect("verify"));
        assert!(!h.verify("Tecohvi0!x", None).await.expect("dummy"));
        assert!(!h.verify("x", Some("not a hash")).await.expect("garbage digest"));
    }

    #[test]
    fn default_policy_follows_barong() {
        let p = Policy::new(&Config::default()).expect("policy");
        assert_eq!(p.check("short1A"), Some("password.requirements"));
        assert_eq!(p.check("alllowercase1"), Some("password.requirements"));
        assert_eq!(p.check("Password1"), Some("password.weak"));
        assert_eq!(p.check("ZahSh8ei"), None);
        assert_eq!(p.check("ab\nZahSh8eiQ"), Some("password.requirements"), "multi-line");
        assert!(p.ruby_source().starts_with("(?-mix:^(?=.*[[:lower:]])"));
    }
}

//! Secrets that were never in Barong's database (spec §2.8): TOTP seeds from secrets files or
//! Vault, and API-key secrets from a `vault:dev:` value, a secrets file, Vault's transit/decrypt
//! or an exported transit key (first match wins).

use std::collections::{HashMap, HashSet};

use barong_legacy::secrets_file::{self, KeySecret, TotpSecret};
use barong_legacy::vault::{self, Ciphertext, TransitKeys};
use zeroize::Zeroizing;

/// Why a secret is not carried: a report item code.
pub type Missing = &'static str;

pub struct SecretSources {
    totp: HashMap<String, TotpSecret>,
    keys: HashMap<String, KeySecret>,
    transit: Option<TransitKeys>,
    /// What Vault answered for the seeds and secrets the files lacked (fetched before the tables).
    vault_totp: HashMap<String, TotpSecret>,
    vault_keys: HashMap<String, KeySecret>,
    key_name: String,
    pub file_warnings: Vec<String>,
    used_totp: HashSet<String>,
    used_keys: HashSet<String>,
}

impl SecretSources {
    /// Parses and merges the secrets files and the transit key (`import.secrets_file_invalid`).
    pub fn load(files: &[String], transit: Option<&str>, vault_app_name: &str) -> Result<Self, String> {
        let mut parsed = Vec::new();
        let mut file_warnings = Vec::new();
        for (i, text) in files.iter().enumerate() {
            let f = secrets_file::parse(text)
                .map_err(|e| format!("import.secrets_file_invalid: secrets file {}: {e}", i + 1))?;
            file_warnings.extend(f.warnings.iter().map(|w| format!("secrets file {}: {w}", i + 1)));
            parsed.push(f);
        }
        let merged =
            secrets_file::merge(&parsed, vault_app_name).map_err(|e| format!("import.secrets_file_invalid: {e}"))?;
        let transit = match transit {
            Some(json) => Some(
                TransitKeys::from_export_json(json)
                    .map_err(|e| format!("import.secrets_file_invalid: transit key: {e}"))?,
            ),
            None => None,
        };
        Ok(SecretSources {
            totp: merged.totp,
            keys: merged.api_keys,
            transit,
            vault_totp: HashMap::new(),
            vault_keys: HashMap::new(),
            key_name: format!("{vault_app_name}_apikeys_secret"),
            file_warnings,
            used_totp: HashSet::new(),
            used_keys: HashSet::new(),
        })
    }

    /// The TOTP seed of `uid`, or why there is none.
    pub fn totp_seed(&mut self, uid: &str) -> Result<Zeroizing<Vec<u8>>, Missing> {
        let entry = match self.totp.get(uid) {
            Some(e) => {
                self.used_totp.insert(uid.to_string());
                e
            }
            None => self.vault_totp.get(uid).ok_or("totp_missing")?,
        };
        match entry {
            TotpSecret::Seed(seed) => Ok(seed.clone()),
            TotpSecret::Invalid => Err("totp_invalid"),
            TotpSecret::Unsupported => Err("totp_unsupported"),
            TotpSecret::Conflict => Err("secret_conflict"),
        }
    }

    /// Whether a seed for `uid` was exported (for users without 2FA: `totp_unused`).
    pub fn has_totp(&self, uid: &str) -> bool {
        self.totp.contains_key(uid)
    }

    /// Whether Vault should be asked to decrypt key `kid`'s stored value: a production
    /// ciphertext no secrets file covers.
    pub fn needs_vault(&self, kid: &str, stored: &str) -> bool {
        matches!(vault::classify(stored), Ciphertext::Transit { .. }) && !self.keys.contains_key(kid)
    }

    pub fn add_vault_key(&mut self, kid: String, secret: KeySecret) {
        self.vault_keys.insert(kid, secret);
    }

    pub fn add_vault_totp(&mut self, uid: String, seed: TotpSecret) {
        self.vault_totp.insert(uid, seed);
    }

    /// Users whose seed came from Vault, for `--vault-verify-totp`.
    pub fn vault_seeded(&self) -> Vec<(String, Zeroizing<Vec<u8>>)> {
        let mut v: Vec<_> = self
            .vault_totp
            .iter()
            .filter_map(|(uid, t)| match t {
                TotpSecret::Seed(seed) => Some((uid.clone(), seed.clone())),
                _ => None,
            })
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }

    /// The clear secret of key `kid` and where it came from, or why there is none.
    pub fn api_key_secret(
        &mut self,
        kid: &str,
        stored: Option<&str>,
    ) -> Result<(Zeroizing<String>, &'static str), Missing> {
        let stored = stored.filter(|s| !s.is_empty());
        if let Some(s) = stored
            && matches!(vault::classify(s), Ciphertext::Dev)
        {
            let clear = Zeroizing::new(vault::decrypt_dev(s, &self.key_name).map_err(|_| "secret_invalid")?);
            vault::check_secret(&clear).map_err(|_| "secret_invalid")?;
            return Ok((clear, "dev"));
        }
        if let Some(entry) = self.keys.get(kid) {
            self.used_keys.insert(kid.to_string());
            return match entry {
                KeySecret::Secret(s) => Ok((s.clone(), "file")),
                KeySecret::Invalid => Err("secret_invalid"),
                KeySecret::Conflict => Err("secret_conflict"),
            };
        }
        if let Some(entry) = self.vault_keys.get(kid) {
            return match entry {
                KeySecret::Secret(s) => Ok((s.clone(), "vault")),
                KeySecret::Invalid | KeySecret::Conflict => Err("secret_invalid"),
            };
        }
        if let (Some(s), Some(keys)) = (stored, &self.transit)
            && matches!(vault::classify(s), Ciphertext::Transit { .. })
        {
            let clear = Zeroizing::new(vault::decrypt_transit(s, keys).map_err(|_| "secret_invalid")?);
            vault::check_secret(&clear).map_err(|_| "secret_invalid")?;
            return Ok((clear, "transit_key"));
        }
        Err("secret_missing")
    }

    /// Exported seeds no imported user took.
    pub fn unused_totp(&self) -> Vec<String> {
        let mut v: Vec<String> = self.totp.keys().filter(|u| !self.used_totp.contains(*u)).cloned().collect();
        v.sort();
        v
    }

    /// Exported secrets no imported key took.
    pub fn unused_keys(&self) -> Vec<String> {
        let mut v: Vec<String> = self.keys.keys().filter(|k| !self.used_keys.contains(*k)).cloned().collect();
        v.sort();
        v
    }
}

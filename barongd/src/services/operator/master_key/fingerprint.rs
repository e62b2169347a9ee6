//! Which master key a daemon may start with (issue 14). The key comes from `BARONG_MASTER_KEY` or
//! `keys/master.key`; one is made only for a SQLite database that holds nothing sealed yet (one
//! machine, first start). On PostgreSQL every daemon must share one key, so a missing key stops
//! start-up instead of becoming a second, local key. Once loaded, the key's id is compared with
//! the one the database recorded, so a wrong key is named as such before anything is opened.

use std::path::{Path, PathBuf};

use crate::services::seal::{self, Sealer};
use crate::store::DynStore;

/// Where the master key came from, as error messages name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    Env,
    File(PathBuf),
    /// Made by this start (a new SQLite database).
    Generated(PathBuf),
}

impl KeySource {
    pub fn is_env(&self) -> bool {
        *self == KeySource::Env
    }
}

impl std::fmt::Display for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeySource::Env => f.write_str("BARONG_MASTER_KEY"),
            KeySource::File(p) => write!(f, "{}", p.display()),
            KeySource::Generated(p) => write!(f, "{} (made by this start)", p.display()),
        }
    }
}

/// The command that makes a key, for messages.
pub fn make_key_hint(key_file: &Path) -> String {
    format!(
        "make one with `barongd keys new-master --out {}` (or `openssl rand -hex 32`, 64 hex characters, in a 0600 \
         file)",
        key_file.display()
    )
}

/// Loads the master key from `env_value` or `key_file`, making a key file only for a SQLite
/// database with nothing sealed in it.
pub async fn load(store: &DynStore, env_value: Option<&str>, key_file: &Path) -> Result<(Sealer, KeySource), String> {
    if let Some(v) = env_value {
        let sealer = Sealer::load(Some(v), key_file).map_err(|e| format!("BARONG_MASTER_KEY: {e}"))?;
        return Ok((sealer, KeySource::Env));
    }
    if key_file.exists() {
        return Ok((Sealer::load(None, key_file)?, KeySource::File(key_file.to_path_buf())));
    }
    if store.backend() == "postgres" {
        return Err(format!(
            "no master key: set BARONG_MASTER_KEY or provide {}. barongd does not make one on PostgreSQL, where every \
             daemon of the database needs the same key: {}, and give that same key to every daemon",
            key_file.display(),
            make_key_hint(key_file)
        ));
    }
    let recorded = store.master_key_fingerprint().await.map_err(|e| format!("master-key fingerprint: {e}"))?;
    let sealed = store.any_sealed_value().await.map_err(|e| format!("master-key fingerprint: {e}"))?;
    if recorded.is_some() || sealed.is_some() {
        let which = recorded.map(|id| format!(" (fingerprint {id})")).unwrap_or_default();
        return Err(format!(
            "no master key: {} is missing, and this database holds values sealed under its master key{which}. Restore \
             the key file that belongs to this database (a backup opens only with the key it was taken with), or set \
             BARONG_MASTER_KEY to that key; a new key would open none of them",
            key_file.display()
        ));
    }
    seal::write_new_key_file(key_file)?;
    tracing::info!(key_file = %key_file.display(), "new SQLite database: master key made");
    Ok((Sealer::load(None, key_file)?, KeySource::Generated(key_file.to_path_buf())))
}

/// Compares the loaded key ring (after `master_key::recover`) with the fingerprint the database
/// recorded, and records it when none is (a new database, or the first start after an upgrade:
/// then only if the key opens a value stored before).
pub async fn verify(store: &DynStore, sealer: &Sealer, source: &KeySource, now: i64) -> Result<(), String> {
    let (current, previous) = sealer.key_ids();
    // Mid-rotation the database is sealed under the old key until the rotation finishes.
    let ours = previous.clone().unwrap_or_else(|| current.clone());
    let accepted = |id: &str| id == current || previous.as_deref() == Some(id);
    let db = |e: crate::store::StoreError| format!("master-key fingerprint: {e}");
    let recorded = match store.master_key_fingerprint().await.map_err(db)? {
        Some(id) => id,
        None => {
            if let Some((column, value)) = store.any_sealed_value().await.map_err(db)?
                && sealer.open(&value).is_err()
            {
                return Err(format!(
                    "master key from {source}: this master key (fingerprint {ours}) is not the one this database was \
                     sealed with: it does not open {column}. {}",
                    fix(source)
                ));
            }
            store.record_master_key_fingerprint(&ours, now).await.map_err(db)?
        }
    };
    if accepted(&recorded) {
        return Ok(());
    }
    Err(format!(
        "master key from {source}: this master key is not the one this database was sealed with (fingerprint {ours}, \
         expected {recorded}). {}",
        fix(source)
    ))
}

fn fix(source: &KeySource) -> String {
    match source {
        KeySource::Env => "Set BARONG_MASTER_KEY to this database's key".into(),
        KeySource::File(p) | KeySource::Generated(p) => {
            format!("Put this database's key in {} (or set BARONG_MASTER_KEY to it)", p.display())
        }
    }
}

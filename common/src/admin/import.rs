//! `barongctl import barong` and friends (spec migration-from-barong §2): the options a run
//! takes, the secret inputs barongctl reads and hands over once, and the job's status.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// How a run reads and writes; no secret in here (it is stored with the job and shown).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ImportOptions {
    /// The source URL without its password (`mysql://user@host:port/db`).
    pub source: String,
    /// `RAILS_ENV` of the Barong that wrote the database (`production` by default).
    #[serde(default = "production")]
    pub rails_env: String,
    #[serde(default)]
    pub crc32_salt: String,
    #[serde(default = "barong")]
    pub vault_app_name: String,
    /// `DIR`, or `none` (rows without files); `None` when not given.
    #[serde(default)]
    pub uploads: Option<String>,
    /// `all`, `none` or `since=YYYY-MM-DD`.
    #[serde(default = "all")]
    pub activities: String,
    #[serde(default)]
    pub dry_run: bool,
    #[serde(default = "batch_size")]
    pub batch_size: i64,
    #[serde(default = "max_row_errors")]
    pub max_row_errors: i64,
    /// Continue this job instead of the open one.
    #[serde(default)]
    pub job: Option<i64>,
    /// Read TOTP seeds and API-key secrets from Vault itself (§2.8); without it, secrets files
    /// and an exported transit key are the only sources.
    #[serde(default)]
    pub vault: Option<VaultOptions>,
}

/// `--vault-addr` and friends; the token travels with the secret inputs.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct VaultOptions {
    /// `https://vault.example:8200`.
    pub addr: String,
    /// How seeds are read: `export` (the openware build's `totp/export`), `raw` (stock Vault's
    /// `sys/raw`, root token) or `none`.
    #[serde(default = "export")]
    pub totp: String,
    #[serde(default = "totp_mount")]
    pub totp_mount: String,
    #[serde(default = "transit_mount")]
    pub transit_mount: String,
    /// Compare this many imported seeds with Vault's `totp/code` (0: none).
    #[serde(default)]
    pub verify_totp: u32,
    /// PEM of a CA to trust for Vault's certificate, besides the usual roots.
    #[serde(default)]
    pub ca_pem: Option<String>,
    /// Accept any certificate (Barong itself ran its Vault client with `ssl_verify = false`).
    #[serde(default)]
    pub skip_verify: bool,
}

fn export() -> String {
    "export".into()
}
fn totp_mount() -> String {
    "totp".into()
}
fn transit_mount() -> String {
    "transit".into()
}

fn production() -> String {
    "production".into()
}
fn barong() -> String {
    "barong".into()
}
fn all() -> String {
    "all".into()
}
fn batch_size() -> i64 {
    1000
}
fn max_row_errors() -> i64 {
    1000
}

/// What barongctl read from files and the environment for the daemon: sealed into the job row
/// (so an interrupted run can continue) and erased when the job ends.
#[derive(Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ImportSecrets {
    /// `SECRET_KEY_BASE`; `None` when not given (then only non-production sources import PII).
    #[serde(default)]
    pub secret_key_base: Option<String>,
    /// The source database's password, when not in the URL given to the daemon.
    #[serde(default)]
    pub source_password: Option<String>,
    /// The text of each `--secrets-file`, in order.
    #[serde(default)]
    pub secrets_files: Vec<String>,
    /// The JSON of `GET transit/export/encryption-key/<app>_apikeys_secret`.
    #[serde(default)]
    pub transit_key: Option<String>,
    /// The Vault token for `VaultOptions`.
    #[serde(default)]
    pub vault_token: Option<String>,
}

impl ImportSecrets {
    /// Whether any input was given (a continuation without inputs reuses the sealed ones).
    pub fn is_empty(&self) -> bool {
        self.secret_key_base.is_none()
            && self.source_password.is_none()
            && self.secrets_files.is_empty()
            && self.transit_key.is_none()
            && self.vault_token.is_none()
    }
}

impl std::fmt::Debug for ImportSecrets {
    // Sizes only: these are the keys to every PII value and API key of the source.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImportSecrets")
            .field("secret_key_base", &self.secret_key_base.as_ref().map(|_| "[redacted]"))
            .field("source_password", &self.source_password.as_ref().map(|_| "[redacted]"))
            .field("secrets_files", &self.secrets_files.len())
            .field("transit_key", &self.transit_key.as_ref().map(|_| "[redacted]"))
            .field("vault_token", &self.vault_token.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

/// Per-table counters of a job (across its runs).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct TableCounters {
    /// Rows in the source at the last run's snapshot.
    pub source: i64,
    /// Rows read in the current run.
    pub done: i64,
    pub inserted: i64,
    pub updated: i64,
    pub unchanged: i64,
    pub skipped: i64,
    pub deleted: i64,
}

/// `import status`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ImportStatus {
    pub job: i64,
    /// `preflight`, `running`, `completed`, `finished`, `dry_run`, `failed`, `interrupted`,
    /// `cancelled`.
    pub state: String,
    pub dry_run: bool,
    pub run: i64,
    /// The table the run is on, while running.
    #[serde(default)]
    pub table: Option<String>,
    pub source: String,
    #[serde(default)]
    pub snapshot_at: Option<String>,
    pub elapsed_seconds: i64,
    /// In import order.
    pub tables: Vec<(String, TableCounters)>,
    /// Counts of report items and warnings.
    pub items: i64,
    pub warnings: i64,
    /// The reasons a preflight refused the run (`import.schema_unsupported: …`), all at once.
    #[serde(default)]
    pub refusals: Vec<String>,
    #[serde(default)]
    pub last_error: Option<String>,
    /// Per-run totals of the run that ended last: inserted, updated, deleted, skipped.
    #[serde(default)]
    pub last_run: BTreeMap<String, i64>,
}

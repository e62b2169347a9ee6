//! Daemon status and schema migrations.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StatusInfo {
    pub version: String,
    pub listen: String,
    pub database: String,
    pub uptime_seconds: u64,
    pub users: i64,
    pub pending_mail: i64,
    /// Event API messages not yet confirmed by RabbitMQ.
    #[serde(default)]
    pub pending_events: i64,
    /// The loaded `admin_permissions` (the abilities file), roles and rules in file order.
    #[serde(default)]
    pub abilities: Vec<AbilityRole>,
    /// Barong bcrypt digests still waiting for their user's next sign-in, by prefix and cost
    /// (`$2a$12`): the sign-in time floor holds while any remain.
    #[serde(default)]
    pub bcrypt_digests: std::collections::BTreeMap<String, i64>,
}

/// `backup`: where the copy is and how big.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BackupInfo {
    pub path: String,
    pub bytes: u64,
    /// The master key the copy's sealed values need, by where it lives (never the key itself).
    pub master_key: String,
}

/// A master-key rotation (`keys rotate-master`). Keys are named by their ids, never shown.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MasterKeyRotation {
    /// `none` (never rotated), `running`, `stalled` (unfinished and not running: see `error`;
    /// the same command continues it) or `finished`.
    pub state: String,
    /// Where the master key lives: `file` (keys/master.key) or `env` (BARONG_MASTER_KEY).
    pub key_source: String,
    /// The key sealing new values now.
    pub current_key_id: String,
    #[serde(default)]
    pub old_key_id: Option<String>,
    #[serde(default)]
    pub new_key_id: Option<String>,
    /// The table the re-seal is in.
    #[serde(default)]
    pub table: Option<String>,
    /// Values written back re-sealed so far.
    pub resealed: i64,
    /// Rows in all sealed tables (a value may be re-sealed twice after a crash).
    pub sealed_rows: i64,
    #[serde(default)]
    pub started_at: Option<String>,
    #[serde(default)]
    pub finished_at: Option<String>,
    #[serde(default)]
    pub error: Option<String>,
}

/// One role's abilities: `(action, models)` pairs as written (`manage`, `read`, …).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AbilityRole {
    pub role: String,
    pub rules: Vec<(String, Vec<String>)>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct MigrationInfo {
    pub version: i64,
    pub name: String,
    pub applied: bool,
    pub applied_at: Option<String>,
}

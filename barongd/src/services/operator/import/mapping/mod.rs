//! Barong's rows to barong-rs's (spec §2.5), one module per table family. A mapping sees the
//! run's context (what earlier phases imported, the PII keys, the secrets) and either gives the
//! target row or says why the row is skipped.

pub mod api_keys;
pub mod kyc;
pub mod plain;
pub mod users;

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::pii::Pii;
use super::report::{Item, Report};
use super::secrets::SecretSources;
use super::source::SourceRow;
use crate::config::Config;
use crate::services::seal::Sealer;
use crate::store::LabelRow;
use crate::store::import::{TableSpec, TargetRow, Val};

/// An imported user, as later phases need it.
#[derive(Debug, Clone)]
pub struct UserInfo {
    pub uid: String,
    pub otp: bool,
    /// The state and level Barong stored (kept; the drift check compares them with the labels).
    pub state: String,
    pub level: i64,
}

/// The run's shared state.
pub struct Ctx {
    pub sealer: Sealer,
    pub config: Arc<Config>,
    pub pii: Pii,
    pub secrets: SecretSources,
    pub report: Report,
    /// Users imported in this run (source id = target id).
    pub users: HashMap<i64, UserInfo>,
    /// Every user's imported labels, for the drift check after the pass (§2.5).
    pub labels: HashMap<i64, Vec<LabelRow>>,
    /// Lower-cased emails taken, with the user holding each.
    pub email_keys: HashMap<String, i64>,
    /// Service accounts imported in this run: id → uid.
    pub service_accounts: HashMap<i64, String>,
    /// Roles that have permission rows.
    pub roles_with_permissions: HashSet<String>,
    /// (user, Barong's referral_id), set in the post-pass.
    pub referrals: Vec<(i64, i64)>,
    /// barong-rs's indexes of numbers already imported as verified.
    pub verified_phones: HashSet<String>,
    /// Users with an open (drafted/submitted) profile imported.
    pub open_profiles: HashSet<i64>,
    /// Where imported files go: the daemon's store.
    pub files: crate::services::kyc::file_store::FileStore,
    /// `--uploads DIR` (`None`: `none`).
    pub uploads: Option<PathBuf>,
    /// `--activities since=` as unix seconds; `None` = all, `Some(i64::MAX)` = none.
    pub activities_since: Option<i64>,
    pub dry_run: bool,
}

impl Ctx {
    pub fn uid_of(&self, user_id: i64) -> Option<&str> {
        self.users.get(&user_id).map(|u| u.uid.as_str())
    }

    /// The row's user, or an `orphan` skip.
    pub fn owner(&self, table: &str, id: i64, user_id: i64) -> Result<&UserInfo, Skip> {
        self.users
            .get(&user_id)
            .ok_or_else(|| Box::new(Item::new("orphan", table, id).detail(format!("user {user_id} missing"))))
    }
}

/// Why a row is not imported: its report item (boxed: it is the rare path).
pub type Skip = Box<Item>;

/// A table's mapping.
pub trait Mapping: SourceRow {
    const SPEC: &'static TableSpec;
    /// What besides the row's columns decides whether it must be rewritten (a seed or secret
    /// became available, a file appeared).
    fn extras(&self, _ctx: &mut Ctx) -> String {
        String::new()
    }
    /// The target row; `write` says whether it will be written (files are copied only then).
    fn map(&self, ctx: &mut Ctx, write: bool) -> Result<TargetRow, Skip>;
}

/// SHA-256 over the source row's columns and the extras (§2.2).
pub fn digest<T: Mapping>(row: &T, extras: &str) -> String {
    let mut h = Sha256::new();
    h.update(serde_json::to_vec(row).unwrap_or_default());
    h.update([0]);
    h.update(extras.as_bytes());
    hex::encode(h.finalize())
}

/// Helpers to build value lists.
pub fn int(v: i64) -> Val {
    Val::Int(v)
}
pub fn opt_int(v: Option<i64>) -> Val {
    Val::OptInt(v)
}
pub fn text(v: &str) -> Val {
    Val::Text(v.to_string())
}
pub fn opt_text(v: Option<&str>) -> Val {
    Val::OptText(v.map(str::to_string))
}
pub fn row(spec: &'static TableSpec, values: Vec<Val>) -> TargetRow {
    TargetRow { spec, values }
}

//! The job's report (spec §2.9): counts per table across the job, and what the latest run found
//! (items name table, id and uid only — never an email, a clear value or a secret).

use std::collections::BTreeMap;

use common::admin::TableCounters;
use serde::{Deserialize, Serialize};

use super::source::Mark;

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Report {
    pub job: i64,
    pub state: String,
    pub dry_run: bool,
    pub source: SourceInfo,
    pub runs: Vec<RunInfo>,
    pub tables: BTreeMap<String, TableCounters>,
    pub secrets: SecretCoverage,
    pub passwords: Passwords,
    pub pii: PiiCounts,
    pub files: Files,
    pub review: Review,
    pub items: Vec<Item>,
    pub warnings: Vec<Warning>,
    /// Why the preflight refused the latest run (all reasons).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refusals: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SourceInfo {
    pub url: String,
    pub server: String,
    pub schema: String,
    pub rails_env: String,
    pub vault_app_name: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct RunInfo {
    pub run: i64,
    pub snapshot_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binlog: Option<String>,
    pub started_at: String,
    #[serde(default)]
    pub ended_at: Option<String>,
    pub marks: BTreeMap<String, Mark>,
    /// What this run wrote: inserted, updated, deleted, skipped.
    #[serde(default)]
    pub totals: BTreeMap<String, i64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct TotpCoverage {
    pub needed: i64,
    pub carried: i64,
    pub missing: i64,
    pub unused: i64,
    pub invalid: i64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct KeyCoverage {
    pub total: i64,
    pub carried: i64,
    pub unavailable: i64,
    pub by_source: BTreeMap<String, i64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SecretCoverage {
    pub totp: TotpCoverage,
    pub api_keys: KeyCoverage,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Passwords {
    /// Digests by prefix and cost (`$2a$12`).
    pub bcrypt: BTreeMap<String, i64>,
    pub unusable: i64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PiiCounts {
    pub values: i64,
    pub salts: i64,
    pub undecryptable: i64,
    pub bad_type: i64,
    pub index_mismatch: i64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Files {
    pub copied: i64,
    pub missing: i64,
    pub rejected: i64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Review {
    pub profiles_submitted: i64,
    pub documents_pending: i64,
}

/// One finding about one row.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Item {
    pub code: String,
    pub table: String,
    pub id: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl Item {
    pub fn new(code: &str, table: &str, id: i64) -> Self {
        Item { code: code.into(), table: table.into(), id, ..Default::default() }
    }
    pub fn uid(mut self, uid: Option<&str>) -> Self {
        self.uid = uid.map(str::to_string);
        self
    }
    pub fn kid(mut self, kid: &str) -> Self {
        self.kid = Some(kid.to_string());
        self
    }
    pub fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Warning {
    pub code: String,
    pub detail: String,
}

impl Report {
    /// Clears what a run recomputes; the per-table counters and earlier runs stay.
    pub fn start_run(&mut self) {
        self.secrets = SecretCoverage::default();
        self.passwords = Passwords::default();
        self.pii = PiiCounts::default();
        self.files = Files::default();
        self.review = Review::default();
        self.items.clear();
        self.warnings.clear();
    }

    pub fn item(&mut self, item: Item) {
        self.items.push(item);
    }

    pub fn warn(&mut self, code: &str, detail: impl Into<String>) {
        self.warnings.push(Warning { code: code.into(), detail: detail.into() });
    }

    /// How many rows were skipped in the current run.
    pub fn skipped(&self) -> i64 {
        self.runs.last().and_then(|r| r.totals.get("skipped").copied()).unwrap_or(0)
    }

    /// The report as §2.9 shows it, or one section of it.
    pub fn section(&self, name: Option<&str>) -> Result<serde_json::Value, String> {
        let whole = serde_json::to_value(self).map_err(|e| e.to_string())?;
        let Some(name) = name else { return Ok(whole) };
        let items_with = |codes: &[&str]| {
            serde_json::to_value(self.items.iter().filter(|i| codes.contains(&i.code.as_str())).collect::<Vec<_>>())
                .unwrap_or_default()
        };
        Ok(match name {
            "tables" => whole["tables"].clone(),
            "secrets" => whole["secrets"].clone(),
            "passwords" => whole["passwords"].clone(),
            "totp_missing" => items_with(&["totp_missing"]),
            "apikeys_without_secret" => items_with(&["secret_missing", "secret_invalid", "secret_conflict"]),
            "files_missing" => items_with(&["file_missing", "file_rejected"]),
            "drift" => items_with(&["state_drift_restrictive", "state_drift", "level_drift"]),
            "skipped" => serde_json::to_value(
                self.items.iter().filter(|i| SKIP_CODES.contains(&i.code.as_str())).collect::<Vec<_>>(),
            )
            .unwrap_or_default(),
            "config" => serde_json::json!({ "source": whole["source"], "warnings": whole["warnings"] }),
            other => return Err(format!("unknown section `{other}`")),
        })
    }
}

/// Item codes that mean the row was not imported.
pub const SKIP_CODES: &[&str] = &["orphan", "email_conflict", "label_bad_scope", "bad_encoding", "conflict"];

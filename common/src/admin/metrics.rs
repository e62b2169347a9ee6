//! The Admin API's dashboard counts, shared by `GET /admin/metrics` and `barongctl metrics`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Barong's metrics body, keys in Barong's order; `sucessful_logins` keeps Barong's spelling
/// (clients read that key). Day keys are `YYYY-MM-DD` (UTC), ascending.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Metrics {
    pub signups: BTreeMap<String, i64>,
    pub sucessful_logins: BTreeMap<String, i64>,
    pub failed_logins: BTreeMap<String, i64>,
    pub pending_applications: i64,
}

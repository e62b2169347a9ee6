//! The KYC review queue as the operator sees it.

use serde::{Deserialize, Serialize};

/// One entry of the KYC review queue.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct KycQueueItem {
    pub uid: String,
    pub email: String,
    /// `profile`, `document` or `address`.
    pub check: String,
    pub since: String,
}

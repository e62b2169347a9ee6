//! Settings that bound what one client can make the daemon hold or write: how slowly a request
//! body may arrive, how many uploads one address may keep open, and how many denied gateway
//! requests become audit rows.

use serde::{Deserialize, Serialize};

/// Reading request bodies (`request_body:`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BodySettings {
    /// A body that sends nothing for this long is refused with 408 `request.body_timeout`,
    /// seconds.
    pub idle_timeout_seconds: u64,
    /// Slowest accepted transfer: a body must be complete within `idle_timeout_seconds` plus its
    /// length at this rate (bytes per second), so trickling a byte now and then does not hold a
    /// connection either.
    pub min_bytes_per_second: u64,
    /// Uploads (`POST resource/documents`, `resource/addresses`) one client IP may have open at
    /// once; more get 429 `request.too_many_uploads`.
    pub max_open_uploads_per_ip: usize,
}

impl Default for BodySettings {
    fn default() -> Self {
        BodySettings { idle_timeout_seconds: 30, min_bytes_per_second: 16 * 1024, max_open_uploads_per_ip: 2 }
    }
}

/// Admin activity rows written when the gateway denies a request (`denied_audit:`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeniedAuditSettings {
    /// Denied-request rows recorded per client IP per minute; further denials are answered as
    /// usual but not recorded.
    pub max_per_ip_per_minute: u32,
    /// Denied-request rows recorded per minute from all addresses together.
    pub max_per_minute: u32,
    /// Longest text kept of the path, the user agent and each parameter of an audit row
    /// (denied or audited), characters; the rest is cut.
    pub max_field_chars: usize,
}

impl Default for DeniedAuditSettings {
    fn default() -> Self {
        DeniedAuditSettings { max_per_ip_per_minute: 30, max_per_minute: 600, max_field_chars: 1024 }
    }
}

/// The pace of `barongctl keys rotate-master` (`master_key_rotation:`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RotationSettings {
    /// Rows re-sealed per transaction.
    pub batch_size: u32,
    /// Pause after each batch, milliseconds: spares the database on a busy site (the integration
    /// test also slows a rotation down with it to kill the daemon halfway).
    pub batch_delay_ms: u64,
}

impl Default for RotationSettings {
    fn default() -> Self {
        RotationSettings { batch_size: 500, batch_delay_ms: 0 }
    }
}

/// The checks of these settings, added to `errors`.
pub fn limit_errors(body: &BodySettings, audit: &DeniedAuditSettings, poll_ms: u64, errors: &mut Vec<String>) {
    if body.idle_timeout_seconds < 1 {
        errors.push("request_body.idle_timeout_seconds: must be at least 1".into());
    }
    if body.min_bytes_per_second < 1 {
        errors.push("request_body.min_bytes_per_second: must be at least 1".into());
    }
    if body.max_open_uploads_per_ip < 1 {
        errors.push("request_body.max_open_uploads_per_ip: must be at least 1".into());
    }
    if audit.max_field_chars < 64 {
        errors.push("denied_audit.max_field_chars: must be at least 64".into());
    }
    if !(10..=60_000).contains(&poll_ms) {
        errors.push("change_feed_poll_ms: must be 10 to 60000".into());
    }
}

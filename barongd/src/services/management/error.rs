//! The Management API's own error shapes (spec §1.4, §4.8): `{"error": "text"}`, a raw
//! attribute hash, or Grape's joined validation messages; internal errors stay opaque.

use serde_json::{Value, json};

use crate::services::error::ServiceError;

#[derive(Debug)]
pub enum MgmtError {
    /// A status and the exact body to answer with.
    Reply(u16, Value),
    /// Our failure: logged with the request id, answered as `server.internal_error`.
    Internal(String),
}

pub type MgmtResult<T> = Result<T, MgmtError>;

/// An entity as JSON text, keeping its field order (a `Value` would sort the keys).
pub fn to_json<T: serde::Serialize>(entity: &T) -> MgmtResult<String> {
    serde_json::to_string(entity).map_err(MgmtError::internal)
}

impl MgmtError {
    pub fn message(status: u16, text: &str) -> Self {
        MgmtError::Reply(status, json!({ "error": text }))
    }
    /// 404 `Record is not found` (Barong's raising finders).
    pub fn not_found() -> Self {
        Self::message(404, "Record is not found")
    }
    pub fn internal(e: impl std::fmt::Display) -> Self {
        MgmtError::Internal(e.to_string())
    }
}

impl From<ServiceError> for MgmtError {
    /// Services shared with the other APIs answer in Barong's `{"errors": [keys]}`; the
    /// Management API keeps that shape where Barong did (`{"errors":["attr.error"]}`).
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Refused { why, keys } => MgmtError::Reply(status_of(why), json!({ "errors": keys })),
            ServiceError::Internal(detail) => MgmtError::Internal(detail),
        }
    }
}

fn status_of(why: crate::services::error::Refusal) -> u16 {
    use crate::services::error::Refusal;
    match why {
        Refusal::NotFound => 404,
        Refusal::Unauthenticated => 401,
        Refusal::Forbidden => 403,
        Refusal::Throttled => 429,
        Refusal::Rejected | Refusal::Malformed => 400,
        _ => 422,
    }
}

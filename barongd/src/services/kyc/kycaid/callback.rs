//! KYCAID's callback (`POST public/kyc`): checked against the signature KYCAID makes with the
//! API token, then queued as a verification job. The body's own verdict is never used: the
//! job fetches the verification from KYCAID (as Barong did), so a replayed or reordered
//! callback can only make barongd ask again.

use serde_json::Value;

use super::queue::{self, Job};
use super::signature;
use crate::services::App;
use crate::services::error::{ServiceError, ServiceResult};

/// The error key of a callback without KYCAID's signature.
pub const INVALID_SIGNATURE: &str = "public.kyc.invalid_signature";

/// The header KYCAID signs callbacks in.
pub fn signature_header() -> &'static str {
    signature::HEADER
}

/// Longest verification or applicant id accepted (KYCAID's are UUID-like).
const MAX_ID_CHARS: usize = 128;

/// What became of a callback.
#[derive(Debug, PartialEq, Eq)]
pub enum Received {
    /// The provider is `local`: Barong answered 422.
    NoProvider,
    /// Signed and taken (queued, or ignored with a log line when it names no verification or
    /// an unknown applicant: the answer does not tell a caller which).
    Accepted,
}

pub async fn receive(app: &App, body: &[u8], signature_hex: Option<&str>) -> ServiceResult<Received> {
    let Some(kycaid) = &app.kycaid else { return Ok(Received::NoProvider) };
    if !signature_hex.is_some_and(|s| signature::verify(kycaid.client.token(), body, s)) {
        let why = if signature_hex.is_some() { "a wrong" } else { "no" };
        tracing::warn!("KYC callback with {why} {} signature refused", signature::HEADER);
        return Err(ServiceError::unauthenticated(INVALID_SIGNATURE));
    }
    let payload: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let id = |k: &str| {
        payload.get(k).and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty() && s.len() <= MAX_ID_CHARS)
    };
    let (Some(verification_id), Some(applicant_id)) = (id("verification_id"), id("applicant_id")) else {
        tracing::info!("signed KYC callback without verification_id and applicant_id ignored");
        return Ok(Received::Accepted);
    };
    let Some(user_id) = app.store.user_of_applicant(applicant_id).await? else {
        tracing::warn!(applicant_id, "signed KYC callback for an unknown applicant ignored");
        return Ok(Received::Accepted);
    };
    let job =
        Job::Verification { verification_id: verification_id.to_string(), applicant_id: applicant_id.to_string() };
    queue::enqueue(app, user_id, &job).await?;
    Ok(Received::Accepted)
}

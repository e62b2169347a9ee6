//! Barong's Management API: server-to-server requests signed by configured signers (general
//! JSON JWS, spec admin-and-management §4). `verify` checks a request's signatures and claims
//! (pure), `authorize` adds the single use of its `jti`; the endpoint modules read Grape-style
//! parameters (`params`) and call the same services as the other operator surfaces.

pub mod activity;
pub mod api_keys;
pub mod documents;
pub mod error;
pub mod labels;
pub mod model_errors;
pub mod otp;
pub mod params;
pub mod phones;
pub mod profiles;
pub mod service_account_create;
pub mod service_accounts;
pub mod tools;
pub mod user_create;
pub mod user_import;
pub mod user_list;
pub mod users;
pub mod verify;

use crate::services::App;
use crate::services::management::error::MgmtError;
use crate::services::management::verify::{Refused, Verified};

const FAILED: &str = "Failed to verify JWT.";
const NOT_ENOUGH: &str = "Not enough signatures for the action.";

/// Verifies a request body for the route's `scope` and records its `jti` once; the reason of a
/// refusal is logged with the request id and never answered.
pub async fn authorize(
    app: &App,
    body: &serde_json::Value,
    scope: &str,
    request_id: &str,
) -> Result<Verified, MgmtError> {
    let settings = &app.config.management_api;
    let verified = match verify::verify(body, scope, app.management.as_deref(), settings, app.clock.now()) {
        Ok(v) => v,
        Err(Refused::Failed(reason)) => {
            tracing::warn!(%request_id, scope, reason, "management request refused");
            return Err(MgmtError::message(401, FAILED));
        }
        Err(Refused::NotEnough(reason)) => {
            tracing::warn!(%request_id, scope, reason, "management request refused");
            return Err(MgmtError::message(401, NOT_ENOUGH));
        }
    };
    if let Some((jti, until)) = &verified.jti
        && !app.store.claim_management_jti(jti, *until).await.map_err(MgmtError::internal)?
    {
        tracing::warn!(%request_id, scope, "management request refused: jti already used");
        return Err(MgmtError::message(401, FAILED));
    }
    Ok(verified)
}

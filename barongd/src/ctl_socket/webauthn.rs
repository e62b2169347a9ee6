//! `user webauthn list|remove`: a user's WebAuthn credentials as support sees them, and the way
//! out when a user lost their authenticator. A removal leaves the admin activity row an Admin API
//! request `DELETE users/webauthn` would, and an `otp` activity on the user.

use common::admin::ReplyData;
use serde_json::json;

use crate::ctl_socket::admin_api::Caller;
use crate::services::App;
use crate::services::context::RequestContext;
use crate::services::error::{ServiceError, ServiceResult};
use crate::services::events::activity::{self, Outcome};
use crate::services::identity::webauthn::enrolment;
use crate::services::operator::users;

pub async fn list(app: &App, uid: &str) -> ServiceResult<ReplyData> {
    let user = users::find(app, uid).await?;
    Ok(ReplyData::WebauthnCredentials { uid: user.uid.clone(), credentials: enrolment::list(app, user.id).await? })
}

pub async fn remove(app: &App, caller: Caller, uid: &str, id: i64, reason: &str) -> ServiceResult<ReplyData> {
    let reason = reason.trim();
    let r = async {
        if reason.is_empty() {
            return Err(ServiceError::invalid("admin.user.empty_reason"));
        }
        let user = users::find(app, uid).await?;
        if !enrolment::remove(app, &user, id).await? {
            return Err(ServiceError::not_found("record.not_found"));
        }
        let ctx = RequestContext { ip: "local".into(), request_id: "barongctl".into(), ..Default::default() };
        let why = format!("Removed by the operator: {reason}");
        activity::record(app, &ctx, user.id, "otp", "webauthn::delete", Outcome::Succeed, Some(&why)).await;
        tracing::info!(uid = %user.uid, credential = id, "WebAuthn credential removed by the operator");
        Ok(ReplyData::WebauthnCredentials { uid: user.uid.clone(), credentials: enrolment::list(app, user.id).await? })
    }
    .await;
    caller.log(app, "DELETE", "users/webauthn", json!({"uid": uid, "id": id, "reason": reason}), &r).await;
    r
}

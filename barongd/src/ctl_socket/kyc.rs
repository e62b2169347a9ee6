//! `barongctl kyc ...`: the review queue, what a reviewer looks at, the decisions with their
//! reasons and their history. Each decision and each look at a user's KYC data leaves the admin
//! activity row the Admin API would write for the same request.

use common::admin::ReplyData;
use serde_json::json;

use crate::ctl_socket::admin_api::Caller;
use crate::model::{CheckState, ProfileState};
use crate::services::App;
use crate::services::error::ServiceResult;
use crate::services::kyc::levels::Reviewer;
use crate::services::kyc::{profiles, review};
use crate::services::operator::{kyc, users};

/// The author the history records for a decision made over the socket.
const AUTHOR: &str = "barongctl";

fn reviewer(reason: Option<&str>) -> ServiceResult<Reviewer> {
    Ok(Reviewer { author: AUTHOR.to_string(), reason: review::reason(reason)? })
}

/// `kyc document|address verify|reject USER [--reason TEXT]`.
pub async fn check(
    app: &App,
    c: Caller,
    who: &str,
    check: &str,
    verdict: &str,
    reason: Option<&str>,
) -> ServiceResult<ReplyData> {
    let mut uid = who.to_string();
    let r = async {
        let user = users::find(app, who).await?;
        uid = user.uid.clone();
        let reviewer = reviewer(reason)?;
        review::review_check(app, &user, check, verdict, reviewer).await
    }
    .await;
    let params = json!({"uid": uid, "key": check, "value": verdict, "scope": "private", "description": reason});
    c.log(app, "POST", "users/labels/update", params, &r).await;
    Ok(ReplyData::User(Box::new(r?)))
}

/// `kyc profile verify|reject USER [--reason TEXT]`.
pub async fn profile(app: &App, c: Caller, who: &str, verdict: &str, reason: Option<&str>) -> ServiceResult<ReplyData> {
    let mut uid = who.to_string();
    let r = async {
        let user = users::find(app, who).await?;
        uid = user.uid.clone();
        let state = match review::verdict(verdict)? {
            CheckState::Verified => ProfileState::Verified,
            _ => ProfileState::Rejected,
        };
        let reviewer = reviewer(reason)?;
        profiles::review(app, &user, state, &reviewer.author, reviewer.reason.as_deref()).await
    }
    .await;
    c.log(app, "PUT", "profiles", json!({"uid": uid, "state": verdict, "reason": reason}), &r).await;
    Ok(ReplyData::Profile(Box::new(r?)))
}

/// `kyc show USER`: read as the Admin API's `GET users/:uid` is, and recorded as one.
pub async fn show(app: &App, c: Caller, who: &str) -> ServiceResult<ReplyData> {
    let user = users::find(app, who).await?;
    let r = kyc::show(app, &user).await;
    c.log(app, "GET", "users/kyc", json!({"uid": user.uid}), &r).await;
    Ok(ReplyData::KycCase(Box::new(r?)))
}

/// `kyc show USER --export DIR`, one file at a time: recorded as the admin download it is.
pub async fn file(app: &App, c: Caller, who: &str, id: i64) -> ServiceResult<ReplyData> {
    let user = users::find(app, who).await?;
    let r = kyc::file(app, &user, id).await;
    c.log(app, "GET", "users/documents/upload", json!({"uid": user.uid, "id": id}), &r).await;
    Ok(ReplyData::KycFile(Box::new(r?)))
}

/// `kyc history [USER]`.
pub async fn history(app: &App, who: Option<&str>, limit: Option<i64>) -> ServiceResult<ReplyData> {
    let user = match who {
        Some(w) => Some(users::find(app, w).await?),
        None => None,
    };
    let decisions = review::history(app, user.as_ref(), limit.unwrap_or(100)).await?;
    Ok(ReplyData::KycHistory { decisions })
}

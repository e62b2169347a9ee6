//! Barong's VerificationsWorker: after a signed callback, the verification is fetched from
//! KYCAID by id (the callback's own verdict is never trusted) and, once `completed`, each
//! check the user has a private label for becomes `verified` or `rejected`; `document` also
//! needs `facial`. Decisions are recorded in the review history with author `kycaid`.

use reqwest::Method;
use serde_json::Value;

use super::client::Client;
use super::outcome::{Failure, refused_or_retry};
use crate::model::{CheckState, LabelScope};
use crate::services::App;
use crate::services::kyc::levels::{self, LabelChange, Reviewer};
use crate::services::kyc::review;
use crate::store::UserRow;

pub async fn run(
    app: &App,
    client: &Client,
    user: &UserRow,
    verification_id: &str,
    applicant_id: &str,
) -> Result<(), Failure> {
    let path = format!("verifications/{}", path_segment(verification_id));
    let fetched = match refused_or_retry(client.json(Method::GET, &path, None).await)? {
        Ok(v) => v,
        Err(why) => {
            tracing::warn!(uid = %user.uid, verification_id, error = %why, "KYCAID verification not found; nothing changed");
            return Ok(());
        }
    };
    // A verification of another applicant cannot decide this user's checks.
    if fetched.get("applicant_id").and_then(Value::as_str).is_some_and(|a| a != applicant_id) {
        tracing::warn!(uid = %user.uid, verification_id, "KYCAID verification belongs to another applicant; ignored");
        return Ok(());
    }
    if fetched.get("status").and_then(Value::as_str) != Some("completed") {
        tracing::info!(uid = %user.uid, verification_id, "KYCAID verification not completed yet");
        return Ok(());
    }
    let Some(checks) = fetched.get("verifications").and_then(Value::as_object) else { return Ok(()) };
    let labels = app.store.labels_of(user.id).await?;
    let verified = |v: Option<&Value>| v.and_then(|d| d.get("verified")).and_then(Value::as_bool).unwrap_or(false);
    for (name, decision) in checks {
        if !labels.iter().any(|l| &l.key == name && l.scope == LabelScope::Private) {
            continue;
        }
        let ok = verified(Some(decision)) && (name != "document" || verified(checks.get("facial")));
        let verdict = if ok { CheckState::Verified } else { CheckState::Rejected };
        let comment = decision.get("comment").and_then(Value::as_str);
        let user = app.store.user_by_id(user.id).await?.unwrap_or_else(|| user.clone());
        decide(app, &user, name, verdict, comment).await?;
        tracing::info!(uid = %user.uid, check = %name, verdict = verdict.as_str(), "KYCAID decision applied");
    }
    Ok(())
}

/// Sets the user's private `key` label to `verdict` as KYCAID's decision (level and state
/// follow; the reason, when usable, is the label's description).
pub(super) async fn decide(
    app: &App,
    user: &UserRow,
    key: &str,
    verdict: CheckState,
    reason: Option<&str>,
) -> Result<(), Failure> {
    let reason = review::reason(reason).ok().flatten();
    let change = LabelChange::prepare(app, user, key, verdict.as_str(), LabelScope::Private).await?;
    let reviewer = Reviewer { author: super::AUTHOR.to_string(), reason };
    levels::upsert(app, user, change.decided_by(reviewer), &|_, _| Vec::new()).await?;
    Ok(())
}

/// Everything but RFC 3986's unreserved characters is escaped in a path segment.
const SEGMENT: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// An id KYCAID gave, made safe as one path segment (never `..` or a `/`).
pub(super) fn path_segment(id: &str) -> String {
    match id {
        "." | ".." => id.replace('.', "%2E"),
        _ => percent_encoding::utf8_percent_encode(id, SEGMENT).to_string(),
    }
}

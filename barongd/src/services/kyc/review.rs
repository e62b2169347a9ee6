//! The operator's side of local KYC (Barong's admin review): what waits for a
//! decision, the decisions on document and address checks with their reasons, and the history
//! of decisions. Profile decisions are in `profiles::review`. Barong did this through its admin
//! API and label edits; barong-rs gives it to `barongctl kyc`.

use common::admin::{KycDecision, KycQueueItem};
use common::entities::UserWithFullInfo;

use crate::model::labels::keys as label_keys;
use crate::model::{CheckState, LabelScope};
use crate::services::App;
use crate::services::account::full_info;
use crate::services::clock::iso8601;
use crate::services::error::{ServiceError, ServiceResult};
use crate::services::events::mail::MailKind;
use crate::services::kyc::levels::{self, LabelChange, Reviewer};
use crate::store::UserRow;
use crate::store::kyc_reviews::ReviewRow;

/// The checks an operator decides through labels.
const CHECKS: [&str; 2] = [label_keys::DOCUMENT, label_keys::ADDRESS];

/// Longest reason, in characters: a mail paragraph, not a document.
pub const MAX_REASON_CHARS: usize = 1000;

/// A decision: `verified` or `rejected`.
pub fn verdict(s: &str) -> ServiceResult<CheckState> {
    CheckState::verdict(s).ok_or_else(|| ServiceError::invalid("admin.kyc.invalid_verdict"))
}

/// A reviewer's reason, trimmed (blank is none); too long or holding control characters other
/// than line breaks is `admin.kyc.invalid_reason`.
pub fn reason(text: Option<&str>) -> ServiceResult<Option<String>> {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let bad = text.chars().count() > MAX_REASON_CHARS || text.chars().any(|c| c.is_control() && c != '\n');
    if bad {
        return Err(ServiceError::invalid("admin.kyc.invalid_reason"));
    }
    Ok(Some(text.to_string()))
}

pub async fn queue(app: &App, limit: i64) -> ServiceResult<Vec<KycQueueItem>> {
    let rows = app.store.kyc_queue(limit.clamp(1, 1000)).await?;
    Ok(rows
        .into_iter()
        .map(|r| KycQueueItem { uid: r.uid, email: r.email, check: r.item, since: iso8601(r.since) })
        .collect())
}

/// The newest decisions, of `user` or of everyone, newest first.
pub async fn history(app: &App, user: Option<&UserRow>, limit: i64) -> ServiceResult<Vec<KycDecision>> {
    let rows = app.store.kyc_reviews(user.map(|u| u.id), limit.clamp(1, 1000)).await?;
    Ok(rows.into_iter().map(decision).collect())
}

fn decision(r: ReviewRow) -> KycDecision {
    KycDecision {
        id: r.id,
        uid: r.uid,
        email: r.email,
        check: r.check_key,
        verdict: r.verdict,
        reason: r.reason,
        author: r.author,
        at: iso8601(r.created_at),
    }
}

/// Sets the private `document`/`address` label to the verdict, which recomputes level and state
/// (`document: verified` is level 3 of the seeded levels), records the decision with its reason
/// in the same transaction and tells a rejected user why. Only a pending check can be decided,
/// so an operator cannot verify what the user never sent.
pub async fn review_check(
    app: &App,
    user: &UserRow,
    check: &str,
    decision: &str,
    reviewer: Reviewer,
) -> ServiceResult<UserWithFullInfo> {
    if !CHECKS.contains(&check) {
        return Err(ServiceError::invalid("admin.kyc.invalid_check"));
    }
    let decision = verdict(decision)?;
    let labels = app.store.labels_of(user.id).await?;
    let pending = labels
        .iter()
        .any(|l| l.key == check && l.scope == LabelScope::Private && l.value == CheckState::Pending.as_str());
    if !pending {
        return Err(ServiceError::not_found("admin.kyc.not_pending"));
    }
    let reason = reviewer.reason.clone();
    let change = LabelChange::prepare(app, user, check, decision.as_str(), LabelScope::Private).await?;
    let user = levels::upsert(app, user, change.decided_by(reviewer), &|_, _| Vec::new()).await?;
    notify(app, &user, check, decision.as_str(), reason.as_deref()).await;
    full_info::user_with_full_info(app, &user).await
}

/// Mails a rejected user the reviewer's reason. The decision is stored already, so a mail that
/// cannot be queued is logged, not undone.
pub async fn notify(app: &App, user: &UserRow, check: &str, verdict: &str, reason: Option<&str>) {
    if verdict != CheckState::Rejected.as_str() {
        return;
    }
    let mail = MailKind::KycRejected { check: check.to_string(), reason: reason.map(str::to_string) };
    if let Err(e) = app.mailer.send(&user.email, &user.language, mail, app.clock.now()).await {
        tracing::warn!(uid = %user.uid, check, error = %e, "KYC rejection mail not queued");
    }
}

//! The operator's side of local KYC (Barong's admin review): what waits for a
//! decision, and the decisions on document and address checks. Profile decisions are in
//! `profiles::review`. Barong did this through its admin API and label edits; barong-rs gives it
//! to `barongctl kyc`.

use common::admin::KycQueueItem;
use common::entities::UserWithFullInfo;

use crate::model::labels::keys as label_keys;
use crate::model::{CheckState, LabelScope};
use crate::services::App;
use crate::services::account::full_info;
use crate::services::clock::iso8601;
use crate::services::error::{ServiceError, ServiceResult};
use crate::services::kyc::levels;
use crate::store::UserRow;

/// The checks an operator decides through labels.
const CHECKS: [&str; 2] = [label_keys::DOCUMENT, label_keys::ADDRESS];

/// A decision: `verified` or `rejected`.
pub fn verdict(s: &str) -> ServiceResult<CheckState> {
    CheckState::verdict(s).ok_or_else(|| ServiceError::invalid("admin.kyc.invalid_verdict"))
}

pub async fn queue(app: &App, limit: i64) -> ServiceResult<Vec<KycQueueItem>> {
    let rows = app.store.kyc_queue(limit.clamp(1, 1000)).await?;
    Ok(rows
        .into_iter()
        .map(|r| KycQueueItem { uid: r.uid, email: r.email, check: r.item, since: iso8601(r.since) })
        .collect())
}

/// Sets the private `document`/`address` label to the verdict, which recomputes level and state
/// (`document: verified` is level 3 of the seeded levels). Only a pending check can be decided,
/// so an operator cannot verify what the user never sent.
pub async fn review_check(app: &App, user: &UserRow, check: &str, decision: &str) -> ServiceResult<UserWithFullInfo> {
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
    let user = levels::set_private_label(app, user, check, decision.as_str()).await?;
    full_info::user_with_full_info(app, &user).await
}

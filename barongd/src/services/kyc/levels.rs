//! The labels → level and state engine, run after every change to a
//! user's private labels.

use crate::config::Config;

use crate::model::labels::keys as label_keys;
use crate::model::{AccountState, CheckState, LabelScope};
use crate::services::App;
use crate::services::error::{ServiceError, ServiceResult};
use crate::services::events::event_api;
use crate::services::kyc::uploads;
use crate::store::kyc_reviews::ReviewNote;
use crate::store::labels::{Description, LabelMode, LabelWrite};
use crate::store::{LabelRow, LevelRow, PendingEvent, StoreError, UserRow};

/// Level: walk levels by id; the highest id whose key:value (and every earlier one) is present
/// among the private labels.
pub fn level_of(levels: &[LevelRow], labels: &[LabelRow]) -> i64 {
    let mut level = 0;
    for l in levels {
        if labels.iter().any(|x| x.scope == LabelScope::Private && x.key == l.key && x.value == l.value) {
            level = l.id;
        } else {
            break;
        }
    }
    level
}

/// State: `pending`, `active` when every activation requirement is a private label, then the
/// last matching state trigger wins. Only private labels trigger (Barong let public labels,
/// which users write themselves, change their own state: docs/barong-weaknesses-fixed.md#w-label-state).
pub fn state_of(config: &Config, labels: &[LabelRow]) -> AccountState {
    let private = || labels.iter().filter(|l| l.scope == LabelScope::Private);
    let mut state = AccountState::Pending;
    if config.activation_requirements.iter().all(|(k, v)| private().any(|l| &l.key == k && &l.value == v)) {
        state = AccountState::Active;
    }
    for t in &config.state_triggers {
        if private().any(|l| t.labels.contains(&l.key)) {
            state = AccountState::from(t.state.as_str());
        }
    }
    state
}

/// Events a label write adds to its own, built from the user as the write leaves it and the
/// referrer's uid.
pub type ExtraEvents<'a> = &'a (dyn Fn(&UserRow, Option<&str>) -> Vec<PendingEvent> + Send + Sync);

/// Sets a private label and saves the recomputed state and level when they change.
pub async fn set_private_label(app: &App, user: &UserRow, key: &str, value: &str) -> ServiceResult<UserRow> {
    set_label(app, user, key, value, LabelScope::Private, &|_, _| Vec::new()).await
}

/// Sets a label, saves the state and level it leaves and writes the label's events, the user's
/// `model.user.updated` and `extra` in the same transaction.
pub async fn set_label(
    app: &App,
    user: &UserRow,
    key: &str,
    value: &str,
    scope: LabelScope,
    extra: ExtraEvents<'_>,
) -> ServiceResult<UserRow> {
    let change = LabelChange::prepare(app, user, key, value, scope).await?;
    upsert(app, user, change, extra).await
}

/// Applies an upsert `change` (one made by [`LabelChange::prepare`]); gives the user as left.
pub async fn upsert(app: &App, user: &UserRow, change: LabelChange, extra: ExtraEvents<'_>) -> ServiceResult<UserRow> {
    match apply(app, user, change, extra).await? {
        Some((_, after)) => Ok(after),
        None => Err(ServiceError::internal("an upsert wrote no label")),
    }
}

/// Writes `change` with its events and `extra`, in one transaction. Gives the stored label and
/// the user as left, or `None` (nothing written) when an [`LabelMode::Update`] found no label;
/// creating a label that exists is 422 `key.taken`.
pub async fn apply(
    app: &App,
    user: &UserRow,
    change: LabelChange,
    extra: ExtraEvents<'_>,
) -> ServiceResult<Option<(LabelRow, UserRow)>> {
    let events = |label: &LabelRow| {
        let mut events = change.events(app, user, label);
        events.extend(extra(&change.after, change.referral.as_deref()));
        events
    };
    let label = match app.store.save_label_with_events(&change.write(), &events).await {
        Ok(Some(label)) => label,
        Ok(None) => return Ok(None),
        // (user_id, key, scope) is the labels table's only unique key.
        Err(StoreError::Unique(_)) => return Err(ServiceError::invalid("key.taken")),
        Err(e) => return Err(e.into()),
    };
    Ok(Some((label, change.finish(app, user).await?)))
}

/// Deletes the (key, scope) label, saving the level and state the remaining labels give and the
/// user's `model.user.updated` in the same transaction. The user as left, or `None` when there
/// was no such label. A deletion sends no label event (and no `system.document.*`, which
/// Barong re-sent when a decided document label was deleted).
pub async fn remove_label(app: &App, user: &UserRow, key: &str, scope: LabelScope) -> ServiceResult<Option<UserRow>> {
    let now = app.clock.now();
    let mut labels = app.store.labels_of(user.id).await?;
    labels.retain(|l| !(l.key == key && l.scope == scope));
    let (after, changed) = outcome(app, user, &labels, now).await?;
    let events = if changed { event_api::user_updated_events(app, user, &after).await } else { Vec::new() };
    let state_level = changed.then_some((&after.state, after.level));
    if !app.store.remove_label_with_events(user.id, key, scope, state_level, now, &events).await? {
        return Ok(None);
    }
    if after.state != user.state {
        cascade_owner_state(app, &after).await?;
    }
    Ok(Some(after))
}

/// The user as `labels` leave them, and whether their level or state differs.
async fn outcome(app: &App, user: &UserRow, labels: &[LabelRow], now: i64) -> ServiceResult<(UserRow, bool)> {
    let level = level_of(&app.store.levels().await?, labels);
    let state = state_of(&app.config, labels);
    let changed = level != user.level || state != user.state;
    let after = if changed { UserRow { level, state, updated_at: now, ..user.clone() } } else { user.clone() };
    Ok((after, changed))
}

/// A label write worked out before anything is written: the user as it leaves them and the
/// events it reports. Level and state are computed from the labels read before the write with
/// this one applied, so writes that move a KYC step (profiles, documents) can make it in their
/// own transaction.
pub struct LabelChange {
    key: String,
    value: String,
    scope: LabelScope,
    /// `None`: keep the stored description; `Some(d)`: the description becomes `d`.
    description: Option<Option<String>>,
    mode: LabelMode,
    now: i64,
    /// The label as it was before the write, if there was one.
    previous: Option<LabelRow>,
    changed: bool,
    /// The user as the write leaves them.
    pub after: UserRow,
    /// The referrer's uid, for event records (looked up only when the Event API is on).
    pub referral: Option<String>,
    /// Who made this KYC decision and why, for the review history.
    review: Option<Reviewer>,
}

/// The author and reason of a KYC decision.
#[derive(Debug, Clone)]
pub struct Reviewer {
    /// `barongctl` or the admin's uid.
    pub author: String,
    pub reason: Option<String>,
}

impl LabelChange {
    /// Creates or overwrites the label, keeping its description.
    pub async fn prepare(app: &App, user: &UserRow, key: &str, value: &str, scope: LabelScope) -> ServiceResult<Self> {
        Self::prepare_as(app, user, key, value, scope, None, LabelMode::Upsert).await
    }

    /// As [`Self::prepare`], with a description to set (`Some`) and a [`LabelMode`].
    pub async fn prepare_as(
        app: &App,
        user: &UserRow,
        key: &str,
        value: &str,
        scope: LabelScope,
        description: Option<Option<String>>,
        mode: LabelMode,
    ) -> ServiceResult<Self> {
        let now = app.clock.now();
        let mut labels = app.store.labels_of(user.id).await?;
        let previous = labels.iter().find(|l| l.key == key && l.scope == scope).cloned();
        labels.retain(|l| !(l.key == key && l.scope == scope));
        labels.push(LabelRow {
            id: 0,
            user_id: user.id,
            key: key.to_string(),
            value: value.to_string(),
            scope,
            description: None,
            created_at: now,
            updated_at: now,
        });
        let (after, changed) = outcome(app, user, &labels, now).await?;
        let referral =
            if event_api::enabled(app) { event_api::referral_uid(app, user.referral_id).await } else { None };
        Ok(LabelChange {
            key: key.to_string(),
            value: value.to_string(),
            scope,
            description,
            mode,
            now,
            previous,
            changed,
            after,
            referral,
            review: None,
        })
    }

    /// Makes the write a KYC decision: recorded in the review history in the same transaction,
    /// with the reason as the label's description (`system.document.*` and `model.label.*` carry
    /// it to consumers; no reason clears an earlier one).
    pub fn decided_by(mut self, reviewer: Reviewer) -> Self {
        self.description = Some(reviewer.reason.clone());
        self.recorded_by(reviewer)
    }

    /// Records the write in the review history, leaving the description as the write says.
    pub fn recorded_by(mut self, reviewer: Reviewer) -> Self {
        self.review = Some(reviewer);
        self
    }

    /// Whether the write decides a KYC check an operator reviews: a private `document`,
    /// `address` or `profile` label newly set to `verified` or `rejected`.
    pub fn is_review_decision(&self) -> bool {
        let check = [label_keys::DOCUMENT, label_keys::ADDRESS, label_keys::PROFILE].contains(&self.key.as_str());
        let decided = CheckState::verdict(&self.value).is_some();
        let changed = self.previous.as_ref().is_none_or(|p| p.value != self.value);
        check && decided && changed && self.scope == LabelScope::Private
    }

    /// The label's key and value as written.
    pub fn key_value(&self) -> (&str, &str) {
        (&self.key, &self.value)
    }

    /// The label as it was before the write, if there was one.
    pub fn previous(&self) -> Option<&LabelRow> {
        self.previous.as_ref()
    }

    /// What the store applies.
    pub fn write(&self) -> LabelWrite<'_> {
        LabelWrite {
            user_id: self.after.id,
            key: &self.key,
            value: &self.value,
            scope: self.scope,
            description: match &self.description {
                None => Description::Keep,
                Some(d) => Description::Set(d.as_deref()),
            },
            mode: self.mode,
            now: self.now,
            state_level: self.changed.then_some((&self.after.state, self.after.level)),
            review: self.review.as_ref().map(|r| ReviewNote {
                check: &self.key,
                verdict: &self.value,
                reason: r.reason.as_deref(),
                author: &r.author,
            }),
        }
    }

    /// The stored label's `model.label.*` (and `system.document.*`), and the user's
    /// `model.user.updated` when the write changed `before`'s level or state.
    pub fn events(&self, app: &App, before: &UserRow, label: &LabelRow) -> Vec<PendingEvent> {
        let referral = self.referral.as_deref();
        let mut events = event_api::label_events(app, label, &self.after, referral, self.previous.as_ref());
        events.extend(event_api::user_updated_event(app, before, &self.after, referral));
        events
    }

    /// After the commit: the cascade when the user's state changed. Gives the user as left.
    pub async fn finish(self, app: &App, before: &UserRow) -> ServiceResult<UserRow> {
        if self.after.state != before.state {
            cascade_owner_state(app, &self.after).await?;
        }
        Ok(self.after)
    }
}

pub async fn recompute(app: &App, user: &UserRow) -> ServiceResult<UserRow> {
    let labels = app.store.labels_of(user.id).await?;
    let now = app.clock.now();
    let (after, changed) = outcome(app, user, &labels, now).await?;
    if !changed {
        return Ok(after);
    }
    let events = event_api::user_updated_events(app, user, &after).await;
    app.store.update_state_level_with_events(user.id, &after.state, after.level, now, &events).await?;
    if after.state != user.state {
        cascade_owner_state(app, &after).await?;
    }
    Ok(after)
}

/// The cascade after a user's state changed (run after its commit): unless the user is
/// `active`, its service accounts take the same state, and the active keys of the user and of
/// those accounts are disabled; a user who became `deleted` also loses the KYC files (Barong
/// kept them, in the bucket or on disk, for good). Restoring the user does not bring them back.
pub async fn cascade_owner_state(app: &App, user: &UserRow) -> ServiceResult<()> {
    if user.state == AccountState::Active {
        return Ok(());
    }
    let disabled = app.store.cascade_owner_state(user.id, &user.state, app.clock.now()).await?;
    if disabled > 0 {
        tracing::info!(uid = %user.uid, state = %user.state, api_keys_disabled = disabled, "owner left active");
    }
    if user.state == AccountState::Deleted {
        let removed = uploads::remove_files_of(app, user.id).await;
        tracing::info!(uid = %user.uid, files_removed = removed, "deleted user's KYC files removed");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(key: &str, value: &str, scope: &str) -> LabelRow {
        LabelRow {
            id: 0,
            user_id: 1,
            key: key.into(),
            value: value.into(),
            scope: LabelScope::parse(scope).expect("scope"),
            description: None,
            created_at: 0,
            updated_at: 0,
        }
    }

    fn levels() -> Vec<LevelRow> {
        [(1, "email"), (2, "phone"), (3, "document")]
            .iter()
            .map(|(id, k)| LevelRow { id: *id, key: k.to_string(), value: "verified".into(), description: None })
            .collect()
    }

    #[test]
    fn level_stops_at_the_first_gap() {
        assert_eq!(level_of(&levels(), &[]), 0);
        assert_eq!(level_of(&levels(), &[label("email", "verified", "private")]), 1);
        assert_eq!(
            level_of(&levels(), &[label("email", "verified", "private"), label("document", "verified", "private")]),
            1
        );
        assert_eq!(level_of(&levels(), &[label("email", "verified", "public")]), 0);
    }

    #[test]
    fn state_follows_requirements_and_triggers() {
        let c = Config::default();
        assert_eq!(state_of(&c, &[]), AccountState::Pending);
        assert_eq!(state_of(&c, &[label("email", "verified", "private")]), AccountState::Active);
        assert_eq!(
            state_of(&c, &[label("email", "verified", "private"), label("ban", "x", "private")]),
            AccountState::Banned
        );
        assert_eq!(state_of(&c, &[label("ban", "x", "private"), label("lock", "x", "private")]), AccountState::Locked);
        assert_eq!(
            state_of(&c, &[label("email", "verified", "private"), label("ban", "x", "public")]),
            AccountState::Active
        );
    }
}

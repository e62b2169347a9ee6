//! The labels → level and state engine, run after every change to a
//! user's private labels.

use crate::config::Config;

use crate::model::{AccountState, LabelScope};
use crate::services::App;
use crate::services::error::ServiceResult;
use crate::services::events::event_api;
use crate::store::labels::LabelWrite;
use crate::store::{LabelRow, LevelRow, PendingEvent, UserRow};

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
    let events = |label: &LabelRow| {
        let mut events = change.events(app, user, label);
        events.extend(extra(&change.after, change.referral.as_deref()));
        events
    };
    app.store.save_label_with_events(&change.write(), &events).await?;
    change.finish(app, user).await
}

/// A label write worked out before anything is written: the user as it leaves them and the
/// events it reports. Level and state are computed from the labels read before the write with
/// this one applied, so writes that move a KYC step (profiles, documents) can make it in their
/// own transaction.
pub struct LabelChange {
    key: String,
    value: String,
    scope: LabelScope,
    now: i64,
    existed: bool,
    changed: bool,
    /// The user as the write leaves them.
    pub after: UserRow,
    /// The referrer's uid, for event records (looked up only when the Event API is on).
    pub referral: Option<String>,
}

impl LabelChange {
    pub async fn prepare(app: &App, user: &UserRow, key: &str, value: &str, scope: LabelScope) -> ServiceResult<Self> {
        let now = app.clock.now();
        let mut labels = app.store.labels_of(user.id).await?;
        let existed = labels.iter().any(|l| l.key == key && l.scope == scope);
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
        let level = level_of(&app.store.levels().await?, &labels);
        let state = state_of(&app.config, &labels);
        let changed = level != user.level || state != user.state;
        let after = if changed { UserRow { level, state, updated_at: now, ..user.clone() } } else { user.clone() };
        let referral =
            if event_api::enabled(app) { event_api::referral_uid(app, user.referral_id).await } else { None };
        Ok(LabelChange {
            key: key.to_string(),
            value: value.to_string(),
            scope,
            now,
            existed,
            changed,
            after,
            referral,
        })
    }

    /// What the store applies.
    pub fn write(&self) -> LabelWrite<'_> {
        LabelWrite {
            user_id: self.after.id,
            key: &self.key,
            value: &self.value,
            scope: self.scope,
            now: self.now,
            state_level: self.changed.then_some((&self.after.state, self.after.level)),
        }
    }

    /// The stored label's `model.label.*` (and `system.document.*`), and the user's
    /// `model.user.updated` when the write changed `before`'s level or state.
    pub fn events(&self, app: &App, before: &UserRow, label: &LabelRow) -> Vec<PendingEvent> {
        let mut events = event_api::label_events(app, label, &self.after, self.referral.as_deref(), !self.existed);
        events.extend(event_api::user_updated_event(app, before, &self.after, self.referral.as_deref()));
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
    let levels = app.store.levels().await?;
    let level = level_of(&levels, &labels);
    let state = state_of(&app.config, &labels);
    if level == user.level && state == user.state {
        return Ok(user.clone());
    }
    let now = app.clock.now();
    let after = UserRow { level, state, updated_at: now, ..user.clone() };
    let events = event_api::user_updated_events(app, user, &after).await;
    app.store.update_state_level_with_events(user.id, &after.state, level, now, &events).await?;
    if after.state != user.state {
        cascade_owner_state(app, &after).await?;
    }
    Ok(after)
}

/// The cascade after a user's state changed: unless the user is `active`, its service accounts
/// take the same state, and the active keys of the user and of those accounts are disabled.
pub async fn cascade_owner_state(app: &App, user: &UserRow) -> ServiceResult<()> {
    if user.state == AccountState::Active {
        return Ok(());
    }
    let disabled = app.store.cascade_owner_state(user.id, &user.state, app.clock.now()).await?;
    if disabled > 0 {
        tracing::info!(uid = %user.uid, state = %user.state, api_keys_disabled = disabled, "owner left active");
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

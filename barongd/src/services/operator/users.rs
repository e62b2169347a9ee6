//! Operator actions on users (the admin socket's `user create|list|show`).

use common::entities::{UserSummary, UserWithFullInfo};

use crate::model::{AccountState, LabelScope, Role};
use crate::services::App;
use crate::services::account::full_info;
use crate::services::clock::iso8601;
use crate::services::error::{ServiceError, ServiceResult};
use crate::services::events::event_api;
use crate::services::identity::email_address::email_key;
use crate::services::identity::registration::{self, new_uid};
use crate::services::kyc::levels;
use crate::store::{NewUser, UserRow};

pub struct NewAccount {
    pub email: String,
    pub password: String,
    pub username: Option<String>,
    pub role: Option<String>,
    pub state: Option<String>,
    pub level: Option<i64>,
}

/// Creates a user without email confirmation. A `level` grants the private labels of levels
/// 1..=level (as Barong's `db:seed` did); an explicit `state` wins over the computed one.
pub async fn create(app: &App, a: NewAccount) -> ServiceResult<UserWithFullInfo> {
    let role = a.role.map(Role::from).unwrap_or_else(Role::member);
    let state = match a.state.as_deref() {
        Some(s) => Some(AccountState::settable(s).ok_or_else(|| ServiceError::invalid("state.invalid"))?),
        None => None,
    };
    let username = a.username.map(|u| u.to_lowercase());
    registration::validate_new_user(app, &a.email, &a.password, username.as_deref(), None, &role).await?;
    let digest = app.hasher.hash(&a.password).await?;
    let now = app.clock.now();
    let mut user = registration::insert_user(
        app,
        NewUser {
            uid: new_uid(&app.config.uid_prefix),
            username,
            email: a.email.trim().to_string(),
            email_key: email_key(&a.email),
            password_digest: digest,
            role,
            data: None,
            level: 0,
            state: AccountState::Pending,
            referral_id: None,
            language: app.config.default_language.clone(),
            now,
        },
    )
    .await?;
    if let Some(level) = a.level.filter(|l| *l > 0) {
        let all = app.store.levels().await?;
        if level > all.len() as i64 {
            return Err(ServiceError::invalid("level.doesnt_exist"));
        }
        for l in all.iter().filter(|l| l.id <= level) {
            app.store.upsert_label(user.id, &l.key, &l.value, LabelScope::Private, now).await?;
        }
        user = levels::recompute(app, &user).await?;
    }
    if let Some(state) = state
        && state != user.state
    {
        match trigger_label(app, &state) {
            // A restrictive state is stored the way a ban by label is, so that no later
            // recomputation (an email confirmation, a KYC step) can lift it.
            Some(key) => user = levels::set_private_label(app, &user, &key, SET_BY_OPERATOR).await?,
            None => {
                let after = UserRow { state, updated_at: now, ..user.clone() };
                let updated = event_api::user_updated_events(app, &user, &after).await;
                app.store.update_state_level_with_events(user.id, &after.state, after.level, now, &updated).await?;
                user = after;
            }
        }
    }
    full_info::user_with_full_info(app, &user).await
}

/// The value of the private label that holds a state the operator set.
const SET_BY_OPERATOR: &str = "operator";

/// The first label key of the `state_triggers` entry that yields `state`, if any.
fn trigger_label(app: &App, state: &AccountState) -> Option<String> {
    app.config.state_triggers.iter().find(|t| AccountState::from(t.state.as_str()) == *state)?.labels.first().cloned()
}

pub async fn list(app: &App, page: i64, limit: i64) -> ServiceResult<(i64, Vec<UserSummary>)> {
    let page = page.max(1);
    let limit = limit.clamp(1, 1000);
    let total = app.store.count_users().await?;
    let rows = app.store.list_users(limit, (page - 1) * limit).await?;
    Ok((total, rows.iter().map(summary).collect()))
}

/// One user by uid or email.
pub async fn show(app: &App, who: &str) -> ServiceResult<UserWithFullInfo> {
    let user = find(app, who).await?;
    full_info::user_with_full_info(app, &user).await
}

pub async fn find(app: &App, who: &str) -> ServiceResult<UserRow> {
    let found = if who.contains('@') {
        app.store.user_by_email_key(&email_key(who)).await?
    } else {
        app.store.user_by_uid(&who.to_ascii_uppercase()).await?
    };
    found.ok_or_else(|| ServiceError::not_found("record.not_found"))
}

fn summary(u: &UserRow) -> UserSummary {
    UserSummary {
        uid: u.uid.clone(),
        email: u.email.clone(),
        username: u.username.clone(),
        role: u.role.to_string(),
        level: u.level,
        state: u.state.to_string(),
        otp: u.otp,
        created_at: iso8601(u.created_at),
    }
}

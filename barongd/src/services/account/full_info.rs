//! `UserWithFullInfo`: a user with its labels, phones, profiles and data storages, as the
//! resource API, login and the operator show it.

use std::sync::atomic::Ordering;

use common::entities::{DataStorage, UserWithFullInfo};

use crate::services::App;
use crate::services::account::labels;
use crate::services::clock::iso8601;
use crate::services::error::{ServiceError, ServiceResult};
use crate::services::gateway::caches::lookup;
use crate::services::kyc::display;
use crate::store::UserRow;

/// `UserWithFullInfo` of `user`; `csrf_token` is added by callers that opened a session.
pub async fn user_with_full_info(app: &App, user: &UserRow) -> ServiceResult<UserWithFullInfo> {
    let user_labels = app.store.labels_of(user.id).await?;
    let phones = app.store.phones_of(user.id).await?;
    let profiles = app.store.profiles_of(user.id).await?;
    let storages = app.store.data_storages_of(user.id).await?;
    let referral_uid = match user.referral_id {
        Some(id) => app.store.user_by_id(id).await?.map(|u| u.uid),
        None => None,
    };
    Ok(UserWithFullInfo {
        email: user.email.clone(),
        uid: user.uid.clone(),
        role: user.role.to_string(),
        level: user.level,
        otp: user.otp,
        state: user.state.to_string(),
        referral_uid,
        data: user.data.clone(),
        csrf_token: None,
        username: user.username.clone(),
        labels: user_labels.into_iter().map(labels::entity).collect(),
        phones: phones.iter().map(|p| display::phone(app, p)).collect(),
        profiles: profiles.iter().map(|p| display::profile(app, p)).collect(),
        data_storages: storages
            .into_iter()
            .map(|d| DataStorage {
                title: d.title,
                data: d.data,
                created_at: iso8601(d.created_at),
                updated_at: iso8601(d.updated_at),
            })
            .collect(),
        created_at: iso8601(user.created_at),
        updated_at: iso8601(user.updated_at),
    })
}

/// `GET users/me`'s body for `user_id`, rendered once and then served from the gateway's caches
/// until the change feed names the user (`Caches::me`). A fill that raced a change is not kept
/// (`Authz::fill`), and this daemon's own writes are applied before their reply leaves
/// (read-your-writes), so the body is never older than the last write made here; writes on
/// other daemons arrive with the next feed read.
pub async fn rendered_me(app: &App, user_id: i64) -> ServiceResult<bytes::Bytes> {
    let authz = &app.authz;
    if let Some(hit) = lookup("users_me", &authz.caches.me, &user_id) {
        return Ok(hit.body.clone());
    }
    let generation = authz.generation.load(Ordering::SeqCst);
    // Read afresh: the gateway's cached row is only dropped for the columns its JWT carries, and
    // this body also shows `data`, `username` and `updated_at`.
    let user =
        app.store.user_by_id(user_id).await?.ok_or_else(|| ServiceError::unauthenticated("authz.invalid_session"))?;
    let body = bytes::Bytes::from(
        serde_json::to_vec(&user_with_full_info(app, &user).await?).map_err(ServiceError::internal)?,
    );
    authz.fill_me(generation, user_id, body.clone());
    Ok(body)
}

//! `UserWithFullInfo`: a user with its labels, phones, profiles and data storages, as the
//! resource API, login and the operator show it.

use common::entities::{DataStorage, UserWithFullInfo};

use crate::services::App;
use crate::services::account::labels;
use crate::services::clock::iso8601;
use crate::services::error::ServiceResult;
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

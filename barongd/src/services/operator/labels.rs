//! Labels as the operator sets them (`barongctl label`): any key in either scope, including the
//! keys users may not write (`ban`, `document`, …), since that is how an operator locks an
//! account or records a check done elsewhere. A private label change recomputes level and state,
//! which every daemon's gateway sees within a second.

use common::entities::{Label, UserWithFullInfo};

use crate::model::LabelScope;
use crate::services::App;
use crate::services::account::{full_info, labels as user_labels};
use crate::services::error::{ServiceError, ServiceResult};
use crate::services::kyc::levels;
use crate::store::UserRow;

fn scope_of(scope: &str) -> ServiceResult<LabelScope> {
    LabelScope::parse(scope).ok_or_else(|| ServiceError::invalid("scope.inclusion"))
}

pub async fn list(app: &App, user: &UserRow) -> ServiceResult<Vec<Label>> {
    Ok(app.store.labels_of(user.id).await?.into_iter().map(user_labels::entity).collect())
}

/// Creates or overwrites `key` in `scope` with the label model's checks on key and value.
pub async fn set(app: &App, user: &UserRow, key: &str, value: &str, scope: &str) -> ServiceResult<UserWithFullInfo> {
    let scope = scope_of(scope)?;
    let (key, value) = (user_labels::normalize(key), user_labels::normalize(value));
    let mut errors = Vec::new();
    user_labels::field_errors("key", &key, &mut errors);
    user_labels::field_errors("value", &value, &mut errors);
    if !errors.is_empty() {
        return Err(ServiceError::invalid_all(errors));
    }
    let user = levels::set_label(app, user, &key, &value, scope, &|_, _| Vec::new()).await?;
    full_info::user_with_full_info(app, &user).await
}

/// Deletes `key` in `scope`; 404 `label.not_found` when there is none.
pub async fn remove(app: &App, user: &UserRow, key: &str, scope: &str) -> ServiceResult<UserWithFullInfo> {
    let scope = scope_of(scope)?;
    let Some(user) = levels::remove_label(app, user, &user_labels::normalize(key), scope).await? else {
        return Err(ServiceError::not_found("label.not_found"));
    };
    full_info::user_with_full_info(app, &user).await
}

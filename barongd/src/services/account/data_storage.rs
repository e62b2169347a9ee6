//! Data storages: small JSON documents a user records under a title the operator allows
//! (`user_storage_titles`, empty by default). There is no read (they appear in `users/me`), no
//! update and no delete.

use crate::model::labels;
use crate::services::App;
use crate::services::account::labels as user_labels;
use crate::services::account::me::data_errors;
use crate::services::clock::iso8601;
use crate::services::context::RequestContext;
use crate::services::error::{ServiceError, ServiceResult};
use crate::services::events::event_api;
use crate::services::kyc::levels;
use crate::store::{StoreError, UserRow};

/// Titles that would collide with the KYC records of the same name.
const EXCLUDED_TITLES: [&str; 5] = ["document", "label", "profile", "phone", "user"];

/// Longest `data`, in characters (Barong: "maximum 5kb of data").
const MAX_DATA_CHARS: usize = 5120;

/// `POST data_storage`. Errors come all at once in the model's order (data, then title); the
/// unique index on (user, lower(title)) is what enforces `title.taken`.
pub async fn create(app: &App, user: &UserRow, ctx: &RequestContext, title: &str, data: &str) -> ServiceResult<()> {
    let mut errors = data_errors(data, MAX_DATA_CHARS);
    let mut title_errors = Vec::new();
    if !app.config.user_storage_titles.iter().any(|t| t == title) {
        title_errors.push("title.inclusion".to_string());
    }
    if EXCLUDED_TITLES.contains(&title) {
        title_errors.push("title.exclusion".to_string());
    }
    if !errors.is_empty() || !title_errors.is_empty() {
        if app.store.data_storage_title_taken(user.id, title).await? {
            errors.push("title.taken".to_string());
        }
        errors.extend(title_errors);
        return Err(ServiceError::invalid_all(errors));
    }
    let now = app.clock.now();
    let fields =
        serde_json::json!({"title": title, "data": data, "created_at": iso8601(now), "updated_at": iso8601(now)});
    let created = event_api::model_of_user_event(app, "model.data_storage.created", user, fields).await;
    match app.store.insert_data_storage_with_events(user.id, title, data, now, &created).await {
        Ok(()) => {}
        Err(StoreError::Unique(_)) => return Err(ServiceError::conflict("title.taken")),
        Err(e) => return Err(e.into()),
    }
    record_label(app, user, ctx, title).await;
    Ok(())
}

/// The private label `<title>=recorded`. As in Barong, a title that is not a valid label key
/// simply gets no label, and a failure here does not undo the storage.
async fn record_label(app: &App, user: &UserRow, ctx: &RequestContext, title: &str) {
    let key = user_labels::normalize(title);
    let mut invalid = Vec::new();
    user_labels::field_errors("key", &key, &mut invalid);
    if !invalid.is_empty() {
        return;
    }
    if let Err(e) = levels::set_private_label(app, user, &key, labels::RECORDED).await {
        tracing::warn!(request_id = %ctx.request_id, error = %e, "data-storage label not recorded");
    }
}

//! A user's own labels (`resource/labels`): they read every scope but write only `public` labels.
//!
//! Fixes over Barong, chosen so that no client written against Barong's API breaks: writes
//! look up public labels only (a private label with the same key is never touched), PATCH
//! validates and never echoes unsaved data, and users cannot create labels with the keys the
//! level/state engine and KYC rely on. Public labels never change the state or level (the
//! engine in `levels.rs` counts private labels only). See docs/barong-weaknesses-fixed.md
//! (#w-label-scope, #w-label-patch-echo, #w-label-reserved, #w-label-state).

use common::entities::Label;

use crate::services::App;
use crate::services::clock::iso8601;
use crate::services::error::{ServiceError, ServiceResult};
use crate::services::events::event_api;
use crate::store::{LabelRow, StoreError, UserRow};

/// Keys that are reserved whatever the configuration says: the KYC steps' labels, the OTP flag,
/// the default level labels and the default `state_triggers`.
const RESERVED_KEYS: &[&str] = &[
    "email",
    "phone",
    "profile",
    "document",
    "address",
    "facial",
    "otp",
    "delete",
    "ban",
    "fraud",
    "lock",
    "suspicious",
];

pub fn entity(l: LabelRow) -> Label {
    Label {
        key: l.key,
        value: l.value,
        scope: l.scope.to_string(),
        created_at: iso8601(l.created_at),
        updated_at: iso8601(l.updated_at),
    }
}

/// Rails' `downcase` then `squish` (trimmed, inner whitespace runs collapsed to one space).
pub fn normalize(s: &str) -> String {
    s.to_lowercase().split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The label model's checks of one (normalized) field: length 3..255, then `[a-z0-9_-]`.
pub fn field_errors(attribute: &str, value: &str, errors: &mut Vec<String>) {
    let n = value.chars().count();
    if n < 3 {
        errors.push(format!("{attribute}.too_short"));
    }
    if n > 255 {
        errors.push(format!("{attribute}.too_long"));
    }
    if !value.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-') {
        errors.push(format!("{attribute}.invalid"));
    }
}

/// Whether `key` is one the system writes: the static list, the configured levels, activation
/// requirements, state triggers and data-storage titles (their `<title>=recorded` labels).
pub async fn is_reserved(app: &App, key: &str) -> ServiceResult<bool> {
    let c = &app.config;
    let same = |k: &str| k.to_lowercase() == key;
    if RESERVED_KEYS.contains(&key)
        || c.activation_requirements.keys().any(|k| same(k))
        || c.state_triggers.iter().any(|t| t.labels.iter().any(|k| same(k)))
        || c.user_storage_titles.iter().any(|k| same(k))
    {
        return Ok(true);
    }
    Ok(app.store.levels().await?.iter().any(|l| same(&l.key)))
}

fn not_found() -> ServiceError {
    ServiceError::not_found("record.not_found")
}

fn private() -> ServiceError {
    ServiceError::rejected("resource.labels.private")
}

/// Path keys are compared lower-cased: stored keys are always lower case, and Barong's MySQL
/// collation matched them case-insensitively.
fn path_key(key: &str) -> String {
    key.trim().to_lowercase()
}

/// `GET labels`, by `created_at` in the requested order.
pub async fn list(app: &App, user: &UserRow, ascending: bool) -> ServiceResult<Vec<Label>> {
    Ok(app.store.labels_ordered(user.id, ascending).await?.into_iter().map(entity).collect())
}

/// `GET labels/:key`: the first label with that key, in any scope.
pub async fn get(app: &App, user: &UserRow, key: &str) -> ServiceResult<Label> {
    app.store.label_any_scope(user.id, &path_key(key)).await?.map(entity).ok_or_else(not_found)
}

/// `POST labels`: a new public label. Errors come all at once in the model's order.
pub async fn create(app: &App, user: &UserRow, key: &str, value: &str) -> ServiceResult<Label> {
    let (key, value) = (normalize(key), normalize(value));
    let mut errors = Vec::new();
    field_errors("key", &key, &mut errors);
    let key_valid = errors.is_empty();
    if key_valid && is_reserved(app, &key).await? {
        errors.push("key.reserved".to_string());
    }
    let mut value_errors = Vec::new();
    field_errors("value", &value, &mut value_errors);
    if !errors.is_empty() || !value_errors.is_empty() {
        // Rails lists `key.taken` beside the other errors; the insert below is what enforces it.
        if key_valid && app.store.public_label(user.id, &key).await?.is_some() {
            errors.push("key.taken".to_string());
        }
        errors.extend(value_errors);
        return Err(ServiceError::invalid_all(errors));
    }
    let referral = referral(app, user).await;
    let events = |row: &LabelRow| event_api::label_events(app, row, user, referral.as_deref(), None);
    match app.store.insert_public_label_with_events(user.id, &key, &value, app.clock.now(), &events).await {
        Ok(row) => Ok(entity(row)),
        Err(StoreError::Unique(_)) => Err(ServiceError::conflict("key.taken")),
        Err(e) => Err(e.into()),
    }
}

/// Finds the public label a write may touch: 404 when the user has no label with that key,
/// 400 `resource.labels.private` when only a private one exists.
async fn writable(app: &App, user: &UserRow, key: &str) -> ServiceResult<LabelRow> {
    if let Some(l) = app.store.public_label(user.id, key).await? {
        return Ok(l);
    }
    match app.store.label_any_scope(user.id, key).await? {
        Some(_) => Err(private()),
        None => Err(not_found()),
    }
}

/// `PATCH labels/:key`: a new value for a public label, validated before it is saved.
pub async fn update(app: &App, user: &UserRow, key: &str, value: &str) -> ServiceResult<Label> {
    let label = writable(app, user, &path_key(key)).await?;
    let value = normalize(value);
    let mut errors = Vec::new();
    field_errors("value", &value, &mut errors);
    if !errors.is_empty() {
        return Err(ServiceError::invalid_all(errors));
    }
    let referral = referral(app, user).await;
    let events = |row: &LabelRow| event_api::label_events(app, row, user, referral.as_deref(), Some(&label));
    let now = app.clock.now();
    let row = app.store.update_public_label_with_events(label.id, &value, now, &events).await?.ok_or_else(not_found)?;
    Ok(entity(row))
}

/// The referrer's uid for label event records (looked up only when the Event API is on).
async fn referral(app: &App, user: &UserRow) -> Option<String> {
    if !event_api::enabled(app) {
        return None;
    }
    event_api::referral_uid(app, user.referral_id).await
}

/// `DELETE labels/:key`: removes the public label with that key.
pub async fn delete(app: &App, user: &UserRow, key: &str) -> ServiceResult<()> {
    let key = path_key(key);
    if app.store.delete_public_label(user.id, &key).await? {
        return Ok(());
    }
    match app.store.label_any_scope(user.id, &key).await? {
        Some(_) => Err(private()),
        None => Err(not_found()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors_of(attribute: &str, raw: &str) -> Vec<String> {
        let mut e = Vec::new();
        field_errors(attribute, &normalize(raw), &mut e);
        e
    }

    #[test]
    fn keys_are_normalized_then_checked() {
        assert_eq!(normalize("  Foo   Bar "), "foo bar");
        assert!(errors_of("key", " Trading_Bot-1 ").is_empty());
        assert_eq!(errors_of("key", "ab"), vec!["key.too_short"]);
        assert_eq!(errors_of("key", "a!"), vec!["key.too_short", "key.invalid"]);
        assert_eq!(errors_of("key", "foo bar"), vec!["key.invalid"]);
        assert_eq!(errors_of("value", &"v".repeat(256)), vec!["value.too_long"]);
        assert_eq!(errors_of("value", "ÄÖÜ"), vec!["value.invalid"]);
    }
}

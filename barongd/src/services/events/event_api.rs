//! Barong's Event API: named events such as
//! `system.session.create` or `model.user.updated`, signed with the daemon's signing key and
//! published to RabbitMQ, exchange `barong.events.<system|model>`, routing key the rest of the
//! name.
//!
//! Barong published synchronously after commit, so a broker outage turned committed
//! requests into 500s. Here an event is only written to the `event_outbox` table, in the
//! transaction of the change it reports: the services build it with [`pending`] (or
//! [`user_system_event`]) and hand it to the store's `*_with_events` write, so a crash keeps
//! both or neither. `publisher` sends it, retrying until RabbitMQ confirms it. Records are
//! sealed at rest (they can carry confirmation and reset tokens). With no RabbitMQ configured,
//! nothing is written. See docs/barong-weaknesses-fixed.md#w-event-outbox.

use base64::Engine as _;
use serde_json::{Map, Value, json};

use crate::model::labels::keys as label_keys;
use crate::model::{CheckState, LabelScope};
use crate::services::App;
use crate::services::clock::iso8601;
use crate::services::error::{ServiceError, ServiceResult};
use crate::store::events::EventRow;
use crate::store::{LabelRow, PendingEvent, UserRow};

/// Lifetime of an event's signature, as Barong (`exp = iat + 3600`).
const EVENT_TTL_SECONDS: i64 = 3600;

pub fn enabled(app: &App) -> bool {
    app.config.event_api.is_some()
}

/// Event `name` with `record`, sealed and ready to be written with its change; none when the
/// Event API is off.
pub fn pending(app: &App, name: &str, record: &Value) -> Vec<PendingEvent> {
    if !enabled(app) {
        return Vec::new();
    }
    vec![PendingEvent {
        jti: uuid::Uuid::new_v4().to_string(),
        name: name.to_string(),
        record_sealed: app.sealer.seal(record.to_string().as_bytes()),
        created_at: app.clock.now(),
    }]
}

/// Barong's `user` object in event records, times UTC ISO-8601. Nested in another record (and in
/// every `system.*` event) it keeps `"username": null` and `"referral_uid": null`, as Barong's: only
/// the top level of a model record is compacted ([`compact`]).
pub fn user_record(user: &UserRow, referral_uid: Option<&str>) -> Value {
    json!({
        "uid": user.uid,
        "username": user.username,
        "email": user.email,
        "role": user.role,
        "level": user.level,
        "otp": user.otp,
        "state": user.state,
        "referral_uid": referral_uid,
        "created_at": iso8601(user.created_at),
        "updated_at": iso8601(user.updated_at),
    })
}

/// A model record as Barong sends it: top-level nulls removed (`Hash#compact`), nested objects
/// untouched.
pub fn compact(record: Value) -> Value {
    match record {
        Value::Object(m) => Value::Object(m.into_iter().filter(|(_, v)| !v.is_null()).collect()),
        other => other,
    }
}

/// `model.*.updated`'s `changes`, as Barong computed them: for each key of the previous version's
/// compacted record whose value differs from the current record's (or is gone from it), the
/// previous value. `updated_at` never appears, nor the keys in `never`.
pub fn record_changes(previous: &Value, current: &Value, never: &[&str]) -> Value {
    let (Value::Object(before), Value::Object(after)) = (previous, current) else { return json!({}) };
    let changed = before
        .iter()
        .filter(|(k, v)| !v.is_null() && k.as_str() != "updated_at" && !never.contains(&k.as_str()))
        .filter(|(k, v)| after.get(k.as_str()).is_none_or(|now| now != *v))
        .map(|(k, v)| (k.clone(), v.clone()));
    Value::Object(changed.collect())
}

/// The uid of the user with id `referral_id`, if any.
pub async fn referral_uid(app: &App, referral_id: Option<i64>) -> Option<String> {
    match referral_id {
        Some(id) => app.store.user_by_id(id).await.ok().flatten().map(|u| u.uid),
        None => None,
    }
}

/// The user object of `user`, with its referrer's uid looked up.
pub async fn user_of(app: &App, user: &UserRow) -> Value {
    user_record(user, referral_uid(app, user.referral_id).await.as_deref())
}

/// `model.user.updated`'s `changes`: the previous values of the fields that changed (the
/// comparison [`record_changes`] makes, written out for the user's own columns).
pub fn user_changes(before: &UserRow, after: &UserRow) -> Value {
    let mut m = Map::new();
    if before.email != after.email {
        m.insert("email".into(), json!(before.email));
    }
    if before.role != after.role {
        m.insert("role".into(), json!(before.role));
    }
    if before.level != after.level {
        m.insert("level".into(), json!(before.level));
    }
    if before.otp != after.otp {
        m.insert("otp".into(), json!(before.otp));
    }
    if before.state != after.state {
        m.insert("state".into(), json!(before.state));
    }
    if before.username != after.username {
        m.insert("username".into(), json!(before.username));
    }
    Value::Object(m)
}

/// [`user_updated_event`] with the referrer's uid looked up.
pub async fn user_updated_events(app: &App, before: &UserRow, after: &UserRow) -> Vec<PendingEvent> {
    if !enabled(app) {
        return Vec::new();
    }
    let referral = referral_uid(app, after.referral_id).await;
    user_updated_event(app, before, after, referral.as_deref())
}

/// `model.user.updated` when a user-visible field changed between `before` and `after`, ready to
/// be written with that change (`referral` is the referrer's uid).
pub fn user_updated_event(app: &App, before: &UserRow, after: &UserRow, referral: Option<&str>) -> Vec<PendingEvent> {
    let changes = user_changes(before, after);
    if changes.as_object().is_none_or(|c| c.is_empty()) {
        return Vec::new();
    }
    pending(app, "model.user.updated", &json!({ "record": compact(user_record(after, referral)), "changes": changes }))
}

/// `system.user.*` events about one user: `{record: {user, domain, …extra}}`, ready to be
/// written with the change it reports.
pub async fn user_system_event(app: &App, name: &str, user: &UserRow, extra: &[(&str, Value)]) -> Vec<PendingEvent> {
    if !enabled(app) {
        return Vec::new();
    }
    let referral = referral_uid(app, user.referral_id).await;
    user_system_event_of(app, name, user, referral.as_deref(), extra)
}

/// [`user_system_event`] with the referrer's uid already known.
pub fn user_system_event_of(
    app: &App,
    name: &str,
    user: &UserRow,
    referral: Option<&str>,
    extra: &[(&str, Value)],
) -> Vec<PendingEvent> {
    let mut record = Map::new();
    record.insert("user".into(), user_record(user, referral));
    record.insert("domain".into(), json!(app.config.domain));
    for (k, v) in extra {
        record.insert((*k).to_string(), v.clone());
    }
    pending(app, name, &json!({ "record": record }))
}

/// `model.user.created` of the row the insert produced (`referral` is the referrer's uid).
pub fn user_created_event(app: &App, row: &UserRow, referral: Option<&str>) -> Vec<PendingEvent> {
    pending(app, "model.user.created", &json!({ "record": compact(user_record(row, referral)) }))
}

/// A `model.<kind>.<action>` event about a record of `user`: `{record: {…fields, user}}`, ready
/// to be written with the change it reports.
pub async fn model_of_user_event(app: &App, name: &str, user: &UserRow, fields: Value) -> Vec<PendingEvent> {
    if !enabled(app) {
        return Vec::new();
    }
    let referral = referral_uid(app, user.referral_id).await;
    model_of_user_event_of(app, name, user, referral.as_deref(), fields)
}

/// [`model_of_user_event`] with the referrer's uid already known.
pub fn model_of_user_event_of(
    app: &App,
    name: &str,
    user: &UserRow,
    referral: Option<&str>,
    fields: Value,
) -> Vec<PendingEvent> {
    if !enabled(app) {
        return Vec::new();
    }
    let mut record = match fields {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    record.insert("user".into(), user_record(user, referral));
    pending(app, name, &json!({ "record": compact(Value::Object(record)) }))
}

/// `model.label.created` (no `previous`) or `model.label.updated` with `changes` (the previous
/// record's values that differ, never `id`: Barong compared against a copy without it) of a
/// stored label of `user`, and `system.document.verified|rejected` when a private `document`
/// label is created with, or changes to, a decision; ready to be written with it. Barong re-sent
/// the decision on every save, a no-op included, and Applogic mailed the user each time.
pub fn label_events(
    app: &App,
    label: &LabelRow,
    user: &UserRow,
    referral: Option<&str>,
    previous: Option<&LabelRow>,
) -> Vec<PendingEvent> {
    if !enabled(app) {
        return Vec::new();
    }
    let current = label_record(label, user, referral);
    let name = if previous.is_some() { "model.label.updated" } else { "model.label.created" };
    let mut record = json!({ "record": current });
    if let Some(before) = previous {
        record["changes"] = record_changes(&label_record(before, user, referral), &record["record"], &["id"]);
    }
    let mut events = pending(app, name, &record);
    let decided = previous.is_none_or(|before| before.value != label.value);
    if decided
        && label.key == label_keys::DOCUMENT
        && label.scope == LabelScope::Private
        && let Some(decision) = CheckState::verdict(&label.value)
    {
        let mut plain = record;
        if let Some(obj) = plain.as_object_mut() {
            obj.remove("changes");
        }
        events.extend(pending(app, &format!("system.document.{}", decision.as_str()), &plain));
    }
    events
}

/// A label's compacted event record.
fn label_record(label: &LabelRow, user: &UserRow, referral: Option<&str>) -> Value {
    compact(json!({
        "id": label.id,
        "key": label.key,
        "value": label.value,
        "scope": label.scope,
        "description": label.description,
        "created_at": iso8601(label.created_at),
        "updated_at": iso8601(label.updated_at),
        "user": user_record(user, referral),
    }))
}

/// Where an event goes: exchange `barong.events.<first segment>`, routing key the rest.
pub fn route(name: &str) -> Option<(String, String)> {
    let (kind, rest) = name.split_once('.')?;
    if kind.is_empty() || rest.is_empty() {
        return None;
    }
    Some((format!("barong.events.{kind}"), rest.to_string()))
}

/// The message body of an outbox row: a JWS in general JSON serialization (jwt-multisig's
/// form, signer `barong`, the key's JWKS id as `jwks_kid` in the protected header) over `{iss, jti, iat, exp, event: {…record, name}}`. It is signed when
/// sent, so `exp` counts from publication even after a long outage; `jti` stays the one given
/// at `emit`, so consumers can drop a redelivered event.
pub fn signed_message(app: &App, row: &EventRow, now: i64) -> ServiceResult<Vec<u8>> {
    let record = app.sealer.open(&row.record_sealed).map_err(ServiceError::internal)?;
    let mut event: Value = serde_json::from_slice(&record).map_err(ServiceError::internal)?;
    match event.as_object_mut() {
        Some(obj) => {
            obj.insert("name".into(), json!(row.name));
        }
        None => return Err(ServiceError::internal("event record is not an object")),
    }
    let mut claims = Map::new();
    claims.insert("iss".into(), json!("barong"));
    claims.insert("jti".into(), json!(row.jti));
    claims.insert("iat".into(), json!(now));
    claims.insert("exp".into(), json!(now + EVENT_TTL_SECONDS));
    // A `sub` of its own, so the signed event can never pass for a session token
    // (docs/barong-weaknesses-fixed.md#w-event-sub).
    claims.insert("sub".into(), json!("event"));
    claims.insert("event".into(), event);
    let claims = serde_json::to_vec(&claims).map_err(ServiceError::internal)?;
    let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims);
    let (protected, signature) = app.tokens.sign_detached(&payload, None)?;
    let body = json!({
        "payload": payload,
        "signatures": [{ "protected": protected, "header": { "kid": "barong" }, "signature": signature }],
    });
    serde_json::to_vec(&body).map_err(ServiceError::internal)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AccountState, Role};

    #[test]
    fn events_route_by_their_first_segment() {
        assert_eq!(
            route("system.user.email.confirmed"),
            Some(("barong.events.system".into(), "user.email.confirmed".into()))
        );
        assert_eq!(route("model.user.created"), Some(("barong.events.model".into(), "user.created".into())));
        assert_eq!(route("nodot"), None);
        assert_eq!(route(".x"), None);
    }

    #[test]
    fn nested_user_records_keep_nil_fields_and_changes_keep_old_values() {
        let user = UserRow {
            id: 1,
            uid: "ID0123456789".into(),
            username: None,
            email: "a@b.c".into(),
            role: Role::member(),
            level: 1,
            otp: false,
            state: AccountState::Active,
            email_key: "a@b.c".into(),
            password_digest: String::new(),
            data: None,
            referral_id: None,
            language: "en".into(),
            otp_secret_sealed: None,
            otp_last_step: None,
            claims_version: 0,
            created_at: 0,
            updated_at: 60,
        };
        let r = user_record(&user, None);
        assert!(r["username"].is_null() && r["referral_uid"].is_null(), "{r}");
        let top = compact(r.clone());
        assert!(top.get("username").is_none() && top.get("referral_uid").is_none(), "{top}");
        assert_eq!(r["updated_at"], "1970-01-01T00:01:00Z");
        let after = UserRow { state: AccountState::Banned, level: 2, ..user.clone() };
        assert_eq!(user_changes(&user, &after), json!({"level": 1, "state": "active"}));
    }

    #[test]
    fn changes_hold_the_previous_values_of_the_previous_compacted_record() {
        let user = json!({"uid": "ID1", "username": null});
        let before = compact(json!({"id": 1, "key": "email", "value": "pending", "description": "old",
            "scope": "private", "created_at": "t0", "updated_at": "t1", "user": user, "gone": null}));
        let after = compact(json!({"id": 1, "key": "email", "value": "verified", "description": null,
            "scope": "private", "created_at": "t0", "updated_at": "t2", "user": user}));
        assert_eq!(after.get("description"), None, "top-level nulls are removed");
        assert_eq!(after["user"]["username"], Value::Null, "nested nulls stay");
        assert_eq!(
            record_changes(&before, &after, &["id"]),
            json!({"value": "pending", "description": "old"}),
            "a key that became null is in changes; updated_at never"
        );
        let moved = json!({"id": 2, "value": "pending"});
        assert_eq!(record_changes(&json!({"id": 1, "value": "pending"}), &moved, &["id"]), json!({}));
        assert_eq!(record_changes(&json!({"id": 1}), &moved, &[]), json!({"id": 1}));
    }
}

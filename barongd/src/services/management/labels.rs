//! `/labels/list`, `/labels` (POST, PUT), `/labels/delete` (spec §4.10 #8–11): a user's
//! private labels, written through the same label services as every other label write, so
//! events, level and state recompute happen the same way.

use serde_json::{Map, Value, json};

use crate::model::LabelScope;
use crate::services::App;
use crate::services::account::labels as user_labels;
use crate::services::clock::iso8601;
use crate::services::kyc::levels;
use crate::services::management::error::{MgmtError, MgmtResult, to_json};
use crate::services::management::params::Grape;
use crate::store::labels::LabelMode;
pub use common::admin_api::AdminLabelView;

use crate::store::{LabelRow, UserRow};

impl From<LabelRow> for AdminLabelView {
    fn from(l: LabelRow) -> Self {
        AdminLabelView {
            key: l.key,
            value: l.value,
            scope: l.scope.to_string(),
            description: l.description,
            created_at: iso8601(l.created_at),
            updated_at: iso8601(l.updated_at),
        }
    }
}

async fn user(app: &App, uid: &str) -> MgmtResult<UserRow> {
    app.store.user_by_uid(uid).await.map_err(MgmtError::internal)?.ok_or_else(MgmtError::not_found)
}

async fn private_label(app: &App, user: &UserRow, key: &str) -> MgmtResult<Option<LabelRow>> {
    let labels = app.store.labels_of(user.id).await.map_err(MgmtError::internal)?;
    Ok(labels.into_iter().find(|l| l.key == key && l.scope == LabelScope::Private))
}

/// #8: every label of the user, all scopes.
pub async fn list(app: &App, data: &Map<String, Value>) -> MgmtResult<String> {
    let mut p = Grape::new(data);
    let uid = p.required("user_uid");
    p.finish()?;
    let user = user(app, &uid).await?;
    let labels = app.store.labels_of(user.id).await.map_err(MgmtError::internal)?;
    let view: Vec<AdminLabelView> = labels.into_iter().map(AdminLabelView::from).collect();
    to_json(&view)
}

/// The label model's errors as Rails' raw attribute hash: `{"key":["Key is invalid"]}`.
fn model_errors(key: &str, value: &str) -> MgmtResult<()> {
    let mut hash = Map::new();
    for (attr, text) in [("key", key), ("value", value)] {
        let mut keys = Vec::new();
        user_labels::field_errors(attr, text, &mut keys);
        let title = if attr == "key" { "Key" } else { "Value" };
        let messages: Vec<Value> = keys
            .iter()
            .map(|k| match k.rsplit('.').next().unwrap_or_default() {
                "too_short" => format!("{title} is too short (minimum is 3 characters)"),
                "too_long" => format!("{title} is too long (maximum is 255 characters)"),
                _ => format!("{title} is invalid"),
            })
            .map(Value::String)
            .collect();
        if !messages.is_empty() {
            hash.insert(attr.into(), Value::Array(messages));
        }
    }
    if hash.is_empty() { Ok(()) } else { Err(MgmtError::Reply(422, Value::Object(hash))) }
}

/// Writes a private label, its description included, through the shared label service in one
/// transaction, and returns it as stored. `None` when `mode` is `Update` and there is no label.
async fn write(app: &App, user: &UserRow, l: &LabelParams, mode: LabelMode) -> MgmtResult<Option<String>> {
    let description = l.description.clone().map(Some);
    let change =
        levels::LabelChange::prepare_as(app, user, &l.key, &l.value, LabelScope::Private, description, mode).await?;
    match levels::apply(app, user, change, &|_, _| Vec::new()).await {
        Ok(Some((label, _))) => Ok(Some(to_json(&user_labels::entity(label))?)),
        Ok(None) => Ok(None),
        Err(e) if e.key() == "key.taken" => Err(taken()),
        Err(e) => Err(e.into()),
    }
}

fn taken() -> MgmtError {
    MgmtError::Reply(422, json!({"key": ["Key has already been taken"]}))
}

struct LabelParams {
    uid: String,
    key: String,
    value: String,
    description: Option<String>,
}

fn label_params(p: &mut Grape<'_>) -> LabelParams {
    let uid = p.required("user_uid");
    let key = p.required("key");
    let value = p.required("value");
    let description = p.optional("description");
    LabelParams { uid, key: user_labels::normalize(&key), value: user_labels::normalize(&value), description }
}

/// #9 POST: a new private label; a taken key is 422 `{"key":["Key has already been taken"]}`
/// (the table's unique key decides).
pub async fn create(app: &App, data: &Map<String, Value>) -> MgmtResult<String> {
    let mut p = Grape::new(data);
    let l = label_params(&mut p);
    p.finish()?;
    let user = user(app, &l.uid).await?;
    model_errors(&l.key, &l.value)?;
    write(app, &user, &l, LabelMode::Create).await?.ok_or_else(|| MgmtError::internal("a create wrote no label"))
}

/// #10 PUT: sets the private label's value (and description, when given); a missing label is
/// created when `replace` (always private: Barong let an undeclared `scope` param choose) or
/// 404 `label doesnt exist`.
pub async fn update(app: &App, data: &Map<String, Value>) -> MgmtResult<String> {
    let mut p = Grape::new(data);
    let l = label_params(&mut p);
    let replace = p.boolean("replace", true);
    p.finish()?;
    let user = user(app, &l.uid).await?;
    if private_label(app, &user, &l.key).await?.is_none() && !replace {
        return Err(MgmtError::message(404, "label doesnt exist"));
    }
    model_errors(&l.key, &l.value)?;
    let mode = if replace { LabelMode::Upsert } else { LabelMode::Update };
    write(app, &user, &l, mode).await?.ok_or_else(|| MgmtError::message(404, "label doesnt exist"))
}

/// #11: removes the private label, recomputing level and state in the same transaction.
pub async fn delete(app: &App, data: &Map<String, Value>) -> MgmtResult<()> {
    let mut p = Grape::new(data);
    let uid = p.required("user_uid");
    let key = p.required("key");
    p.finish()?;
    let user = user(app, &uid).await?;
    let key = user_labels::normalize(&key);
    match levels::remove_label(app, &user, &key, LabelScope::Private).await? {
        Some(_) => Ok(()),
        None => Err(MgmtError::not_found()),
    }
}

//! `/users/list` (spec §4.10 #2): users filtered and paged in SQL, as `User` or, with
//! `extended`, `UserWithProfile` (clear PII). Barong filtered on undeclared raw params; here
//! the same six filters are declared, the list is distinct and in id order.

pub use common::admin_api::{User, UserWithProfile};
use serde_json::{Map, Value};

use crate::services::App;
use crate::services::admin::activities::user_entity;
use crate::services::clock::iso8601;
use crate::services::identity::email_address::email_key;
use crate::services::kyc::display;
use crate::services::management::error::{MgmtError, MgmtResult, to_json};
use crate::services::management::params::Grape;
use crate::store::UserRow;
use crate::store::admin_users::{UserFilter, UserOrder};
use crate::store::management::LabelFilter;

/// A page of the list and what the paging headers say.
pub struct Page {
    pub body: String,
    pub total: i64,
    pub page: i64,
    pub limit: i64,
}

pub(crate) async fn user(app: &App, u: &UserRow) -> MgmtResult<User> {
    user_entity(app, u).await.map_err(MgmtError::internal)
}

pub async fn list(app: &App, data: &Map<String, Value>) -> MgmtResult<Page> {
    let mut p = Grape::new(data);
    let extended = p.boolean_or("extended", false, "Non boolean extended value");
    let range = p.optional("range");
    if range.as_deref().is_some_and(|r| r != "created" && r != "updated") {
        p.error("range Non positive page");
    }
    let from = p.integer("from", "is invalid");
    let to = p.integer("to", "is invalid");
    let (page, limit) = p.paging();
    let filter = UserFilter {
        uid: p.optional("uid"),
        email_key: p.optional("email").map(|e| email_key(&e)),
        role: p.optional("role"),
        level: p.integer("level", "is invalid"),
        state: p.optional("state"),
        country: p.optional("country"),
        by_updated: range.as_deref() == Some("updated"),
        from,
        to,
    };
    p.finish()?;
    let offset = (page - 1).saturating_mul(limit);
    let (rows, total) =
        app.store.users_page(&filter, UserOrder::default(), limit, offset).await.map_err(MgmtError::internal)?;
    let body = render(app, &rows, extended, false).await?;
    Ok(Page { body, total, page, limit })
}

/// `User`s, or `UserWithProfile`s when `extended` (profiles masked as the user API masks them
/// when `mask`).
async fn render(app: &App, rows: &[UserRow], extended: bool, mask: bool) -> MgmtResult<String> {
    if !extended {
        let mut out = Vec::with_capacity(rows.len());
        for u in rows {
            out.push(user(app, u).await?);
        }
        return to_json(&out);
    }
    let ids: Vec<i64> = rows.iter().map(|u| u.id).collect();
    let mut by_user: std::collections::HashMap<i64, Vec<_>> = std::collections::HashMap::new();
    for p in app.store.profiles_of_users(&ids).await.map_err(MgmtError::internal)? {
        by_user.entry(p.user_id).or_default().push(display::profile_masked(app, &p, mask));
    }
    let mut out = Vec::with_capacity(rows.len());
    for u in rows {
        let shown = by_user.remove(&u.id).unwrap_or_default();
        out.push(UserWithProfile::new(user(app, u).await?, shown, iso8601(u.created_at), iso8601(u.updated_at)));
    }
    to_json(&out)
}

/// #7 `/labels/filter/users`: users holding label `key` (optionally of `value` and `scope`),
/// each once; `extended` gives the user API's profiles (masked per `api_data_masking_enabled`)
/// [COMPAT].
pub async fn by_label(app: &App, data: &Map<String, Value>) -> MgmtResult<Page> {
    let mut p = Grape::new(data);
    let key = p.required("key");
    let value = p.optional("value");
    let scope = p.optional("scope");
    let extended = p.boolean_or("extended", false, "Non boolean extended value");
    let range = p.optional("range");
    if range.as_deref().is_some_and(|r| r != "created" && r != "updated") {
        p.error("range Invalid range");
    }
    let (page, limit) = p.paging();
    let from = p.integer("from", "is invalid");
    let to = p.integer("to", "is invalid");
    p.finish()?;
    let filter = LabelFilter { key, value, scope, range_updated: range.as_deref() == Some("updated"), from, to };
    let offset = (page - 1).saturating_mul(limit);
    let (total, rows) = app.store.filter_users_by_label(&filter, limit, offset).await.map_err(MgmtError::internal)?;
    let body = render(app, &rows, extended, app.config.api_data_masking_enabled).await?;
    Ok(Page { body, total, page, limit })
}

/// #4 `/users/update`: a new `role` (one that has permissions) and/or `data` (JSON text of at
/// most 1024 characters) → 201 UserWithProfile. A role change emits `model.user.updated` in its
/// transaction; a data-only change emits none, as `PUT resource/users/me`.
pub async fn update(app: &App, data: &Map<String, Value>) -> MgmtResult<String> {
    use crate::model::Role;
    use crate::services::account::me::data_errors;
    use crate::services::events::event_api;

    let mut p = Grape::new(data);
    let uid = p.required("uid");
    let role = p.optional("role");
    let new_data = p.optional("data");
    if role.is_none() && new_data.is_none() {
        p.error("role, data are missing, at least one parameter must be provided");
    }
    p.finish()?;
    let internal = MgmtError::internal;
    let before = app
        .store
        .user_by_uid(&uid)
        .await
        .map_err(internal)?
        .ok_or_else(|| MgmtError::message(422, "user.doesnt_exist"))?;
    let mut messages = Vec::new();
    if let Some(r) = &role
        && !app.store.role_exists(r).await.map_err(internal)?
    {
        messages.push("Role doesnt_exist".to_string());
    }
    if let Some(d) = &new_data {
        for e in data_errors(d, 1024) {
            messages.push(match e.as_str() {
                "data.too_long" => "Data is too long (maximum is 1024 characters)".to_string(),
                _ => "Data is invalid".to_string(),
            });
        }
    }
    if !messages.is_empty() {
        return Err(MgmtError::Reply(422, serde_json::json!({ "error": messages })));
    }
    let now = app.clock.now();
    if let Some(d) = &new_data {
        app.store.update_user_data(before.id, d, now).await.map_err(internal)?;
    }
    if let Some(r) = role {
        let after = UserRow {
            role: Role::from(r.as_str()),
            updated_at: now,
            data: new_data.clone().or(before.data.clone()),
            ..before.clone()
        };
        let events = event_api::user_updated_events(app, &before, &after).await;
        app.store.update_role_with_events(before.id, &after.role, now, &events).await.map_err(internal)?;
    }
    let after = app.store.user_by_id(before.id).await.map_err(internal)?.ok_or_else(MgmtError::not_found)?;
    render_one(app, &after).await
}

/// One `UserWithProfile` (clear PII).
pub(crate) async fn render_one(app: &App, u: &UserRow) -> MgmtResult<String> {
    let profiles = app.store.profiles_of(u.id).await.map_err(MgmtError::internal)?;
    let shown = profiles.iter().map(|p| display::profile_masked(app, p, false)).collect();
    to_json(&UserWithProfile::new(user(app, u).await?, shown, iso8601(u.created_at), iso8601(u.updated_at)))
}

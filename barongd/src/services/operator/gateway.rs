//! The gateway's permissions as the operator manages them: `barongctl permission ...` (the
//! signing keys are in `keys`).
//! Every change lands in the change feed (triggers), so every daemon applies it within a second;
//! this daemon applies it before answering.

use common::admin::{PermissionInfo, PermissionSpec};
use serde::Deserialize;

use crate::config::yaml;
use crate::services::App;
use crate::services::error::{ServiceError, ServiceResult};
use crate::services::gateway::poller;
use crate::store::StoreError;
use crate::store::authz::PermissionRow;

const VERBS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "ALL"];
const ACTIONS: &[&str] = &["ACCEPT", "DROP", "AUDIT"];

fn info(p: PermissionRow) -> PermissionInfo {
    PermissionInfo { id: p.id, role: p.role, verb: p.verb, path: p.path, action: p.action, topic: p.topic }
}

async fn applied(app: &App) {
    poller::catch_up(app).await;
}

pub async fn permissions(app: &App) -> ServiceResult<Vec<PermissionInfo>> {
    Ok(app.store.permissions().await?.into_iter().map(info).collect())
}

/// A permission path as the gateway matches it: without its outer slashes; `None` for a path
/// with an empty, `.` or `..` segment, or a percent-encoded dot, which no normalised request
/// path can start with (a rule on it would never match, W12).
pub fn normalise_path(path: &str) -> Option<String> {
    let path = path.trim().trim_matches('/');
    let bad = |seg: &str| seg.is_empty() || seg == "." || seg == ".." || seg.to_ascii_lowercase().contains("%2e");
    if path.is_empty() || path.split('/').any(bad) { None } else { Some(path.to_string()) }
}

/// The verb and action upper-cased and the path without its outer slashes, or why the
/// permission is refused.
pub fn validate(p: &PermissionSpec) -> ServiceResult<(String, String, String)> {
    let verb = p.verb.to_ascii_uppercase();
    let action = p.action.to_ascii_uppercase();
    if !p.path.trim_matches('/').is_empty() && normalise_path(&p.path).is_none() {
        return Err(ServiceError::invalid("permission.invalid_path"));
    }
    let path = p.path.trim_matches('/').to_string();
    if p.role.trim().is_empty() {
        return Err(ServiceError::invalid("permission.empty_role"));
    }
    if !VERBS.contains(&verb.as_str()) {
        return Err(ServiceError::invalid("permission.invalid_verb"));
    }
    if !ACTIONS.contains(&action.as_str()) {
        return Err(ServiceError::invalid("permission.invalid_action"));
    }
    if path.is_empty() {
        return Err(ServiceError::invalid("permission.empty_path"));
    }
    Ok((verb, action, path))
}

pub async fn add(app: &App, p: PermissionSpec) -> ServiceResult<PermissionInfo> {
    let (verb, action, path) = validate(&p)?;
    let row = match app.store.add_permission(&action, &p.role, &verb, &path, p.topic.as_deref(), app.clock.now()).await
    {
        Ok(r) => r,
        Err(StoreError::Unique(_)) => return Err(ServiceError::conflict("permission.already_exists")),
        Err(e) => return Err(e.into()),
    };
    applied(app).await;
    Ok(info(row))
}

pub async fn remove(app: &App, id: i64) -> ServiceResult<PermissionInfo> {
    let row = app
        .store
        .permissions()
        .await?
        .into_iter()
        .find(|p| p.id == id)
        .ok_or_else(|| ServiceError::not_found("permission.doesnt_exist"))?;
    app.store.delete_permission(id).await?;
    applied(app).await;
    Ok(info(row))
}

/// A permissions file: the `permissions:` list of the `config/seeds.yml` format (other sections
/// are ignored, so a whole seeds file can be given).
#[derive(Deserialize)]
struct PermissionFile {
    #[serde(default)]
    permissions: Vec<PermissionSpec>,
}

/// `barongctl permission load FILE`: the file's text, parsed here.
pub async fn load_file(app: &App, text: &str) -> ServiceResult<(usize, usize)> {
    load(app, parse_file(text)?).await
}

/// The permissions of a file's text (not yet validated).
pub fn parse_file(text: &str) -> ServiceResult<Vec<PermissionSpec>> {
    let file: PermissionFile =
        yaml::from_str(text).map_err(|e| ServiceError::invalid(format!("permission.invalid_file: {e}")))?;
    Ok(file.permissions)
}

/// Adds every row (all validated first); returns (added, already there).
pub async fn load(app: &App, list: Vec<PermissionSpec>) -> ServiceResult<(usize, usize)> {
    let checked = list.iter().map(validate).collect::<ServiceResult<Vec<_>>>()?;
    let (mut added, mut existing) = (0, 0);
    let now = app.clock.now();
    for (p, (verb, action, path)) in list.iter().zip(checked) {
        match app.store.add_permission(&action, &p.role, &verb, &path, p.topic.as_deref(), now).await {
            Ok(_) => added += 1,
            Err(StoreError::Unique(_)) => existing += 1,
            Err(e) => return Err(e.into()),
        }
    }
    applied(app).await;
    Ok((added, existing))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_normalised_or_refused() {
        assert_eq!(normalise_path("/api/v2/barong/admin/").as_deref(), Some("api/v2/barong/admin"));
        for bad in ["api//v2", "api/../admin", "api/%2E%2e/x", "api/./x", "/", ""] {
            assert_eq!(normalise_path(bad), None, "{bad}");
        }
    }
}

//! Default levels and permissions, seeded on the first start so registration works out of the box
//! (Barong refused to register anyone while no permission named the `member` role).

use serde::Deserialize;

use super::error::{ServiceError, ServiceResult};
use crate::store::DynStore;

/// The built-in seeds; `barongctl seed` can load others.
pub const DEFAULT_SEEDS: &str = include_str!("../../../config/seeds.yml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seeds {
    #[serde(default)]
    pub levels: Vec<LevelSeed>,
    #[serde(default)]
    pub permissions: Vec<PermissionSeed>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LevelSeed {
    pub key: String,
    pub value: String,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PermissionSeed {
    pub role: String,
    pub verb: String,
    pub path: String,
    pub action: String,
    #[serde(default)]
    pub topic: Option<String>,
}

pub fn parse(text: &str) -> Result<Seeds, String> {
    serde_yaml::from_str(text).map_err(|e| format!("seeds: {e}"))
}

/// Seeds levels (ids 1..n in file order) and permissions, skipping rows that exist.
pub async fn apply(store: &DynStore, seeds: &Seeds, now: i64) -> ServiceResult<(usize, usize)> {
    let mut levels = 0;
    for (i, l) in seeds.levels.iter().enumerate() {
        if store.insert_level_if_absent(i as i64 + 1, &l.key, &l.value, &l.description, now).await? {
            levels += 1;
        }
    }
    let mut permissions = 0;
    for p in &seeds.permissions {
        let action = p.action.to_ascii_uppercase();
        if !["ACCEPT", "DROP", "AUDIT"].contains(&action.as_str()) {
            return Err(ServiceError::unprocessable("permission.invalid_action"));
        }
        let path = p.path.trim_start_matches('/');
        let verb = p.verb.to_ascii_uppercase();
        if store.insert_permission_if_absent(&action, &p.role, &verb, path, p.topic.as_deref(), now).await? {
            permissions += 1;
        }
    }
    Ok((levels, permissions))
}

/// Seeds the defaults on a database that has never been seeded.
pub async fn seed_first_start(store: &DynStore, now: i64) -> Result<(), String> {
    if !store.levels().await.map_err(|e| e.to_string())?.is_empty() {
        return Ok(());
    }
    let seeds = parse(DEFAULT_SEEDS)?;
    let (l, p) = apply(store, &seeds, now).await.map_err(|e| e.to_string())?;
    tracing::info!(levels = l, permissions = p, "seeded default levels and permissions");
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn default_seeds_parse_and_accept_members() {
        let s = super::parse(super::DEFAULT_SEEDS).expect("parses");
        assert_eq!(s.levels.len(), 3);
        assert!(s.permissions.iter().any(|p| p.role == "member" && p.action == "accept"));
    }
}

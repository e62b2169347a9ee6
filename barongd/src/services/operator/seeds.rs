//! Default levels and permissions, seeded on the first start so registration works out of the box
//! (Barong refused to register anyone while no permission named the `member` role).

use serde::Deserialize;

use crate::config::yaml;
use crate::services::App;
use crate::services::error::{ServiceError, ServiceResult};
use crate::services::identity::email_address::email_key;
use crate::services::operator::{restrictions, users};
use crate::services::random::random_hex;
use crate::store::DynStore;

/// The built-in seeds; `barongctl seed` can load others.
pub const DEFAULT_SEEDS: &str = include_str!("../../../../config/seeds.yml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Seeds {
    #[serde(default)]
    pub levels: Vec<LevelSeed>,
    #[serde(default)]
    pub permissions: Vec<PermissionSeed>,
    /// Only through `barongctl seed`: accounts to create (an existing email is skipped).
    #[serde(default)]
    pub users: Vec<UserSeed>,
    /// Only through `barongctl seed`: restrictions (an existing category/scope/value is skipped).
    #[serde(default)]
    pub restrictions: Vec<RestrictionSeed>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserSeed {
    pub email: String,
    /// Private labels of levels 1..=level are created, as Barong's `db:seed` did.
    pub level: i64,
    #[serde(default)]
    pub role: Option<String>,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub state: Option<String>,
    /// Absent: a random password nobody knows (the user resets it by email). Never printed.
    #[serde(default)]
    pub password: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RestrictionSeed {
    pub category: String,
    pub scope: String,
    pub value: String,
    pub state: String,
    #[serde(default)]
    pub code: Option<i64>,
}

/// What `barongctl seed` added; everything else already existed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Seeded {
    pub levels: usize,
    pub permissions: usize,
    pub users: usize,
    pub restrictions: usize,
}

/// `barongctl seed FILE`: levels and permissions as at first start, then users and
/// restrictions. Idempotent: running it again adds nothing. A refused row (a bad email, an
/// unknown role) stops the run with its key, leaving what came before it in place.
pub async fn apply_file(app: &App, text: &str) -> ServiceResult<Seeded> {
    let seeds = parse(text).map_err(|e| ServiceError::invalid(format!("seeds.invalid: {e}")))?;
    let now = app.clock.now();
    let (levels, permissions) = apply(&app.store, &seeds, now).await?;
    let mut seeded = Seeded { levels, permissions, ..Seeded::default() };
    for u in &seeds.users {
        if app.store.user_by_email_key(&email_key(&u.email)).await?.is_some() {
            continue;
        }
        let password = match &u.password {
            Some(p) => p.clone(),
            // Long and random: it satisfies any sane policy and nobody knows it.
            None => format!("Seed-{}-x9", random_hex(16)),
        };
        let account = users::NewAccount {
            email: u.email.clone(),
            password,
            username: u.username.clone(),
            role: u.role.clone(),
            state: u.state.clone(),
            level: Some(u.level),
        };
        users::create(app, account).await?;
        seeded.users += 1;
    }
    for r in &seeds.restrictions {
        let rule = restrictions::NewRule {
            category: r.category.clone(),
            scope: r.scope.clone(),
            value: r.value.clone(),
            code: r.code,
            state: Some(r.state.clone()),
        };
        match restrictions::add(app, rule).await {
            Ok(_) => seeded.restrictions += 1,
            Err(e) if e.key() == "value.taken" => {}
            Err(e) => return Err(e),
        }
    }
    Ok(seeded)
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
    yaml::from_str(text).map_err(|e| format!("seeds: {e}"))
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
            return Err(ServiceError::invalid("permission.invalid_action"));
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

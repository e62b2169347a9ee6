//! Restrictions as the operator manages them (`barongctl restriction`): list, add, enable or
//! disable, remove. Each change is applied here before the reply; other daemons follow within 1 s.

use common::admin::RestrictionInfo;

use crate::model::{RestrictionCategory, RestrictionScope, RestrictionState};
use crate::services::App;
use crate::services::clock::iso8601;
use crate::services::error::{ServiceError, ServiceResult};
use crate::services::gateway::restrictions::rules::{self, Matcher, Snapshot};
use crate::store::StoreError;
use crate::store::restrictions::{NewRestriction, RestrictionRow};

fn info(app: &App, r: RestrictionRow) -> RestrictionInfo {
    RestrictionInfo {
        active: app.restrictions.is_active(r.id),
        id: r.id,
        category: r.category,
        scope: r.scope,
        value: r.value,
        code: r.code.unwrap_or(0),
        state: r.state,
        created_at: iso8601(r.created_at),
        updated_at: iso8601(r.updated_at),
    }
}

/// Makes this daemon's own change visible at once (the others follow within 1 s).
async fn reload_now(app: &App) -> ServiceResult<()> {
    app.restrictions.reload(&app.store).await.map_err(ServiceError::from)
}

pub async fn list(app: &App) -> ServiceResult<Vec<RestrictionInfo>> {
    let rows = app.store.restrictions().await?;
    Ok(rows.into_iter().map(|r| info(app, r)).collect())
}

/// What `restriction add` asks for.
pub struct NewRule {
    pub category: String,
    pub scope: String,
    pub value: String,
    pub code: Option<i64>,
    pub state: Option<String>,
}

/// Validates a restriction; returns the value in canonical form (`::1`, `10.0.0.0/8`).
pub fn validate(rule: &NewRule) -> ServiceResult<String> {
    let mut errors = Vec::new();
    let scope = RestrictionScope::parse(&rule.scope);
    if RestrictionCategory::parse(&rule.category).is_none() {
        errors.push("admin.restriction.invalid_category".to_string());
    }
    if scope.is_none() {
        errors.push("admin.restriction.invalid_scope".to_string());
    }
    if let Some(s) = &rule.state
        && RestrictionState::parse(s).is_none()
    {
        errors.push("admin.restriction.invalid_state".to_string());
    }
    // A restriction answers with its code, so it must be an error status (W19).
    if rule.code.is_some_and(|c| !(400..=599).contains(&c)) {
        errors.push("admin.restriction.invalid_code".to_string());
    }
    let value = rule.value.trim();
    let canonical = match scope {
        Some(RestrictionScope::Ip) => value.parse::<std::net::IpAddr>().ok().map(|ip| ip.to_string()),
        Some(RestrictionScope::IpSubnet) => rules::parse_subnet(value).map(|n| n.to_string()),
        _ if value.is_empty() || value.chars().count() > 64 => None,
        _ => Some(value.to_string()),
    };
    match canonical {
        Some(v) if errors.is_empty() => Ok(v),
        Some(_) => Err(ServiceError::invalid_all(errors)),
        None => {
            errors.push("value.invalid".to_string());
            Err(ServiceError::invalid_all(errors))
        }
    }
}

fn taken(e: StoreError) -> ServiceError {
    match e {
        StoreError::Unique(_) => ServiceError::conflict("value.taken"),
        e => e.into(),
    }
}

pub async fn add(app: &App, rule: NewRule) -> ServiceResult<RestrictionInfo> {
    let value = validate(&rule)?;
    let state = rule.state.as_deref().unwrap_or(RestrictionState::Enabled.as_str());
    // Validated above: both parse.
    let (Some(category), Some(scope)) =
        (RestrictionCategory::parse(&rule.category), RestrictionScope::parse(&rule.scope))
    else {
        return Err(ServiceError::invalid("admin.restriction.invalid_category"));
    };
    // Whitelist entries always get the default code (Barong resets it).
    let code = match rule.code {
        Some(c) if category != RestrictionCategory::Whitelist => c,
        _ => rules::default_code(category, scope),
    };
    let new = NewRestriction {
        category: &rule.category,
        scope: &rule.scope,
        value: &value,
        code,
        state,
        now: app.clock.now(),
    };
    let row = app.store.insert_restriction(&new).await.map_err(taken)?;
    reload_now(app).await?;
    end_blocked_sessions(app, &row).await?;
    Ok(info(app, row))
}

/// Replaces restriction `id` with `rule` (Admin API `PUT /restrictions`); without a `code`, or
/// for a whitelist entry, the category's default code.
pub async fn update(app: &App, id: i64, rule: NewRule) -> ServiceResult<RestrictionInfo> {
    let value = validate(&rule)?;
    let (Some(category), Some(scope)) =
        (RestrictionCategory::parse(&rule.category), RestrictionScope::parse(&rule.scope))
    else {
        return Err(ServiceError::invalid("admin.restriction.invalid_category"));
    };
    let code = match rule.code {
        _ if category == RestrictionCategory::Whitelist => rules::default_code(category, scope),
        Some(c) => c,
        None => rules::default_code(category, scope),
    };
    let state = rule.state.as_deref().unwrap_or(RestrictionState::Enabled.as_str());
    let new = NewRestriction {
        category: &rule.category,
        scope: &rule.scope,
        value: &value,
        code,
        state,
        now: app.clock.now(),
    };
    let row = app.store.update_restriction(id, &new).await.map_err(taken)?;
    let row = row.ok_or_else(|| ServiceError::not_found("admin.restriction.doesnt_exist"))?;
    reload_now(app).await?;
    end_blocked_sessions(app, &row).await?;
    Ok(info(app, row))
}

pub async fn set_state(app: &App, id: i64, state: &str) -> ServiceResult<RestrictionInfo> {
    if RestrictionState::parse(state).is_none() {
        return Err(ServiceError::invalid("admin.restriction.invalid_state"));
    }
    let row = app.store.set_restriction_state(id, state, app.clock.now()).await?;
    let row = row.ok_or_else(|| ServiceError::not_found("admin.restriction.doesnt_exist"))?;
    reload_now(app).await?;
    end_blocked_sessions(app, &row).await?;
    Ok(info(app, row))
}

pub async fn remove(app: &App, id: i64) -> ServiceResult<RestrictionInfo> {
    let rows = app.store.restrictions().await?;
    let row = rows.into_iter().find(|r| r.id == id);
    let row = row.ok_or_else(|| ServiceError::not_found("admin.restriction.doesnt_exist"))?;
    if !app.store.delete_restriction(id, app.clock.now()).await? {
        return Err(ServiceError::not_found("admin.restriction.doesnt_exist"));
    }
    reload_now(app).await?;
    Ok(info(app, row))
}

/// An enabled blocklogin restriction ends the sessions of the clients it matches (by the IP they
/// logged in from) — not every session of every user, as Barong's `delete_matched` did:
/// blocking logins from one country must not log out the rest of the world
/// (docs/barong-weaknesses-fixed.md#w-blocklogin-logout-all).
async fn end_blocked_sessions(app: &App, row: &RestrictionRow) -> ServiceResult<()> {
    let blocklogin = RestrictionCategory::parse(&row.category) == Some(RestrictionCategory::Blocklogin);
    if !blocklogin || RestrictionState::parse(&row.state) != Some(RestrictionState::Enabled) {
        return Ok(());
    }
    let Some(scope) = RestrictionScope::parse(&row.scope) else { return Ok(()) };
    let Some(matcher) = Matcher::parse(scope, &row.value) else { return Ok(()) };
    let mut ended = 0u64;
    for (id_hash, ip) in app.store.session_ips().await? {
        if Snapshot::matches(&matcher, &ip, app.restrictions.geo()) && app.store.delete_session(&id_hash).await? {
            ended += 1;
        }
    }
    tracing::info!(restriction = row.id, sessions = ended, "blocklogin enabled: matching sessions ended");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(category: &str, scope: &str, value: &str) -> NewRule {
        NewRule { category: category.into(), scope: scope.into(), value: value.into(), code: None, state: None }
    }

    fn keys(r: ServiceResult<String>) -> Vec<String> {
        match r {
            Err(ServiceError::Refused { keys, .. }) => keys,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn validation_keys_and_canonical_values() {
        assert_eq!(validate(&rule("whitelist", "ip", " ::0001 ")).ok(), Some("::1".into()));
        assert_eq!(validate(&rule("blacklist", "ip_subnet", "10.1.2.3/8")).ok(), Some("10.0.0.0/8".into()));
        assert_eq!(validate(&rule("blacklist", "ip_subnet", "2001:db8::/32")).ok(), Some("2001:db8::/32".into()));
        assert_eq!(keys(validate(&rule("blacklist", "ip", "1.2.3"))), vec!["value.invalid"]);
        assert_eq!(keys(validate(&rule("blacklist", "ip_subnet", "1.2.3.4"))), vec!["value.invalid"]);
        assert_eq!(keys(validate(&rule("blacklist", "ip_subnet", "1.2.3.4/33"))), vec!["value.invalid"]);
        assert_eq!(keys(validate(&rule("blacklist", "country", " "))), vec!["value.invalid"]);
        assert_eq!(
            keys(validate(&rule("greylist", "planet", "mars"))),
            vec!["admin.restriction.invalid_category", "admin.restriction.invalid_scope"]
        );
        let mut r = rule("blacklist", "all", "all");
        r.state = Some("on".into());
        r.code = Some(42);
        assert_eq!(keys(validate(&r)), vec!["admin.restriction.invalid_state", "admin.restriction.invalid_code"]);
    }
}

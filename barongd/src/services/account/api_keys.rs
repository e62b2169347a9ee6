//! API keys of users and of their service accounts (`resource/api_keys`, `resource/service_accounts`).
//!
//! A key is `kid` (16 hex) and `secret` (32 hex, shown once at creation, sealed at rest) for
//! HMAC-SHA256 request signing. Departures from Barong: `state` is `active` or `disabled`, not
//! free text; an update that omits `scope` keeps it (Barong reset it to empty). See
//! docs/barong-weaknesses-fixed.md#w-api-key-state and #w-api-key-scope-reset.

use common::entities::ApiKey;

use crate::model::{AccountState, KeyState};
use crate::services::App;
use crate::services::clock::iso8601;
use crate::services::context::RequestContext;
use crate::services::error::{ServiceError, ServiceResult};
use crate::services::identity::webauthn::factor::{self, Factor};
use crate::services::random::random_hex;
use crate::store::api_keys::{ApiKeyRow, Holder, KeyColumn, KeyPage, NewApiKey};
use crate::store::service_accounts::ServiceAccountRow;
use crate::store::{StoreError, UserRow};

/// Activating a key imported from Barong without its secret (migration spec §2.8.5), for users'
/// and service accounts' keys alike, on every surface that can activate a key.
pub const SECRET_UNAVAILABLE: &str = "resource.api_key.secret_unavailable";

/// The only algorithm Barong's gateway verifies.
pub const ALGORITHMS: [&str; 1] = ["HS256"];
/// Barong's page size limits (`pagination_filters`).
pub const MAX_LIMIT: i64 = 100;

/// The error keys of one endpoint family's 2FA check: Barong spelled them `resource.api_key.*`
/// on `api_keys` and `resource.service_accounts.*` on `service_accounts`.
#[derive(Debug, Clone, Copy)]
pub struct OtpKeys {
    pub disabled: &'static str,
    pub invalid: &'static str,
}

pub const USER_OTP_KEYS: OtpKeys =
    OtpKeys { disabled: "resource.api_key.2fa_disabled", invalid: "resource.api_key.invalid_totp" };
pub const SERVICE_ACCOUNT_OTP_KEYS: OtpKeys =
    OtpKeys { disabled: "resource.service_accounts.2fa_disabled", invalid: "resource.service_accounts.invalid_totp" };

/// Barong's `otp_protected!`, run on every key write after parameter validation: the acting
/// user must have a second factor (TOTP on, or a WebAuthn credential) and `factor` must prove it:
/// a valid, unused `totp_code`, or a WebAuthn assertion (`webauthn`).
pub async fn otp_protected(
    app: &App,
    user: &UserRow,
    factor: &Factor,
    keys: OtpKeys,
    ctx: &RequestContext,
) -> ServiceResult<()> {
    if !factor::has_second_factor(app, user).await? {
        return Err(ServiceError::rejected(keys.disabled));
    }
    if factor::verify(app, user, factor, ctx).await? { Ok(()) } else { Err(ServiceError::invalid(keys.invalid)) }
}

/// The account a key belongs to.
#[derive(Debug, Clone, Copy)]
pub enum KeyHolder<'a> {
    User(&'a UserRow),
    ServiceAccount(&'a ServiceAccountRow),
}

impl KeyHolder<'_> {
    fn store(self) -> Holder {
        match self {
            KeyHolder::User(u) => Holder::User(u.id),
            KeyHolder::ServiceAccount(sa) => Holder::ServiceAccount(sa.id),
        }
    }

    /// Keys are created and activated only for an active holder (`key_holder_account.invalid`).
    fn is_active(self) -> bool {
        match self {
            KeyHolder::User(u) => u.state == AccountState::Active,
            KeyHolder::ServiceAccount(sa) => sa.state == AccountState::Active,
        }
    }
}

/// A validated list request.
#[derive(Debug, Clone, Copy)]
pub struct ListQuery {
    pub order_by: KeyColumn,
    pub descending: bool,
    /// 1-based.
    pub page: i64,
    pub limit: i64,
}

impl Default for ListQuery {
    fn default() -> Self {
        ListQuery { order_by: KeyColumn::Id, descending: false, page: 1, limit: MAX_LIMIT }
    }
}

/// One page of keys and the numbers for the `Total`, `Per-Page` and `Page` headers.
#[derive(Debug)]
pub struct Listed {
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
    pub keys: Vec<ApiKey>,
}

pub async fn list(app: &App, holder: KeyHolder<'_>, q: ListQuery) -> ServiceResult<Listed> {
    let holder = holder.store();
    // A page far beyond the end is an empty page, not an overflow.
    let offset = (q.page - 1).saturating_mul(q.limit);
    let page = KeyPage { order_by: q.order_by, descending: q.descending, limit: q.limit, offset };
    let total = app.store.count_api_keys(holder).await?;
    let rows = app.store.api_keys_of(holder, page).await?;
    Ok(Listed { total, page: q.page, per_page: q.limit, keys: rows.iter().map(|r| entity(r, None)).collect() })
}

/// `POST api_keys`: Barong's model checks, in its order (`kid.blank` when the algorithm is not
/// an HMAC one, `algorithm.inclusion`, `key_holder_account.invalid`), then a new key whose
/// secret is returned in this reply only.
pub async fn create(app: &App, holder: KeyHolder<'_>, algorithm: &str, scope: Option<&str>) -> ServiceResult<ApiKey> {
    let mut errors = Vec::new();
    if !algorithm.contains("HS") {
        // Barong assigned a kid only to HS* algorithms, so the model's presence check failed.
        errors.push("kid.blank".to_string());
    }
    if !ALGORITHMS.contains(&algorithm) {
        errors.push("algorithm.inclusion".to_string());
    }
    if !holder.is_active() {
        errors.push("key_holder_account.invalid".to_string());
    }
    if !errors.is_empty() {
        return Err(ServiceError::invalid_all(errors));
    }
    let secret = random_hex(16);
    let sealed = app.sealer.seal(secret.as_bytes());
    let scope = scope_json(scope.map(split_scope).unwrap_or_default());
    let now = app.clock.now();
    // 64 random bits rarely collide; a collision draws a new kid rather than failing the request.
    let mut attempts = 0;
    let row = loop {
        let kid = random_hex(8);
        let new =
            NewApiKey { holder: holder.store(), kid: &kid, algorithm, scope: &scope, secret_sealed: &sealed, now };
        match app.store.insert_api_key(&new).await {
            Err(StoreError::Unique(_)) if attempts < 3 => attempts += 1,
            other => break other?,
        }
    };
    Ok(entity(&row, Some(secret)))
}

/// `PATCH api_keys/:kid` and `PUT service_accounts/api_keys/:kid`.
pub async fn update(
    app: &App,
    holder: KeyHolder<'_>,
    kid: &str,
    scope: Option<&str>,
    state: Option<&str>,
) -> ServiceResult<ApiKey> {
    let key = find(app, holder, kid).await?;
    let state = match state {
        Some(s) => Some(KeyState::parse(s).ok_or_else(|| ServiceError::invalid("state.inclusion"))?),
        None => None,
    };
    if state == Some(KeyState::Active) && key.secret_unavailable {
        // No secret to check a signature against: the owner must create a new key.
        return Err(ServiceError::invalid(SECRET_UNAVAILABLE));
    }
    if state == Some(KeyState::Active) && !holder.is_active() {
        return Err(ServiceError::invalid("state.invalid"));
    }
    let scope = scope.map(|s| scope_json(split_scope(s)));
    let row = app.store.update_api_key(key.id, scope.as_deref(), state, app.clock.now()).await?;
    row.map(|r| entity(&r, None)).ok_or_else(not_found)
}

/// `DELETE api_keys/:kid` and `DELETE service_accounts/api_keys/:kid`.
pub async fn delete(app: &App, holder: KeyHolder<'_>, kid: &str) -> ServiceResult<()> {
    let key = find(app, holder, kid).await?;
    if app.store.delete_api_key(key.id).await? { Ok(()) } else { Err(not_found()) }
}

pub(crate) fn not_found() -> ServiceError {
    ServiceError::not_found("record.not_found")
}

/// A key of this holder (Barong's `find_by!`: a foreign kid is as unknown as a missing one).
async fn find(app: &App, holder: KeyHolder<'_>, kid: &str) -> ServiceResult<ApiKeyRow> {
    app.store.api_key_of(holder.store(), kid).await?.ok_or_else(not_found)
}

/// Ruby's `scope.split(',')`: trailing empty pieces are dropped, inner ones kept.
pub fn split_scope(scope: &str) -> Vec<String> {
    let mut parts: Vec<String> = scope.split(',').map(str::to_string).collect();
    while parts.last().is_some_and(String::is_empty) {
        parts.pop();
    }
    parts
}

fn scope_json(scope: Vec<String>) -> String {
    serde_json::Value::from(scope).to_string()
}

pub(crate) fn scope_of(row: &ApiKeyRow) -> Vec<String> {
    serde_json::from_str(&row.scope).unwrap_or_default()
}

fn entity(row: &ApiKeyRow, secret: Option<String>) -> ApiKey {
    ApiKey {
        kid: row.kid.clone(),
        algorithm: row.algorithm.clone(),
        scope: scope_of(row),
        state: row.state.to_string(),
        secret,
        created_at: iso8601(row.created_at),
        updated_at: iso8601(row.updated_at),
        secret_unavailable: row.secret_unavailable,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_splits_like_ruby() {
        assert_eq!(split_scope("read,trade"), vec!["read", "trade"]);
        assert_eq!(split_scope("read,,trade,,"), vec!["read", "", "trade"]);
        assert_eq!(split_scope(",read"), vec!["", "read"]);
        assert!(split_scope(",,").is_empty());
        assert_eq!(scope_json(split_scope("a,b")), r#"["a","b"]"#);
    }
}

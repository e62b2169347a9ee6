//! The authz gateway's tables: permissions, the change feed it reads, and signing-key rotation.

use async_trait::async_trait;

use super::StoreResult;
use super::keys::SigningKeyRow;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PermissionRow {
    pub id: i64,
    /// `ACCEPT`, `DROP` or `AUDIT`.
    pub action: String,
    pub role: String,
    /// An HTTP method in upper case, or `ALL`.
    pub verb: String,
    /// A path prefix without a leading slash.
    pub path: String,
    pub topic: Option<String>,
}

/// The column list of `PermissionRow`, as a macro so queries stay `&'static str`.
macro_rules! permission_columns {
    () => {
        "id, action, role, verb, path, topic"
    };
}
pub(crate) use permission_columns;

/// One row of the change feed (written by triggers, see migration 0004).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ChangeRow {
    pub id: i64,
    pub kind: String,
    pub subject: String,
}

#[async_trait]
pub trait AuthzStore {
    async fn permissions(&self) -> StoreResult<Vec<PermissionRow>>;
    /// Adds a permission; a duplicate (role, verb, path, action) is `StoreError::Unique`.
    async fn add_permission(
        &self,
        action: &str,
        role: &str,
        verb: &str,
        path: &str,
        topic: Option<&str>,
        now: i64,
    ) -> StoreResult<PermissionRow>;
    /// Seeds a permission unless the same (role, verb, path, action) exists; whether it was added.
    /// `ON CONFLICT DO NOTHING` rather than reading a unique violation, so a re-seed does not
    /// make PostgreSQL log an ERROR per existing row.
    async fn insert_permission_if_absent(
        &self,
        action: &str,
        role: &str,
        verb: &str,
        path: &str,
        topic: Option<&str>,
        now: i64,
    ) -> StoreResult<bool>;
    /// Whether any permission row names this role (Barong's `role.doesnt_exist` check).
    async fn role_exists(&self, role: &str) -> StoreResult<bool>;
    /// Returns whether a row was deleted.
    async fn delete_permission(&self, id: i64) -> StoreResult<bool>;
    /// The newest change id (0 when the feed is empty).
    async fn last_change_id(&self) -> StoreResult<i64>;
    /// Changes with an id above `after`, oldest first.
    async fn changes_after(&self, after: i64) -> StoreResult<Vec<ChangeRow>>;
    /// Forgets changes older than `before` (unix seconds).
    async fn purge_changes(&self, before: i64) -> StoreResult<u64>;
    /// Makes `key` (a new one) the active signing key from `key.takes_over_at`: the active one
    /// becomes `previous` (it still verifies), previous keys replaced before `retire_before`
    /// (their tokens have expired) and a key scheduled as `next` are retired.
    async fn rotate_signing_key(&self, key: &SigningKeyRow, retire_before: i64) -> StoreResult<()>;
}

macro_rules! impl_authz_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::authz::AuthzStore for $store {
            async fn permissions(&self) -> $crate::store::StoreResult<Vec<$crate::store::authz::PermissionRow>> {
                const SQL: &str =
                    concat!("SELECT ", $crate::store::authz::permission_columns!(), " FROM permissions ORDER BY id");
                Ok(sqlx::query_as::<$db, $crate::store::authz::PermissionRow>(SQL).fetch_all(&self.pool).await?)
            }

            async fn add_permission(
                &self,
                action: &str,
                role: &str,
                verb: &str,
                path: &str,
                topic: Option<&str>,
                now: i64,
            ) -> $crate::store::StoreResult<$crate::store::authz::PermissionRow> {
                const SQL: &str = concat!(
                    "INSERT INTO permissions (action, role, verb, path, topic, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING ",
                    $crate::store::authz::permission_columns!()
                );
                Ok(sqlx::query_as::<$db, $crate::store::authz::PermissionRow>(SQL)
                    .bind(action)
                    .bind(role)
                    .bind(verb)
                    .bind(path)
                    .bind(topic)
                    .bind(now)
                    .fetch_one(&self.pool)
                    .await?)
            }

            async fn insert_permission_if_absent(
                &self,
                action: &str,
                role: &str,
                verb: &str,
                path: &str,
                topic: Option<&str>,
                now: i64,
            ) -> $crate::store::StoreResult<bool> {
                let r = sqlx::query::<$db>(
                    "INSERT INTO permissions (action, role, verb, path, topic, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT DO NOTHING",
                )
                .bind(action)
                .bind(role)
                .bind(verb)
                .bind(path)
                .bind(topic)
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(r.rows_affected() > 0)
            }

            async fn role_exists(&self, role: &str) -> $crate::store::StoreResult<bool> {
                let found: Option<(i64,)> =
                    sqlx::query_as::<$db, (i64,)>("SELECT id FROM permissions WHERE role = $1 LIMIT 1")
                        .bind(role)
                        .fetch_optional(&self.pool)
                        .await?;
                Ok(found.is_some())
            }

            async fn delete_permission(&self, id: i64) -> $crate::store::StoreResult<bool> {
                let r =
                    sqlx::query::<$db>("DELETE FROM permissions WHERE id = $1").bind(id).execute(&self.pool).await?;
                Ok(r.rows_affected() > 0)
            }

            async fn last_change_id(&self) -> $crate::store::StoreResult<i64> {
                let (id,): (Option<i64>,) =
                    sqlx::query_as::<$db, (Option<i64>,)>("SELECT MAX(id) FROM changes").fetch_one(&self.pool).await?;
                Ok(id.unwrap_or(0))
            }

            async fn changes_after(
                &self,
                after: i64,
            ) -> $crate::store::StoreResult<Vec<$crate::store::authz::ChangeRow>> {
                Ok(sqlx::query_as::<$db, $crate::store::authz::ChangeRow>(
                    "SELECT id, kind, subject FROM changes WHERE id > $1 ORDER BY id LIMIT 10000",
                )
                .bind(after)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn purge_changes(&self, before: i64) -> $crate::store::StoreResult<u64> {
                let r = sqlx::query::<$db>("DELETE FROM changes WHERE created_at < $1")
                    .bind(before)
                    .execute(&self.pool)
                    .await?;
                Ok(r.rows_affected())
            }

            async fn rotate_signing_key(
                &self,
                k: &$crate::store::keys::SigningKeyRow,
                retire_before: i64,
            ) -> $crate::store::StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                $crate::store::keys::retire_replaced!($db, &mut *tx, retire_before, &k.kid);
                sqlx::query::<$db>("UPDATE signing_keys SET state = 'previous' WHERE state = 'active'")
                    .execute(&mut *tx)
                    .await?;
                let insert = sqlx::query::<$db>(
                    "INSERT INTO signing_keys (kid, algorithm, private_sealed, public_pem, state, created_at, \
                     takes_over_at) VALUES ($1, $2, $3, $4, 'active', $5, $6)",
                );
                $crate::store::keys::bind_key_row!(insert, k).execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(())
            }
        }
    };
}
pub(crate) use impl_authz_store;

//! What the Admin API reads and writes beyond the operator's stores: pages of permissions,
//! restrictions and profiles (SQL-level LIMIT/OFFSET with their counts), a permission by id and
//! its update, a restriction's update, a submitted profile's author. Restriction writes append their `changes` row in the same
//! transaction, as every other restriction write does.

use async_trait::async_trait;

use super::StoreResult;
use super::restrictions::RestrictionRow;

/// A permission with its timestamps (the Admin API's `Permission` entity).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AdminPermissionRow {
    pub id: i64,
    pub action: String,
    pub role: String,
    pub verb: String,
    pub path: String,
    pub topic: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A permission's new values (already validated and normalised).
pub struct PermissionUpdate<'a> {
    pub action: &'a str,
    pub role: &'a str,
    pub verb: &'a str,
    pub path: &'a str,
    pub topic: Option<&'a str>,
}

/// `GET /admin/restrictions` filters; `from`/`to` are inclusive bounds on `created_at`, or on
/// `updated_at` when `by_updated`.
#[derive(Debug, Default, Clone)]
pub struct RestrictionFilter {
    pub scope: Option<String>,
    pub category: Option<String>,
    pub by_updated: bool,
    pub from: Option<i64>,
    pub to: Option<i64>,
}

#[async_trait]
pub trait AdminStore {
    /// The `author` of `user_id`'s submitted profile: `None` when there is none, `Some(None)`
    /// when the user wrote it.
    async fn submitted_profile_author(&self, user_id: i64) -> StoreResult<Option<Option<String>>>;
    /// One page of every user's profiles by id, and how many there are.
    async fn profiles_page(&self, limit: i64, offset: i64) -> StoreResult<(Vec<super::profiles::ProfileRow>, i64)>;
    /// One page of permissions by id, and how many there are.
    async fn permissions_page(&self, limit: i64, offset: i64) -> StoreResult<(Vec<AdminPermissionRow>, i64)>;
    async fn permission_by_id(&self, id: i64) -> StoreResult<Option<AdminPermissionRow>>;
    /// Replaces a permission's values; `None` when no such row. A duplicate of another row is
    /// `StoreError::Unique`.
    async fn update_permission(
        &self,
        id: i64,
        p: &PermissionUpdate<'_>,
        now: i64,
    ) -> StoreResult<Option<AdminPermissionRow>>;
    /// One page of restrictions by id matching `f`, and how many match.
    async fn restrictions_page(
        &self,
        f: &RestrictionFilter,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<RestrictionRow>, i64)>;
    async fn restriction_by_id(&self, id: i64) -> StoreResult<Option<RestrictionRow>>;
    /// Replaces a restriction's values (`r.now` is the update time); `None` when no such row.
    async fn update_restriction(
        &self,
        id: i64,
        r: &super::restrictions::NewRestriction<'_>,
    ) -> StoreResult<Option<RestrictionRow>>;
}

macro_rules! admin_permission_columns {
    () => {
        "id, action, role, verb, path, topic, created_at, updated_at"
    };
}
pub(crate) use admin_permission_columns;

/// The WHERE clause of a restrictions page on `col` (created_at or updated_at).
macro_rules! restriction_where {
    ($col:literal) => {
        concat!(
            " FROM restrictions WHERE ($1 IS NULL OR scope = $1) AND ($2 IS NULL OR category = $2) AND ($3 IS NULL OR ",
            $col,
            " >= $3) AND ($4 IS NULL OR ",
            $col,
            " <= $4)"
        )
    };
}
pub(crate) use restriction_where;

macro_rules! impl_admin_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::admin::AdminStore for $store {
            async fn submitted_profile_author(
                &self,
                user_id: i64,
            ) -> $crate::store::StoreResult<Option<Option<String>>> {
                let row: Option<(Option<String>,)> =
                    sqlx::query_as("SELECT author FROM profiles WHERE user_id = $1 AND state = $2 ORDER BY id LIMIT 1")
                        .bind(user_id)
                        .bind($crate::model::ProfileState::Submitted.code())
                        .fetch_optional(&self.pool)
                        .await?;
                Ok(row.map(|(a,)| a))
            }

            async fn profiles_page(
                &self,
                limit: i64,
                offset: i64,
            ) -> $crate::store::StoreResult<(Vec<$crate::store::profiles::ProfileRow>, i64)> {
                const SQL: &str = concat!(
                    "SELECT ",
                    $crate::store::profiles::profile_columns!(),
                    " FROM profiles ORDER BY id LIMIT $1 OFFSET $2"
                );
                let rows = sqlx::query_as::<$db, $crate::store::profiles::ProfileRow>(SQL)
                    .bind(limit)
                    .bind(offset)
                    .fetch_all(&self.pool)
                    .await?;
                let (total,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM profiles").fetch_one(&self.pool).await?;
                Ok((rows, total))
            }

            async fn permissions_page(
                &self,
                limit: i64,
                offset: i64,
            ) -> $crate::store::StoreResult<(Vec<$crate::store::admin::AdminPermissionRow>, i64)> {
                const SQL: &str = concat!(
                    "SELECT ",
                    $crate::store::admin::admin_permission_columns!(),
                    " FROM permissions ORDER BY id LIMIT $1 OFFSET $2"
                );
                let rows = sqlx::query_as::<$db, $crate::store::admin::AdminPermissionRow>(SQL)
                    .bind(limit)
                    .bind(offset)
                    .fetch_all(&self.pool)
                    .await?;
                let (total,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM permissions").fetch_one(&self.pool).await?;
                Ok((rows, total))
            }

            async fn permission_by_id(
                &self,
                id: i64,
            ) -> $crate::store::StoreResult<Option<$crate::store::admin::AdminPermissionRow>> {
                const SQL: &str = concat!(
                    "SELECT ",
                    $crate::store::admin::admin_permission_columns!(),
                    " FROM permissions WHERE id = $1"
                );
                Ok(sqlx::query_as::<$db, $crate::store::admin::AdminPermissionRow>(SQL)
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn update_permission(
                &self,
                id: i64,
                p: &$crate::store::admin::PermissionUpdate<'_>,
                now: i64,
            ) -> $crate::store::StoreResult<Option<$crate::store::admin::AdminPermissionRow>> {
                const SQL: &str = concat!(
                    "UPDATE permissions SET action = $1, role = $2, verb = $3, path = $4, topic = $5, \
                     updated_at = $6 WHERE id = $7 RETURNING ",
                    $crate::store::admin::admin_permission_columns!()
                );
                Ok(sqlx::query_as::<$db, $crate::store::admin::AdminPermissionRow>(SQL)
                    .bind(p.action)
                    .bind(p.role)
                    .bind(p.verb)
                    .bind(p.path)
                    .bind(p.topic)
                    .bind(now)
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn restrictions_page(
                &self,
                f: &$crate::store::admin::RestrictionFilter,
                limit: i64,
                offset: i64,
            ) -> $crate::store::StoreResult<(Vec<$crate::store::restrictions::RestrictionRow>, i64)> {
                macro_rules! page {
                    ($col:literal) => {
                        (
                            concat!(
                                "SELECT ",
                                $crate::store::restrictions::restriction_columns!(),
                                $crate::store::admin::restriction_where!($col),
                                " ORDER BY id LIMIT $5 OFFSET $6"
                            ),
                            concat!("SELECT COUNT(*)", $crate::store::admin::restriction_where!($col)),
                        )
                    };
                }
                let (sql, count) = if f.by_updated { page!("updated_at") } else { page!("created_at") };
                let rows = sqlx::query_as::<$db, $crate::store::restrictions::RestrictionRow>(sql)
                    .bind(f.scope.as_deref())
                    .bind(f.category.as_deref())
                    .bind(f.from)
                    .bind(f.to)
                    .bind(limit)
                    .bind(offset)
                    .fetch_all(&self.pool)
                    .await?;
                let (total,): (i64,) = sqlx::query_as(count)
                    .bind(f.scope.as_deref())
                    .bind(f.category.as_deref())
                    .bind(f.from)
                    .bind(f.to)
                    .fetch_one(&self.pool)
                    .await?;
                Ok((rows, total))
            }

            async fn restriction_by_id(
                &self,
                id: i64,
            ) -> $crate::store::StoreResult<Option<$crate::store::restrictions::RestrictionRow>> {
                const SQL: &str = concat!(
                    "SELECT ",
                    $crate::store::restrictions::restriction_columns!(),
                    " FROM restrictions WHERE id = $1"
                );
                Ok(sqlx::query_as::<$db, $crate::store::restrictions::RestrictionRow>(SQL)
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn update_restriction(
                &self,
                id: i64,
                r: &$crate::store::restrictions::NewRestriction<'_>,
            ) -> $crate::store::StoreResult<Option<$crate::store::restrictions::RestrictionRow>> {
                const SQL: &str = concat!(
                    "UPDATE restrictions SET category = $1, scope = $2, value = $3, code = $4, state = $5, \
                     updated_at = $6 WHERE id = $7 RETURNING ",
                    $crate::store::restrictions::restriction_columns!()
                );
                let mut tx = self.pool.begin().await?;
                let row = sqlx::query_as::<$db, $crate::store::restrictions::RestrictionRow>(SQL)
                    .bind(r.category)
                    .bind(r.scope)
                    .bind(r.value)
                    .bind(r.code)
                    .bind(r.state)
                    .bind(r.now)
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
                if row.is_some() {
                    let now = r.now;
                    $crate::store::restrictions::record_change!(tx, $db, id, now);
                }
                tx.commit().await?;
                Ok(row)
            }
        }
    };
}
pub(crate) use impl_admin_store;

//! The Admin API's logs and dashboard counts: pages of the users' and the admins' activity logs
//! (SQL-level LIMIT/OFFSET with their counts) and the per-day counts of `GET /admin/metrics`.

use async_trait::async_trait;

use super::StoreResult;

/// `GET /admin/activities` and `/activities/admin` filters; `uid` and `email` name the actor,
/// `from`/`to` are inclusive bounds on `created_at`.
#[derive(Debug, Default, Clone)]
pub struct ActivityFilter {
    pub topic: Option<String>,
    pub action: Option<String>,
    pub uid: Option<String>,
    pub email: Option<String>,
    pub target_uid: Option<String>,
    pub from: Option<i64>,
    pub to: Option<i64>,
}

/// An activity row as the Admin API lists it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AdminActivityRow {
    pub id: i64,
    pub user_id: Option<i64>,
    pub target_uid: Option<String>,
    pub user_ip: String,
    pub user_ip_country: Option<String>,
    pub user_agent: Option<String>,
    pub topic: String,
    pub action: String,
    pub result: String,
    pub data: Option<String>,
    pub created_at: i64,
}

#[async_trait]
pub trait AdminLogStore {
    /// (UTC day number, count) of `category = user` activities with this topic, action and
    /// result created in `from..=to`, days ascending.
    async fn activity_counts_by_day(
        &self,
        topic: &str,
        action: &str,
        result: &str,
        from: i64,
        to: i64,
    ) -> StoreResult<Vec<(i64, i64)>>;
    /// Private `document` labels with value `pending`: KYC applications waiting for review.
    async fn pending_applications(&self) -> StoreResult<i64>;
    /// One page, newest first, of `category = user` activities of existing users (an inner
    /// join: rows of deleted users vanish, as in Barong) matching `f`, and how many match.
    async fn user_activities_page(
        &self,
        f: &ActivityFilter,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<AdminActivityRow>, i64)>;
    /// As `user_activities_page` for `category = admin` rows, operator rows (no actor) included
    /// unless `uid` or `email` is given.
    async fn admin_activities_page(
        &self,
        f: &ActivityFilter,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<AdminActivityRow>, i64)>;
}

/// The FROM and WHERE of an activities page of `category` with `join` (INNER or LEFT).
macro_rules! activity_where {
    ($join:literal, $category:literal) => {
        concat!(
            " FROM activities a ",
            $join,
            " JOIN users u ON u.id = a.user_id WHERE a.category = '",
            $category,
            "' AND ($1 IS NULL OR a.topic = $1) AND ($2 IS NULL OR a.action = $2) AND ($3 IS NULL OR u.uid = $3) \
             AND ($4 IS NULL OR u.email = $4) AND ($5 IS NULL OR a.target_uid = $5) \
             AND ($6 IS NULL OR a.created_at >= $6) AND ($7 IS NULL OR a.created_at <= $7)"
        )
    };
}
pub(crate) use activity_where;

/// One activities page: the rows and the count of `activity_where!($join, $category)`.
macro_rules! activity_page {
    ($self:ident, $db:ty, $f:ident, $limit:ident, $offset:ident, $join:literal, $category:literal) => {{
        const SQL: &str = concat!(
            "SELECT a.id, a.user_id, a.target_uid, a.user_ip, a.user_ip_country, a.user_agent, a.topic, a.action, \
             a.result, a.data, a.created_at",
            $crate::store::admin_logs::activity_where!($join, $category),
            " ORDER BY a.id DESC LIMIT $8 OFFSET $9"
        );
        const COUNT: &str = concat!("SELECT COUNT(*)", $crate::store::admin_logs::activity_where!($join, $category));
        let rows = sqlx::query_as::<$db, $crate::store::admin_logs::AdminActivityRow>(SQL)
            .bind($f.topic.as_deref())
            .bind($f.action.as_deref())
            .bind($f.uid.as_deref())
            .bind($f.email.as_deref())
            .bind($f.target_uid.as_deref())
            .bind($f.from)
            .bind($f.to)
            .bind($limit)
            .bind($offset)
            .fetch_all(&$self.pool)
            .await?;
        let (total,): (i64,) = sqlx::query_as(COUNT)
            .bind($f.topic.as_deref())
            .bind($f.action.as_deref())
            .bind($f.uid.as_deref())
            .bind($f.email.as_deref())
            .bind($f.target_uid.as_deref())
            .bind($f.from)
            .bind($f.to)
            .fetch_one(&$self.pool)
            .await?;
        Ok((rows, total))
    }};
}
pub(crate) use activity_page;

macro_rules! impl_admin_log_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::admin_logs::AdminLogStore for $store {
            async fn activity_counts_by_day(
                &self,
                topic: &str,
                action: &str,
                result: &str,
                from: i64,
                to: i64,
            ) -> $crate::store::StoreResult<Vec<(i64, i64)>> {
                Ok(sqlx::query_as::<$db, (i64, i64)>(
                    "SELECT created_at / 86400 AS day, COUNT(*) FROM activities WHERE category = 'user' \
                     AND topic = $1 AND action = $2 AND result = $3 AND created_at >= $4 AND created_at <= $5 \
                     GROUP BY created_at / 86400 ORDER BY 1",
                )
                .bind(topic)
                .bind(action)
                .bind(result)
                .bind(from)
                .bind(to)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn pending_applications(&self) -> $crate::store::StoreResult<i64> {
                let (n,): (i64,) = sqlx::query_as(
                    "SELECT COUNT(*) FROM labels WHERE key = 'document' AND value = 'pending' AND scope = 'private'",
                )
                .fetch_one(&self.pool)
                .await?;
                Ok(n)
            }

            async fn user_activities_page(
                &self,
                f: &$crate::store::admin_logs::ActivityFilter,
                limit: i64,
                offset: i64,
            ) -> $crate::store::StoreResult<(Vec<$crate::store::admin_logs::AdminActivityRow>, i64)> {
                $crate::store::admin_logs::activity_page!(self, $db, f, limit, offset, "INNER", "user")
            }

            async fn admin_activities_page(
                &self,
                f: &$crate::store::admin_logs::ActivityFilter,
                limit: i64,
                offset: i64,
            ) -> $crate::store::StoreResult<(Vec<$crate::store::admin_logs::AdminActivityRow>, i64)> {
                $crate::store::admin_logs::activity_page!(self, $db, f, limit, offset, "LEFT", "admin")
            }
        }
    };
}
pub(crate) use impl_admin_log_store;

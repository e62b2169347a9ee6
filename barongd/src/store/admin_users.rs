//! The Admin API's user lists and the per-user rows only it shows (comments). Pages are cut in
//! SQL (`user_list`): Barong loaded every matching user with its profiles before slicing (W16).

use async_trait::async_trait;

use super::StoreResult;
pub use super::user_list::{UserColumn, UserFilter, UserOrder};
use super::users::UserRow;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CommentRow {
    pub id: i64,
    pub user_id: i64,
    pub author_uid: String,
    pub title: String,
    pub data: String,
    pub created_at: i64,
    pub updated_at: i64,
}

#[async_trait]
pub trait AdminUserStore {
    /// One page of users matching `f` in order `o`, and how many users match.
    async fn users_page(
        &self,
        f: &UserFilter,
        o: UserOrder,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<UserRow>, i64)>;
    /// One page of the users matching `f` whose document awaits review, and how many match.
    async fn pending_documents_page(&self, f: &UserFilter, limit: i64, offset: i64)
    -> StoreResult<(Vec<UserRow>, i64)>;
    /// Deletes `user_id`'s data storage titled `title` (case-insensitively, as its unique index);
    /// whether there was one.
    async fn delete_data_storage(&self, user_id: i64, title: &str) -> StoreResult<bool>;
    /// A user's comments by id.
    async fn comments_of(&self, user_id: i64) -> StoreResult<Vec<CommentRow>>;
    /// Replaces the e-mail (and its lookup key), dropping cached claims, with `events` in the
    /// same transaction. A taken key is `StoreError::Unique`.
    async fn update_email_with_events(
        &self,
        user_id: i64,
        email: &str,
        email_key: &str,
        now: i64,
        events: &[super::PendingEvent],
    ) -> StoreResult<()>;
    /// Adds a comment on `user_id`; its id.
    async fn insert_comment(
        &self,
        user_id: i64,
        author_uid: &str,
        title: &str,
        data: &str,
        now: i64,
    ) -> StoreResult<i64>;
    async fn comment_by_id(&self, id: i64) -> StoreResult<Option<CommentRow>>;
    /// Replaces the given fields of a comment.
    async fn update_comment(&self, id: i64, title: Option<&str>, data: Option<&str>, now: i64) -> StoreResult<()>;
    async fn delete_comment(&self, id: i64) -> StoreResult<()>;
    /// Private labels counted by (key, value), ordered by key then value.
    async fn private_label_counts(&self) -> StoreResult<Vec<(String, String, i64)>>;
    /// One page by id of the users having a label `key`=`value` in any scope (each user once),
    /// and how many there are.
    async fn users_with_label_page(
        &self,
        key: &str,
        value: &str,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(Vec<UserRow>, i64)>;
}

/// The WHERE of `users_with_label_page`.
macro_rules! with_label_where {
    () => {
        " FROM users u WHERE EXISTS (SELECT 1 FROM labels l WHERE l.user_id = u.id AND l.key = $1 AND l.value = $2)"
    };
}
pub(crate) use with_label_where;

macro_rules! impl_admin_user_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::admin_users::AdminUserStore for $store {
            async fn users_page(
                &self,
                f: &$crate::store::admin_users::UserFilter,
                o: $crate::store::admin_users::UserOrder,
                limit: i64,
                offset: i64,
            ) -> $crate::store::StoreResult<(Vec<$crate::store::users::UserRow>, i64)> {
                // Only static column names and directions enter these texts (see `user_page_sql`).
                let sql = sqlx::AssertSqlSafe($crate::store::user_list::user_page_sql(f, o));
                let q = sqlx::query_as::<$db, $crate::store::users::UserRow>(sql);
                let rows =
                    $crate::store::user_list::bind_user_filter!(q, f).bind(limit).bind(offset).fetch_all(&self.pool);
                let count = $crate::store::user_list::user_count_sql(f);
                let q = sqlx::query_as::<$db, (i64,)>(sqlx::AssertSqlSafe(count));
                let total = $crate::store::user_list::bind_user_filter!(q, f).fetch_one(&self.pool);
                // On two connections at once: a page costs the slower of the two, not their sum.
                let (rows, (total,)) = futures::try_join!(rows, total)?;
                Ok((rows, total))
            }

            async fn pending_documents_page(
                &self,
                f: &$crate::store::admin_users::UserFilter,
                limit: i64,
                offset: i64,
            ) -> $crate::store::StoreResult<(Vec<$crate::store::users::UserRow>, i64)> {
                // Only static texts enter these queries (see `pending_page_sql`).
                let sql = sqlx::AssertSqlSafe($crate::store::user_list::pending_page_sql(f));
                let q = sqlx::query_as::<$db, $crate::store::users::UserRow>(sql);
                let rows =
                    $crate::store::user_list::bind_user_filter!(q, f).bind(limit).bind(offset).fetch_all(&self.pool);
                let count = format!("SELECT COUNT(*){}", $crate::store::user_list::pending_where(f).0);
                let q = sqlx::query_as::<$db, (i64,)>(sqlx::AssertSqlSafe(count));
                let total = $crate::store::user_list::bind_user_filter!(q, f).fetch_one(&self.pool);
                let (rows, (total,)) = futures::try_join!(rows, total)?;
                Ok((rows, total))
            }

            async fn delete_data_storage(&self, user_id: i64, title: &str) -> $crate::store::StoreResult<bool> {
                let r = sqlx::query::<$db>("DELETE FROM data_storages WHERE user_id = $1 AND lower(title) = lower($2)")
                    .bind(user_id)
                    .bind(title)
                    .execute(&self.pool)
                    .await?;
                Ok(r.rows_affected() > 0)
            }

            async fn comments_of(
                &self,
                user_id: i64,
            ) -> $crate::store::StoreResult<Vec<$crate::store::admin_users::CommentRow>> {
                Ok(sqlx::query_as::<$db, $crate::store::admin_users::CommentRow>(
                    "SELECT id, user_id, author_uid, title, data, created_at, updated_at FROM comments \
                     WHERE user_id = $1 ORDER BY id",
                )
                .bind(user_id)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn update_email_with_events(
                &self,
                user_id: i64,
                email: &str,
                email_key: &str,
                now: i64,
                events: &[$crate::store::outbox::PendingEvent],
            ) -> $crate::store::StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                sqlx::query::<$db>(
                    "UPDATE users SET email = $1, email_key = $2, updated_at = $3, \
                     claims_version = claims_version + 1 WHERE id = $4",
                )
                .bind(email)
                .bind(email_key)
                .bind(now)
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
                $crate::store::outbox::insert_events!($db, tx, events);
                tx.commit().await?;
                if !events.is_empty() {
                    self.outbox_wake.notify_one();
                }
                Ok(())
            }

            async fn insert_comment(
                &self,
                user_id: i64,
                author_uid: &str,
                title: &str,
                data: &str,
                now: i64,
            ) -> $crate::store::StoreResult<i64> {
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO comments (user_id, author_uid, title, data, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
                )
                .bind(user_id)
                .bind(author_uid)
                .bind(title)
                .bind(data)
                .bind(now)
                .fetch_one(&self.pool)
                .await?;
                Ok(id)
            }

            async fn comment_by_id(
                &self,
                id: i64,
            ) -> $crate::store::StoreResult<Option<$crate::store::admin_users::CommentRow>> {
                Ok(sqlx::query_as::<$db, $crate::store::admin_users::CommentRow>(
                    "SELECT id, user_id, author_uid, title, data, created_at, updated_at FROM comments WHERE id = $1",
                )
                .bind(id)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn update_comment(
                &self,
                id: i64,
                title: Option<&str>,
                data: Option<&str>,
                now: i64,
            ) -> $crate::store::StoreResult<()> {
                sqlx::query::<$db>(
                    "UPDATE comments SET title = COALESCE($1, title), data = COALESCE($2, data), updated_at = $3 \
                     WHERE id = $4",
                )
                .bind(title)
                .bind(data)
                .bind(now)
                .bind(id)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn delete_comment(&self, id: i64) -> $crate::store::StoreResult<()> {
                sqlx::query::<$db>("DELETE FROM comments WHERE id = $1").bind(id).execute(&self.pool).await?;
                Ok(())
            }

            async fn private_label_counts(&self) -> $crate::store::StoreResult<Vec<(String, String, i64)>> {
                Ok(sqlx::query_as::<$db, (String, String, i64)>(
                    "SELECT key, value, COUNT(*) FROM labels WHERE scope = 'private' GROUP BY key, value \
                     ORDER BY key, value",
                )
                .fetch_all(&self.pool)
                .await?)
            }

            async fn users_with_label_page(
                &self,
                key: &str,
                value: &str,
                limit: i64,
                offset: i64,
            ) -> $crate::store::StoreResult<(Vec<$crate::store::users::UserRow>, i64)> {
                const SQL: &str = concat!(
                    "SELECT * FROM (SELECT ",
                    $crate::store::users::user_columns!(),
                    " FROM users) u WHERE EXISTS (SELECT 1 FROM labels l WHERE l.user_id = u.id AND l.key = $1 \
                     AND l.value = $2) ORDER BY u.id LIMIT $3 OFFSET $4"
                );
                const COUNT: &str = concat!("SELECT COUNT(*)", $crate::store::admin_users::with_label_where!());
                let rows = sqlx::query_as::<$db, $crate::store::users::UserRow>(SQL)
                    .bind(key)
                    .bind(value)
                    .bind(limit)
                    .bind(offset)
                    .fetch_all(&self.pool)
                    .await?;
                let (total,): (i64,) = sqlx::query_as(COUNT).bind(key).bind(value).fetch_one(&self.pool).await?;
                Ok((rows, total))
            }
        }
    };
}
pub(crate) use impl_admin_user_store;

//! The Admin API's user lists and the per-user rows only it shows (comments). Pages are cut in
//! SQL: Barong loaded every matching user with its profiles before slicing (W16). The country
//! filter is an `EXISTS` on profiles rather than a join, so a user with several profiles is one
//! row and `Total` counts distinct users.

use async_trait::async_trait;

use super::StoreResult;
use super::users::UserRow;

/// Columns a user list may be ordered by (Barong's `users` columns without the digest, which
/// would leak its ordering).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UserColumn {
    #[default]
    Id,
    Uid,
    Username,
    Email,
    Role,
    Data,
    Level,
    Otp,
    State,
    ReferralId,
    CreatedAt,
    UpdatedAt,
}

impl UserColumn {
    /// The column named `name` exactly, if orderable.
    pub fn from_name(name: &str) -> Option<Self> {
        use UserColumn::*;
        [Id, Uid, Username, Email, Role, Data, Level, Otp, State, ReferralId, CreatedAt, UpdatedAt]
            .into_iter()
            .find(|c| c.name() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            UserColumn::Id => "id",
            UserColumn::Uid => "uid",
            UserColumn::Username => "username",
            UserColumn::Email => "email",
            UserColumn::Role => "role",
            UserColumn::Data => "data",
            UserColumn::Level => "level",
            UserColumn::Otp => "otp",
            UserColumn::State => "state",
            UserColumn::ReferralId => "referral_id",
            UserColumn::CreatedAt => "created_at",
            UserColumn::UpdatedAt => "updated_at",
        }
    }
}

/// `GET /admin/users` filters (each only when given); `from`/`to` are inclusive bounds on
/// `created_at`, or `updated_at` when `by_updated`. `email_key` is the lower-cased e-mail.
#[derive(Debug, Default, Clone)]
pub struct UserFilter {
    pub uid: Option<String>,
    pub email_key: Option<String>,
    pub role: Option<String>,
    pub level: Option<i64>,
    pub state: Option<String>,
    pub country: Option<String>,
    pub by_updated: bool,
    pub from: Option<i64>,
    pub to: Option<i64>,
}

/// One page of a user list.
#[derive(Debug, Clone, Copy, Default)]
pub struct UserOrder {
    pub order_by: UserColumn,
    pub descending: bool,
}

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

/// The WHERE of a user list over `users u`, and the number of its first free placeholder.
pub(crate) fn user_where(f: &UserFilter) -> (String, usize) {
    let (conditions, next) = user_conditions(f);
    (format!(" FROM users u WHERE {conditions}"), next)
}

/// As `user_where`, for users awaiting a document review (a private `document` label `pending`
/// or `replaced`; one per user, as labels are unique per user, key and scope).
pub(crate) fn pending_where(f: &UserFilter) -> (String, usize) {
    let (conditions, next) = user_conditions(f);
    let from = " FROM users u JOIN labels dl ON dl.user_id = u.id AND dl.key = 'document' AND dl.scope = 'private' \
         AND dl.value IN ('pending', 'replaced')";
    (format!("{from} WHERE {conditions}"), next)
}

/// The conditions of the filters that are set, numbered from `$1` in field order (the order
/// `bind_user_filter!` binds them in), and the next free number. An absent filter leaves no
/// `($n IS NULL OR ...)` behind: SQLite plans a statement without looking at the values bound,
/// so such a test hid every index from it and each list scanned the whole table.
fn user_conditions(f: &UserFilter) -> (String, usize) {
    let col = if f.by_updated { "u.updated_at" } else { "u.created_at" };
    let tests: [(bool, &dyn Fn(usize) -> String); 8] = [
        (f.uid.is_some(), &|n| format!("u.uid = ${n}")),
        (f.email_key.is_some(), &|n| format!("u.email_key = ${n}")),
        (f.role.is_some(), &|n| format!("u.role = ${n}")),
        (f.level.is_some(), &|n| format!("u.level = ${n}")),
        (f.state.is_some(), &|n| format!("u.state = ${n}")),
        // Driven from the profiles' country index; a user with several profiles counts once.
        (f.country.is_some(), &|n| format!("u.id IN (SELECT p.user_id FROM profiles p WHERE p.country = ${n})")),
        (f.from.is_some(), &|n| format!("{col} >= ${n}")),
        (f.to.is_some(), &|n| format!("{col} <= ${n}")),
    ];
    let mut parts = Vec::new();
    for (set, test) in tests {
        if set {
            parts.push(test(parts.len() + 1));
        }
    }
    let next = parts.len() + 1;
    if parts.is_empty() { ("1 = 1".into(), next) } else { (parts.join(" AND "), next) }
}

/// The count of `user_where`'s users. Tower's country search alone is counted from the
/// profiles' country index: every profile has its user (foreign key), and joining users made
/// the planner walk all of them.
pub(crate) fn user_count_sql(f: &UserFilter) -> String {
    let only_country = f.country.is_some()
        && f.uid.is_none()
        && f.email_key.is_none()
        && f.role.is_none()
        && f.level.is_none()
        && f.state.is_none()
        && f.from.is_none()
        && f.to.is_none();
    if only_country {
        return "SELECT COUNT(DISTINCT p.user_id) FROM profiles p WHERE p.country = $1".into();
    }
    format!("SELECT COUNT(*){}", user_where(f).0)
}

/// A page of users awaiting a document review, oldest label first.
pub(crate) fn pending_page_sql(f: &UserFilter) -> String {
    let cols = super::users::user_columns!().split(", ").map(|c| format!("u.{c}")).collect::<Vec<_>>().join(", ");
    let (from, n) = pending_where(f);
    format!("SELECT {cols}{from} ORDER BY dl.updated_at ASC, u.id ASC LIMIT ${n} OFFSET ${}", n + 1)
}

/// A page of users: only static column names and directions enter the text; `id` breaks ties
/// so pages do not overlap.
pub(crate) fn user_page_sql(f: &UserFilter, o: UserOrder) -> String {
    let dir = if o.descending { "DESC" } else { "ASC" };
    let cols = super::users::user_columns!().split(", ").map(|c| format!("u.{c}")).collect::<Vec<_>>().join(", ");
    let (from, n) = user_where(f);
    format!("SELECT {cols}{from} ORDER BY u.{} {dir}, u.id {dir} LIMIT ${n} OFFSET ${}", o.order_by.name(), n + 1)
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

/// Binds the values of the filters that are set, in `user_conditions`' order.
macro_rules! bind_user_filter {
    ($q:expr, $f:expr) => {{
        let mut q = $q;
        if let Some(v) = $f.uid.as_deref() {
            q = q.bind(v);
        }
        if let Some(v) = $f.email_key.as_deref() {
            q = q.bind(v);
        }
        if let Some(v) = $f.role.as_deref() {
            q = q.bind(v);
        }
        if let Some(v) = $f.level {
            q = q.bind(v);
        }
        if let Some(v) = $f.state.as_deref() {
            q = q.bind(v);
        }
        if let Some(v) = $f.country.as_deref() {
            q = q.bind(v);
        }
        if let Some(v) = $f.from {
            q = q.bind(v);
        }
        if let Some(v) = $f.to {
            q = q.bind(v);
        }
        q
    }};
}
pub(crate) use bind_user_filter;

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
                let sql = sqlx::AssertSqlSafe($crate::store::admin_users::user_page_sql(f, o));
                let q = sqlx::query_as::<$db, $crate::store::users::UserRow>(sql);
                let rows =
                    $crate::store::admin_users::bind_user_filter!(q, f).bind(limit).bind(offset).fetch_all(&self.pool);
                let count = $crate::store::admin_users::user_count_sql(f);
                let q = sqlx::query_as::<$db, (i64,)>(sqlx::AssertSqlSafe(count));
                let total = $crate::store::admin_users::bind_user_filter!(q, f).fetch_one(&self.pool);
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
                let sql = sqlx::AssertSqlSafe($crate::store::admin_users::pending_page_sql(f));
                let q = sqlx::query_as::<$db, $crate::store::users::UserRow>(sql);
                let rows =
                    $crate::store::admin_users::bind_user_filter!(q, f).bind(limit).bind(offset).fetch_all(&self.pool);
                let count = format!("SELECT COUNT(*){}", $crate::store::admin_users::pending_where(f).0);
                let q = sqlx::query_as::<$db, (i64,)>(sqlx::AssertSqlSafe(count));
                let total = $crate::store::admin_users::bind_user_filter!(q, f).fetch_one(&self.pool);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_by_accepts_column_names_only() {
        assert_eq!(UserColumn::from_name("created_at"), Some(UserColumn::CreatedAt));
        assert_eq!(UserColumn::from_name("password_digest"), None);
        assert_eq!(UserColumn::from_name("id; DROP TABLE users"), None);
    }
}

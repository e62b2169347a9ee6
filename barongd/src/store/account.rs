//! What a user changes about their own account: public labels, data storages, profile data,
//! and the activity history they read.

use async_trait::async_trait;

use super::StoreResult;
use super::activities::ActivityRow;
use super::labels::LabelRow;
use super::outbox::{EventsOf, PendingEvent};

/// Filters of a user's activity listing; `None` means "any".
#[derive(Debug, Clone, Default)]
pub struct ActivityFilter<'a> {
    pub topic: Option<&'a str>,
    /// `created_at >= from`.
    pub from: Option<i64>,
    /// `created_at < to`.
    pub to: Option<i64>,
    pub result: Option<&'a str>,
}

#[async_trait]
pub trait AccountStore {
    /// Sets `users.data` (already validated JSON text).
    async fn update_user_data(&self, user_id: i64, data: &str, now: i64) -> StoreResult<()>;

    /// Every label of the user, by `created_at` (ascending or descending; ties by id).
    async fn labels_ordered(&self, user_id: i64, ascending: bool) -> StoreResult<Vec<LabelRow>>;
    /// The first label with this key in any scope (reads see every scope).
    async fn label_any_scope(&self, user_id: i64, key: &str) -> StoreResult<Option<LabelRow>>;
    /// The user's public label with this key: the only kind a user may change.
    async fn public_label(&self, user_id: i64, key: &str) -> StoreResult<Option<LabelRow>>;
    /// Inserts a public label; a (user, key, public) duplicate is `StoreError::Unique`.
    async fn insert_public_label(&self, user_id: i64, key: &str, value: &str, now: i64) -> StoreResult<LabelRow> {
        self.insert_public_label_with_events(user_id, key, value, now, &|_| Vec::new()).await
    }
    /// [`Self::insert_public_label`], queueing the events of the stored label in its transaction.
    async fn insert_public_label_with_events(
        &self,
        user_id: i64,
        key: &str,
        value: &str,
        now: i64,
        events: EventsOf<'_, LabelRow>,
    ) -> StoreResult<LabelRow>;
    /// Changes the value of a public label; `None` when it no longer exists.
    async fn update_public_label(&self, id: i64, value: &str, now: i64) -> StoreResult<Option<LabelRow>> {
        self.update_public_label_with_events(id, value, now, &|_| Vec::new()).await
    }
    /// [`Self::update_public_label`], queueing the events of the changed label in its transaction.
    async fn update_public_label_with_events(
        &self,
        id: i64,
        value: &str,
        now: i64,
        events: EventsOf<'_, LabelRow>,
    ) -> StoreResult<Option<LabelRow>>;
    /// Deletes the user's public label with this key; whether one was deleted.
    async fn delete_public_label(&self, user_id: i64, key: &str) -> StoreResult<bool>;

    /// Whether the user has a data storage with this title, compared case-insensitively.
    async fn data_storage_title_taken(&self, user_id: i64, title: &str) -> StoreResult<bool>;
    /// Inserts a data storage; a duplicate title (any case) is `StoreError::Unique`.
    async fn insert_data_storage(&self, user_id: i64, title: &str, data: &str, now: i64) -> StoreResult<()> {
        self.insert_data_storage_with_events(user_id, title, data, now, &[]).await
    }
    /// Inserts a data storage and queues `events` in the same transaction.
    async fn insert_data_storage_with_events(
        &self,
        user_id: i64,
        title: &str,
        data: &str,
        now: i64,
        events: &[PendingEvent],
    ) -> StoreResult<()>;

    /// One page of the user's activities, newest first.
    async fn activities_page(
        &self,
        user_id: i64,
        filter: &ActivityFilter<'_>,
        limit: i64,
        offset: i64,
    ) -> StoreResult<Vec<ActivityRow>>;
    /// How many activities match (the `Total` header).
    async fn count_activities(&self, user_id: i64, filter: &ActivityFilter<'_>) -> StoreResult<i64>;

    /// Disables the active API keys of the user and of the service accounts it owns (Barong's
    /// user-update cascade when the state leaves `active`); returns how many were disabled.
    async fn disable_api_keys_of_user(&self, user_id: i64, now: i64) -> StoreResult<u64>;
    /// Ends every session of the user except the one stored under `keep_id_hash`.
    async fn delete_other_sessions(&self, user_id: i64, keep_id_hash: &str) -> StoreResult<u64>;
}

/// The filters shared by the activity page and its count (`$1` user, `$2`..`$5` filters).
macro_rules! activity_filter {
    () => {
        "FROM activities WHERE user_id = $1 AND ($2 IS NULL OR topic = $2) AND ($3 IS NULL OR created_at >= $3) \
         AND ($4 IS NULL OR created_at < $4) AND ($5 IS NULL OR result = $5)"
    };
}
pub(crate) use activity_filter;

macro_rules! impl_account_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::account::AccountStore for $store {
            async fn update_user_data(&self, user_id: i64, data: &str, now: i64) -> $crate::store::StoreResult<()> {
                sqlx::query::<$db>("UPDATE users SET data = $2, updated_at = $3 WHERE id = $1")
                    .bind(user_id)
                    .bind(data)
                    .bind(now)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn labels_ordered(
                &self,
                user_id: i64,
                ascending: bool,
            ) -> $crate::store::StoreResult<Vec<$crate::store::LabelRow>> {
                const ASC: &str = concat!(
                    "SELECT ",
                    $crate::store::labels::label_columns!(),
                    " FROM labels WHERE user_id = $1 ORDER BY created_at ASC, id ASC"
                );
                const DESC: &str = concat!(
                    "SELECT ",
                    $crate::store::labels::label_columns!(),
                    " FROM labels WHERE user_id = $1 ORDER BY created_at DESC, id DESC"
                );
                Ok(sqlx::query_as::<$db, $crate::store::LabelRow>(if ascending { ASC } else { DESC })
                    .bind(user_id)
                    .fetch_all(&self.pool)
                    .await?)
            }

            async fn label_any_scope(
                &self,
                user_id: i64,
                key: &str,
            ) -> $crate::store::StoreResult<Option<$crate::store::LabelRow>> {
                self.label_with_key(user_id, key, None).await
            }

            async fn public_label(
                &self,
                user_id: i64,
                key: &str,
            ) -> $crate::store::StoreResult<Option<$crate::store::LabelRow>> {
                self.label_with_key(user_id, key, Some("public")).await
            }

            async fn insert_public_label_with_events(
                &self,
                user_id: i64,
                key: &str,
                value: &str,
                now: i64,
                events: $crate::store::outbox::EventsOf<'_, $crate::store::LabelRow>,
            ) -> $crate::store::StoreResult<$crate::store::LabelRow> {
                const SQL: &str = concat!(
                    "INSERT INTO labels (user_id, key, value, scope, created_at, updated_at) \
                     VALUES ($1, $2, $3, 'public', $4, $4) RETURNING ",
                    $crate::store::labels::label_columns!()
                );
                Ok($crate::store::outbox::with_events_of!(
                    self,
                    $db,
                    |conn| sqlx::query_as::<$db, $crate::store::LabelRow>(SQL)
                        .bind(user_id)
                        .bind(key)
                        .bind(value)
                        .bind(now)
                        .fetch_one(conn)
                        .await?,
                    |label| events(&label)
                ))
            }

            async fn update_public_label_with_events(
                &self,
                id: i64,
                value: &str,
                now: i64,
                events: $crate::store::outbox::EventsOf<'_, $crate::store::LabelRow>,
            ) -> $crate::store::StoreResult<Option<$crate::store::LabelRow>> {
                const SQL: &str = concat!(
                    "UPDATE labels SET value = $2, updated_at = $3 WHERE id = $1 AND scope = 'public' RETURNING ",
                    $crate::store::labels::label_columns!()
                );
                Ok($crate::store::outbox::with_events_of!(
                    self,
                    $db,
                    |conn| sqlx::query_as::<$db, $crate::store::LabelRow>(SQL)
                        .bind(id)
                        .bind(value)
                        .bind(now)
                        .fetch_optional(conn)
                        .await?,
                    |label| label.as_ref().map(events).unwrap_or_default()
                ))
            }

            async fn delete_public_label(&self, user_id: i64, key: &str) -> $crate::store::StoreResult<bool> {
                let r = sqlx::query::<$db>("DELETE FROM labels WHERE user_id = $1 AND key = $2 AND scope = 'public'")
                    .bind(user_id)
                    .bind(key)
                    .execute(&self.pool)
                    .await?;
                Ok(r.rows_affected() > 0)
            }

            async fn data_storage_title_taken(&self, user_id: i64, title: &str) -> $crate::store::StoreResult<bool> {
                let found: Option<(i64,)> = sqlx::query_as::<$db, (i64,)>(
                    "SELECT id FROM data_storages WHERE user_id = $1 AND lower(title) = lower($2) LIMIT 1",
                )
                .bind(user_id)
                .bind(title)
                .fetch_optional(&self.pool)
                .await?;
                Ok(found.is_some())
            }

            async fn insert_data_storage_with_events(
                &self,
                user_id: i64,
                title: &str,
                data: &str,
                now: i64,
                events: &[$crate::store::outbox::PendingEvent],
            ) -> $crate::store::StoreResult<()> {
                $crate::store::outbox::with_events!(self, $db, events, |conn| {
                    sqlx::query::<$db>(
                        "INSERT INTO data_storages (user_id, title, data, created_at, updated_at) \
                         VALUES ($1, $2, $3, $4, $4)",
                    )
                    .bind(user_id)
                    .bind(title)
                    .bind(data)
                    .bind(now)
                    .execute(conn)
                    .await?
                });
                Ok(())
            }

            async fn activities_page(
                &self,
                user_id: i64,
                f: &$crate::store::account::ActivityFilter<'_>,
                limit: i64,
                offset: i64,
            ) -> $crate::store::StoreResult<Vec<$crate::store::activities::ActivityRow>> {
                const SQL: &str = concat!(
                    "SELECT id, user_id, category, user_ip, user_ip_country, user_agent, topic, action, result, data, \
                     created_at ",
                    $crate::store::account::activity_filter!(),
                    " ORDER BY id DESC LIMIT $6 OFFSET $7"
                );
                Ok(sqlx::query_as::<$db, $crate::store::activities::ActivityRow>(SQL)
                    .bind(user_id)
                    .bind(f.topic)
                    .bind(f.from)
                    .bind(f.to)
                    .bind(f.result)
                    .bind(limit)
                    .bind(offset)
                    .fetch_all(&self.pool)
                    .await?)
            }

            async fn count_activities(
                &self,
                user_id: i64,
                f: &$crate::store::account::ActivityFilter<'_>,
            ) -> $crate::store::StoreResult<i64> {
                const SQL: &str = concat!("SELECT COUNT(*) ", $crate::store::account::activity_filter!());
                let (n,): (i64,) = sqlx::query_as::<$db, (i64,)>(SQL)
                    .bind(user_id)
                    .bind(f.topic)
                    .bind(f.from)
                    .bind(f.to)
                    .bind(f.result)
                    .fetch_one(&self.pool)
                    .await?;
                Ok(n)
            }

            async fn disable_api_keys_of_user(&self, user_id: i64, now: i64) -> $crate::store::StoreResult<u64> {
                let r = sqlx::query::<$db>($crate::store::api_keys::DISABLE_KEYS_OF_OWNER)
                    .bind(user_id)
                    .bind(now)
                    .execute(&self.pool)
                    .await?;
                Ok(r.rows_affected())
            }

            async fn delete_other_sessions(&self, user_id: i64, keep_id_hash: &str) -> $crate::store::StoreResult<u64> {
                let r = sqlx::query::<$db>("DELETE FROM sessions WHERE user_id = $1 AND id_hash <> $2")
                    .bind(user_id)
                    .bind(keep_id_hash)
                    .execute(&self.pool)
                    .await?;
                Ok(r.rows_affected())
            }
        }

        impl $store {
            /// The user's oldest label with this key: in `scope`, or in any scope when `None`
            /// (there is at most one per scope).
            async fn label_with_key(
                &self,
                user_id: i64,
                key: &str,
                scope: Option<&str>,
            ) -> $crate::store::StoreResult<Option<$crate::store::LabelRow>> {
                const SQL: &str = concat!(
                    "SELECT ",
                    $crate::store::labels::label_columns!(),
                    " FROM labels WHERE user_id = $1 AND key = $2 AND ($3 IS NULL OR scope = $3) ORDER BY id LIMIT 1"
                );
                Ok(sqlx::query_as::<$db, $crate::store::LabelRow>(SQL)
                    .bind(user_id)
                    .bind(key)
                    .bind(scope)
                    .fetch_optional(&self.pool)
                    .await?)
            }
        }
    };
}
pub(crate) use impl_account_store;

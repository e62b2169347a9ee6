//! labels and levels: the inputs of the level/state engine.

use async_trait::async_trait;

use super::StoreResult;
use super::outbox::EventsOf;
use crate::model::{AccountState, LabelScope};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LabelRow {
    pub id: i64,
    pub user_id: i64,
    pub key: String,
    pub value: String,
    #[sqlx(try_from = "String")]
    pub scope: LabelScope,
    pub description: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The column list of `LabelRow`, as a macro so queries stay `&'static str`.
macro_rules! label_columns {
    () => {
        "id, user_id, key, value, scope, description, created_at, updated_at"
    };
}
pub(crate) use label_columns;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LevelRow {
    pub id: i64,
    pub key: String,
    pub value: String,
    pub description: Option<String>,
}

/// A label write and what it does to its user: the level and state recomputed from the labels
/// it leaves, when they change.
#[derive(Debug, Clone)]
pub struct LabelWrite<'a> {
    pub user_id: i64,
    pub key: &'a str,
    pub value: &'a str,
    pub scope: LabelScope,
    pub now: i64,
    pub state_level: Option<(&'a AccountState, i64)>,
}

/// Applies a [`LabelWrite`] on `$conn` (a transaction): upserts the label and saves the user's
/// new state and level, bumping `claims_version`. Evaluates to the stored label. Other writes
/// that move a KYC step (profiles, documents) run it inside their own transaction.
macro_rules! write_label {
    ($db:ty, $conn:ident, $w:expr) => {{
        const SQL: &str = concat!(
            "INSERT INTO labels (user_id, key, value, scope, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $5) \
             ON CONFLICT (user_id, key, scope) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at \
             RETURNING ",
            $crate::store::labels::label_columns!()
        );
        let w: &$crate::store::labels::LabelWrite<'_> = $w;
        let label = sqlx::query_as::<$db, $crate::store::labels::LabelRow>(SQL)
            .bind(w.user_id)
            .bind(w.key)
            .bind(w.value)
            .bind(w.scope.as_str())
            .bind(w.now)
            .fetch_one(&mut *$conn)
            .await?;
        if let Some((state, level)) = w.state_level {
            sqlx::query::<$db>($crate::store::users::UPDATE_STATE_LEVEL)
                .bind(state.as_str())
                .bind(level)
                .bind(w.now)
                .bind(w.user_id)
                .execute(&mut *$conn)
                .await?;
        }
        label
    }};
}
pub(crate) use write_label;

#[async_trait]
pub trait LabelStore {
    async fn labels_of(&self, user_id: i64) -> StoreResult<Vec<LabelRow>>;
    /// Creates or overwrites the (user, key, scope) label.
    async fn upsert_label(&self, user_id: i64, key: &str, value: &str, scope: LabelScope, now: i64) -> StoreResult<()>;
    /// Creates or overwrites the (user, key, scope) label, saves the user's new state and level
    /// (bumping `claims_version`) and queues the events of the stored label, in one transaction.
    async fn save_label_with_events(&self, w: &LabelWrite<'_>, events: EventsOf<'_, LabelRow>)
    -> StoreResult<LabelRow>;
    /// Deletes the (user, key, scope) label; whether one was there.
    async fn delete_label(&self, user_id: i64, key: &str, scope: LabelScope) -> StoreResult<bool>;
    /// Levels by id ascending.
    async fn levels(&self) -> StoreResult<Vec<LevelRow>>;
    /// Seeds a level unless one with that key:value exists; returns whether it was added.
    async fn insert_level_if_absent(
        &self,
        id: i64,
        key: &str,
        value: &str,
        description: &str,
        now: i64,
    ) -> StoreResult<bool>;
}

macro_rules! impl_label_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::labels::LabelStore for $store {
            async fn labels_of(&self, user_id: i64) -> $crate::store::StoreResult<Vec<$crate::store::labels::LabelRow>> {
                const SQL: &str =
                    concat!("SELECT ", $crate::store::labels::label_columns!(), " FROM labels WHERE user_id = $1 ORDER BY id");
                Ok(sqlx::query_as::<$db, $crate::store::labels::LabelRow>(SQL)
                    .bind(user_id)
                    .fetch_all(&self.pool)
                    .await?)
            }

            async fn upsert_label(
                &self,
                user_id: i64,
                key: &str,
                value: &str,
                scope: $crate::model::LabelScope,
                now: i64,
            ) -> $crate::store::StoreResult<()> {
                sqlx::query::<$db>(
                    "INSERT INTO labels (user_id, key, value, scope, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $5) \
                     ON CONFLICT (user_id, key, scope) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                )
                .bind(user_id)
                .bind(key)
                .bind(value)
                .bind(scope.as_str())
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn save_label_with_events(
                &self,
                w: &$crate::store::labels::LabelWrite<'_>,
                events: $crate::store::outbox::EventsOf<'_, $crate::store::labels::LabelRow>,
            ) -> $crate::store::StoreResult<$crate::store::labels::LabelRow> {
                Ok($crate::store::outbox::with_events_of!(
                    self,
                    $db,
                    |conn| $crate::store::labels::write_label!($db, conn, w),
                    |label| events(&label)
                ))
            }

            async fn delete_label(
                &self,
                user_id: i64,
                key: &str,
                scope: $crate::model::LabelScope,
            ) -> $crate::store::StoreResult<bool> {
                let r = sqlx::query::<$db>("DELETE FROM labels WHERE user_id = $1 AND key = $2 AND scope = $3")
                    .bind(user_id)
                    .bind(key)
                    .bind(scope.as_str())
                    .execute(&self.pool)
                    .await?;
                Ok(r.rows_affected() > 0)
            }

            async fn levels(&self) -> $crate::store::StoreResult<Vec<$crate::store::labels::LevelRow>> {
                Ok(sqlx::query_as::<$db, $crate::store::labels::LevelRow>(
                    "SELECT id, key, value, description FROM levels ORDER BY id",
                )
                .fetch_all(&self.pool)
                .await?)
            }

            async fn insert_level_if_absent(
                &self,
                id: i64,
                key: &str,
                value: &str,
                description: &str,
                now: i64,
            ) -> $crate::store::StoreResult<bool> {
                let r = sqlx::query::<$db>(
                    "INSERT INTO levels (id, key, value, description, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT DO NOTHING",
                )
                .bind(id)
                .bind(key)
                .bind(value)
                .bind(description)
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(r.rows_affected() > 0)
            }
        }
    };
}
pub(crate) use impl_label_store;

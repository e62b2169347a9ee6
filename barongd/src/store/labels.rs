//! labels and levels: the inputs of the level/state engine.

use async_trait::async_trait;

use super::StoreResult;
use super::outbox::{EventsOf, PendingEvent};
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

/// What a label write does with the label's `description`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Description<'a> {
    /// An existing label keeps its description (a new one has none).
    Keep,
    /// The description becomes this (`None` clears it).
    Set(Option<&'a str>),
}

/// How a label write treats an existing (user, key, scope) label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelMode {
    /// Create the label, or overwrite the existing one.
    Upsert,
    /// Create the label; an existing one is a unique violation (`key.taken`), decided by the
    /// table's UNIQUE constraint rather than a read before the insert.
    Create,
    /// Overwrite the existing label; when there is none, nothing is written.
    Update,
}

/// A label write and what it does to its user: the level and state recomputed from the labels
/// it leaves, when they change.
#[derive(Debug, Clone)]
pub struct LabelWrite<'a> {
    pub user_id: i64,
    pub key: &'a str,
    pub value: &'a str,
    pub scope: LabelScope,
    pub description: Description<'a>,
    pub mode: LabelMode,
    pub now: i64,
    pub state_level: Option<(&'a AccountState, i64)>,
    /// A KYC decision this write makes, recorded in the review history with it.
    pub review: Option<crate::store::kyc_reviews::ReviewNote<'a>>,
}

/// The statements of the three [`LabelMode`]s. Parameters: `$1` user, `$2` key, `$3` value,
/// `$4` scope, `$5` description, `$6` now, `$7` whether `$5` replaces the stored description.
pub(crate) const UPSERT_LABEL: &str = concat!(
    "INSERT INTO labels (user_id, key, value, scope, description, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, CASE WHEN $7 THEN $5 ELSE NULL END, $6, $6) \
     ON CONFLICT (user_id, key, scope) DO UPDATE SET value = excluded.value, \
     description = CASE WHEN $7 THEN excluded.description ELSE labels.description END, \
     updated_at = excluded.updated_at RETURNING ",
    label_columns!()
);
pub(crate) const CREATE_LABEL: &str = concat!(
    "INSERT INTO labels (user_id, key, value, scope, description, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, CASE WHEN $7 THEN $5 ELSE NULL END, $6, $6) RETURNING ",
    label_columns!()
);
pub(crate) const UPDATE_LABEL: &str = concat!(
    "UPDATE labels SET value = $3, description = CASE WHEN $7 THEN $5 ELSE description END, updated_at = $6 \
     WHERE user_id = $1 AND key = $2 AND scope = $4 RETURNING ",
    label_columns!()
);

/// Applies a [`LabelWrite`] on `$conn` (a transaction): writes the label, description included,
/// and, when a label was written, saves the user's new state and level, bumping
/// `claims_version`. Evaluates to the stored label (`None`: an `Update` found no label). Other
/// writes that move a KYC step (profiles, documents) run it inside their own transaction.
macro_rules! write_label {
    ($db:ty, $conn:ident, $w:expr) => {{
        let w: &$crate::store::labels::LabelWrite<'_> = $w;
        let sql = match w.mode {
            $crate::store::labels::LabelMode::Upsert => $crate::store::labels::UPSERT_LABEL,
            $crate::store::labels::LabelMode::Create => $crate::store::labels::CREATE_LABEL,
            $crate::store::labels::LabelMode::Update => $crate::store::labels::UPDATE_LABEL,
        };
        let (replace, description) = match w.description {
            $crate::store::labels::Description::Keep => (false, None),
            $crate::store::labels::Description::Set(d) => (true, d),
        };
        let label = sqlx::query_as::<$db, $crate::store::labels::LabelRow>(sql)
            .bind(w.user_id)
            .bind(w.key)
            .bind(w.value)
            .bind(w.scope.as_str())
            .bind(description)
            .bind(w.now)
            .bind(replace)
            .fetch_optional(&mut *$conn)
            .await?;
        if let (Some(_), Some((state, level))) = (&label, w.state_level) {
            sqlx::query::<$db>($crate::store::users::UPDATE_STATE_LEVEL)
                .bind(state.as_str())
                .bind(level)
                .bind(w.now)
                .bind(w.user_id)
                .execute(&mut *$conn)
                .await?;
        }
        if let (Some(_), Some(note)) = (&label, &w.review) {
            $crate::store::kyc_reviews::write_review!($db, $conn, w.user_id, note, w.now);
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
    /// Writes the (user, key, scope) label as `w.mode` says, saves the user's new state and level
    /// (bumping `claims_version`) and queues the events of the stored label, in one transaction.
    /// `None` (and nothing written) when an `Update` found no label; a `Create` of an existing
    /// label is `StoreError::Unique`.
    async fn save_label_with_events(
        &self,
        w: &LabelWrite<'_>,
        events: EventsOf<'_, LabelRow>,
    ) -> StoreResult<Option<LabelRow>>;
    /// Deletes the (user, key, scope) label, saves the state and level it leaves (`state_level`,
    /// when they change) and queues `events`, in one transaction; whether a label was there
    /// (when not, nothing is written).
    async fn remove_label_with_events(
        &self,
        user_id: i64,
        key: &str,
        scope: LabelScope,
        state_level: Option<(&AccountState, i64)>,
        now: i64,
        events: &[PendingEvent],
    ) -> StoreResult<bool>;
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
            ) -> $crate::store::StoreResult<Option<$crate::store::labels::LabelRow>> {
                Ok($crate::store::outbox::with_events_of!(
                    self,
                    $db,
                    |conn| $crate::store::labels::write_label!($db, conn, w),
                    |label| label.as_ref().map(|l| events(l)).unwrap_or_default()
                ))
            }

            async fn remove_label_with_events(
                &self,
                user_id: i64,
                key: &str,
                scope: $crate::model::LabelScope,
                state_level: Option<(&$crate::model::AccountState, i64)>,
                now: i64,
                events: &[$crate::store::PendingEvent],
            ) -> $crate::store::StoreResult<bool> {
                let mut tx = self.pool.begin().await?;
                let r = sqlx::query::<$db>("DELETE FROM labels WHERE user_id = $1 AND key = $2 AND scope = $3")
                    .bind(user_id)
                    .bind(key)
                    .bind(scope.as_str())
                    .execute(&mut *tx)
                    .await?;
                if r.rows_affected() == 0 {
                    // Nothing to undo; dropping the transaction rolls it back.
                    return Ok(false);
                }
                if let Some((state, level)) = state_level {
                    sqlx::query::<$db>($crate::store::users::UPDATE_STATE_LEVEL)
                        .bind(state.as_str())
                        .bind(level)
                        .bind(now)
                        .bind(user_id)
                        .execute(&mut *tx)
                        .await?;
                }
                $crate::store::outbox::insert_events!($db, tx, events);
                tx.commit().await?;
                if !events.is_empty() {
                    self.outbox_wake.notify_one();
                }
                Ok(true)
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

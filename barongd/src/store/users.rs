//! users, and the per-user rows shown inside `UserWithFullInfo` (profiles, phones, data storages).

use async_trait::async_trait;

use super::StoreResult;
use super::outbox::{EventsOf, PendingEvent};
use crate::model::{AccountState, Role};

/// The column list of `UserRow`, as a macro so queries stay `&'static str` (sqlx audits dynamic SQL).
macro_rules! user_columns {
    () => {
        "id, uid, username, email, email_key, password_digest, role, data, level, otp, state, referral_id, \
         language, otp_secret_sealed, otp_last_step, claims_version, created_at, updated_at"
    };
}
pub(crate) use user_columns;

/// Inserts the `NewUser` `$u` on `$conn` (inside the caller's transaction) and evaluates to its
/// row; sign-up and the Management API's import write users the same way.
macro_rules! insert_user_row {
    ($db:ty, $conn:expr, $u:expr) => {{
        const SQL: &str = concat!(
            "INSERT INTO users (uid, username, email, email_key, password_digest, role, data, level, otp, \
             state, referral_id, language, claims_version, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, FALSE, $9, $10, $11, 0, $12, $12) RETURNING ",
            $crate::store::users::user_columns!()
        );
        let u = $u;
        sqlx::query_as::<$db, $crate::store::users::UserRow>(SQL)
            .bind(&u.uid)
            .bind(&u.username)
            .bind(&u.email)
            .bind(&u.email_key)
            .bind(&u.password_digest)
            .bind(u.role.as_str())
            .bind(&u.data)
            .bind(u.level)
            .bind(u.state.as_str())
            .bind(u.referral_id)
            .bind(&u.language)
            .bind(u.now)
            .fetch_one($conn)
            .await?
    }};
}
pub(crate) use insert_user_row;

#[derive(Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: i64,
    pub uid: String,
    pub username: Option<String>,
    pub email: String,
    pub email_key: String,
    pub password_digest: String,
    #[sqlx(try_from = "String")]
    pub role: Role,
    pub data: Option<String>,
    pub level: i64,
    pub otp: bool,
    #[sqlx(try_from = "String")]
    pub state: AccountState,
    pub referral_id: Option<i64>,
    pub language: String,
    pub otp_secret_sealed: Option<String>,
    pub otp_last_step: Option<i64>,
    pub claims_version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl std::fmt::Debug for UserRow {
    // The digest and the sealed OTP seed stay out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRow")
            .field("id", &self.id)
            .field("uid", &self.uid)
            .field("email", &self.email)
            .field("role", &self.role)
            .field("state", &self.state)
            .field("level", &self.level)
            .finish_non_exhaustive()
    }
}

pub struct NewUser {
    pub uid: String,
    pub username: Option<String>,
    pub email: String,
    pub email_key: String,
    pub password_digest: String,
    pub role: Role,
    pub data: Option<String>,
    pub level: i64,
    pub state: AccountState,
    pub referral_id: Option<i64>,
    pub language: String,
    pub now: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PhoneRow {
    pub id: i64,
    pub user_id: i64,
    pub country: String,
    pub number_sealed: String,
    pub validated_at: Option<i64>,
    pub created_at: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DataStorageRow {
    pub title: String,
    pub data: String,
    pub created_at: i64,
    pub updated_at: i64,
}

#[async_trait]
pub trait UserStore {
    async fn insert_user(&self, user: &NewUser) -> StoreResult<UserRow> {
        self.insert_user_with_events(user, &|_| Vec::new()).await
    }
    /// Inserts the user and the events `events` builds from the stored row, in one transaction.
    async fn insert_user_with_events(&self, user: &NewUser, events: EventsOf<'_, UserRow>) -> StoreResult<UserRow>;
    async fn user_by_id(&self, id: i64) -> StoreResult<Option<UserRow>>;
    async fn user_by_uid(&self, uid: &str) -> StoreResult<Option<UserRow>>;
    async fn user_by_email_key(&self, email_key: &str) -> StoreResult<Option<UserRow>>;
    async fn count_users(&self) -> StoreResult<i64>;
    /// Newest first.
    async fn list_users(&self, limit: i64, offset: i64) -> StoreResult<Vec<UserRow>>;
    async fn update_password(&self, user_id: i64, digest: &str, now: i64) -> StoreResult<()> {
        self.update_password_with_events(user_id, digest, now, &[]).await
    }
    /// Changes the password and queues `events` in the same transaction.
    async fn update_password_with_events(
        &self,
        user_id: i64,
        digest: &str,
        now: i64,
        events: &[PendingEvent],
    ) -> StoreResult<()>;
    /// How many password digests look like bcrypt (`$2…`, imported from Barong), by their first
    /// seven characters (`$2a$12$`): the caller tells valid prefixes and costs from the rest.
    async fn legacy_password_counts(&self) -> StoreResult<Vec<(String, i64)>>;
    /// Replaces a legacy digest after a sign-in proved the password, only while the user still has
    /// exactly `legacy` (a concurrent password change wins); true when it was replaced.
    async fn rehash_legacy_password(&self, user_id: i64, legacy: &str, digest: &str, now: i64) -> StoreResult<bool>;
    /// Saves a recomputed state/level and bumps `claims_version` so cached claims are dropped.
    async fn update_state_level(&self, user_id: i64, state: &AccountState, level: i64, now: i64) -> StoreResult<()> {
        self.update_state_level_with_events(user_id, state, level, now, &[]).await
    }
    /// [`Self::update_state_level`] with `events` queued in the same transaction.
    async fn update_state_level_with_events(
        &self,
        user_id: i64,
        state: &AccountState,
        level: i64,
        now: i64,
        events: &[PendingEvent],
    ) -> StoreResult<()>;
    async fn update_role(&self, user_id: i64, role: &Role, now: i64) -> StoreResult<()> {
        self.update_role_with_events(user_id, role, now, &[]).await
    }
    /// [`Self::update_role`] with `events` queued in the same transaction.
    async fn update_role_with_events(
        &self,
        user_id: i64,
        role: &Role,
        now: i64,
        events: &[PendingEvent],
    ) -> StoreResult<()>;
    /// Records a used TOTP step; false when that step (or a later one) was used already, so a
    /// code is accepted once even by two daemons at the same moment.
    async fn use_otp_step(&self, user_id: i64, step: i64) -> StoreResult<bool>;
    async fn phones_of(&self, user_id: i64) -> StoreResult<Vec<PhoneRow>>;
    async fn data_storages_of(&self, user_id: i64) -> StoreResult<Vec<DataStorageRow>>;
}

/// Saves state `$1` and level `$2` of user `$4` at `$3`, dropping cached claims.
pub(crate) const UPDATE_STATE_LEVEL: &str =
    "UPDATE users SET state = $1, level = $2, updated_at = $3, claims_version = claims_version + 1 WHERE id = $4";

macro_rules! impl_user_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::users::UserStore for $store {
            async fn insert_user_with_events(
                &self,
                u: &$crate::store::users::NewUser,
                events: $crate::store::outbox::EventsOf<'_, $crate::store::users::UserRow>,
            ) -> $crate::store::StoreResult<$crate::store::users::UserRow> {
                let mut tx = self.pool.begin().await?;
                let row = $crate::store::users::insert_user_row!($db, &mut *tx, u);
                let events = events(&row);
                $crate::store::outbox::insert_events!($db, tx, &events);
                tx.commit().await?;
                if !events.is_empty() {
                    self.outbox_wake.notify_one();
                }
                Ok(row)
            }

            async fn user_by_id(&self, id: i64) -> $crate::store::StoreResult<Option<$crate::store::users::UserRow>> {
                const SQL: &str = concat!("SELECT ", $crate::store::users::user_columns!(), " FROM users WHERE id = $1");
                Ok(sqlx::query_as::<$db, $crate::store::users::UserRow>(SQL).bind(id).fetch_optional(&self.pool).await?)
            }

            async fn user_by_uid(&self, uid: &str) -> $crate::store::StoreResult<Option<$crate::store::users::UserRow>> {
                const SQL: &str = concat!("SELECT ", $crate::store::users::user_columns!(), " FROM users WHERE uid = $1");
                Ok(sqlx::query_as::<$db, $crate::store::users::UserRow>(SQL).bind(uid).fetch_optional(&self.pool).await?)
            }

            async fn user_by_email_key(
                &self,
                key: &str,
            ) -> $crate::store::StoreResult<Option<$crate::store::users::UserRow>> {
                const SQL: &str = concat!("SELECT ", $crate::store::users::user_columns!(), " FROM users WHERE email_key = $1");
                Ok(sqlx::query_as::<$db, $crate::store::users::UserRow>(SQL).bind(key).fetch_optional(&self.pool).await?)
            }

            async fn count_users(&self) -> $crate::store::StoreResult<i64> {
                let (n,): (i64,) = sqlx::query_as::<$db, (i64,)>("SELECT COUNT(*) FROM users").fetch_one(&self.pool).await?;
                Ok(n)
            }

            async fn list_users(
                &self,
                limit: i64,
                offset: i64,
            ) -> $crate::store::StoreResult<Vec<$crate::store::users::UserRow>> {
                const SQL: &str = concat!("SELECT ", $crate::store::users::user_columns!(), " FROM users ORDER BY id DESC LIMIT $1 OFFSET $2");
                Ok(sqlx::query_as::<$db, $crate::store::users::UserRow>(SQL)
                    .bind(limit)
                    .bind(offset)
                    .fetch_all(&self.pool)
                    .await?)
            }

            async fn update_password_with_events(
                &self,
                user_id: i64,
                digest: &str,
                now: i64,
                events: &[$crate::store::outbox::PendingEvent],
            ) -> $crate::store::StoreResult<()> {
                $crate::store::outbox::with_events!(self, $db, events, |conn| {
                    sqlx::query::<$db>("UPDATE users SET password_digest = $1, updated_at = $2 WHERE id = $3")
                        .bind(digest)
                        .bind(now)
                        .bind(user_id)
                        .execute(conn)
                        .await?
                });
                Ok(())
            }

            async fn legacy_password_counts(&self) -> $crate::store::StoreResult<Vec<(String, i64)>> {
                // The pattern is bound: no `$` inside the SQL text, where PostgreSQL reads placeholders.
                Ok(sqlx::query_as::<$db, (String, i64)>(
                    "SELECT substr(password_digest, 1, 7), COUNT(*) FROM users WHERE password_digest LIKE $1 \
                     GROUP BY substr(password_digest, 1, 7)",
                )
                .bind("$2%")
                .fetch_all(&self.pool)
                .await?)
            }

            async fn rehash_legacy_password(
                &self,
                user_id: i64,
                legacy: &str,
                digest: &str,
                now: i64,
            ) -> $crate::store::StoreResult<bool> {
                let r = sqlx::query::<$db>(
                    "UPDATE users SET password_digest = $1, updated_at = $2 WHERE id = $3 AND password_digest = $4",
                )
                .bind(digest)
                .bind(now)
                .bind(user_id)
                .bind(legacy)
                .execute(&self.pool)
                .await?;
                Ok(r.rows_affected() > 0)
            }

            async fn update_state_level_with_events(
                &self,
                user_id: i64,
                state: &$crate::model::AccountState,
                level: i64,
                now: i64,
                events: &[$crate::store::outbox::PendingEvent],
            ) -> $crate::store::StoreResult<()> {
                $crate::store::outbox::with_events!(self, $db, events, |conn| {
                    sqlx::query::<$db>($crate::store::users::UPDATE_STATE_LEVEL)
                        .bind(state.as_str())
                        .bind(level)
                        .bind(now)
                        .bind(user_id)
                        .execute(conn)
                        .await?
                });
                Ok(())
            }

            async fn update_role_with_events(
                &self,
                user_id: i64,
                role: &$crate::model::Role,
                now: i64,
                events: &[$crate::store::outbox::PendingEvent],
            ) -> $crate::store::StoreResult<()> {
                $crate::store::outbox::with_events!(self, $db, events, |conn| {
                    sqlx::query::<$db>(
                        "UPDATE users SET role = $1, updated_at = $2, claims_version = claims_version + 1 WHERE id = $3",
                    )
                    .bind(role.as_str())
                    .bind(now)
                    .bind(user_id)
                    .execute(conn)
                    .await?
                });
                Ok(())
            }

            async fn use_otp_step(&self, user_id: i64, step: i64) -> $crate::store::StoreResult<bool> {
                let r = sqlx::query::<$db>(
                    "UPDATE users SET otp_last_step = $1 WHERE id = $2 AND (otp_last_step IS NULL OR otp_last_step < $1)",
                )
                .bind(step)
                .bind(user_id)
                .execute(&self.pool)
                .await?;
                Ok(r.rows_affected() > 0)
            }

            async fn phones_of(&self, user_id: i64) -> $crate::store::StoreResult<Vec<$crate::store::users::PhoneRow>> {
                Ok(sqlx::query_as::<$db, $crate::store::users::PhoneRow>(
                    "SELECT id, user_id, country, number_sealed, validated_at, created_at FROM phones \
                     WHERE user_id = $1 ORDER BY id",
                )
                .bind(user_id)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn data_storages_of(
                &self,
                user_id: i64,
            ) -> $crate::store::StoreResult<Vec<$crate::store::users::DataStorageRow>> {
                Ok(sqlx::query_as::<$db, $crate::store::users::DataStorageRow>(
                    "SELECT title, data, created_at, updated_at FROM data_storages WHERE user_id = $1 ORDER BY id",
                )
                .bind(user_id)
                .fetch_all(&self.pool)
                .await?)
            }
        }
    };
}
pub(crate) use impl_user_store;

//! profiles: KYC identity data (names, birth date and address arrive sealed; this layer never
//! sees them in the clear), and the operator's KYC review queue.

use async_trait::async_trait;

use super::StoreResult;
use crate::model::ProfileState;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProfileRow {
    pub id: i64,
    pub user_id: i64,
    pub first_name_sealed: Option<String>,
    pub last_name_sealed: Option<String>,
    pub dob_sealed: Option<String>,
    pub address_sealed: Option<String>,
    pub postcode: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    #[sqlx(try_from = "i64")]
    pub state: ProfileState,
    pub metadata: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// The column list of `ProfileRow`, as a macro so queries stay `&'static str`.
macro_rules! profile_columns {
    () => {
        "id, user_id, first_name_sealed, last_name_sealed, dob_sealed, address_sealed, postcode, city, country, \
         state, metadata, created_at, updated_at"
    };
}
pub(crate) use profile_columns;

/// The stored fields of a profile (PII already sealed).
#[derive(Debug, Clone, Default)]
pub struct ProfileFields {
    pub first_name_sealed: Option<String>,
    pub last_name_sealed: Option<String>,
    pub dob_sealed: Option<String>,
    pub address_sealed: Option<String>,
    pub postcode: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub metadata: Option<String>,
}

/// One entry of the operator's review queue.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct KycQueueRow {
    pub uid: String,
    pub email: String,
    /// `profile`, `document` or `address`.
    pub item: String,
    pub since: i64,
}

#[async_trait]
pub trait ProfileStore {
    /// Every profile of the user, oldest first.
    async fn profiles_of(&self, user_id: i64) -> StoreResult<Vec<ProfileRow>>;
    /// Creates a profile; a second open (drafted or submitted) profile of the user is
    /// `StoreError::Unique`.
    async fn insert_profile(
        &self,
        user_id: i64,
        fields: &ProfileFields,
        state: ProfileState,
        author: Option<&str>,
        now: i64,
    ) -> StoreResult<ProfileRow>;
    /// The user's profile in `state`, newest first.
    async fn profile_in_state(&self, user_id: i64, state: ProfileState) -> StoreResult<Option<ProfileRow>>;
    /// Overwrites the fields and state of profile `id` if it is still in `from_state`; `None`
    /// when it is not (another request changed it first).
    async fn update_profile_from(
        &self,
        id: i64,
        from_state: ProfileState,
        fields: &ProfileFields,
        state: ProfileState,
        now: i64,
    ) -> StoreResult<Option<ProfileRow>>;
    /// Moves profile `id` from `from_state` to `state`, recording who did it; `None` when it was
    /// not in `from_state`.
    async fn set_profile_state(
        &self,
        id: i64,
        from_state: ProfileState,
        state: ProfileState,
        author: Option<&str>,
        now: i64,
    ) -> StoreResult<Option<ProfileRow>>;
    /// What waits for an operator, oldest first: submitted profiles, and private `document` or
    /// `address` labels still `pending`.
    async fn kyc_queue(&self, limit: i64) -> StoreResult<Vec<KycQueueRow>>;
}

macro_rules! impl_profile_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::profiles::ProfileStore for $store {
            async fn profiles_of(
                &self,
                user_id: i64,
            ) -> $crate::store::StoreResult<Vec<$crate::store::profiles::ProfileRow>> {
                const SQL: &str = concat!(
                    "SELECT ",
                    $crate::store::profiles::profile_columns!(),
                    " FROM profiles WHERE user_id = $1 ORDER BY id"
                );
                Ok(sqlx::query_as::<$db, $crate::store::profiles::ProfileRow>(SQL)
                    .bind(user_id)
                    .fetch_all(&self.pool)
                    .await?)
            }

            async fn insert_profile(
                &self,
                user_id: i64,
                f: &$crate::store::profiles::ProfileFields,
                state: $crate::model::ProfileState,
                author: Option<&str>,
                now: i64,
            ) -> $crate::store::StoreResult<$crate::store::profiles::ProfileRow> {
                const SQL: &str = concat!(
                    "INSERT INTO profiles (user_id, author, first_name_sealed, last_name_sealed, dob_sealed, \
                     address_sealed, postcode, city, country, state, metadata, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) RETURNING ",
                    $crate::store::profiles::profile_columns!()
                );
                Ok(sqlx::query_as::<$db, $crate::store::profiles::ProfileRow>(SQL)
                    .bind(user_id)
                    .bind(author)
                    .bind(&f.first_name_sealed)
                    .bind(&f.last_name_sealed)
                    .bind(&f.dob_sealed)
                    .bind(&f.address_sealed)
                    .bind(&f.postcode)
                    .bind(&f.city)
                    .bind(&f.country)
                    .bind(state.code())
                    .bind(&f.metadata)
                    .bind(now)
                    .fetch_one(&self.pool)
                    .await?)
            }

            async fn profile_in_state(
                &self,
                user_id: i64,
                state: $crate::model::ProfileState,
            ) -> $crate::store::StoreResult<Option<$crate::store::profiles::ProfileRow>> {
                const SQL: &str = concat!(
                    "SELECT ",
                    $crate::store::profiles::profile_columns!(),
                    " FROM profiles WHERE user_id = $1 AND state = $2 ORDER BY id DESC LIMIT 1"
                );
                Ok(sqlx::query_as::<$db, $crate::store::profiles::ProfileRow>(SQL)
                    .bind(user_id)
                    .bind(state.code())
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn update_profile_from(
                &self,
                id: i64,
                from_state: $crate::model::ProfileState,
                f: &$crate::store::profiles::ProfileFields,
                state: $crate::model::ProfileState,
                now: i64,
            ) -> $crate::store::StoreResult<Option<$crate::store::profiles::ProfileRow>> {
                const SQL: &str = concat!(
                    "UPDATE profiles SET first_name_sealed = $3, last_name_sealed = $4, dob_sealed = $5, \
                     address_sealed = $6, postcode = $7, city = $8, country = $9, metadata = $10, state = $11, \
                     updated_at = $12 WHERE id = $1 AND state = $2 RETURNING ",
                    $crate::store::profiles::profile_columns!()
                );
                Ok(sqlx::query_as::<$db, $crate::store::profiles::ProfileRow>(SQL)
                    .bind(id)
                    .bind(from_state.code())
                    .bind(&f.first_name_sealed)
                    .bind(&f.last_name_sealed)
                    .bind(&f.dob_sealed)
                    .bind(&f.address_sealed)
                    .bind(&f.postcode)
                    .bind(&f.city)
                    .bind(&f.country)
                    .bind(&f.metadata)
                    .bind(state.code())
                    .bind(now)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn set_profile_state(
                &self,
                id: i64,
                from_state: $crate::model::ProfileState,
                state: $crate::model::ProfileState,
                author: Option<&str>,
                now: i64,
            ) -> $crate::store::StoreResult<Option<$crate::store::profiles::ProfileRow>> {
                const SQL: &str = concat!(
                    "UPDATE profiles SET state = $3, author = COALESCE($4, author), updated_at = $5 \
                     WHERE id = $1 AND state = $2 RETURNING ",
                    $crate::store::profiles::profile_columns!()
                );
                Ok(sqlx::query_as::<$db, $crate::store::profiles::ProfileRow>(SQL)
                    .bind(id)
                    .bind(from_state.code())
                    .bind(state.code())
                    .bind(author)
                    .bind(now)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn kyc_queue(
                &self,
                limit: i64,
            ) -> $crate::store::StoreResult<Vec<$crate::store::profiles::KycQueueRow>> {
                Ok(sqlx::query_as::<$db, $crate::store::profiles::KycQueueRow>(
                    "SELECT u.uid, u.email, 'profile' AS item, p.updated_at AS since \
                     FROM profiles p JOIN users u ON u.id = p.user_id WHERE p.state = 1 \
                     UNION ALL \
                     SELECT u.uid, u.email, l.key AS item, l.updated_at AS since \
                     FROM labels l JOIN users u ON u.id = l.user_id \
                     WHERE l.scope = 'private' AND l.value = 'pending' AND l.key IN ('document', 'address') \
                     ORDER BY since, uid LIMIT $1",
                )
                .bind(limit)
                .fetch_all(&self.pool)
                .await?)
            }
        }
    };
}
pub(crate) use impl_profile_store;

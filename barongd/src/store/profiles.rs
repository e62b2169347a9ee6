//! profiles: KYC identity data (names, birth date and address arrive sealed; this layer never
//! sees them in the clear), and the operator's KYC review queue.

use async_trait::async_trait;

use super::labels::{LabelRow, LabelWrite};
use super::outbox::PendingEvent;
use super::{StoreError, StoreResult};
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

/// Inserts a profile of `$user_id` from `$f` (`ProfileFields`) in `$state` by `$author` on
/// `$conn`, and evaluates to its row; the user API, the Admin API and the import share it.
macro_rules! insert_profile_row {
    ($db:ty, $conn:expr, $user_id:expr, $author:expr, $f:expr, $state:expr, $now:expr) => {{
        const SQL: &str = concat!(
            "INSERT INTO profiles (user_id, author, first_name_sealed, last_name_sealed, dob_sealed, \
             address_sealed, postcode, city, country, state, metadata, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) RETURNING ",
            $crate::store::profiles::profile_columns!()
        );
        let f = $f;
        sqlx::query_as::<$db, $crate::store::profiles::ProfileRow>(SQL)
            .bind($user_id)
            .bind($author)
            .bind(&f.first_name_sealed)
            .bind(&f.last_name_sealed)
            .bind(&f.dob_sealed)
            .bind(&f.address_sealed)
            .bind(&f.postcode)
            .bind(&f.city)
            .bind(&f.country)
            .bind($state.code())
            .bind(&f.metadata)
            .bind($now)
            .fetch_one($conn)
            .await?
    }};
}
pub(crate) use insert_profile_row;

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

/// A write to a user's profiles.
#[derive(Debug, Clone, Copy)]
pub enum ProfileChange<'a> {
    /// A new profile; a second open (drafted or submitted) profile of the user is
    /// `StoreError::Unique`.
    Insert { user_id: i64, fields: &'a ProfileFields, state: ProfileState, author: Option<&'a str> },
    /// New fields and state for profile `id`, if it is still in `from`.
    Edit { id: i64, from: ProfileState, fields: &'a ProfileFields, state: ProfileState },
    /// Profile `id` moves from `from` to `state`, recording who did it.
    Review { id: i64, from: ProfileState, state: ProfileState, author: Option<&'a str> },
}

/// Builds the events of a profile write from the stored profile and, when the write also moved
/// the user's KYC label, the stored label.
pub type ProfileEvents<'a> = &'a (dyn Fn(&ProfileRow, Option<&LabelRow>) -> Vec<PendingEvent> + Send + Sync);

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
    /// The profiles of every user in `user_ids` (a page of a list: one query, not one a user),
    /// by user and id.
    async fn profiles_of_users(&self, user_ids: &[i64]) -> StoreResult<Vec<ProfileRow>>;
    /// Applies `change`; when it took effect, also applies `label` (the KYC step it moves) and
    /// queues the events built from both, all in one transaction. `None` when an `Edit` or
    /// `Review` found the profile no longer in `from` (another request changed it first).
    async fn save_profile(
        &self,
        change: ProfileChange<'_>,
        now: i64,
        label: Option<&LabelWrite<'_>>,
        events: ProfileEvents<'_>,
    ) -> StoreResult<Option<ProfileRow>>;
    /// Creates a profile ([`ProfileChange::Insert`]) alone.
    async fn insert_profile(
        &self,
        user_id: i64,
        fields: &ProfileFields,
        state: ProfileState,
        author: Option<&str>,
        now: i64,
    ) -> StoreResult<ProfileRow> {
        let change = ProfileChange::Insert { user_id, fields, state, author };
        self.save_profile(change, now, None, &|_, _| Vec::new())
            .await?
            .ok_or(StoreError::Database(sqlx::Error::RowNotFound))
    }
    /// The user's profile in `state`, newest first.
    async fn profile_in_state(&self, user_id: i64, state: ProfileState) -> StoreResult<Option<ProfileRow>>;
    /// [`ProfileChange::Edit`] alone.
    async fn update_profile_from(
        &self,
        id: i64,
        from: ProfileState,
        fields: &ProfileFields,
        state: ProfileState,
        now: i64,
    ) -> StoreResult<Option<ProfileRow>> {
        self.save_profile(ProfileChange::Edit { id, from, fields, state }, now, None, &|_, _| Vec::new()).await
    }
    /// [`ProfileChange::Review`] alone.
    async fn set_profile_state(
        &self,
        id: i64,
        from: ProfileState,
        state: ProfileState,
        author: Option<&str>,
        now: i64,
    ) -> StoreResult<Option<ProfileRow>> {
        self.save_profile(ProfileChange::Review { id, from, state, author }, now, None, &|_, _| Vec::new()).await
    }
    /// What waits for an operator, oldest first: submitted profiles, and private `document` or
    /// `address` labels still `pending`.
    async fn kyc_queue(&self, limit: i64) -> StoreResult<Vec<KycQueueRow>>;
}

macro_rules! impl_profile_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::profiles::ProfileStore for $store {
            async fn profiles_of_users(
                &self,
                user_ids: &[i64],
            ) -> $crate::store::StoreResult<Vec<$crate::store::profiles::ProfileRow>> {
                if user_ids.is_empty() {
                    return Ok(Vec::new());
                }
                let marks = (1..=user_ids.len()).map(|n| format!("${n}")).collect::<Vec<_>>().join(", ");
                // Only numbered placeholders enter the text.
                let sql = format!(
                    "SELECT {} FROM profiles WHERE user_id IN ({marks}) ORDER BY user_id, id",
                    $crate::store::profiles::profile_columns!()
                );
                let mut q = sqlx::query_as::<$db, $crate::store::profiles::ProfileRow>(sqlx::AssertSqlSafe(sql));
                for id in user_ids {
                    q = q.bind(*id);
                }
                Ok(q.fetch_all(&self.pool).await?)
            }

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

            async fn save_profile(
                &self,
                change: $crate::store::profiles::ProfileChange<'_>,
                now: i64,
                label: Option<&$crate::store::labels::LabelWrite<'_>>,
                events: $crate::store::profiles::ProfileEvents<'_>,
            ) -> $crate::store::StoreResult<Option<$crate::store::profiles::ProfileRow>> {
                use $crate::store::profiles::{ProfileChange, ProfileRow};
                const EDIT: &str = concat!(
                    "UPDATE profiles SET first_name_sealed = $3, last_name_sealed = $4, dob_sealed = $5, \
                     address_sealed = $6, postcode = $7, city = $8, country = $9, metadata = $10, state = $11, \
                     updated_at = $12 WHERE id = $1 AND state = $2 RETURNING ",
                    $crate::store::profiles::profile_columns!()
                );
                const REVIEW: &str = concat!(
                    "UPDATE profiles SET state = $3, author = COALESCE($4, author), updated_at = $5 \
                     WHERE id = $1 AND state = $2 RETURNING ",
                    $crate::store::profiles::profile_columns!()
                );
                let (profile, _label) = $crate::store::outbox::with_events_of!(
                    self,
                    $db,
                    |conn| {
                        let profile = match change {
                            ProfileChange::Insert { user_id, fields: f, state, author } => {
                                Some($crate::store::profiles::insert_profile_row!(
                                    $db, &mut *conn, user_id, author, f, state, now
                                ))
                            }
                            ProfileChange::Edit { id, from, fields: f, state } => {
                                sqlx::query_as::<$db, ProfileRow>(EDIT)
                                    .bind(id)
                                    .bind(from.code())
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
                                    .fetch_optional(&mut *conn)
                                    .await?
                            }
                            ProfileChange::Review { id, from, state, author } => {
                                sqlx::query_as::<$db, ProfileRow>(REVIEW)
                                    .bind(id)
                                    .bind(from.code())
                                    .bind(state.code())
                                    .bind(author)
                                    .bind(now)
                                    .fetch_optional(&mut *conn)
                                    .await?
                            }
                        };
                        let label = match (&profile, label) {
                            (Some(_), Some(w)) => $crate::store::labels::write_label!($db, conn, w),
                            _ => None,
                        };
                        (profile, label)
                    },
                    |saved| match &saved.0 {
                        Some(p) => events(p, saved.1.as_ref()),
                        None => Vec::new(),
                    }
                );
                Ok(profile)
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

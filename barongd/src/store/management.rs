//! The Management API's own storage: `management_jtis` (the `jti` of every accepted request, so
//! each is accepted once across all daemons, spec §4.6, W4), its user and label filters, and
//! the writes only it makes (an import in one transaction, an owner-less service account).

use async_trait::async_trait;

use super::StoreResult;

/// Users holding a label (`/labels/filter/users`): the key, and optionally value, scope and a
/// time range on the label's `created_at` (or `updated_at`).
#[derive(Debug, Clone, Default)]
pub struct LabelFilter {
    pub key: String,
    pub value: Option<String>,
    pub scope: Option<String>,
    pub range_updated: bool,
    pub from: Option<i64>,
    pub to: Option<i64>,
}

/// What `/users/import` writes, all in one transaction (W15): the user, its phone (already
/// validated), its profile and the `profile` label that profile moves.
pub struct UserImport<'a> {
    pub user: &'a super::NewUser,
    /// `(country, number_sealed, number_index)` of a phone validated at import time.
    pub phone: Option<(&'a str, &'a str, &'a str)>,
    pub profile: Option<(&'a super::profiles::ProfileFields, crate::model::ProfileState)>,
    /// The `profile` label write; its `user_id` is replaced by the new user's id.
    pub label: Option<super::labels::LabelWrite<'a>>,
}

/// Builds an import's events from the rows the database returned.
pub type ImportEvents<'a> = &'a (
        dyn Fn(
    &super::UserRow,
    Option<&super::profiles::ProfileRow>,
    Option<&super::LabelRow>,
) -> Vec<super::PendingEvent>
            + Send
            + Sync
    );

/// A service account made through the Management API: unlike the operator's, it may have no
/// owner (Barong kept one whose owner was not found) [COMPAT].
pub struct NewManagedServiceAccount<'a> {
    pub uid: &'a str,
    pub owner_id: Option<i64>,
    pub email: &'a str,
    pub role: &'a str,
    pub level: i64,
    pub state: &'a str,
    pub now: i64,
}

#[async_trait]
pub trait ManagementStore {
    /// Records `jti` until `expires_at`; `false` when it is already recorded. The primary key
    /// decides, so of two concurrent requests with one jti exactly one wins.
    async fn claim_management_jti(&self, jti: &str, expires_at: i64) -> StoreResult<bool>;
    /// Forgets the jtis whose tokens expired by `now`; returns how many.
    async fn purge_management_jtis(&self, now: i64) -> StoreResult<u64>;
    /// `(user_id, number_sealed)` of the phones whose blind index is `index` (the caller opens
    /// and compares the numbers: an index match alone is not proof, W14).
    async fn phones_by_index(&self, index: &str) -> StoreResult<Vec<(i64, String)>>;
    /// The service account with exactly this e-mail.
    async fn service_account_by_email(
        &self,
        email: &str,
    ) -> StoreResult<Option<super::service_accounts::ServiceAccountRow>>;
    /// Sets a service account's owner and level (its state goes through
    /// `set_service_account_state`, which also handles its keys).
    async fn set_service_account_owner(&self, id: i64, owner_id: i64, level: i64, now: i64) -> StoreResult<bool>;
    /// Removes the user's phone `id`; `false` when it is not there (any more).
    async fn delete_user_phone(&self, user_id: i64, id: i64) -> StoreResult<bool>;
    /// The users with a matching label: their count, and a page of them in id order.
    async fn filter_users_by_label(
        &self,
        filter: &LabelFilter,
        limit: i64,
        offset: i64,
    ) -> StoreResult<(i64, Vec<super::UserRow>)>;
    /// `/users/import`: the user, phone, profile, label and `events`, in one transaction; the
    /// user as stored (before the label's recompute, which the caller reads back if it needs).
    async fn import_user(&self, import: &UserImport<'_>, events: ImportEvents<'_>) -> StoreResult<super::UserRow>;
    /// Inserts a service account whose owner may be absent; uid or e-mail taken is `Unique`.
    async fn insert_managed_service_account(
        &self,
        sa: &NewManagedServiceAccount<'_>,
    ) -> StoreResult<super::service_accounts::ServiceAccountRow>;
}

macro_rules! impl_management_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::management::ManagementStore for $store {
            async fn claim_management_jti(&self, jti: &str, expires_at: i64) -> $crate::store::StoreResult<bool> {
                let r = sqlx::query::<$db>(
                    "INSERT INTO management_jtis (jti, expires_at) VALUES ($1, $2) ON CONFLICT (jti) DO NOTHING",
                )
                .bind(jti)
                .bind(expires_at)
                .execute(&self.pool)
                .await?;
                Ok(r.rows_affected() > 0)
            }

            async fn purge_management_jtis(&self, now: i64) -> $crate::store::StoreResult<u64> {
                let r = sqlx::query::<$db>("DELETE FROM management_jtis WHERE expires_at <= $1")
                    .bind(now)
                    .execute(&self.pool)
                    .await?;
                Ok(r.rows_affected())
            }

            async fn phones_by_index(&self, index: &str) -> $crate::store::StoreResult<Vec<(i64, String)>> {
                Ok(sqlx::query_as::<$db, (i64, String)>(
                    "SELECT user_id, number_sealed FROM phones WHERE number_index = $1 ORDER BY id",
                )
                .bind(index)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn service_account_by_email(
                &self,
                email: &str,
            ) -> $crate::store::StoreResult<Option<$crate::store::service_accounts::ServiceAccountRow>> {
                Ok(sqlx::query_as::<$db, $crate::store::service_accounts::ServiceAccountRow>(
                    "SELECT id, uid, owner_id, email, role, level, state, created_at, updated_at \
                     FROM service_accounts WHERE email = $1",
                )
                .bind(email)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn set_service_account_owner(
                &self,
                id: i64,
                owner_id: i64,
                level: i64,
                now: i64,
            ) -> $crate::store::StoreResult<bool> {
                let r = sqlx::query::<$db>(
                    "UPDATE service_accounts SET owner_id = $2, level = $3, updated_at = $4 WHERE id = $1",
                )
                .bind(id)
                .bind(owner_id)
                .bind(level)
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(r.rows_affected() > 0)
            }

            async fn delete_user_phone(&self, user_id: i64, id: i64) -> $crate::store::StoreResult<bool> {
                let r = sqlx::query::<$db>("DELETE FROM phones WHERE id = $1 AND user_id = $2")
                    .bind(id)
                    .bind(user_id)
                    .execute(&self.pool)
                    .await?;
                Ok(r.rows_affected() > 0)
            }

            async fn filter_users_by_label(
                &self,
                f: &$crate::store::management::LabelFilter,
                limit: i64,
                offset: i64,
            ) -> $crate::store::StoreResult<(i64, Vec<$crate::store::UserRow>)> {
                const WHERE: &str = " WHERE EXISTS (SELECT 1 FROM labels l WHERE l.user_id = users.id AND l.key = $1 \
                     AND ($2 IS NULL OR l.value = $2) AND ($3 IS NULL OR l.scope = $3) \
                     AND ($4 IS NULL OR (CASE WHEN $6 THEN l.updated_at ELSE l.created_at END) >= $4) \
                     AND ($5 IS NULL OR (CASE WHEN $6 THEN l.updated_at ELSE l.created_at END) <= $5))";
                let count = format!("SELECT COUNT(*) FROM users{WHERE}");
                let page = format!(
                    "SELECT {} FROM users{WHERE} ORDER BY id LIMIT $7 OFFSET $8",
                    $crate::store::users::user_columns!()
                );
                let (total,): (i64,) = sqlx::query_as::<$db, (i64,)>(sqlx::AssertSqlSafe(count))
                    .bind(&f.key)
                    .bind(&f.value)
                    .bind(&f.scope)
                    .bind(f.from)
                    .bind(f.to)
                    .bind(f.range_updated)
                    .fetch_one(&self.pool)
                    .await?;
                let rows = sqlx::query_as::<$db, $crate::store::UserRow>(sqlx::AssertSqlSafe(page))
                    .bind(&f.key)
                    .bind(&f.value)
                    .bind(&f.scope)
                    .bind(f.from)
                    .bind(f.to)
                    .bind(f.range_updated)
                    .bind(limit)
                    .bind(offset)
                    .fetch_all(&self.pool)
                    .await?;
                Ok((total, rows))
            }

            async fn import_user(
                &self,
                import: &$crate::store::management::UserImport<'_>,
                events: $crate::store::management::ImportEvents<'_>,
            ) -> $crate::store::StoreResult<$crate::store::UserRow> {
                const PHONE: &str = "INSERT INTO phones (user_id, country, number_sealed, number_index, validated_at, \
                     created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5, $5)";
                let u = import.user;
                let mut tx = self.pool.begin().await?;
                let user = $crate::store::users::insert_user_row!($db, &mut *tx, u);
                if let Some((country, sealed, index)) = import.phone {
                    sqlx::query::<$db>(PHONE)
                        .bind(user.id)
                        .bind(country)
                        .bind(sealed)
                        .bind(index)
                        .bind(u.now)
                        .execute(&mut *tx)
                        .await?;
                }
                let profile = match import.profile {
                    Some((f, state)) => {
                        let author: Option<&str> = None;
                        Some($crate::store::profiles::insert_profile_row!(
                            $db, &mut *tx, user.id, author, f, state, u.now
                        ))
                    }
                    None => None,
                };
                let label = match &import.label {
                    Some(w) => {
                        let w = $crate::store::labels::LabelWrite { user_id: user.id, ..w.clone() };
                        let conn = &mut *tx;
                        $crate::store::labels::write_label!($db, conn, &w)
                    }
                    None => None,
                };
                let events = events(&user, profile.as_ref(), label.as_ref());
                $crate::store::outbox::insert_events!($db, tx, &events);
                tx.commit().await?;
                if !events.is_empty() {
                    self.outbox_wake.notify_one();
                }
                Ok(user)
            }

            async fn insert_managed_service_account(
                &self,
                sa: &$crate::store::management::NewManagedServiceAccount<'_>,
            ) -> $crate::store::StoreResult<$crate::store::service_accounts::ServiceAccountRow> {
                const SQL: &str = concat!(
                    "INSERT INTO service_accounts (uid, owner_id, email, role, level, state, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING ",
                    $crate::store::service_accounts::service_account_columns!()
                );
                Ok(sqlx::query_as::<$db, $crate::store::service_accounts::ServiceAccountRow>(SQL)
                    .bind(sa.uid)
                    .bind(sa.owner_id)
                    .bind(sa.email)
                    .bind(sa.role)
                    .bind(sa.level)
                    .bind(sa.state)
                    .bind(sa.now)
                    .fetch_one(&self.pool)
                    .await?)
            }
        }
    };
}
pub(crate) use impl_management_store;

//! WebAuthn credentials and the ceremonies in flight (migration 0021).

use async_trait::async_trait;

use super::StoreResult;
use super::outbox::PendingEvent;

/// One registered credential. `credential_sealed` holds the library's credential (public key,
/// flags) sealed under the master key; `sign_count` is the counter the next assertion must pass.
#[derive(Clone, sqlx::FromRow)]
pub struct CredentialRow {
    pub id: i64,
    pub user_id: i64,
    /// The credential id as the authenticator reports it, base64url without padding.
    pub credential_id: String,
    pub name: String,
    pub credential_sealed: String,
    pub sign_count: i64,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

impl std::fmt::Debug for CredentialRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialRow").field("id", &self.id).field("user_id", &self.user_id).finish_non_exhaustive()
    }
}

/// A credential to store.
pub struct NewCredential<'a> {
    pub user_id: i64,
    pub credential_id: &'a str,
    pub name: &'a str,
    pub credential_sealed: &'a str,
    pub sign_count: i64,
    pub now: i64,
}

/// A ceremony's state between its two calls.
pub struct NewChallenge<'a> {
    pub handle: &'a str,
    pub user_id: i64,
    /// `register`, `login` or `action`: a state is only ever finished as what it was begun for.
    pub purpose: &'a str,
    pub state_sealed: &'a str,
    pub expires_at: i64,
}

/// What a finished counter check did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CounterUse {
    /// The counter moved forward (or both are 0, an authenticator without a counter).
    Accepted,
    /// The stored counter is already at or past the presented one: a cloned authenticator, or a
    /// concurrent use of the same value on another daemon.
    Regressed,
    /// The credential is gone.
    Missing,
}

#[async_trait]
pub trait WebauthnStore {
    async fn insert_webauthn_challenge(&self, c: &NewChallenge<'_>) -> StoreResult<()>;
    /// Deletes and returns the state of `handle` if it was begun for `purpose` by `user_id`, with
    /// its expiry; one statement, so of two concurrent finishes only one gets it.
    async fn take_webauthn_challenge(
        &self,
        handle: &str,
        purpose: &str,
        user_id: i64,
    ) -> StoreResult<Option<(String, i64)>>;
    /// A user's credentials, oldest first.
    async fn webauthn_credentials(&self, user_id: i64) -> StoreResult<Vec<CredentialRow>>;
    async fn count_webauthn_credentials(&self, user_id: i64) -> StoreResult<i64>;
    /// Stores `c` unless the user already has `max` credentials (`None` then). A credential id
    /// registered already (by anyone) is `StoreError::Unique`.
    /// `events` are queued with the insert (none when refused).
    async fn insert_webauthn_credential(
        &self,
        c: &NewCredential<'_>,
        max: i64,
        events: &[PendingEvent],
    ) -> StoreResult<Option<CredentialRow>>;
    async fn rename_webauthn_credential(&self, user_id: i64, id: i64, name: &str)
    -> StoreResult<Option<CredentialRow>>;
    /// Returns whether the credential of this user was deleted; `events` are queued with it.
    async fn delete_webauthn_credential(&self, user_id: i64, id: i64, events: &[PendingEvent]) -> StoreResult<bool>;
    /// Records a verified assertion: the counter moves from below `count` to `count` (or stays 0
    /// when both are 0), the credential is re-sealed with its new flags and `last_used_at` set,
    /// in one compare-and-set.
    async fn use_webauthn_credential(&self, id: i64, count: i64, sealed: &str, now: i64) -> StoreResult<CounterUse>;
}

macro_rules! impl_webauthn_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::webauthn::WebauthnStore for $store {
            async fn insert_webauthn_challenge(
                &self,
                c: &$crate::store::webauthn::NewChallenge<'_>,
            ) -> $crate::store::StoreResult<()> {
                sqlx::query::<$db>(
                    "INSERT INTO webauthn_challenges (handle, user_id, purpose, state_sealed, expires_at) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(c.handle)
                .bind(c.user_id)
                .bind(c.purpose)
                .bind(c.state_sealed)
                .bind(c.expires_at)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn take_webauthn_challenge(
                &self,
                handle: &str,
                purpose: &str,
                user_id: i64,
            ) -> $crate::store::StoreResult<Option<(String, i64)>> {
                Ok(sqlx::query_as::<$db, (String, i64)>(
                    "DELETE FROM webauthn_challenges WHERE handle = $1 AND purpose = $2 AND user_id = $3 \
                     RETURNING state_sealed, expires_at",
                )
                .bind(handle)
                .bind(purpose)
                .bind(user_id)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn webauthn_credentials(
                &self,
                user_id: i64,
            ) -> $crate::store::StoreResult<Vec<$crate::store::webauthn::CredentialRow>> {
                let sql = "SELECT id, user_id, credential_id, name, credential_sealed, sign_count, created_at, \
                           last_used_at FROM webauthn_credentials WHERE user_id = $1 ORDER BY id";
                Ok(sqlx::query_as::<$db, $crate::store::webauthn::CredentialRow>(sql)
                    .bind(user_id)
                    .fetch_all(&self.pool)
                    .await?)
            }

            async fn count_webauthn_credentials(&self, user_id: i64) -> $crate::store::StoreResult<i64> {
                let (n,): (i64,) =
                    sqlx::query_as::<$db, (i64,)>("SELECT COUNT(*) FROM webauthn_credentials WHERE user_id = $1")
                        .bind(user_id)
                        .fetch_one(&self.pool)
                        .await?;
                Ok(n)
            }

            async fn insert_webauthn_credential(
                &self,
                c: &$crate::store::webauthn::NewCredential<'_>,
                max: i64,
                events: &[$crate::store::outbox::PendingEvent],
            ) -> $crate::store::StoreResult<Option<$crate::store::webauthn::CredentialRow>> {
                // The limit is checked by the insert itself, not read before it.
                let sql = "INSERT INTO webauthn_credentials (user_id, credential_id, name, credential_sealed, \
                           sign_count, created_at) SELECT $1, $2, $3, $4, $5, $6 \
                           WHERE (SELECT COUNT(*) FROM webauthn_credentials WHERE user_id = $1) < $7 \
                           RETURNING id, user_id, credential_id, name, credential_sealed, sign_count, created_at, \
                           last_used_at";
                Ok($crate::store::outbox::with_events_of!(
                    self,
                    $db,
                    |conn| sqlx::query_as::<$db, $crate::store::webauthn::CredentialRow>(sql)
                        .bind(c.user_id)
                        .bind(c.credential_id)
                        .bind(c.name)
                        .bind(c.credential_sealed)
                        .bind(c.sign_count)
                        .bind(c.now)
                        .bind(max)
                        .fetch_optional(conn)
                        .await?,
                    |row| if row.is_some() { events.to_vec() } else { Vec::new() }
                ))
            }

            async fn rename_webauthn_credential(
                &self,
                user_id: i64,
                id: i64,
                name: &str,
            ) -> $crate::store::StoreResult<Option<$crate::store::webauthn::CredentialRow>> {
                let sql = "UPDATE webauthn_credentials SET name = $1 WHERE id = $2 AND user_id = $3 RETURNING id, \
                           user_id, credential_id, name, credential_sealed, sign_count, created_at, last_used_at";
                Ok(sqlx::query_as::<$db, $crate::store::webauthn::CredentialRow>(sql)
                    .bind(name)
                    .bind(id)
                    .bind(user_id)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn delete_webauthn_credential(
                &self,
                user_id: i64,
                id: i64,
                events: &[$crate::store::outbox::PendingEvent],
            ) -> $crate::store::StoreResult<bool> {
                Ok($crate::store::outbox::with_events_of!(
                    self,
                    $db,
                    |conn| sqlx::query::<$db>("DELETE FROM webauthn_credentials WHERE id = $1 AND user_id = $2")
                        .bind(id)
                        .bind(user_id)
                        .execute(conn)
                        .await?
                        .rows_affected()
                        > 0,
                    |deleted| if deleted { events.to_vec() } else { Vec::new() }
                ))
            }

            async fn use_webauthn_credential(
                &self,
                id: i64,
                count: i64,
                sealed: &str,
                now: i64,
            ) -> $crate::store::StoreResult<$crate::store::webauthn::CounterUse> {
                use $crate::store::webauthn::CounterUse;
                let r = sqlx::query::<$db>(
                    "UPDATE webauthn_credentials SET sign_count = $1, credential_sealed = $2, last_used_at = $3 \
                     WHERE id = $4 AND (sign_count < $1 OR (sign_count = 0 AND $1 = 0))",
                )
                .bind(count)
                .bind(sealed)
                .bind(now)
                .bind(id)
                .execute(&self.pool)
                .await?;
                if r.rows_affected() > 0 {
                    return Ok(CounterUse::Accepted);
                }
                let exists: Option<(i64,)> =
                    sqlx::query_as::<$db, (i64,)>("SELECT id FROM webauthn_credentials WHERE id = $1")
                        .bind(id)
                        .fetch_optional(&self.pool)
                        .await?;
                Ok(if exists.is_some() { CounterUse::Regressed } else { CounterUse::Missing })
            }
        }
    };
}
pub(crate) use impl_webauthn_store;

//! sessions: what Barong kept in Redis, keyed by the SHA-256 of the cookie's session id.

use async_trait::async_trait;

use super::StoreResult;
use super::outbox::PendingEvent;

#[derive(Clone, sqlx::FromRow)]
pub struct SessionRow {
    pub id_hash: String,
    pub user_id: i64,
    pub csrf_token: String,
    pub user_ip: String,
    pub user_agent: String,
    pub expires_at: i64,
    pub absolute_expires_at: i64,
    pub created_at: i64,
    /// How the login was proven, RFC 8176 values joined by commas (`pwd`, `pwd,otp`,
    /// `pwd,webauthn`): the upstream JWT's `amr` claim.
    pub amr: String,
}

impl std::fmt::Debug for SessionRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionRow")
            .field("user_id", &self.user_id)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

#[async_trait]
pub trait SessionStore {
    async fn insert_session(&self, s: &SessionRow) -> StoreResult<()> {
        self.insert_session_with_events(s, &[]).await
    }
    /// Stores the session and queues `events` in the same transaction.
    async fn insert_session_with_events(&self, s: &SessionRow, events: &[PendingEvent]) -> StoreResult<()>;
    async fn session(&self, id_hash: &str) -> StoreResult<Option<SessionRow>>;
    /// Moves the idle expiry forward.
    async fn touch_session(&self, id_hash: &str, expires_at: i64) -> StoreResult<()>;
    /// Returns whether a session was deleted.
    async fn delete_session(&self, id_hash: &str) -> StoreResult<bool>;
    /// Ends every session of a user; returns how many.
    async fn delete_user_sessions(&self, user_id: i64) -> StoreResult<u64>;
    /// Drops sessions, used tokens, reset tokens, whitelinks and throttle windows that have
    /// expired (nonces: `NonceStore::purge_nonces`).
    async fn purge_expired(&self, now: i64) -> StoreResult<u64>;
}

macro_rules! impl_session_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::sessions::SessionStore for $store {
            async fn insert_session_with_events(
                &self,
                s: &$crate::store::sessions::SessionRow,
                events: &[$crate::store::outbox::PendingEvent],
            ) -> $crate::store::StoreResult<()> {
                $crate::store::outbox::with_events!(self, $db, events, |conn| {
                    sqlx::query::<$db>(
                        "INSERT INTO sessions (id_hash, user_id, csrf_token, user_ip, user_agent, expires_at, \
                         absolute_expires_at, created_at, amr) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
                    )
                    .bind(&s.id_hash)
                    .bind(s.user_id)
                    .bind(&s.csrf_token)
                    .bind(&s.user_ip)
                    .bind(&s.user_agent)
                    .bind(s.expires_at)
                    .bind(s.absolute_expires_at)
                    .bind(s.created_at)
                    .bind(&s.amr)
                    .execute(conn)
                    .await?
                });
                Ok(())
            }

            async fn session(
                &self,
                id_hash: &str,
            ) -> $crate::store::StoreResult<Option<$crate::store::sessions::SessionRow>> {
                Ok(sqlx::query_as::<$db, $crate::store::sessions::SessionRow>(
                    "SELECT id_hash, user_id, csrf_token, user_ip, user_agent, expires_at, absolute_expires_at, \
                     created_at, amr FROM sessions WHERE id_hash = $1",
                )
                .bind(id_hash)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn touch_session(&self, id_hash: &str, expires_at: i64) -> $crate::store::StoreResult<()> {
                sqlx::query::<$db>("UPDATE sessions SET expires_at = $1 WHERE id_hash = $2")
                    .bind(expires_at)
                    .bind(id_hash)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn delete_session(&self, id_hash: &str) -> $crate::store::StoreResult<bool> {
                let r = sqlx::query::<$db>("DELETE FROM sessions WHERE id_hash = $1")
                    .bind(id_hash)
                    .execute(&self.pool)
                    .await?;
                Ok(r.rows_affected() > 0)
            }

            async fn delete_user_sessions(&self, user_id: i64) -> $crate::store::StoreResult<u64> {
                let r = sqlx::query::<$db>("DELETE FROM sessions WHERE user_id = $1")
                    .bind(user_id)
                    .execute(&self.pool)
                    .await?;
                Ok(r.rows_affected())
            }

            async fn purge_expired(&self, now: i64) -> $crate::store::StoreResult<u64> {
                let mut n = 0;
                for sql in [
                    "DELETE FROM sessions WHERE expires_at <= $1 OR absolute_expires_at <= $1",
                    "DELETE FROM used_tokens WHERE expires_at <= $1",
                    "DELETE FROM reset_tokens WHERE expires_at <= $1",
                    "DELETE FROM whitelinks WHERE expires_at <= $1",
                    "DELETE FROM throttles WHERE window_ends_at <= $1",
                    "DELETE FROM webauthn_challenges WHERE expires_at <= $1",
                ] {
                    n += sqlx::query::<$db>(sql).bind(now).execute(&self.pool).await?.rows_affected();
                }
                Ok(n)
            }
        }
    };
}
pub(crate) use impl_session_store;

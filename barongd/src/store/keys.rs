//! signing_keys: the JWT signing keys, private halves sealed with the master key, shared by every
//! daemon on the database.

use async_trait::async_trait;

use super::StoreResult;
use crate::model::SigningKeyState;

#[derive(Clone, sqlx::FromRow)]
pub struct SigningKeyRow {
    pub kid: String,
    pub algorithm: String,
    pub private_sealed: String,
    pub public_pem: String,
    #[sqlx(try_from = "String")]
    pub state: SigningKeyState,
    pub created_at: i64,
    /// When the key became the signing key, or (state `next`) becomes it; retirement counts from
    /// it. Ignored on insert for a key stored verify-only.
    pub takes_over_at: i64,
}

/// The columns of a [`SigningKeyRow`].
macro_rules! signing_key_columns {
    () => {
        "kid, algorithm, private_sealed, public_pem, state, created_at, takes_over_at"
    };
}
pub(crate) use signing_key_columns;

#[async_trait]
pub trait SigningKeyStore {
    /// Keys that are `active`, `next` or `previous` (the published ones), newest first.
    async fn signing_keys(&self) -> StoreResult<Vec<SigningKeyRow>>;
    /// Inserts a key as `active` unless an active key already exists (several daemons may race on
    /// a fresh database); returns whether this one was stored.
    async fn insert_first_signing_key(&self, key: &SigningKeyRow) -> StoreResult<bool>;
    /// Every key, retired ones too, newest first.
    async fn all_signing_keys(&self) -> StoreResult<Vec<SigningKeyRow>>;
    /// Stores `key` in its state unless a key of its kid exists; whether it was stored.
    async fn add_signing_key(&self, key: &SigningKeyRow) -> StoreResult<bool>;
    /// Makes `key` the active signing key, storing it unless a key of its kid exists (whose
    /// sealed half is kept): the active one becomes `previous`, and previous keys replaced before
    /// `retire_before` are retired, as in a rotation. Every daemon follows through the change feed.
    /// `key.takes_over_at` is recorded as the moment it took over (unless it was active already),
    /// and a key scheduled as `next` is dropped (retired): this one replaces the plan.
    async fn activate_signing_key(&self, key: &SigningKeyRow, retire_before: i64) -> StoreResult<()>;
    /// Publishes `key` as `next`: it verifies and is in the JWKS, and signs from
    /// `key.takes_over_at` on, when a daemon activates it. Stored unless its kid exists (then
    /// that row is scheduled); a key scheduled before is retired (the latest plan wins).
    async fn schedule_signing_key(&self, key: &SigningKeyRow) -> StoreResult<()>;
}

macro_rules! impl_signing_key_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::keys::SigningKeyStore for $store {
            async fn signing_keys(&self) -> $crate::store::StoreResult<Vec<$crate::store::keys::SigningKeyRow>> {
                Ok(sqlx::query_as::<$db, $crate::store::keys::SigningKeyRow>(
                    concat!(
                        "SELECT ",
                        $crate::store::keys::signing_key_columns!(),
                        " FROM signing_keys WHERE state IN ('active', 'next', 'previous') ORDER BY created_at DESC, kid"
                    ),
                )
                .fetch_all(&self.pool)
                .await?)
            }

            async fn insert_first_signing_key(
                &self,
                k: &$crate::store::keys::SigningKeyRow,
            ) -> $crate::store::StoreResult<bool> {
                let r = sqlx::query::<$db>(
                    "INSERT INTO signing_keys (kid, algorithm, private_sealed, public_pem, state, created_at, \
                     takes_over_at) SELECT $1, $2, $3, $4, 'active', $5, $5 \
                     WHERE NOT EXISTS (SELECT 1 FROM signing_keys WHERE state = 'active')",
                )
                .bind(&k.kid)
                .bind(&k.algorithm)
                .bind(&k.private_sealed)
                .bind(&k.public_pem)
                .bind(k.created_at)
                .execute(&self.pool)
                .await;
                match r {
                    Ok(r) => Ok(r.rows_affected() > 0),
                    // Another daemon stored its first key at the same moment (one active key at
                    // most, by a unique index): that key is the one.
                    Err(e) => match $crate::store::StoreError::from(e) {
                        $crate::store::StoreError::Unique(_) => Ok(false),
                        other => Err(other),
                    },
                }
            }

            async fn all_signing_keys(&self) -> $crate::store::StoreResult<Vec<$crate::store::keys::SigningKeyRow>> {
                Ok(sqlx::query_as::<$db, $crate::store::keys::SigningKeyRow>(concat!(
                    "SELECT ",
                    $crate::store::keys::signing_key_columns!(),
                    " FROM signing_keys ORDER BY created_at DESC, kid"
                ))
                .fetch_all(&self.pool)
                .await?)
            }

            async fn add_signing_key(
                &self,
                k: &$crate::store::keys::SigningKeyRow,
            ) -> $crate::store::StoreResult<bool> {
                let r = sqlx::query::<$db>(
                    "INSERT INTO signing_keys (kid, algorithm, private_sealed, public_pem, state, created_at, \
                     takes_over_at) VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (kid) DO NOTHING",
                )
                .bind(&k.kid)
                .bind(&k.algorithm)
                .bind(&k.private_sealed)
                .bind(&k.public_pem)
                .bind(k.state.as_str())
                .bind(k.created_at)
                .execute(&self.pool)
                .await?;
                Ok(r.rows_affected() > 0)
            }

            async fn activate_signing_key(
                &self,
                k: &$crate::store::keys::SigningKeyRow,
                retire_before: i64,
            ) -> $crate::store::StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                $crate::store::keys::retire_replaced!($db, &mut *tx, retire_before, &k.kid);
                sqlx::query::<$db>(
                    "UPDATE signing_keys SET state = 'previous' WHERE state = 'active' AND kid <> $1",
                )
                .bind(&k.kid)
                .execute(&mut *tx)
                .await?;
                let insert = sqlx::query::<$db>(
                    "INSERT INTO signing_keys (kid, algorithm, private_sealed, public_pem, state, created_at, \
                     takes_over_at) VALUES ($1, $2, $3, $4, 'active', $5, $6) ON CONFLICT (kid) DO UPDATE SET \
                     takes_over_at = CASE WHEN signing_keys.state = 'active' THEN signing_keys.takes_over_at \
                     ELSE excluded.takes_over_at END, state = 'active'",
                );
                $crate::store::keys::bind_key_row!(insert, k).execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn schedule_signing_key(
                &self,
                k: &$crate::store::keys::SigningKeyRow,
            ) -> $crate::store::StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                sqlx::query::<$db>("UPDATE signing_keys SET state = 'retired' WHERE state = 'next' AND kid <> $1")
                    .bind(&k.kid)
                    .execute(&mut *tx)
                    .await?;
                let insert = sqlx::query::<$db>(
                    "INSERT INTO signing_keys (kid, algorithm, private_sealed, public_pem, state, created_at, \
                     takes_over_at) VALUES ($1, $2, $3, $4, 'next', $5, $6) ON CONFLICT (kid) DO UPDATE SET \
                     state = 'next', takes_over_at = excluded.takes_over_at WHERE signing_keys.state <> 'active'",
                );
                $crate::store::keys::bind_key_row!(insert, k).execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(())
            }
        }
    };
}
pub(crate) use impl_signing_key_store;

/// Retires what a change of signing key leaves behind, in the caller's transaction: `previous`
/// keys whose successor took over before `retire_before` (the tokens they signed have expired),
/// and a key scheduled as `next` (the new active key replaces that plan), except `keep`.
macro_rules! retire_replaced {
    ($db:ty, $conn:expr, $retire_before:expr, $keep:expr) => {
        sqlx::query::<$db>(
            "UPDATE signing_keys SET state = 'retired' WHERE kid <> $2 AND (state = 'next' OR \
             (state = 'previous' AND EXISTS (SELECT 1 FROM signing_keys n \
              WHERE n.takes_over_at > signing_keys.takes_over_at \
              AND n.state IN ('active', 'previous') AND n.takes_over_at < $1)))",
        )
        .bind($retire_before)
        .bind($keep)
        .execute($conn)
        .await?;
    };
}
pub(crate) use retire_replaced;

/// Binds a whole [`SigningKeyRow`] as `$1…$6` (kid, algorithm, private_sealed, public_pem,
/// created_at, takes_over_at) to an INSERT of a signing key.
macro_rules! bind_key_row {
    ($query:expr, $k:expr) => {
        $query
            .bind(&$k.kid)
            .bind(&$k.algorithm)
            .bind(&$k.private_sealed)
            .bind(&$k.public_pem)
            .bind($k.created_at)
            .bind($k.takes_over_at)
    };
}
pub(crate) use bind_key_row;

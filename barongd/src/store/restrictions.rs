//! restrictions and whitelink tokens. Every write also appends a `changes` row of kind
//! `restrictions` in the same transaction, which is how other daemons notice it.

use async_trait::async_trait;

use super::StoreResult;

/// The `changes.kind` written by every restriction change.
pub const CHANGE_KIND: &str = "restrictions";

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct RestrictionRow {
    pub id: i64,
    pub category: String,
    pub scope: String,
    pub value: String,
    pub code: Option<i64>,
    pub state: String,
    pub created_at: i64,
    pub updated_at: i64,
}

pub struct NewRestriction<'a> {
    pub category: &'a str,
    pub scope: &'a str,
    pub value: &'a str,
    pub code: i64,
    pub state: &'a str,
    pub now: i64,
}

/// What redeeming a whitelink token did.
#[derive(Debug, Clone, PartialEq)]
pub enum Redeemed {
    Created(RestrictionRow),
    /// Unknown, used or expired token.
    InvalidToken,
    /// The whitelist entry exists already; the token was not consumed.
    Taken,
}

#[async_trait]
pub trait RestrictionStore {
    /// Every restriction, oldest first.
    async fn restrictions(&self) -> StoreResult<Vec<RestrictionRow>>;
    async fn insert_restriction(&self, r: &NewRestriction<'_>) -> StoreResult<RestrictionRow>;
    /// Sets `state`; `None` when no such restriction.
    async fn set_restriction_state(&self, id: i64, state: &str, now: i64) -> StoreResult<Option<RestrictionRow>>;
    /// Returns whether a restriction was deleted.
    async fn delete_restriction(&self, id: i64, now: i64) -> StoreResult<bool>;
    /// The newest `changes` id of any kind (0 when none): cheap, the primary key's maximum.
    async fn latest_change(&self) -> StoreResult<i64>;
    async fn insert_whitelink(&self, token_hash: &str, expires_at: i64, now: i64) -> StoreResult<()>;
    /// Consumes an unexpired token and creates `r` in one transaction; a duplicate rolls back.
    async fn redeem_whitelink(&self, token_hash: &str, r: &NewRestriction<'_>) -> StoreResult<Redeemed>;
    /// (id_hash, user_ip) of every session, for ending those a blocklogin restriction matches.
    async fn session_ips(&self) -> StoreResult<Vec<(String, String)>>;
}

macro_rules! restriction_columns {
    () => {
        "id, category, scope, value, code, state, created_at, updated_at"
    };
}
pub(crate) use restriction_columns;

macro_rules! impl_restrictions_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::restrictions::RestrictionStore for $store {
            async fn restrictions(
                &self,
            ) -> $crate::store::StoreResult<Vec<$crate::store::restrictions::RestrictionRow>> {
                const SQL: &str = concat!(
                    "SELECT ",
                    $crate::store::restrictions::restriction_columns!(),
                    " FROM restrictions ORDER BY id"
                );
                Ok(sqlx::query_as::<$db, $crate::store::restrictions::RestrictionRow>(SQL)
                    .fetch_all(&self.pool)
                    .await?)
            }

            async fn insert_restriction(
                &self,
                r: &$crate::store::restrictions::NewRestriction<'_>,
            ) -> $crate::store::StoreResult<$crate::store::restrictions::RestrictionRow> {
                const SQL: &str = concat!(
                    "INSERT INTO restrictions (category, scope, value, code, state, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING ",
                    $crate::store::restrictions::restriction_columns!()
                );
                let mut tx = self.pool.begin().await?;
                let row = sqlx::query_as::<$db, $crate::store::restrictions::RestrictionRow>(SQL)
                    .bind(r.category)
                    .bind(r.scope)
                    .bind(r.value)
                    .bind(r.code)
                    .bind(r.state)
                    .bind(r.now)
                    .fetch_one(&mut *tx)
                    .await?;
                $crate::store::restrictions::record_change!(tx, $db, row.id, r.now);
                tx.commit().await?;
                Ok(row)
            }

            async fn set_restriction_state(
                &self,
                id: i64,
                state: &str,
                now: i64,
            ) -> $crate::store::StoreResult<Option<$crate::store::restrictions::RestrictionRow>> {
                const SQL: &str = concat!(
                    "UPDATE restrictions SET state = $1, updated_at = $2 WHERE id = $3 RETURNING ",
                    $crate::store::restrictions::restriction_columns!()
                );
                let mut tx = self.pool.begin().await?;
                let row = sqlx::query_as::<$db, $crate::store::restrictions::RestrictionRow>(SQL)
                    .bind(state)
                    .bind(now)
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await?;
                if row.is_some() {
                    $crate::store::restrictions::record_change!(tx, $db, id, now);
                }
                tx.commit().await?;
                Ok(row)
            }

            async fn delete_restriction(&self, id: i64, now: i64) -> $crate::store::StoreResult<bool> {
                let mut tx = self.pool.begin().await?;
                let n = sqlx::query::<$db>("DELETE FROM restrictions WHERE id = $1")
                    .bind(id)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if n > 0 {
                    $crate::store::restrictions::record_change!(tx, $db, id, now);
                }
                tx.commit().await?;
                Ok(n > 0)
            }

            async fn latest_change(&self) -> $crate::store::StoreResult<i64> {
                let (id,): (i64,) = sqlx::query_as::<$db, (i64,)>("SELECT COALESCE(MAX(id), 0) FROM changes")
                    .fetch_one(&self.pool)
                    .await?;
                Ok(id)
            }

            async fn insert_whitelink(
                &self,
                token_hash: &str,
                expires_at: i64,
                now: i64,
            ) -> $crate::store::StoreResult<()> {
                sqlx::query::<$db>("INSERT INTO whitelinks (token_hash, expires_at, created_at) VALUES ($1, $2, $3)")
                    .bind(token_hash)
                    .bind(expires_at)
                    .bind(now)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn redeem_whitelink(
                &self,
                token_hash: &str,
                r: &$crate::store::restrictions::NewRestriction<'_>,
            ) -> $crate::store::StoreResult<$crate::store::restrictions::Redeemed> {
                use $crate::store::restrictions::Redeemed;
                let mut tx = self.pool.begin().await?;
                let taken = sqlx::query::<$db>("DELETE FROM whitelinks WHERE token_hash = $1 AND expires_at > $2")
                    .bind(token_hash)
                    .bind(r.now)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                if taken == 0 {
                    return Ok(Redeemed::InvalidToken);
                }
                const SQL: &str = concat!(
                    "INSERT INTO restrictions (category, scope, value, code, state, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT DO NOTHING RETURNING ",
                    $crate::store::restrictions::restriction_columns!()
                );
                let row = sqlx::query_as::<$db, $crate::store::restrictions::RestrictionRow>(SQL)
                    .bind(r.category)
                    .bind(r.scope)
                    .bind(r.value)
                    .bind(r.code)
                    .bind(r.state)
                    .bind(r.now)
                    .fetch_optional(&mut *tx)
                    .await?;
                let Some(row) = row else {
                    // Dropping the transaction rolls it back: the token stays usable.
                    return Ok(Redeemed::Taken);
                };
                $crate::store::restrictions::record_change!(tx, $db, row.id, r.now);
                tx.commit().await?;
                Ok(Redeemed::Created(row))
            }

            async fn session_ips(&self) -> $crate::store::StoreResult<Vec<(String, String)>> {
                Ok(sqlx::query_as::<$db, (String, String)>("SELECT id_hash, user_ip FROM sessions")
                    .fetch_all(&self.pool)
                    .await?)
            }
        }
    };
}
pub(crate) use impl_restrictions_store;

/// Appends the `changes` row of a restriction change inside the caller's transaction.
macro_rules! record_change {
    ($tx:ident, $db:ty, $id:expr, $now:expr) => {
        sqlx::query::<$db>("INSERT INTO changes (kind, subject, created_at) VALUES ($1, $2, $3)")
            .bind($crate::store::restrictions::CHANGE_KIND)
            .bind($id.to_string())
            .bind($now)
            .execute(&mut *$tx)
            .await?
    };
}
pub(crate) use record_change;

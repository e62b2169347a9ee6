//! The KYC review history (migration 0019): one row per decision on a user's profile, documents
//! or address, written by [`write_review!`] inside the transaction that moves the check's label,
//! so a decision is never stored without its record nor recorded without being made.

use async_trait::async_trait;

use super::StoreResult;

/// A decision to record with a label write.
#[derive(Debug, Clone, Copy)]
pub struct ReviewNote<'a> {
    /// `profile`, `document` or `address`.
    pub check: &'a str,
    /// `verified` or `rejected`.
    pub verdict: &'a str,
    pub reason: Option<&'a str>,
    /// Who decided: `barongctl` or the admin's uid.
    pub author: &'a str,
}

/// One recorded decision with its user's uid and email.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReviewRow {
    pub id: i64,
    pub uid: String,
    pub email: String,
    pub check_key: String,
    pub verdict: String,
    pub reason: Option<String>,
    pub author: String,
    pub created_at: i64,
}

/// Inserts `$note` for `$user_id` at `$now` on `$conn` (a transaction).
macro_rules! write_review {
    ($db:ty, $conn:ident, $user_id:expr, $note:expr, $now:expr) => {{
        let note: &$crate::store::kyc_reviews::ReviewNote<'_> = $note;
        sqlx::query::<$db>(
            "INSERT INTO kyc_reviews (user_id, check_key, verdict, reason, author, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind($user_id)
        .bind(note.check)
        .bind(note.verdict)
        .bind(note.reason)
        .bind(note.author)
        .bind($now)
        .execute(&mut *$conn)
        .await?;
    }};
}
pub(crate) use write_review;

#[async_trait]
pub trait KycReviewStore {
    /// The newest `limit` decisions, of one user or of everyone, newest first.
    async fn kyc_reviews(&self, user_id: Option<i64>, limit: i64) -> StoreResult<Vec<ReviewRow>>;
}

macro_rules! impl_kyc_review_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::kyc_reviews::KycReviewStore for $store {
            async fn kyc_reviews(
                &self,
                user_id: Option<i64>,
                limit: i64,
            ) -> $crate::store::StoreResult<Vec<$crate::store::kyc_reviews::ReviewRow>> {
                Ok(sqlx::query_as::<$db, $crate::store::kyc_reviews::ReviewRow>(
                    "SELECT r.id, u.uid, u.email, r.check_key, r.verdict, r.reason, r.author, r.created_at \
                     FROM kyc_reviews r JOIN users u ON u.id = r.user_id \
                     WHERE ($1 IS NULL OR r.user_id = $1) ORDER BY r.id DESC LIMIT $2",
                )
                .bind(user_id)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?)
            }
        }
    };
}
pub(crate) use impl_kyc_review_store;

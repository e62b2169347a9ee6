//! kycaid_jobs: work waiting for KYCAID (applicants, documents, addresses, verification
//! look-ups), persisted before it is attempted so a restart or a KYCAID outage loses nothing;
//! and the KYCAID ids kept on profiles (`applicant_id`) and documents (`metadata`).

use async_trait::async_trait;

use super::StoreResult;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct KycaidJobRow {
    pub id: String,
    pub user_id: i64,
    pub kind: String,
    /// The job's inputs, sealed under the master key (an address's text is PII).
    pub payload_sealed: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
}

#[async_trait]
pub trait KycaidStore {
    async fn enqueue_kycaid_job(
        &self,
        id: &str,
        user_id: i64,
        kind: &str,
        payload_sealed: &str,
        now: i64,
    ) -> StoreResult<()>;
    /// Jobs due for an attempt, oldest first, skipping those that used up `max_attempts`.
    async fn due_kycaid_jobs(&self, now: i64, max_attempts: i64, limit: i64) -> StoreResult<Vec<KycaidJobRow>>;
    /// Claims a job until `lease_until` (so two daemons don't run it twice); false if another
    /// daemon claimed it first.
    async fn claim_kycaid_job(&self, id: &str, seen_next_attempt_at: i64, lease_until: i64) -> StoreResult<bool>;
    async fn kycaid_job_done(&self, id: &str) -> StoreResult<()>;
    async fn kycaid_job_failed(&self, id: &str, next_attempt_at: i64, error: &str) -> StoreResult<()>;
    /// Jobs not done yet, given up ones included.
    async fn pending_kycaid_jobs(&self) -> StoreResult<i64>;
    /// The KYCAID applicant of profile `id`.
    async fn set_profile_applicant(&self, id: i64, applicant_id: &str, now: i64) -> StoreResult<()>;
    /// The applicant of the user's newest profile that has one (Barong: `profiles.last`).
    async fn applicant_of_user(&self, user_id: i64) -> StoreResult<Option<String>>;
    /// The user whose profile holds `applicant_id`.
    async fn user_of_applicant(&self, applicant_id: &str) -> StoreResult<Option<i64>>;
    /// Replaces a document's `metadata` (where the KYCAID `document_id`/`address_id` goes).
    async fn set_document_metadata(&self, id: i64, metadata: &str, now: i64) -> StoreResult<()>;
}

macro_rules! impl_kycaid_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::kycaid::KycaidStore for $store {
            async fn enqueue_kycaid_job(
                &self,
                id: &str,
                user_id: i64,
                kind: &str,
                payload_sealed: &str,
                now: i64,
            ) -> $crate::store::StoreResult<()> {
                sqlx::query::<$db>(
                    "INSERT INTO kycaid_jobs (id, user_id, kind, payload_sealed, attempts, next_attempt_at, created_at) \
                     VALUES ($1, $2, $3, $4, 0, $5, $5)",
                )
                .bind(id)
                .bind(user_id)
                .bind(kind)
                .bind(payload_sealed)
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn due_kycaid_jobs(
                &self,
                now: i64,
                max_attempts: i64,
                limit: i64,
            ) -> $crate::store::StoreResult<Vec<$crate::store::kycaid::KycaidJobRow>> {
                Ok(sqlx::query_as::<$db, $crate::store::kycaid::KycaidJobRow>(
                    "SELECT id, user_id, kind, payload_sealed, attempts, next_attempt_at FROM kycaid_jobs \
                     WHERE next_attempt_at <= $1 AND attempts < $2 ORDER BY created_at, id LIMIT $3",
                )
                .bind(now)
                .bind(max_attempts)
                .bind(limit)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn claim_kycaid_job(
                &self,
                id: &str,
                seen_next_attempt_at: i64,
                lease_until: i64,
            ) -> $crate::store::StoreResult<bool> {
                let r = sqlx::query::<$db>(
                    "UPDATE kycaid_jobs SET next_attempt_at = $1 WHERE id = $2 AND next_attempt_at = $3",
                )
                .bind(lease_until)
                .bind(id)
                .bind(seen_next_attempt_at)
                .execute(&self.pool)
                .await?;
                Ok(r.rows_affected() > 0)
            }

            async fn kycaid_job_done(&self, id: &str) -> $crate::store::StoreResult<()> {
                sqlx::query::<$db>("DELETE FROM kycaid_jobs WHERE id = $1").bind(id).execute(&self.pool).await?;
                Ok(())
            }

            async fn kycaid_job_failed(
                &self,
                id: &str,
                next_attempt_at: i64,
                error: &str,
            ) -> $crate::store::StoreResult<()> {
                sqlx::query::<$db>(
                    "UPDATE kycaid_jobs SET attempts = attempts + 1, next_attempt_at = $1, last_error = $2 WHERE id = $3",
                )
                .bind(next_attempt_at)
                .bind(error)
                .bind(id)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn pending_kycaid_jobs(&self) -> $crate::store::StoreResult<i64> {
                Ok(sqlx::query_scalar::<$db, i64>("SELECT COUNT(*) FROM kycaid_jobs").fetch_one(&self.pool).await?)
            }

            async fn set_profile_applicant(
                &self,
                id: i64,
                applicant_id: &str,
                now: i64,
            ) -> $crate::store::StoreResult<()> {
                sqlx::query::<$db>("UPDATE profiles SET applicant_id = $1, updated_at = $2 WHERE id = $3")
                    .bind(applicant_id)
                    .bind(now)
                    .bind(id)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }

            async fn applicant_of_user(&self, user_id: i64) -> $crate::store::StoreResult<Option<String>> {
                Ok(sqlx::query_scalar::<$db, String>(
                    "SELECT applicant_id FROM profiles WHERE user_id = $1 AND applicant_id IS NOT NULL \
                     ORDER BY id DESC LIMIT 1",
                )
                .bind(user_id)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn user_of_applicant(&self, applicant_id: &str) -> $crate::store::StoreResult<Option<i64>> {
                Ok(sqlx::query_scalar::<$db, i64>(
                    "SELECT user_id FROM profiles WHERE applicant_id = $1 ORDER BY id DESC LIMIT 1",
                )
                .bind(applicant_id)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn set_document_metadata(
                &self,
                id: i64,
                metadata: &str,
                now: i64,
            ) -> $crate::store::StoreResult<()> {
                sqlx::query::<$db>("UPDATE documents SET metadata = $1, updated_at = $2 WHERE id = $3")
                    .bind(metadata)
                    .bind(now)
                    .bind(id)
                    .execute(&self.pool)
                    .await?;
                Ok(())
            }
        }
    };
}
pub(crate) use impl_kycaid_store;

//! documents: KYC uploads (identity documents and address proofs). The document number arrives
//! sealed with its keyed lookup index; the file itself lives under `<data-dir>/uploads/`, named
//! in `upload`.

use async_trait::async_trait;

use super::StoreResult;
use super::labels::{LabelRow, LabelWrite};
use super::outbox::PendingEvent;

/// The column list of `DocumentRow`, as a macro so queries stay `&'static str`.
macro_rules! document_columns {
    () => {
        "id, user_id, upload, doc_type, doc_expire, doc_number_sealed, doc_number_index, doc_category, \
         identificator, metadata, created_at, updated_at"
    };
}
pub(crate) use document_columns;

#[derive(Clone, sqlx::FromRow)]
pub struct DocumentRow {
    pub id: i64,
    pub user_id: i64,
    /// The stored file's name (ours, `<32 hex>.<ext>`).
    pub upload: String,
    pub doc_type: Option<String>,
    /// `YYYY-MM-DD`.
    pub doc_expire: Option<String>,
    pub doc_number_sealed: Option<String>,
    pub doc_number_index: Option<String>,
    pub doc_category: Option<String>,
    pub identificator: Option<String>,
    /// JSON text.
    pub metadata: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl std::fmt::Debug for DocumentRow {
    // The document number stays out of logs, even sealed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DocumentRow")
            .field("id", &self.id)
            .field("user_id", &self.user_id)
            .field("doc_type", &self.doc_type)
            .finish_non_exhaustive()
    }
}

/// One row to insert. Only these columns are written: nothing a client sends can reach another
/// (Barong mass-assigned raw params: docs/barong-weaknesses-fixed.md#w-documents).
pub struct NewDocument<'a> {
    pub upload: &'a str,
    pub doc_type: &'a str,
    pub doc_expire: Option<&'a str>,
    pub doc_number_sealed: Option<&'a str>,
    pub doc_number_index: Option<&'a str>,
    pub doc_category: Option<&'a str>,
    pub identificator: &'a str,
    pub metadata: Option<&'a str>,
}

/// A batch of uploaded documents and what comes with it: the KYC label it moves, its events, and
/// the step that puts its files in place.
pub struct DocumentBatch<'a> {
    pub user_id: i64,
    pub rows: &'a [NewDocument<'a>],
    /// The most documents the user may have once the batch is in.
    pub limit: i64,
    pub now: i64,
    pub label: Option<&'a LabelWrite<'a>>,
    /// The batch's events, given the stored label (when there is one).
    pub events: &'a (dyn Fn(Option<&LabelRow>) -> Vec<PendingEvent> + Send + Sync),
    /// Runs last, inside the transaction, so rows are never committed before their files exist;
    /// an error rolls the batch back.
    pub before_commit: &'a (dyn Fn() -> std::io::Result<()> + Send + Sync),
}

#[async_trait]
pub trait DocumentStore {
    /// The user's documents, oldest first.
    async fn documents_of(&self, user_id: i64) -> StoreResult<Vec<DocumentRow>>;
    /// One document of the user, if it is theirs.
    async fn document_of(&self, user_id: i64, id: i64) -> StoreResult<Option<DocumentRow>>;
    /// One document, whoever owns it (an admin opening it).
    async fn document_by_id(&self, id: i64) -> StoreResult<Option<DocumentRow>>;
    async fn count_documents(&self, user_id: i64) -> StoreResult<i64>;
    /// Inserts every row in one transaction, unless the user would then have more than `limit`
    /// documents (then nothing is inserted and the answer is `false`). Concurrent uploads of one
    /// user are serialised on the user's row, so two batches cannot both squeeze under the limit.
    async fn insert_documents(
        &self,
        user_id: i64,
        rows: &[NewDocument<'_>],
        limit: i64,
        now: i64,
    ) -> StoreResult<bool> {
        let batch = DocumentBatch {
            user_id,
            rows,
            limit,
            now,
            label: None,
            events: &|_| Vec::new(),
            before_commit: &|| Ok(()),
        };
        self.insert_document_batch(&batch).await
    }
    /// [`Self::insert_documents`] with the batch's label and events in the same transaction,
    /// committed only once `before_commit` succeeded.
    async fn insert_document_batch(&self, batch: &DocumentBatch<'_>) -> StoreResult<bool>;
}

macro_rules! impl_document_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::documents::DocumentStore for $store {
            async fn documents_of(
                &self,
                user_id: i64,
            ) -> $crate::store::StoreResult<Vec<$crate::store::documents::DocumentRow>> {
                const SQL: &str = concat!(
                    "SELECT ",
                    $crate::store::documents::document_columns!(),
                    " FROM documents WHERE user_id = $1 ORDER BY id"
                );
                Ok(sqlx::query_as::<$db, $crate::store::documents::DocumentRow>(SQL)
                    .bind(user_id)
                    .fetch_all(&self.pool)
                    .await?)
            }

            async fn document_of(
                &self,
                user_id: i64,
                id: i64,
            ) -> $crate::store::StoreResult<Option<$crate::store::documents::DocumentRow>> {
                const SQL: &str = concat!(
                    "SELECT ",
                    $crate::store::documents::document_columns!(),
                    " FROM documents WHERE user_id = $1 AND id = $2"
                );
                Ok(sqlx::query_as::<$db, $crate::store::documents::DocumentRow>(SQL)
                    .bind(user_id)
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn document_by_id(
                &self,
                id: i64,
            ) -> $crate::store::StoreResult<Option<$crate::store::documents::DocumentRow>> {
                const SQL: &str =
                    concat!("SELECT ", $crate::store::documents::document_columns!(), " FROM documents WHERE id = $1");
                Ok(sqlx::query_as::<$db, $crate::store::documents::DocumentRow>(SQL)
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn count_documents(&self, user_id: i64) -> $crate::store::StoreResult<i64> {
                Ok(sqlx::query_scalar::<$db, i64>("SELECT COUNT(*) FROM documents WHERE user_id = $1")
                    .bind(user_id)
                    .fetch_one(&self.pool)
                    .await?)
            }

            async fn insert_document_batch(
                &self,
                b: &$crate::store::documents::DocumentBatch<'_>,
            ) -> $crate::store::StoreResult<bool> {
                let mut tx = self.pool.begin().await?;
                // A no-op write that takes the user's row lock (PostgreSQL) or the write lock
                // (SQLite) before counting, so the count stays true until commit.
                sqlx::query::<$db>("UPDATE users SET updated_at = updated_at WHERE id = $1")
                    .bind(b.user_id)
                    .execute(&mut *tx)
                    .await?;
                let count = sqlx::query_scalar::<$db, i64>("SELECT COUNT(*) FROM documents WHERE user_id = $1")
                    .bind(b.user_id)
                    .fetch_one(&mut *tx)
                    .await?;
                if count + b.rows.len() as i64 > b.limit {
                    return Ok(false);
                }
                for r in b.rows {
                    sqlx::query::<$db>(
                        "INSERT INTO documents (user_id, upload, doc_type, doc_expire, doc_number_sealed, \
                         doc_number_index, doc_category, identificator, metadata, created_at, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
                    )
                    .bind(b.user_id)
                    .bind(r.upload)
                    .bind(r.doc_type)
                    .bind(r.doc_expire)
                    .bind(r.doc_number_sealed)
                    .bind(r.doc_number_index)
                    .bind(r.doc_category)
                    .bind(r.identificator)
                    .bind(r.metadata)
                    .bind(b.now)
                    .execute(&mut *tx)
                    .await?;
                }
                let label = match b.label {
                    Some(w) => {
                        let conn = &mut *tx;
                        $crate::store::labels::write_label!($db, conn, w)
                    }
                    None => None,
                };
                let events = (b.events)(label.as_ref());
                $crate::store::outbox::insert_events!($db, tx, &events);
                (b.before_commit)().map_err($crate::store::StoreError::Files)?;
                tx.commit().await?;
                if !events.is_empty() {
                    self.outbox_wake.notify_one();
                }
                Ok(true)
            }
        }
    };
}
pub(crate) use impl_document_store;

//! The importer's tables (`import_jobs`, `import_rows`) and its writers: rows of Barong's tables
//! written with their Barong ids, each batch in one transaction with its id-map rows and the
//! job's checkpoint (spec migration-from-barong §2.2).

use async_trait::async_trait;

use super::StoreResult;

pub use super::import_tables::{TableSpec, Val, spec_of};

/// One import job as stored.
#[derive(Clone, sqlx::FromRow)]
pub struct ImportJobRow {
    pub id: i64,
    pub state: String,
    pub dry_run: bool,
    pub import_mode: bool,
    /// The options without secrets (JSON).
    pub options: String,
    /// The secret inputs, sealed with the master key; `None` once the job ended.
    pub inputs_sealed: Option<String>,
    pub skb_fingerprint: Option<String>,
    pub runs: i64,
    pub checkpoint: String,
    pub counters: String,
    pub report: String,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub finished_at: Option<i64>,
}

impl std::fmt::Debug for ImportJobRow {
    // The sealed inputs stay out of logs even sealed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImportJobRow").field("id", &self.id).field("state", &self.state).finish_non_exhaustive()
    }
}

/// A target row: its table and its values in the table's column order (the id first).
#[derive(Debug, Clone)]
pub struct TargetRow {
    pub spec: &'static TableSpec,
    pub values: Vec<Val>,
}

impl TargetRow {
    pub fn id(&self) -> i64 {
        match self.values.first() {
            Some(Val::Int(id)) => *id,
            _ => 0,
        }
    }
}

/// The id-map row written with a target row.
#[derive(Debug, Clone)]
pub struct MapRow {
    pub source_table: &'static str,
    pub source_id: i64,
    pub target_id: i64,
    pub digest: String,
}

/// The job's progress, saved with every batch.
#[derive(Debug, Clone)]
pub struct Checkpoint {
    pub job_id: i64,
    pub checkpoint: String,
    pub counters: String,
    pub now: i64,
}

/// Columns of `import_jobs` selected everywhere.
pub(crate) const JOB_COLUMNS: &str = "SELECT id, state, dry_run, import_mode, options, inputs_sealed, skb_fingerprint, runs, \
     checkpoint, counters, report, last_error, created_at, updated_at, finished_at FROM import_jobs";

#[async_trait]
pub trait ImportStore {
    async fn import_insert_job(&self, job: &ImportJobRow) -> StoreResult<i64>;
    /// Saves every mutable column of `job` (by id).
    async fn import_save_job(&self, job: &ImportJobRow) -> StoreResult<()>;
    async fn import_job(&self, id: i64) -> StoreResult<Option<ImportJobRow>>;
    /// The newest job, whatever its state.
    async fn import_latest_job(&self) -> StoreResult<Option<ImportJobRow>>;
    /// The newest job that can take another run (not finished, purged or a dry run).
    async fn import_open_job(&self) -> StoreResult<Option<ImportJobRow>>;
    /// Whether a job holds the import mode (the public API answers 503).
    async fn import_mode(&self) -> StoreResult<bool>;
    /// Digests of the mapped rows of `table` with source ids in `from..=to`.
    async fn import_digests(&self, table: &str, from: i64, to: i64) -> StoreResult<Vec<(i64, String)>>;
    /// Every mapped (source id, target id) of `table`.
    async fn import_mapped(&self, table: &str) -> StoreResult<Vec<(i64, i64)>>;
    /// Writes `rows` and their map rows and the checkpoint in one transaction.
    async fn import_write(
        &self,
        job_id: i64,
        run: i64,
        rows: &[(TargetRow, MapRow)],
        cp: &Checkpoint,
    ) -> StoreResult<()>;
    /// Deletes target rows `(source id, target id)` of `table` and their map rows.
    async fn import_delete(&self, table: &str, spec: &'static TableSpec, rows: &[(i64, i64)]) -> StoreResult<()>;
    /// Deletes the rows of `spec`'s table this import did not write (barong-rs's seeded levels,
    /// permissions and restrictions, which the import replaces).
    async fn import_clear_unmapped(&self, table: &str, spec: &'static TableSpec) -> StoreResult<u64>;
    /// How many rows of the user-bound tables were not written by the import.
    async fn import_foreign_rows(&self) -> StoreResult<i64>;
    /// Sets `users.referral_id` where it differs; returns how many changed.
    async fn import_set_referrals(&self, links: &[(i64, Option<i64>)]) -> StoreResult<u64>;
    /// Moves PostgreSQL identity sequences past the imported ids (SQLite needs nothing).
    async fn import_fix_sequences(&self) -> StoreResult<()>;
    /// Ids of existing rows of `spec`'s table among `ids` (orphan checks against the target).
    async fn import_existing_ids(&self, spec: &'static TableSpec, ids: &[i64]) -> StoreResult<Vec<i64>>;
    /// Deletes every row the job wrote and its map rows (`cancel --purge`).
    async fn import_purge(&self, job_id: i64) -> StoreResult<u64>;
}

macro_rules! bind_val {
    ($q:expr, $v:expr) => {
        match $v {
            $crate::store::import::Val::Int(i) => $q.bind(*i),
            $crate::store::import::Val::OptInt(i) => $q.bind(*i),
            $crate::store::import::Val::Text(s) => $q.bind(s.as_str()),
            $crate::store::import::Val::OptText(s) => $q.bind(s.as_deref()),
            $crate::store::import::Val::Bool(b) => $q.bind(*b),
        }
    };
}
pub(crate) use bind_val;

macro_rules! impl_import_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::import::ImportStore for $store {
            async fn import_insert_job(
                &self,
                j: &$crate::store::import::ImportJobRow,
            ) -> $crate::store::StoreResult<i64> {
                let (id,): (i64,) = sqlx::query_as::<$db, (i64,)>(
                    "INSERT INTO import_jobs (state, dry_run, import_mode, options, inputs_sealed, skb_fingerprint, \
                     runs, checkpoint, counters, report, last_error, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) RETURNING id",
                )
                .bind(&j.state)
                .bind(j.dry_run)
                .bind(j.import_mode)
                .bind(&j.options)
                .bind(&j.inputs_sealed)
                .bind(&j.skb_fingerprint)
                .bind(j.runs)
                .bind(&j.checkpoint)
                .bind(&j.counters)
                .bind(&j.report)
                .bind(&j.last_error)
                .bind(j.created_at)
                .fetch_one(&self.pool)
                .await?;
                Ok(id)
            }

            async fn import_save_job(&self, j: &$crate::store::import::ImportJobRow) -> $crate::store::StoreResult<()> {
                sqlx::query::<$db>(
                    "UPDATE import_jobs SET state = $1, import_mode = $2, options = $3, inputs_sealed = $4, \
                     skb_fingerprint = $5, runs = $6, checkpoint = $7, counters = $8, report = $9, last_error = $10, \
                     updated_at = $11, finished_at = $12 WHERE id = $13",
                )
                .bind(&j.state)
                .bind(j.import_mode)
                .bind(&j.options)
                .bind(&j.inputs_sealed)
                .bind(&j.skb_fingerprint)
                .bind(j.runs)
                .bind(&j.checkpoint)
                .bind(&j.counters)
                .bind(&j.report)
                .bind(&j.last_error)
                .bind(j.updated_at)
                .bind(j.finished_at)
                .bind(j.id)
                .execute(&self.pool)
                .await?;
                Ok(())
            }

            async fn import_job(
                &self,
                id: i64,
            ) -> $crate::store::StoreResult<Option<$crate::store::import::ImportJobRow>> {
                let sql = format!("{} WHERE id = $1", $crate::store::import::JOB_COLUMNS);
                Ok(sqlx::query_as::<$db, $crate::store::import::ImportJobRow>(sqlx::AssertSqlSafe(sql))
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn import_latest_job(
                &self,
            ) -> $crate::store::StoreResult<Option<$crate::store::import::ImportJobRow>> {
                let sql = format!("{} ORDER BY id DESC LIMIT 1", $crate::store::import::JOB_COLUMNS);
                Ok(sqlx::query_as::<$db, $crate::store::import::ImportJobRow>(sqlx::AssertSqlSafe(sql))
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn import_open_job(
                &self,
            ) -> $crate::store::StoreResult<Option<$crate::store::import::ImportJobRow>> {
                let sql = format!(
                    "{} WHERE dry_run = FALSE AND state NOT IN ('finished', 'purged') ORDER BY id DESC LIMIT 1",
                    $crate::store::import::JOB_COLUMNS
                );
                Ok(sqlx::query_as::<$db, $crate::store::import::ImportJobRow>(sqlx::AssertSqlSafe(sql))
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn import_mode(&self) -> $crate::store::StoreResult<bool> {
                let (n,): (i64,) =
                    sqlx::query_as::<$db, (i64,)>("SELECT COUNT(*) FROM import_jobs WHERE import_mode = TRUE")
                        .fetch_one(&self.pool)
                        .await?;
                Ok(n > 0)
            }

            async fn import_digests(
                &self,
                table: &str,
                from: i64,
                to: i64,
            ) -> $crate::store::StoreResult<Vec<(i64, String)>> {
                Ok(sqlx::query_as::<$db, (i64, String)>(
                    "SELECT source_id, digest FROM import_rows WHERE source_table = $1 AND source_id >= $2 \
                     AND source_id <= $3",
                )
                .bind(table)
                .bind(from)
                .bind(to)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn import_mapped(&self, table: &str) -> $crate::store::StoreResult<Vec<(i64, i64)>> {
                Ok(sqlx::query_as::<$db, (i64, i64)>(
                    "SELECT source_id, target_id FROM import_rows WHERE source_table = $1 ORDER BY source_id",
                )
                .bind(table)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn import_write(
                &self,
                job_id: i64,
                run: i64,
                rows: &[($crate::store::import::TargetRow, $crate::store::import::MapRow)],
                cp: &$crate::store::import::Checkpoint,
            ) -> $crate::store::StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                for (row, map) in rows {
                    let sql = row.spec.upsert_sql();
                    let mut q = sqlx::query::<$db>(sqlx::AssertSqlSafe(sql));
                    for v in &row.values {
                        q = $crate::store::import::bind_val!(q, v);
                    }
                    q.execute(&mut *tx).await?;
                    sqlx::query::<$db>(
                        "INSERT INTO import_rows (job_id, source_table, source_id, target_id, digest, run) \
                         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (source_table, source_id) DO UPDATE SET \
                         job_id = excluded.job_id, target_id = excluded.target_id, digest = excluded.digest, \
                         run = excluded.run",
                    )
                    .bind(job_id)
                    .bind(map.source_table)
                    .bind(map.source_id)
                    .bind(map.target_id)
                    .bind(&map.digest)
                    .bind(run)
                    .execute(&mut *tx)
                    .await?;
                }
                sqlx::query::<$db>("UPDATE import_jobs SET checkpoint = $1, counters = $2, updated_at = $3 WHERE id = $4")
                    .bind(&cp.checkpoint)
                    .bind(&cp.counters)
                    .bind(cp.now)
                    .bind(cp.job_id)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn import_delete(
                &self,
                table: &str,
                spec: &'static $crate::store::import::TableSpec,
                rows: &[(i64, i64)],
            ) -> $crate::store::StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                let sql = format!("DELETE FROM {} WHERE id = $1", spec.table);
                for (source_id, target_id) in rows {
                    sqlx::query::<$db>(sqlx::AssertSqlSafe(sql.clone())).bind(target_id).execute(&mut *tx).await?;
                    sqlx::query::<$db>("DELETE FROM import_rows WHERE source_table = $1 AND source_id = $2")
                        .bind(table)
                        .bind(source_id)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn import_clear_unmapped(
                &self,
                table: &str,
                spec: &'static $crate::store::import::TableSpec,
            ) -> $crate::store::StoreResult<u64> {
                let sql = format!(
                    "DELETE FROM {} WHERE id NOT IN (SELECT target_id FROM import_rows WHERE source_table = $1)",
                    spec.table
                );
                let r = sqlx::query::<$db>(sqlx::AssertSqlSafe(sql)).bind(table).execute(&self.pool).await?;
                Ok(r.rows_affected())
            }

            async fn import_foreign_rows(&self) -> $crate::store::StoreResult<i64> {
                let mut total = 0;
                for (table, source) in $crate::store::import_tables::USER_BOUND {
                    let sql = format!(
                        "SELECT COUNT(*) FROM {table} WHERE id NOT IN \
                         (SELECT target_id FROM import_rows WHERE source_table = $1)"
                    );
                    let (n,): (i64,) = sqlx::query_as::<$db, (i64,)>(sqlx::AssertSqlSafe(sql))
                        .bind(source)
                        .fetch_one(&self.pool)
                        .await?;
                    total += n;
                }
                Ok(total)
            }

            async fn import_set_referrals(&self, links: &[(i64, Option<i64>)]) -> $crate::store::StoreResult<u64> {
                let mut tx = self.pool.begin().await?;
                let mut changed = 0;
                for (user, referral) in links {
                    let r = sqlx::query::<$db>(
                        "UPDATE users SET referral_id = $1 WHERE id = $2 AND \
                         ((referral_id IS NULL AND $1 IS NOT NULL) OR (referral_id IS NOT NULL AND $1 IS NULL) \
                         OR referral_id <> $1)",
                    )
                    .bind(referral)
                    .bind(user)
                    .execute(&mut *tx)
                    .await?;
                    changed += r.rows_affected();
                }
                tx.commit().await?;
                Ok(changed)
            }

            async fn import_fix_sequences(&self) -> $crate::store::StoreResult<()> {
                if <Self as $crate::store::Store>::backend(self) != "postgres" {
                    return Ok(());
                }
                for spec in $crate::store::import_tables::ALL {
                    let sql = format!(
                        "SELECT setval(pg_get_serial_sequence('{t}', 'id'), (SELECT COALESCE(MAX(id), 0) + 1 FROM {t}), false)",
                        t = spec.table
                    );
                    if spec.identity {
                        sqlx::query::<$db>(sqlx::AssertSqlSafe(sql)).execute(&self.pool).await?;
                    }
                }
                Ok(())
            }

            async fn import_existing_ids(
                &self,
                spec: &'static $crate::store::import::TableSpec,
                ids: &[i64],
            ) -> $crate::store::StoreResult<Vec<i64>> {
                let mut found = Vec::new();
                let sql = format!("SELECT id FROM {} WHERE id = $1", spec.table);
                for id in ids {
                    let row: Option<(i64,)> = sqlx::query_as::<$db, (i64,)>(sqlx::AssertSqlSafe(sql.clone()))
                        .bind(id)
                        .fetch_optional(&self.pool)
                        .await?;
                    if let Some((id,)) = row {
                        found.push(id);
                    }
                }
                Ok(found)
            }

            async fn import_purge(&self, job_id: i64) -> $crate::store::StoreResult<u64> {
                let mut tx = self.pool.begin().await?;
                let mut removed = 0;
                // Children before parents: users go last (their rows cascade anyway).
                for spec in $crate::store::import_tables::ALL.iter().rev() {
                    let sql = format!(
                        "DELETE FROM {} WHERE id IN (SELECT target_id FROM import_rows WHERE job_id = $1 \
                         AND source_table = $2)",
                        spec.table
                    );
                    if spec.table == "users" {
                        sqlx::query::<$db>(
                            "UPDATE users SET referral_id = NULL WHERE id IN \
                             (SELECT target_id FROM import_rows WHERE job_id = $1 AND source_table = 'users')",
                        )
                        .bind(job_id)
                        .execute(&mut *tx)
                        .await?;
                    }
                    let r = sqlx::query::<$db>(sqlx::AssertSqlSafe(sql))
                        .bind(job_id)
                        .bind(spec.source)
                        .execute(&mut *tx)
                        .await?;
                    removed += r.rows_affected();
                }
                sqlx::query::<$db>("DELETE FROM import_rows WHERE job_id = $1").bind(job_id).execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(removed)
            }
        }
    };
}
pub(crate) use impl_import_store;

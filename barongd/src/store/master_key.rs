//! Master-key rotation (issue 12): every column sealed under the master key, read in batches by
//! key order and written back re-sealed, with the rotation's progress committed in the same
//! transaction as each batch so a killed daemon resumes where the last commit left it.

use async_trait::async_trait;

use super::StoreResult;

/// A blind index kept next to a sealed column and recomputed from its plaintext.
pub struct IndexSpec {
    pub column: &'static str,
    /// The HMAC domain the services index this value under.
    pub domain: &'static str,
    /// The plaintext is JSON and the index covers this string field of it.
    pub json_field: Option<&'static str>,
}

pub struct SealedColumn {
    pub name: &'static str,
    pub index: Option<IndexSpec>,
}

pub struct SealedTable {
    pub name: &'static str,
    /// The primary key; `kid`, `handle` and the ids in `TEXT_ID_TABLES` are text, other ids integers.
    pub key: &'static str,
    pub columns: &'static [SealedColumn],
}

/// Tables whose `id` is text (PostgreSQL will not compare it with an integer cursor).
const TEXT_ID_TABLES: &[&str] = &["kycaid_jobs"];

impl SealedTable {
    pub(crate) fn text_key(&self) -> bool {
        self.key != "id" || TEXT_ID_TABLES.contains(&self.name)
    }

    pub(crate) fn select_sql(&self) -> String {
        // Each sealed column, then its index column (or NULL), so row values come in pairs.
        let cols: Vec<String> = self
            .columns
            .iter()
            .map(|c| format!("{}, {}", c.name, c.index.as_ref().map_or("NULL", |i| i.column)))
            .collect();
        format!(
            "SELECT {key}, {cols} FROM {t} WHERE {key} > $1 ORDER BY {key} LIMIT $2",
            key = self.key,
            cols = cols.join(", "),
            t = self.name
        )
    }

    /// Compare-and-set: a request that rewrote the value meanwhile sealed it under the new key
    /// already, and its write must win over the batch's copy of the old one.
    pub(crate) fn update_sql(&self, column: &SealedColumn) -> String {
        let index = column.index.as_ref().map(|i| format!(", {} = $4", i.column)).unwrap_or_default();
        format!(
            "UPDATE {t} SET {c} = $1{index} WHERE {k} = $2 AND {c} = $3",
            t = self.name,
            c = column.name,
            k = self.key
        )
    }
}

const fn plain(name: &'static str) -> SealedColumn {
    SealedColumn { name, index: None }
}

/// Every sealed column, in the order a rotation visits them. A new sealed column must be added
/// here, or a rotation would leave it under the old key.
pub const SEALED_TABLES: &[SealedTable] = &[
    SealedTable { name: "users", key: "id", columns: &[plain("otp_secret_sealed")] },
    SealedTable {
        name: "profiles",
        key: "id",
        columns: &[plain("first_name_sealed"), plain("last_name_sealed"), plain("dob_sealed"), plain("address_sealed")],
    },
    SealedTable {
        name: "phones",
        key: "id",
        columns: &[
            SealedColumn {
                name: "number_sealed",
                index: Some(IndexSpec { column: "number_index", domain: "phone", json_field: None }),
            },
            plain("code"),
        ],
    },
    SealedTable {
        name: "documents",
        key: "id",
        columns: &[SealedColumn {
            name: "doc_number_sealed",
            index: Some(IndexSpec { column: "doc_number_index", domain: "document", json_field: None }),
        }],
    },
    SealedTable { name: "api_keys", key: "id", columns: &[plain("secret_sealed")] },
    SealedTable { name: "webauthn_credentials", key: "id", columns: &[plain("credential_sealed")] },
    SealedTable { name: "webauthn_challenges", key: "handle", columns: &[plain("state_sealed")] },
    SealedTable { name: "signing_keys", key: "kid", columns: &[plain("private_sealed")] },
    SealedTable { name: "event_outbox", key: "id", columns: &[plain("record_sealed")] },
    SealedTable { name: "kycaid_jobs", key: "id", columns: &[plain("payload_sealed")] },
    SealedTable {
        name: "import_jobs",
        key: "id",
        columns: &[SealedColumn {
            name: "inputs_sealed",
            index: Some(IndexSpec {
                column: "skb_fingerprint",
                domain: "import secret_key_base",
                json_field: Some("secret_key_base"),
            }),
        }],
    },
];

/// One row of a batch: its key as text and, in `columns` order, each sealed value with its
/// stored blind index (`None` for columns without one).
#[derive(Debug, Clone)]
pub struct SealedRow {
    pub key: String,
    pub values: Vec<(Option<String>, Option<String>)>,
}

/// A value to write back: `column` of the row `key`, `old` → `new` (and its index).
#[derive(Debug, Clone)]
pub struct Reseal {
    pub key: String,
    pub column: usize,
    pub old: String,
    pub new: String,
    pub index: Option<String>,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct RotationRow {
    pub id: i64,
    pub old_key_id: String,
    pub new_key_id: String,
    pub table_name: String,
    pub last_key: String,
    pub resealed: i64,
    pub started_at: i64,
    pub finished_at: Option<i64>,
}

#[async_trait]
pub trait MasterKeyStore {
    async fn latest_rotation(&self) -> StoreResult<Option<RotationRow>>;
    async fn start_rotation(&self, old_key_id: &str, new_key_id: &str, now: i64) -> StoreResult<RotationRow>;
    /// Up to `limit` rows of `table` after `after` (`""`: from the start).
    async fn sealed_batch(&self, table: &SealedTable, after: &str, limit: i64) -> StoreResult<Vec<SealedRow>>;
    /// Writes `reseals` and moves the rotation to (`table_name`, `last_key`), in one transaction.
    async fn write_batch(
        &self,
        rotation_id: i64,
        table: &SealedTable,
        reseals: &[Reseal],
        table_name: &str,
        last_key: &str,
    ) -> StoreResult<()>;
    /// Marks the rotation finished and moves the recorded master-key fingerprint to its new key.
    async fn finish_rotation(&self, rotation_id: i64, now: i64) -> StoreResult<()>;
    /// Rows in all sealed tables, the denominator of the progress shown.
    async fn sealed_rows(&self) -> StoreResult<i64>;
}

/// Parses an integer key cursor (`""` is before every id).
pub fn int_key(key: &str) -> i64 {
    key.parse().unwrap_or(0)
}

macro_rules! impl_master_key_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::master_key::MasterKeyStore for $store {
            async fn latest_rotation(
                &self,
            ) -> $crate::store::StoreResult<Option<$crate::store::master_key::RotationRow>> {
                Ok(sqlx::query_as::<$db, $crate::store::master_key::RotationRow>(
                    "SELECT id, old_key_id, new_key_id, table_name, last_key, resealed, started_at, finished_at \
                     FROM master_key_rotations ORDER BY id DESC LIMIT 1",
                )
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn start_rotation(
                &self,
                old_key_id: &str,
                new_key_id: &str,
                now: i64,
            ) -> $crate::store::StoreResult<$crate::store::master_key::RotationRow> {
                let first = $crate::store::master_key::SEALED_TABLES[0].name;
                Ok(sqlx::query_as::<$db, $crate::store::master_key::RotationRow>(
                    "INSERT INTO master_key_rotations (old_key_id, new_key_id, table_name, last_key, resealed, \
                     started_at) VALUES ($1, $2, $3, '', 0, $4) RETURNING id, old_key_id, new_key_id, table_name, \
                     last_key, resealed, started_at, finished_at",
                )
                .bind(old_key_id)
                .bind(new_key_id)
                .bind(first)
                .bind(now)
                .fetch_one(&self.pool)
                .await?)
            }

            async fn sealed_batch(
                &self,
                table: &$crate::store::master_key::SealedTable,
                after: &str,
                limit: i64,
            ) -> $crate::store::StoreResult<Vec<$crate::store::master_key::SealedRow>> {
                use sqlx::Row;
                let sql = table.select_sql();
                let q = sqlx::query::<$db>(sqlx::AssertSqlSafe(sql));
                let q = if table.text_key() {
                    q.bind(after.to_string())
                } else {
                    q.bind($crate::store::master_key::int_key(after))
                };
                let rows = q.bind(limit).fetch_all(&self.pool).await?;
                let mut out = Vec::with_capacity(rows.len());
                for r in rows {
                    let key = if table.text_key() { r.try_get::<String, _>(0)? } else { r.try_get::<i64, _>(0)?.to_string() };
                    let mut values = Vec::with_capacity(table.columns.len());
                    for (i, c) in table.columns.iter().enumerate() {
                        let index = if c.index.is_some() { r.try_get::<Option<String>, _>(2 * i + 2)? } else { None };
                        values.push((r.try_get::<Option<String>, _>(2 * i + 1)?, index));
                    }
                    out.push($crate::store::master_key::SealedRow { key, values });
                }
                Ok(out)
            }

            async fn write_batch(
                &self,
                rotation_id: i64,
                table: &$crate::store::master_key::SealedTable,
                reseals: &[$crate::store::master_key::Reseal],
                table_name: &str,
                last_key: &str,
            ) -> $crate::store::StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                let mut written: i64 = 0;
                for r in reseals {
                    let sql = table.update_sql(&table.columns[r.column]);
                    let q = sqlx::query::<$db>(sqlx::AssertSqlSafe(sql)).bind(&r.new);
                    let q = if table.text_key() {
                        q.bind(r.key.clone())
                    } else {
                        q.bind($crate::store::master_key::int_key(&r.key))
                    };
                    let q = q.bind(&r.old);
                    let q = if table.columns[r.column].index.is_some() { q.bind(r.index.clone()) } else { q };
                    written += q.execute(&mut *tx).await?.rows_affected() as i64;
                }
                sqlx::query::<$db>(
                    "UPDATE master_key_rotations SET table_name = $1, last_key = $2, resealed = resealed + $3 \
                     WHERE id = $4",
                )
                .bind(table_name)
                .bind(last_key)
                .bind(written)
                .bind(rotation_id)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn finish_rotation(&self, rotation_id: i64, now: i64) -> $crate::store::StoreResult<()> {
                let mut tx = self.pool.begin().await?;
                sqlx::query::<$db>("UPDATE master_key_rotations SET finished_at = $1 WHERE id = $2")
                    .bind(now)
                    .bind(rotation_id)
                    .execute(&mut *tx)
                    .await?;
                // From this commit on the database is sealed under the new key alone (issue 14).
                sqlx::query::<$db>(
                    "UPDATE master_key_fingerprint SET key_id = (SELECT new_key_id FROM master_key_rotations \
                     WHERE id = $1), recorded_at = $2 WHERE id = 1",
                )
                .bind(rotation_id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn sealed_rows(&self) -> $crate::store::StoreResult<i64> {
                let mut total = 0;
                for t in $crate::store::master_key::SEALED_TABLES {
                    let sql = format!("SELECT COUNT(*) FROM {}", t.name);
                    let (n,): (i64,) =
                        sqlx::query_as::<$db, (i64,)>(sqlx::AssertSqlSafe(sql)).fetch_one(&self.pool).await?;
                    total += n;
                }
                Ok(total)
            }
        }
    };
}
pub(crate) use impl_master_key_store;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn updates_are_compare_and_set_and_carry_the_index() {
        let phones = SEALED_TABLES.iter().find(|t| t.name == "phones").expect("phones");
        assert_eq!(
            phones.update_sql(&phones.columns[0]),
            "UPDATE phones SET number_sealed = $1, number_index = $4 WHERE id = $2 AND number_sealed = $3"
        );
        assert_eq!(phones.update_sql(&phones.columns[1]), "UPDATE phones SET code = $1 WHERE id = $2 AND code = $3");
        let keys = SEALED_TABLES.iter().find(|t| t.name == "signing_keys").expect("signing_keys");
        assert!(keys.text_key());
        assert_eq!(
            keys.select_sql(),
            "SELECT kid, private_sealed, NULL FROM signing_keys WHERE kid > $1 ORDER BY kid LIMIT $2"
        );
    }

    #[test]
    fn every_sealed_column_of_the_schema_is_listed() {
        let listed: Vec<String> = SEALED_TABLES
            .iter()
            .flat_map(|t| t.columns.iter().map(move |c| format!("{}.{}", t.name, c.name)))
            .collect();
        let mut schema = Vec::new();
        for m in super::super::migrate::MIGRATIONS {
            let mut table = "";
            for line in m.sqlite.lines() {
                let line = line.trim();
                if let Some(rest) = line.strip_prefix("CREATE TABLE ") {
                    table = rest.split_whitespace().next().unwrap_or("");
                } else if let Some(col) = line.split_whitespace().next().filter(|c| c.ends_with("_sealed")) {
                    schema.push(format!("{table}.{col}"));
                }
            }
        }
        for column in &schema {
            assert!(listed.contains(column), "{column} is sealed but not re-sealed by a rotation");
        }
    }
}

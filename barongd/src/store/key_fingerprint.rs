//! The master key's fingerprint (issue 14): which key this database's sealed values open with,
//! recorded once and compared at every start, so a daemon given another key (a second daemon with
//! its own generated key file, a backup restored without its key) stops with that said plainly
//! instead of failing later on the first value it cannot open.

use async_trait::async_trait;

use super::StoreResult;

#[async_trait]
pub trait KeyFingerprintStore {
    /// The id of the key the database is sealed under, once recorded.
    async fn master_key_fingerprint(&self) -> StoreResult<Option<String>>;
    /// Records `key_id` unless an id is recorded already (another daemon may have won the race);
    /// returns the id recorded now.
    async fn record_master_key_fingerprint(&self, key_id: &str, now: i64) -> StoreResult<String>;
    /// One stored sealed value, named `table.column`, to try a key on; `None` when the database
    /// holds no sealed value at all.
    async fn any_sealed_value(&self) -> StoreResult<Option<(String, String)>>;
}

macro_rules! impl_key_fingerprint_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::key_fingerprint::KeyFingerprintStore for $store {
            async fn master_key_fingerprint(&self) -> $crate::store::StoreResult<Option<String>> {
                Ok(sqlx::query_scalar::<$db, String>("SELECT key_id FROM master_key_fingerprint WHERE id = 1")
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn record_master_key_fingerprint(
                &self,
                key_id: &str,
                now: i64,
            ) -> $crate::store::StoreResult<String> {
                // One statement: two daemons starting at once on a fresh database record one id.
                sqlx::query::<$db>(
                    "INSERT INTO master_key_fingerprint (id, key_id, recorded_at) VALUES (1, $1, $2) \
                     ON CONFLICT (id) DO NOTHING",
                )
                .bind(key_id)
                .bind(now)
                .execute(&self.pool)
                .await?;
                Ok(sqlx::query_scalar::<$db, String>("SELECT key_id FROM master_key_fingerprint WHERE id = 1")
                    .fetch_one(&self.pool)
                    .await?)
            }

            async fn any_sealed_value(&self) -> $crate::store::StoreResult<Option<(String, String)>> {
                for table in $crate::store::master_key::SEALED_TABLES {
                    for column in table.columns {
                        // '' is an API key imported without its secret (migration 0012).
                        let sql = format!(
                            "SELECT {c} FROM {t} WHERE {c} IS NOT NULL AND {c} <> '' LIMIT 1",
                            c = column.name,
                            t = table.name
                        );
                        let found = sqlx::query_scalar::<$db, String>(sqlx::AssertSqlSafe(sql))
                            .fetch_optional(&self.pool)
                            .await?;
                        if let Some(value) = found {
                            return Ok(Some((format!("{}.{}", table.name, column.name), value)));
                        }
                    }
                }
                Ok(None)
            }
        }
    };
}
pub(crate) use impl_key_fingerprint_store;

//! Forward-only, versioned migrations embedded in the binary. Each runs in its own transaction;
//! a database whose schema is newer than this build is refused rather than guessed at.

use async_trait::async_trait;

use super::StoreResult;

pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sqlite: &'static str,
    pub postgres: &'static str,
}

macro_rules! migration {
    ($version:expr, $file:literal) => {
        Migration {
            version: $version,
            name: $file,
            sqlite: include_str!(concat!("../../../migrations/sqlite/", $file)),
            postgres: include_str!(concat!("../../../migrations/postgres/", $file)),
        }
    };
}

/// Every migration, in order. File names are identical in `migrations/sqlite` and `migrations/postgres`.
pub const MIGRATIONS: &[Migration] = &[
    migration!(1, "0001_initial.sql"),
    migration!(2, "0002_api_keys.sql"),
    migration!(3, "0003_account.sql"),
    migration!(4, "0004_authz.sql"),
    migration!(5, "0005_phones.sql"),
    migration!(6, "0006_profiles.sql"),
    migration!(7, "0007_events.sql"),
    migration!(8, "0008_one_active_signing_key.sql"),
    migration!(9, "0009_throttle_windows.sql"),
    migration!(10, "0010_management_jti.sql"),
    migration!(11, "0011_user_list_indexes.sql"),
    migration!(12, "0012_api_key_secret_unavailable.sql"),
    migration!(13, "0013_import.sql"),
    migration!(14, "0014_master_key_rotation.sql"),
    migration!(15, "0015_user_info_changes.sql"),
    migration!(16, "0016_nonce_partitions.sql"),
    migration!(17, "0017_signing_key_takeover.sql"),
    migration!(18, "0018_master_key_fingerprint.sql"),
    migration!(19, "0019_kyc_reviews.sql"),
    migration!(21, "0021_webauthn.sql"),
];

#[derive(Debug, Clone, PartialEq)]
pub struct MigrationState {
    pub version: i64,
    pub name: String,
    pub applied_at: Option<i64>,
}

#[async_trait]
pub trait Migrator {
    /// Applies pending migrations; returns how many ran.
    async fn migrate(&self, now: i64) -> StoreResult<usize>;
    /// Known migrations and whether each is applied.
    async fn migration_status(&self) -> StoreResult<Vec<MigrationState>>;
}

pub(crate) const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (\
    version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)";

macro_rules! impl_migrator {
    ($store:ty, $db:ty, $flavour:tt) => {
        #[async_trait::async_trait]
        impl $crate::store::migrate::Migrator for $store {
            async fn migrate(&self, now: i64) -> $crate::store::StoreResult<usize> {
                use $crate::store::StoreError;
                use $crate::store::migrate::{CREATE_TABLE, MIGRATIONS};
                let mut conn = self.pool.acquire().await?;
                $crate::store::migrate::refuse_barongs_schema!(conn, $db, $flavour);
                // Under the lock too: two daemons creating the table at once on a fresh PostgreSQL
                // database would collide in the catalog (a unique violation on pg_type).
                let mut tx = sqlx::Connection::begin(&mut *conn).await?;
                $crate::store::migrate::lock!(tx, $flavour);
                sqlx::raw_sql(CREATE_TABLE).execute(&mut *tx).await?;
                tx.commit().await?;
                let mut ran = 0;
                for m in MIGRATIONS {
                    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
                    $crate::store::migrate::lock!(tx, $flavour);
                    let done: Option<(i64,)> =
                        sqlx::query_as::<$db, (i64,)>("SELECT version FROM schema_migrations WHERE version = $1")
                            .bind(m.version)
                            .fetch_optional(&mut *tx)
                            .await?;
                    if done.is_none() {
                        let sql = $crate::store::migrate::pick!(m, $flavour);
                        sqlx::raw_sql(sql)
                            .execute(&mut *tx)
                            .await
                            .map_err(|e| StoreError::Migration(format!("{} failed: {e}", m.name)))?;
                        sqlx::query::<$db>(
                            "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                        )
                        .bind(m.version)
                        .bind(m.name)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                        ran += 1;
                    }
                    tx.commit().await?;
                }
                let newest: (Option<i64>,) =
                    sqlx::query_as::<$db, (Option<i64>,)>("SELECT MAX(version) FROM schema_migrations")
                        .fetch_one(&mut *conn)
                        .await?;
                let known = MIGRATIONS.last().map(|m| m.version).unwrap_or(0);
                if newest.0.unwrap_or(0) > known {
                    return Err(StoreError::Migration(format!(
                        "database schema version {} is newer than this barongd ({known}); upgrade barongd",
                        newest.0.unwrap_or(0)
                    )));
                }
                Ok(ran)
            }

            async fn migration_status(&self) -> $crate::store::StoreResult<Vec<$crate::store::MigrationState>> {
                use $crate::store::migrate::{CREATE_TABLE, MIGRATIONS};
                sqlx::raw_sql(CREATE_TABLE).execute(&self.pool).await?;
                let rows: Vec<(i64, i64)> =
                    sqlx::query_as::<$db, (i64, i64)>("SELECT version, applied_at FROM schema_migrations")
                        .fetch_all(&self.pool)
                        .await?;
                Ok(MIGRATIONS
                    .iter()
                    .map(|m| $crate::store::MigrationState {
                        version: m.version,
                        name: m.name.to_string(),
                        applied_at: rows.iter().find(|r| r.0 == m.version).map(|r| r.1),
                    })
                    .collect())
            }
        }
    };
}
pub(crate) use impl_migrator;

/// Rails' `schema_migrations` (one text column of 14-digit versions such as 20210407094208)
/// means this is Barong's own database: refused, so barong-rs never migrates it in place.
macro_rules! refuse_barongs_schema {
    ($conn:ident, $db:ty, $flavour:tt) => {
        let columns: Vec<(String,)> = sqlx::query_as::<$db, (String,)>($crate::store::migrate::columns_sql!($flavour))
            .fetch_all(&mut *$conn)
            .await?;
        if !columns.is_empty() && !columns.iter().any(|c| c.0 == "applied_at") {
            let versions: Vec<(String,)> =
                sqlx::query_as::<$db, (String,)>("SELECT CAST(version AS TEXT) FROM schema_migrations")
                    .fetch_all(&mut *$conn)
                    .await?;
            let rails = versions.iter().any(|v| v.0.len() == 14 && v.0.bytes().all(|b| b.is_ascii_digit()));
            return Err($crate::store::StoreError::Migration(if rails {
                $crate::store::migrate::BARONG_SCHEMA.to_string()
            } else {
                "schema_migrations is not barong-rs's table; use an empty database".to_string()
            }));
        }
    };
}
pub(crate) use refuse_barongs_schema;

/// The refusal of a database that holds Barong's schema.
pub const BARONG_SCHEMA: &str = "this database holds Barong's own schema (Rails schema_migrations): barong-rs does \
    not run on Barong's database. Point DATABASE_URL at a new SQLite or PostgreSQL database and copy Barong's data \
    with: barongctl import barong --from-env";

macro_rules! columns_sql {
    ("postgres") => {
        "SELECT CAST(column_name AS TEXT) FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name = 'schema_migrations'"
    };
    ("sqlite") => {
        "SELECT name FROM pragma_table_info('schema_migrations')"
    };
}
pub(crate) use columns_sql;

/// Serialises concurrent migrators: several daemons may start at once against one PostgreSQL.
macro_rules! lock {
    ($tx:ident, "postgres") => {
        sqlx::raw_sql("SELECT pg_advisory_xact_lock(727274)").execute(&mut *$tx).await?;
    };
    ($tx:ident, "sqlite") => {};
}
pub(crate) use lock;

macro_rules! pick {
    ($m:ident, "postgres") => {
        $m.postgres
    };
    ($m:ident, "sqlite") => {
        $m.sqlite
    };
}
pub(crate) use pick;

#[cfg(test)]
mod tests {
    use super::MIGRATIONS;

    fn names(dir: &str) -> Vec<String> {
        let path = format!("{}/../migrations/{dir}", env!("CARGO_MANIFEST_DIR"));
        let mut v: Vec<String> = std::fs::read_dir(path)
            .expect("migrations dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn both_backends_have_the_same_migration_files_and_all_are_embedded() {
        let sqlite = names("sqlite");
        assert_eq!(sqlite, names("postgres"));
        let embedded: Vec<String> = MIGRATIONS.iter().map(|m| m.name.to_string()).collect();
        assert_eq!(sqlite, embedded);
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version, i as i64 + 1);
            assert!(m.name.starts_with(&format!("{:04}_", m.version)));
        }
    }
}

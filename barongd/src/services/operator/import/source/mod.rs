//! Reading Barong's MySQL database (spec §2.3): one connection per run, `utf8mb4`, one
//! consistent read-only snapshot for the whole run, snapshot marks, keyset batches.

pub mod preflight;
pub mod rows;

use std::collections::BTreeMap;
use std::str::FromStr;

use serde::Serialize;
use sqlx::Connection;
use sqlx::mysql::{MySqlConnectOptions, MySqlConnection};

pub use rows::SourceRow;

/// The Barong tables a run reads, in import order (§2.4).
pub const TABLES: [&str; 13] = [
    "levels",
    "permissions",
    "restrictions",
    "users",
    "service_accounts",
    "labels",
    "profiles",
    "phones",
    "documents",
    "data_storages",
    "comments",
    "apikeys",
    "activities",
];

/// What a table looked like at the snapshot; `finish` compares them with a fresh read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct Mark {
    pub count: i64,
    pub max_id: i64,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub max_updated_at: Option<i64>,
}

/// An open source: the connection holding the run's snapshot.
pub struct Source {
    conn: MySqlConnection,
    pub server: String,
}

/// Why a source could not be opened or read. Messages name host and user, never a password.
pub fn unreachable(e: impl std::fmt::Display) -> String {
    format!("import.source_unreachable: {e}")
}

impl Source {
    /// Connects to `url` (`mysql://user@host:port/db`), with `password` when the URL has none.
    pub async fn open(url: &str, password: Option<&str>) -> Result<Source, String> {
        if !url.starts_with("mysql://") && !url.starts_with("mariadb://") {
            return Err(unreachable("only mysql:// sources are supported by this build"));
        }
        let url = url.replacen("mariadb://", "mysql://", 1);
        let mut opts = MySqlConnectOptions::from_str(&url).map_err(|e| unreachable(format!("bad source URL: {e}")))?;
        if let Some(p) = password {
            opts = opts.password(p);
        }
        // utf8mb4 reads Barong's utf8mb3 columns unchanged (a superset).
        opts = opts.charset("utf8mb4");
        let mut conn = MySqlConnection::connect_with(&opts).await.map_err(|e| unreachable(redact(&e)))?;
        let (server,): (String,) =
            sqlx::query_as("SELECT VERSION()").fetch_one(&mut conn).await.map_err(|e| unreachable(redact(&e)))?;
        Ok(Source { conn, server })
    }

    /// Starts the run's snapshot: every later read sees the database as it was now.
    pub async fn begin_snapshot(&mut self) -> Result<(), String> {
        sqlx::raw_sql(
            "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ; \
             START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY",
        )
        .execute(&mut self.conn)
        .await
        .map_err(|e| unreachable(redact(&e)))?;
        Ok(())
    }

    /// Counts, `MAX(id)` and `MAX(updated_at)` of every table, read inside the snapshot.
    pub async fn marks(&mut self) -> Result<BTreeMap<String, Mark>, String> {
        let mut marks = BTreeMap::new();
        for table in TABLES {
            let updated = if table == "activities" {
                "NULL"
            } else {
                "CAST(TIMESTAMPDIFF(SECOND, '1970-01-01 00:00:00', MAX(updated_at)) AS SIGNED)"
            };
            let sql = format!("SELECT COUNT(*), CAST(COALESCE(MAX(id), 0) AS SIGNED), {updated} FROM {table}");
            let (count, max_id, max_updated_at): (i64, i64, Option<i64>) = sqlx::query_as(sqlx::AssertSqlSafe(sql))
                .fetch_one(&mut self.conn)
                .await
                .map_err(|e| format!("reading {table}: {}", redact(&e)))?;
            marks.insert(table.to_string(), Mark { count, max_id, max_updated_at });
        }
        Ok(marks)
    }

    /// The binary-log position, when the account may read it.
    pub async fn binlog(&mut self) -> Option<String> {
        let row: Option<(String, u64)> =
            sqlx::query_as("SHOW MASTER STATUS").fetch_optional(&mut self.conn).await.ok().flatten();
        row.map(|(file, pos)| format!("{file}:{pos}"))
    }

    /// The next batch of `T` after source id `after`.
    pub async fn batch<T: SourceRow>(&mut self, after: i64, limit: i64) -> Result<Vec<T>, String> {
        sqlx::query_as::<_, T>(T::SQL)
            .bind(after)
            .bind(limit)
            .fetch_all(&mut self.conn)
            .await
            .map_err(|e| format!("reading {}: {}", T::TABLE, redact(&e)))
    }

    /// Up to `limit` non-empty values of `column` of `table` (the SECRET_KEY_BASE check).
    pub async fn sample(&mut self, table: &str, column: &str, limit: i64) -> Result<Vec<String>, String> {
        let sql =
            format!("SELECT {column} FROM {table} WHERE {column} IS NOT NULL AND {column} <> '' ORDER BY id LIMIT ?");
        let rows: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(limit)
            .fetch_all(&mut self.conn)
            .await
            .map_err(|e| format!("reading {table}: {}", redact(&e)))?;
        Ok(rows.into_iter().map(|(v,)| v).collect())
    }

    /// `(kid, secret_encrypted)` of every key whose secret Vault's transit engine holds.
    pub async fn transit_ciphertexts(&mut self) -> Result<Vec<(String, String)>, String> {
        sqlx::query_as("SELECT kid, secret_encrypted FROM apikeys WHERE secret_encrypted LIKE 'vault:v%' ORDER BY id")
            .fetch_all(&mut self.conn)
            .await
            .map_err(|e| format!("reading apikeys: {}", redact(&e)))
    }

    /// The uids of users with 2FA on, whose seeds live in Vault.
    pub async fn otp_uids(&mut self) -> Result<Vec<String>, String> {
        let rows: Vec<(String,)> = sqlx::query_as("SELECT uid FROM users WHERE otp = 1 ORDER BY id")
            .fetch_all(&mut self.conn)
            .await
            .map_err(|e| format!("reading users: {}", redact(&e)))?;
        Ok(rows.into_iter().map(|(u,)| u).collect())
    }

    pub(crate) fn conn(&mut self) -> &mut MySqlConnection {
        &mut self.conn
    }

    pub async fn close(self) {
        let _ = self.conn.close().await;
    }
}

/// A database error's text; sqlx never puts the password in it, but a URL echoed back would.
fn redact(e: &sqlx::Error) -> String {
    crate::redact::redact_url(&e.to_string())
}

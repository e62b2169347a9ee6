//! An online copy of the database (`barongctl backup`, issue 12). SQLite's `VACUUM INTO` writes a
//! consistent, compacted copy from one read transaction while requests go on; PostgreSQL's own
//! tools (pg_dump, base backups) do that job better than anything a daemon could.

use super::StoreResult;
use super::postgres::PgStore;
use super::sqlite::SqliteStore;

#[async_trait::async_trait]
pub trait Backup {
    /// Writes a consistent copy of the whole database to `path`, which must not exist; `false`
    /// when this backend leaves backups to its own tools.
    async fn backup_into(&self, path: &str) -> StoreResult<bool>;
}

#[async_trait::async_trait]
impl Backup for SqliteStore {
    async fn backup_into(&self, path: &str) -> StoreResult<bool> {
        sqlx::query("VACUUM INTO ?").bind(path).execute(&self.pool).await?;
        Ok(true)
    }
}

#[async_trait::async_trait]
impl Backup for PgStore {
    async fn backup_into(&self, _path: &str) -> StoreResult<bool> {
        Ok(false)
    }
}

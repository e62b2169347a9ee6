//! `barongctl backup FILE` (issue 12): a consistent copy of the SQLite database while the daemon
//! serves. The copy is written beside its destination under a temporary name, made owner-only,
//! and renamed into place, so a failed or interrupted backup never leaves a half-written file
//! under the name a restore would use.

use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

use common::admin::BackupInfo;

use crate::services::App;
use crate::services::error::{Refusal, ServiceError, ServiceResult};
use crate::services::random::random_hex;

fn refused(key: &str, why: impl std::fmt::Display) -> ServiceError {
    ServiceError::Refused { why: Refusal::Rejected, keys: vec![key.to_string(), why.to_string()] }
}

pub async fn backup(app: &App, path: &str) -> ServiceResult<BackupInfo> {
    let dest = Path::new(path);
    if !dest.is_absolute() {
        return Err(refused("backup.bad_path", "give an absolute path"));
    }
    if dest.exists() {
        return Err(refused("backup.file_exists", format!("{path} exists: choose a new name")));
    }
    let Some(dir) = dest.parent().filter(|d| d.is_dir()) else {
        return Err(refused("backup.bad_path", format!("the directory of {path} does not exist")));
    };
    let name = dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let partial = dir.join(format!(".{name}.partial-{}", random_hex(4)));
    let partial_str = partial.to_str().ok_or_else(|| refused("backup.bad_path", "the path is not UTF-8"))?;
    // Owner-only from the first byte: SQLite accepts an empty file as VACUUM INTO's target.
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&partial)
        .map_err(|e| refused("backup.failed", format!("{}: {e}", partial.display())))?;
    let written = app.store.backup_into(partial_str).await;
    let done = match written {
        Ok(true) => finish(&partial, dest),
        Ok(false) => {
            let _ = std::fs::remove_file(&partial);
            return Err(refused(
                "backup.use_pg_dump",
                "the database is PostgreSQL: back it up with its own tools (pg_dump -Fc \"$DATABASE_URL\"), \
                 and keep the master key with the dump",
            ));
        }
        Err(e) => Err(format!("writing the copy: {e}")),
    };
    if let Err(e) = done {
        let _ = std::fs::remove_file(&partial);
        return Err(refused("backup.failed", e));
    }
    let bytes = std::fs::metadata(dest).map(|m| m.len()).unwrap_or(0);
    let master_key = if std::env::var_os("BARONG_MASTER_KEY").is_some() {
        "BARONG_MASTER_KEY in barongd's environment".to_string()
    } else {
        Path::new(&app.config.data_dir).join("keys/master.key").display().to_string()
    };
    tracing::info!(path, bytes, "database backup written");
    Ok(BackupInfo { path: path.to_string(), bytes, master_key })
}

fn finish(partial: &Path, dest: &Path) -> Result<(), String> {
    std::fs::set_permissions(partial, std::fs::Permissions::from_mode(0o600)).map_err(|e| e.to_string())?;
    if dest.exists() {
        return Err(format!("{} appeared meanwhile", dest.display()));
    }
    std::fs::rename(partial, dest).map_err(|e| e.to_string())
}

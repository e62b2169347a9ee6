//! `barongctl backup FILE`: a consistent online copy of the daemon's SQLite database.

use std::path::PathBuf;

use clap::Args;
use common::admin::{BackupInfo, Request};

#[derive(Args, Debug)]
pub struct BackupArgs {
    /// Where to write the copy (must not exist). Relative paths are taken from here, not from the
    /// daemon's working directory.
    file: PathBuf,
}

pub fn request(a: BackupArgs) -> Result<Request, String> {
    let path = if a.file.is_absolute() {
        a.file
    } else {
        std::env::current_dir().map_err(|e| format!("current directory: {e}"))?.join(a.file)
    };
    let path = path.to_str().ok_or("the backup path is not UTF-8")?.to_string();
    Ok(Request::Backup { path })
}

pub fn print_backup(b: &BackupInfo) {
    println!("backup written: {} ({} bytes, owner-only)", b.path, b.bytes);
    println!("sealed values in it open only with the master key: {}", b.master_key);
    println!(
        "restore: put it as barong.db in a data dir, with that key (keys/master.key or BARONG_MASTER_KEY) and uploads/"
    );
}

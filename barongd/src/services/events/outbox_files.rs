//! Files in `<data-dir>/outbox/` (mail `.eml`, SMS `.txt`), shared by the mail and SMS transports.

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// The outbox holds live tokens and codes: owner-only, like the data directory.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)
}

/// Writes `<dir>/<timestamp>-<stem>.<ext>` (0600; the timestamp is `now_ms`, from the clock) through a hidden temporary file and a rename,
/// so a reader (or a `*.eml` glob) never sees a partial message. `stem` is filtered to
/// `[A-Za-z0-9_-]`, so the name cannot leave `dir` whatever it holds.
pub fn write_message(dir: &Path, stem: &str, ext: &str, message: &[u8], now_ms: i64) -> std::io::Result<PathBuf> {
    create_private_dir(dir)?;
    let stem: String = stem.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect();
    let at = chrono::DateTime::from_timestamp_millis(now_ms).unwrap_or_default();
    let name = format!("{}-{stem}.{ext}", at.format("%Y%m%dT%H%M%S%.3fZ"));
    let path = dir.join(&name);
    let tmp = dir.join(format!(".{name}.tmp"));
    let written = (|| {
        let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&tmp)?;
        f.write_all(message)?;
        f.sync_all()?;
        std::fs::rename(&tmp, &path)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    // Makes the rename itself durable; the message is already complete either way.
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(path)
}

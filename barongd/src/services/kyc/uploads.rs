//! Uploaded files: the checks Barong's CarrierWave uploader made
//! (extension whitelist, size range) plus the one it lacked (the content must really be the
//! kind its extension claims, by magic bytes: docs/barong-weaknesses-fixed.md#w-upload-content),
//! and their storage in the [`FileStore`]: `<data-dir>/uploads/` (or `uploads_dir`) or a bucket.
//!
//! Storage is all-or-nothing for a batch. In a directory, files are first written under
//! temporary names (`.<name>.part`, 0600, synced), the database rows are committed, and only then
//! are the files renamed to their final names; any failure before that removes the temporary
//! files. In a bucket there is no rename: objects are written under their final keys first and
//! deleted again when the rows do not commit. The rows stay the truth: a file no row names is
//! never served. A daemon killed between the write and the commit leaves such an unnamed object
//! in the bucket (the directory's `.part` files are swept after an hour; the bucket's are not).
//! Names are ours (`<32 hex>.<ext>`); the client's file name never becomes a path.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use rand::RngCore;

use crate::config::Config;
use crate::model::{FileKind, KNOWN_EXTENSIONS};
use crate::services::App;
use crate::services::error::{ServiceError, ServiceResult};
pub use crate::services::kyc::file_store::FileStore;
use crate::services::kyc::file_store::{self, Bucket};
use crate::services::seal::write_private_file;

/// The lower-cased extension of a client's file name (`scan.PNG` → `png`).
fn extension_of(filename: &str) -> Option<String> {
    let base = filename.rsplit(['/', '\\']).next().unwrap_or(filename);
    let (stem, ext) = base.rsplit_once('.')?;
    if stem.is_empty() && ext.is_empty() {
        return None;
    }
    Some(ext.to_ascii_lowercase())
}

/// A file that passed the checks, ready to be stored under `name` (cloning shares the bytes).
#[derive(Clone)]
pub struct Accepted {
    pub name: String,
    pub bytes: bytes::Bytes,
}

/// Checks one uploaded file against the operator's rules, pushing CarrierWave's keys
/// (`upload.extension_whitelist_error`, `upload.min_size_error`, `upload.max_size_error`) and our
/// content check's `upload.invalid_content_type` into `errors`. Returns the file with a fresh
/// name when it is acceptable.
pub fn check(config: &Config, filename: &str, bytes: &bytes::Bytes, errors: &mut Vec<String>) -> Option<Accepted> {
    let mut push = |k: &str| {
        if !errors.iter().any(|e| e == k) {
            errors.push(k.to_string());
        }
    };
    let ext = extension_of(filename).filter(|e| config.upload_extension_whitelist.allows(e));
    let kind = ext.as_deref().and_then(FileKind::of_extension);
    let size = bytes.len() as u64;
    let mut ok = true;
    if kind.is_none() {
        push("upload.extension_whitelist_error");
        ok = false;
    }
    if size < config.upload_size_min_range {
        push("upload.min_size_error");
        ok = false;
    }
    if size > config.upload_size_max_range.saturating_mul(1024 * 1024) {
        push("upload.max_size_error");
        ok = false;
    }
    if let Some(k) = kind
        && size > 0
        && !k.matches(bytes)
    {
        push("upload.invalid_content_type");
        ok = false;
    }
    match (ok, ext) {
        (true, Some(ext)) => Some(Accepted { name: format!("{}.{ext}", random_hex()), bytes: bytes.clone() }),
        _ => None,
    }
}

fn random_hex() -> String {
    let mut b = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut b);
    hex::encode(b)
}

/// Whether `name` is one of ours (`<32 hex>.<known ext>`), so a stored value can never walk
/// out of the uploads directory.
pub fn valid_name(name: &str) -> Option<FileKind> {
    let (stem, ext) = name.split_once('.')?;
    if stem.len() != 32 || !stem.bytes().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()) {
        return None;
    }
    if !KNOWN_EXTENSIONS.contains(&ext) {
        return None;
    }
    FileKind::of_extension(ext)
}

/// `uploads_dir`, or the uploads directory of the data dir (used when `storage_provider` is local).
pub fn dir(config: &crate::config::Config) -> PathBuf {
    file_store::local_dir(config)
}

fn temp_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!(".{name}.part"))
}

/// Temporary files older than this were left by a daemon that stopped mid-upload.
const STALE_PART: std::time::Duration = std::time::Duration::from_secs(3600);

/// Removes temporary files older than `age` (never a stored file: those have no `.part`).
fn sweep_stale_parts(dir: &Path, age: std::time::Duration) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let name = e.file_name();
        let name = name.to_string_lossy();
        let old = e.metadata().and_then(|m| m.modified()).ok().and_then(|t| t.elapsed().ok()).is_some_and(|d| d >= age);
        if name.starts_with('.') && name.ends_with(".part") && old {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// Files written under temporary names (in a bucket: under their final keys); dropped before
/// they were placed, they are removed.
pub struct Staged {
    to: Target,
    names: Vec<String>,
    placed: AtomicBool,
}

enum Target {
    Dir(PathBuf),
    Bucket(Bucket),
}

impl Staged {
    /// Writes every file (0600 and synced in a directory). On any failure nothing stays.
    pub async fn write(store: &FileStore, files: Vec<Accepted>) -> ServiceResult<Staged> {
        let dir = match store {
            FileStore::Local(dir) => dir.clone(),
            FileStore::Bucket(b) => {
                let mut staged =
                    Staged { to: Target::Bucket(b.clone()), names: Vec::new(), placed: AtomicBool::new(false) };
                for f in files {
                    // Pushed first: a put cut short may still have stored the object.
                    staged.names.push(f.name.clone());
                    b.put(&f.name, f.bytes)
                        .await
                        .map_err(|e| ServiceError::internal(format!("upload write to the bucket failed: {e}")))?;
                }
                return Ok(staged);
            }
        };
        tokio::task::spawn_blocking(move || {
            sweep_stale_parts(&dir, STALE_PART);
            let mut staged = Staged { to: Target::Dir(dir.clone()), names: Vec::new(), placed: AtomicBool::new(false) };
            for f in files {
                let path = temp_path(&dir, &f.name);
                write_private_file(&path, &f.bytes)
                    .map_err(|e| ServiceError::internal(format!("upload write failed: {e}")))?;
                staged.names.push(f.name);
            }
            Ok(staged)
        })
        .await
        .map_err(|e| ServiceError::internal(format!("upload task failed: {e}")))?
    }

    /// Gives every file its final name (run just before the rows naming them commit). When one
    /// rename fails, the files already renamed are removed too, so nothing stays. Objects in a
    /// bucket already have theirs.
    pub fn place(&self) -> std::io::Result<()> {
        if let Target::Dir(dir) = &self.to {
            for (i, name) in self.names.iter().enumerate() {
                if let Err(e) = std::fs::rename(temp_path(dir, name), dir.join(name)) {
                    for done in &self.names[..i] {
                        let _ = std::fs::remove_file(dir.join(done));
                    }
                    return Err(e);
                }
            }
        }
        self.placed.store(true, Ordering::SeqCst);
        Ok(())
    }

    /// Undoes [`Self::place`] when the rows naming the files did not commit after all.
    pub fn withdraw(self) {
        if self.placed.load(Ordering::SeqCst) {
            match &self.to {
                Target::Dir(dir) => {
                    for name in &self.names {
                        let _ = std::fs::remove_file(dir.join(name));
                    }
                }
                Target::Bucket(b) => b.delete_later(self.names.clone()),
            }
        }
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.placed.load(Ordering::SeqCst) {
            match &self.to {
                Target::Dir(dir) => {
                    for name in &self.names {
                        let _ = std::fs::remove_file(temp_path(dir, name));
                    }
                }
                Target::Bucket(b) => b.delete_later(std::mem::take(&mut self.names)),
            }
        }
    }
}

/// Reads a stored file by its (validated) name from the daemon's store; a file that is gone
/// (its user was deleted) is `record.not_found`.
pub async fn read(app: &App, name: &str) -> ServiceResult<(FileKind, Vec<u8>)> {
    let kind = valid_name(name).ok_or_else(|| ServiceError::not_found("record.not_found"))?;
    match app.files.get(name).await {
        Ok(Some(bytes)) => Ok((kind, bytes)),
        Ok(None) => Err(ServiceError::not_found("record.not_found")),
        Err(e) => Err(ServiceError::internal(format!("stored upload unreadable: {e}"))),
    }
}

/// Removes the files of a user who was just deleted (after the commit that deleted them). A
/// file that cannot be removed is logged and the others are still tried; the rows stay, and
/// their downloads answer `record.not_found` from then on. Returns how many were removed.
pub async fn remove_files_of(app: &App, user_id: i64) -> usize {
    let docs = match app.store.documents_of(user_id).await {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!(user_id, error = %e, "a deleted user's files were not removed: documents unreadable");
            return 0;
        }
    };
    let mut removed = 0;
    for name in docs.into_iter().map(|d| d.upload).filter(|n| valid_name(n).is_some()) {
        match app.files.delete(&name).await {
            Ok(()) => removed += 1,
            Err(e) => tracing::warn!(user_id, file = %name, error = %e, "a deleted user's file was not removed"),
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

    fn keys(name: &str, bytes: &[u8]) -> (bool, Vec<String>) {
        let c = crate::config::Config::default();
        let mut e = Vec::new();
        let ok = check(&c, name, &bytes::Bytes::copy_from_slice(bytes), &mut e).is_some();
        (ok, e)
    }

    #[test]
    fn extension_size_and_content_are_checked() {
        assert_eq!(keys("scan.PNG", PNG), (true, vec![]));
        assert_eq!(keys("a.pdf", b"%PDF-1.7\n"), (true, vec![]));
        assert_eq!(keys("a.jpeg", &[0xFF, 0xD8, 0xFF, 0xE0]), (true, vec![]));
        assert_eq!(keys("a.exe", b"MZ"), (false, vec!["upload.extension_whitelist_error".to_string()]));
        assert_eq!(keys("png", PNG), (false, vec!["upload.extension_whitelist_error".to_string()]));
        assert_eq!(keys("a.png", b"GIF89a"), (false, vec!["upload.invalid_content_type".to_string()]));
        assert_eq!(keys("a.png", b""), (false, vec!["upload.min_size_error".to_string()]));
        let big = vec![0u8; 10 * 1024 * 1024 + 1];
        assert_eq!(
            keys("a.pdf", &big),
            (false, vec!["upload.max_size_error".to_string(), "upload.invalid_content_type".to_string()])
        );
    }

    #[test]
    fn only_our_names_are_served() {
        let c = crate::config::Config::default();
        let mut e = Vec::new();
        let a = check(&c, "../../etc/passwd.png", &bytes::Bytes::from_static(PNG), &mut e).expect("accepted");
        assert!(!a.name.contains('/') && a.name.ends_with(".png"));
        assert_eq!(valid_name(&a.name), Some(FileKind::Png));
        for bad in
            ["../x.png", "0123.png", "0123456789abcdef0123456789abcdef.exe", "0123456789ABCDEF0123456789abcdef.png"]
        {
            assert_eq!(valid_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn staged_files_vanish_unless_placed() {
        let dir = tempfile::tempdir().expect("tmp");
        let files = || vec![Accepted { name: format!("{}.png", random_hex()), bytes: bytes::Bytes::from_static(PNG) }];
        let rt = tokio::runtime::Builder::new_current_thread().build().expect("rt");
        let s = rt.block_on(Staged::write(&FileStore::Local(dir.path().into()), files())).expect("written");
        assert_eq!(std::fs::read_dir(dir.path()).expect("ls").count(), 1);
        drop(s);
        assert_eq!(std::fs::read_dir(dir.path()).expect("ls").count(), 0);
        let s = rt.block_on(Staged::write(&FileStore::Local(dir.path().into()), files())).expect("written");
        s.place().expect("renamed");
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .expect("ls")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into())
            .collect();
        assert_eq!(names.len(), 1);
        assert!(valid_name(&names[0]).is_some(), "{names:?}");
        // A crash between write and commit leaves a `.part`; the sweep removes only those.
        std::fs::write(dir.path().join(".0123456789abcdef0123456789abcdef.png.part"), PNG).expect("part");
        sweep_stale_parts(dir.path(), STALE_PART);
        assert_eq!(std::fs::read_dir(dir.path()).expect("ls").count(), 2, "a fresh part is kept");
        sweep_stale_parts(dir.path(), std::time::Duration::ZERO);
        let left: Vec<String> = std::fs::read_dir(dir.path())
            .expect("ls")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into())
            .collect();
        assert_eq!(left, names);
        // Placed files whose rows did not commit are taken back.
        let s = rt.block_on(Staged::write(&FileStore::Local(dir.path().into()), files())).expect("written");
        s.place().expect("renamed");
        assert_eq!(std::fs::read_dir(dir.path()).expect("ls").count(), 2);
        s.withdraw();
        assert_eq!(std::fs::read_dir(dir.path()).expect("ls").count(), 1, "only the earlier file stays");
    }
}

//! The key files of a rotation in `<data-dir>/keys`: `master.key` seals until the rotation ends;
//! `master.key.next` (0600) holds the new key from before the first value is sealed under it
//! until it replaces `master.key` in one atomic rename, so no crash loses the key some values
//! need.

use std::path::{Path, PathBuf};

use crate::services::seal::{parse_key, write_private_file};

pub const CURRENT: &str = "master.key";
pub const NEXT: &str = "master.key.next";

fn next_path(dir: &Path) -> PathBuf {
    dir.join(NEXT)
}

/// The next key, if a rotation has written one.
pub fn read_next(dir: &Path) -> Result<Option<[u8; 32]>, String> {
    match std::fs::read_to_string(next_path(dir)) {
        Ok(text) => parse_key(&text).map(Some).map_err(|e| format!("keys/{NEXT}: {e}")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("keys/{NEXT}: {e}")),
    }
}

/// Writes a fresh next key (0600, synced) and returns it.
pub fn create_next(dir: &Path) -> Result<[u8; 32], String> {
    let mut key = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut key);
    write_private_file(&next_path(dir), hex::encode(key).as_bytes()).map_err(|e| format!("keys/{NEXT}: {e}"))?;
    sync_dir(dir)?;
    Ok(key)
}

/// Removes a next key no value was ever sealed under (a start that crashed before recording it).
pub fn remove_next(dir: &Path) -> Result<(), String> {
    std::fs::remove_file(next_path(dir)).map_err(|e| format!("keys/{NEXT}: {e}"))?;
    sync_dir(dir)
}

/// The new key becomes `master.key`; the old one is gone from the data dir.
pub fn promote(dir: &Path) -> Result<(), String> {
    std::fs::rename(next_path(dir), dir.join(CURRENT)).map_err(|e| format!("keys/{NEXT} -> keys/{CURRENT}: {e}"))?;
    sync_dir(dir)
}

/// A rename or a new file survives a power cut only once its directory is synced.
fn sync_dir(dir: &Path) -> Result<(), String> {
    std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(|e| format!("{}: {e}", dir.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_next_key_is_private_read_back_and_promoted() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join(CURRENT), "00").expect("old key");
        assert_eq!(read_next(dir.path()), Ok(None));
        let key = create_next(dir.path()).expect("created");
        let mode = std::fs::metadata(dir.path().join(NEXT)).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(read_next(dir.path()), Ok(Some(key)));
        assert!(create_next(dir.path()).is_err(), "never overwrites a next key");
        promote(dir.path()).expect("promoted");
        assert_eq!(read_next(dir.path()), Ok(None));
        let current = std::fs::read_to_string(dir.path().join(CURRENT)).expect("current");
        assert_eq!(parse_key(&current), Ok(key));
    }
}

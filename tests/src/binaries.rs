//! The daemon and CLI under test.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Once;

/// Path of a workspace binary, building it once if it is not there yet.
pub fn binary(name: &str) -> PathBuf {
    static BUILD: Once = Once::new();
    let target =
        std::env::var("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|_| workspace_root().join("target"));
    let path = target.join("debug").join(name);
    if !path.exists() {
        BUILD.call_once(|| {
            let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
                .args(["build", "-p", "barongd", "-p", "barongctl"])
                .current_dir(workspace_root())
                .status()
                .expect("cargo build runs");
            assert!(status.success(), "building barongd and barongctl failed");
        });
    }
    path
}

pub(crate) fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

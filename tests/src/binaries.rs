//! The daemon and CLI under test, built by the test process itself.
//!
//! The tests are their own package, so `CARGO_BIN_EXE_*` does not name barongd or barongctl, and
//! `cargo test` does not rebuild them. Using whatever sits in `target/` would test an old daemon
//! after a change to it; so the first test that needs a binary runs `cargo build` once for the
//! whole process, and every test then runs the binaries that build reports. When nothing changed
//! this is cargo's no-op build (under a second). The outer `cargo test` has released its build
//! lock before it runs tests, so the nested build does not wait for it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The packages whose binaries the tests run.
const PACKAGES: [&str; 2] = ["barongd", "barongctl"];

/// Path of a freshly built workspace binary (`barongd` or `barongctl`).
///
/// Panics with cargo's output when the build fails: every test that needs a binary fails the
/// same way, and the build is not retried per test.
pub fn binary(name: &str) -> PathBuf {
    static BUILT: OnceLock<Result<HashMap<String, PathBuf>, String>> = OnceLock::new();
    match BUILT.get_or_init(build) {
        Ok(bins) => bins.get(name).cloned().unwrap_or_else(|| panic!("the test build made no binary named {name}")),
        Err(why) => panic!("{why}"),
    }
}

/// The repository's root (scripts under tests/tools, config examples).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

/// Runs `cargo build` for [`PACKAGES`] and returns each binary's path, as cargo reports it.
fn build() -> Result<HashMap<String, PathBuf>, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let (target_dir, profile) = test_layout();
    let mut cmd = Command::new(&cargo);
    cmd.current_dir(workspace_root())
        .arg("build")
        // JSON on stdout names each executable; diagnostics stay readable on stderr.
        .arg("--message-format=json-render-diagnostics")
        .args(["--profile", &profile])
        .arg("--target-dir")
        .arg(&target_dir);
    for p in PACKAGES {
        cmd.args(["-p", p]);
    }
    // What `cargo test` set for this test crate must not reach the nested build: build scripts
    // that watch those variables (ring's watches CARGO_MANIFEST_DIR and CARGO_PKG_*) would
    // otherwise rebuild, with everything above them, whenever a shell build and a test build
    // alternate.
    for (key, _) in std::env::vars_os() {
        if is_set_for_the_test_crate(&key.to_string_lossy()) {
            cmd.env_remove(&key);
        }
    }
    let args: Vec<_> = cmd.get_args().map(|a| a.to_string_lossy()).collect();
    let shown = format!("`{} {}` (in {})", cargo.to_string_lossy(), args.join(" "), workspace_root().display());
    let out = cmd.output().map_err(|e| format!("could not run {shown}: {e}"))?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(format!("building the binaries under test failed: {shown} exited with {}:\n{stderr}", out.status));
    }
    let mut bins = HashMap::new();
    let mut rebuilt = Vec::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(line) else { continue };
        let (Some(name), Some(exe)) = (msg["target"]["name"].as_str(), msg["executable"].as_str()) else { continue };
        if msg["reason"] == "compiler-artifact" && PACKAGES.contains(&name) {
            if msg["fresh"] == false {
                rebuilt.push(name.to_string());
            }
            bins.insert(name.to_string(), PathBuf::from(exe));
        }
    }
    if bins.len() != PACKAGES.len() {
        return Err(format!("{shown} succeeded but reported only {:?}:\n{stderr}", bins.keys().collect::<Vec<_>>()));
    }
    if !rebuilt.is_empty() {
        eprintln!("testkit: rebuilt {} into {}", rebuilt.join(" and "), target_dir.display());
    }
    Ok(bins)
}

/// The variables cargo sets for the crate it runs ("Environment variables Cargo sets for
/// crates"), as opposed to the user's own configuration (`CARGO_HOME`, `CARGO_PROFILE_*`, …).
fn is_set_for_the_test_crate(key: &str) -> bool {
    const EXACT: [&str; 9] = [
        "CARGO_MANIFEST_DIR",
        "CARGO_MANIFEST_PATH",
        "CARGO_MANIFEST_LINKS",
        "CARGO_CRATE_NAME",
        "CARGO_BIN_NAME",
        "CARGO_PRIMARY_PACKAGE",
        "CARGO_TARGET_TMPDIR",
        "CARGO_RUSTC_CURRENT_DIR",
        "OUT_DIR",
    ];
    EXACT.contains(&key) || key.starts_with("CARGO_PKG_") || key.starts_with("CARGO_BIN_EXE_")
}

/// The target dir and the cargo profile this test binary was built with, from where it lives:
/// `<target-dir>/<profile-dir>/deps/<test>`. That is the target dir `CARGO_TARGET_DIR` (or
/// cargo's config) chose for the outer `cargo test`, already resolved, so the nested build shares
/// its compiled dependencies. A test binary found elsewhere falls back to `CARGO_TARGET_DIR`, then
/// `<workspace>/target`, with the `dev` profile.
fn test_layout() -> (PathBuf, String) {
    let exe = std::env::current_exe().ok();
    let deps = exe.as_deref().and_then(Path::parent).filter(|d| d.file_name().is_some_and(|n| n == "deps"));
    if let Some(profile_dir) = deps.and_then(Path::parent)
        && let (Some(target_dir), Some(dir_name)) = (profile_dir.parent(), profile_dir.file_name())
    {
        // `dev` and `test` build into `debug/`; every other profile into a directory of its name.
        let profile = match dir_name.to_string_lossy().as_ref() {
            "debug" => "dev".to_string(),
            other => other.to_string(),
        };
        return (target_dir.to_path_buf(), profile);
    }
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|d| if d.is_absolute() { d } else { workspace_root().join(d) })
        .unwrap_or_else(|| workspace_root().join("target"));
    (target_dir, "dev".to_string())
}

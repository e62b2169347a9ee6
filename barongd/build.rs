//! Stamps the build with its git commit and date for `GET …/version`.
use std::process::Command;

fn main() {
    let sha = Command::new("git")
        .args(["rev-parse", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    let date = Command::new("date")
        .args(["-u", "+%Y-%m-%dT%H:%M:%S.000+00:00"])
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    println!("cargo:rustc-env=BARONG_GIT_SHA={sha}");
    println!("cargo:rustc-env=BARONG_BUILD_DATE={date}");
    // Watch the files git keeps HEAD in, wherever they are: in a worktree `.git` is a file, and a
    // watched path that does not exist makes cargo rebuild barongd on every run. Outside a git
    // checkout nothing is watched but this script.
    let mut watched = false;
    for name in ["HEAD", "refs/heads"] {
        if let Some(path) = git_path(name) {
            println!("cargo:rerun-if-changed={path}");
            watched = true;
        }
    }
    if !watched {
        println!("cargo:rerun-if-changed=build.rs");
    }
}

/// `git rev-parse --git-path NAME`, when that path exists.
fn git_path(name: &str) -> Option<String> {
    let out = Command::new("git").args(["rev-parse", "--path-format=absolute", "--git-path", name]).output().ok()?;
    let path = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && std::path::Path::new(&path).exists()).then_some(path)
}

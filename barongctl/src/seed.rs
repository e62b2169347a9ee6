//! `barongctl seed FILE`: Barong's seeds.yml. The file is read here and sent whole: the daemon
//! parses and applies it.

use std::io::Read;
use std::path::{Path, PathBuf};

use clap::Args;
use common::admin::Request;

// `seed`'s help text is on its variant of the top-level command, beside the other nouns'.
#[derive(Args, Debug)]
pub struct SeedArgs {
    /// The YAML file (`-` for stdin).
    file: PathBuf,
}

pub fn request(args: SeedArgs) -> Result<Request, String> {
    Ok(Request::Seed { yaml: read_seeds(&args.file)? })
}

fn read_seeds(file: &Path) -> Result<String, String> {
    let mut text = String::new();
    if file.as_os_str() == "-" {
        std::io::stdin().take(1024 * 1024).read_to_string(&mut text).map_err(|e| format!("reading stdin: {e}"))?;
    } else {
        text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    }
    Ok(text)
}

pub fn print_seeded(levels: usize, permissions: usize, users: usize, restrictions: usize) {
    // A first start seeds Barong's default levels and permissions, so a fresh database already
    // holds what config/seeds.yml lists: say why nothing was added.
    println!(
        "added {levels} levels, {permissions} permissions, {users} users, {restrictions} restrictions \
         (rows already there are kept as they are)"
    )
}

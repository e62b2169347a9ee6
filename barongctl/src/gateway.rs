//! `barongctl permission ...`: the authz gateway's permissions. Changes reach every daemon on the
//! database within a second.

use clap::Subcommand;
use common::admin::{PermissionInfo, PermissionSpec, Request};

use crate::table::table;

#[derive(Subcommand, Debug)]
pub enum PermissionVerb {
    /// Every permission.
    List,
    /// Add a permission.
    Add {
        #[arg(long)]
        role: String,
        /// GET, POST, PUT, PATCH, DELETE, HEAD or ALL.
        #[arg(long)]
        verb: String,
        /// Path prefix without a leading slash, matched on whole segments.
        #[arg(long)]
        path: String,
        /// accept, drop or audit.
        #[arg(long)]
        action: String,
        /// Topic of the admin activity an `audit` row writes.
        #[arg(long)]
        topic: Option<String>,
    },
    /// Delete a permission by id.
    Remove { id: i64 },
    /// Add the permissions of a YAML file (`permissions: [{role, verb, path, action, topic}]`, the
    /// seeds format), skipping those that exist.
    Load { file: std::path::PathBuf },
}

pub fn permission_request(verb: PermissionVerb) -> Result<Request, String> {
    Ok(match verb {
        PermissionVerb::List => Request::PermissionList,
        PermissionVerb::Add { role, verb, path, action, topic } => {
            Request::PermissionAdd(PermissionSpec { role, verb, path, action, topic })
        }
        PermissionVerb::Remove { id } => Request::PermissionRemove { id },
        PermissionVerb::Load { file } => {
            // The daemon reads the YAML (one parser for every file barong-rs reads).
            let yaml = std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
            Request::PermissionLoad { yaml }
        }
    })
}

pub fn print_permissions(list: &[PermissionInfo]) {
    let mut t = table(&["id", "role", "verb", "path", "action", "topic"]);
    for p in list {
        t.add_row(vec![
            p.id.to_string(),
            p.role.clone(),
            p.verb.clone(),
            p.path.clone(),
            p.action.clone(),
            p.topic.clone().unwrap_or_default(),
        ]);
    }
    println!("{t}");
}

pub fn print_loaded(added: usize, existing: usize) {
    println!("{added} permissions added, {existing} already present")
}

//! `barongctl keys ...` and `barongctl permission ...`: the authz gateway's signing keys and
//! permissions. Changes reach every daemon on the database within a second.

use clap::{Subcommand, ValueEnum};
use common::admin::{PermissionInfo, PermissionSpec, Request, SigningKeyInfo};
use common::jwt::JwtAlgorithm;

use crate::table::table;

#[derive(Subcommand, Debug)]
pub enum KeysVerb {
    /// The signing keys: the active one and the previous ones that still verify.
    List,
    /// Make a fresh key the active one; tokens signed by the old key stay valid until they expire.
    Rotate {
        /// Algorithm of the new key (default: the daemon's `jwt_algorithm`). The daemon's next
        /// start rotates back to `jwt_algorithm` if it differs.
        #[arg(long, value_enum)]
        algorithm: Option<KeyAlgorithm>,
    },
}

/// `keys rotate --algorithm`: the JOSE names, exactly (`common::jwt::JwtAlgorithm`).
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyAlgorithm {
    /// RSA 2048 (Barong's algorithm).
    #[value(name = "RS256")]
    Rs256,
    /// ECDSA P-256.
    #[value(name = "ES256")]
    Es256,
    /// Ed25519.
    #[value(name = "EdDSA")]
    EdDsa,
}

impl From<KeyAlgorithm> for JwtAlgorithm {
    fn from(a: KeyAlgorithm) -> JwtAlgorithm {
        match a {
            KeyAlgorithm::Rs256 => JwtAlgorithm::Rs256,
            KeyAlgorithm::Es256 => JwtAlgorithm::Es256,
            KeyAlgorithm::EdDsa => JwtAlgorithm::EdDsa,
        }
    }
}

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

pub fn keys_request(verb: KeysVerb) -> Request {
    match verb {
        KeysVerb::List => Request::KeysList,
        KeysVerb::Rotate { algorithm } => Request::KeysRotate { algorithm: algorithm.map(JwtAlgorithm::from) },
    }
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

pub fn print_keys(keys: &[SigningKeyInfo]) {
    let mut t = table(&["kid", "algorithm", "state", "created"]);
    for k in keys {
        t.add_row(vec![k.kid.clone(), k.algorithm.clone(), k.state.clone(), k.created_at.clone()]);
    }
    println!("{t}");
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_algorithm_flag_takes_every_jwt_algorithm_by_its_jose_name() {
        for v in KeyAlgorithm::value_variants() {
            let name = v.to_possible_value().map(|p| p.get_name().to_string()).unwrap_or_default();
            assert_eq!(name.parse::<JwtAlgorithm>(), Ok(JwtAlgorithm::from(*v)));
        }
        assert_eq!(KeyAlgorithm::value_variants().len(), JwtAlgorithm::ALL.len());
    }
}

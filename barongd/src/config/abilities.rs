//! Barong's `abilities.yml` (CanCan rules per admin role), read once at start-up in Barong's
//! format. Barong raised on every request of a role whose entry named an unknown model; here a
//! bad entry stops start-up instead, naming the role and the entry.

use serde::{Deserialize, Serialize};

use crate::config::yaml::{self, Mapping, Value};

/// Barong's shipped file, used when `abilities_file` is unset.
pub const DEFAULT_ABILITIES: &str = include_str!("../../../config/abilities.yml");

/// The models an entry may name (`all` stands for every one of them).
pub const MODELS: [&str; 10] =
    ["Ability", "User", "Level", "Label", "Profile", "Activity", "APIKey", "Permission", "Restriction", "Document"];

/// CanCan's actions; `manage` covers all of them.
pub const ACTIONS: [&str; 5] = ["read", "create", "update", "destroy", "manage"];

/// One role's rules in file order: (action, models as written).
pub type RoleEntry = Vec<(String, Vec<String>)>;

/// The loaded `admin_permissions`, roles and their entries in file order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AbilitiesFile {
    pub roles: Vec<(String, RoleEntry)>,
}

impl AbilitiesFile {
    /// Barong's default file (checked by a unit test, so this never fails in a release).
    pub fn builtin() -> AbilitiesFile {
        AbilitiesFile::parse(DEFAULT_ABILITIES).unwrap_or_default()
    }

    /// The file at `path`, or the built-in one when `path` is empty.
    pub fn load(path: &str) -> Result<AbilitiesFile, String> {
        if path.is_empty() {
            return Ok(AbilitiesFile::builtin());
        }
        let text = std::fs::read_to_string(path).map_err(|e| format!("abilities_file {path}: {e}"))?;
        AbilitiesFile::parse(&text).map_err(|e| format!("abilities_file {path}: {e}"))
    }

    /// Parses and validates a file's text; every bad entry is reported at once.
    pub fn parse(text: &str) -> Result<AbilitiesFile, String> {
        let top = yaml::mapping(text)?;
        let perms = match top.get("admin_permissions") {
            None | Some(Value::Null) => return Ok(AbilitiesFile::default()),
            Some(Value::Mapping(m)) => m,
            Some(_) => return Err("admin_permissions: expected a mapping of roles".into()),
        };
        let mut errors = Vec::new();
        let mut roles = Vec::new();
        for (role, entry) in perms {
            let Some(role) = role.as_str() else {
                errors.push("admin_permissions: a role name is not a string".to_string());
                continue;
            };
            roles.push((role.to_string(), role_entry(role, entry, &mut errors)));
        }
        if errors.is_empty() { Ok(AbilitiesFile { roles }) } else { Err(errors.join("; ")) }
    }
}

fn role_entry(role: &str, entry: &Value, errors: &mut Vec<String>) -> RoleEntry {
    let empty = Mapping::new();
    let rules = match entry {
        Value::Mapping(m) => m,
        Value::Null => &empty,
        _ => {
            errors.push(format!("admin_permissions.{role}: expected a mapping of actions"));
            &empty
        }
    };
    let mut out = Vec::new();
    for (action, models) in rules {
        let action = action.as_str().unwrap_or_default();
        if !ACTIONS.contains(&action) {
            errors.push(format!(
                "admin_permissions.{role}.{action}: unknown action (read, create, update, destroy, manage)"
            ));
            continue;
        }
        let names: Vec<String> = match models {
            Value::Sequence(s) => s.iter().map(|m| m.as_str().unwrap_or_default().to_string()).collect(),
            Value::String(s) => vec![s.clone()],
            _ => {
                errors.push(format!("admin_permissions.{role}.{action}: expected a list of models"));
                continue;
            }
        };
        for m in names.iter().filter(|m| *m != "all" && !MODELS.contains(&m.as_str())) {
            errors.push(format!("admin_permissions.{role}.{action}: unknown model `{m}`"));
        }
        out.push((action.to_string(), names));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_file_is_barongs_table() {
        let f = AbilitiesFile::parse(DEFAULT_ABILITIES).expect("built-in file parses");
        let names: Vec<&str> = f.roles.iter().map(|(r, _)| r.as_str()).collect();
        assert_eq!(names, ["superadmin", "admin", "technical", "accountant", "compliance", "support"]);
        let admin = &f.roles[1].1;
        assert_eq!(admin[0], ("read".to_string(), vec!["Activity".to_string(), "Permission".to_string()]));
        assert_eq!(admin[1].0, "manage");
        assert_eq!(AbilitiesFile::builtin(), f);
    }

    #[test]
    fn bad_entries_are_named() {
        let e = AbilitiesFile::parse("admin_permissions:\n  ops:\n    read: [User, Wallet]\n    fly: [all]\n")
            .expect_err("refused");
        assert!(e.contains("admin_permissions.ops.read: unknown model `Wallet`"), "{e}");
        assert!(e.contains("admin_permissions.ops.fly: unknown action"), "{e}");
        let ok = AbilitiesFile::parse("roles: [ops]\nadmin_permissions:\n  ops:\n    manage: [all]\n").expect("ok");
        assert_eq!(ok.roles, vec![("ops".to_string(), vec![("manage".to_string(), vec!["all".to_string()])])]);
        assert_eq!(AbilitiesFile::parse("roles: []\n").expect("no entries"), AbilitiesFile::default());
    }
}

//! CanCan's answer for an admin role, from the loaded `abilities.yml`: `manage` grants every
//! action, `read` only reads, `all` names every model. A role without an entry may do nothing.

use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::config::abilities::{AbilitiesFile, RoleEntry};
use crate::services::error::{ServiceError, ServiceResult};

/// Whether `role` may do `action` (`read`, `create`, `update`, `destroy`) on `model`.
pub fn can(file: &AbilitiesFile, role: &str, action: &str, model: &str) -> bool {
    file.roles
        .iter()
        .filter(|(r, _)| r == role)
        .flat_map(|(_, rules)| rules)
        .any(|(a, models)| (a == action || a == "manage") && models.iter().any(|m| m == model || m == "all"))
}

/// As `can`, refusing with Barong's 401 `admin.ability.not_permitted` (401, not 403: clients
/// rely on it).
pub fn require(file: &AbilitiesFile, role: &str, action: &str, model: &str) -> ServiceResult<()> {
    if can(file, role, action, model) {
        Ok(())
    } else {
        Err(ServiceError::unauthenticated("admin.ability.not_permitted"))
    }
}

/// A role's entry, serialised as a JSON object in file order (serde_json's own map sorts keys).
pub struct Entry<'a>(Option<&'a RoleEntry>);

impl Serialize for Entry<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let rules = self.0.map(Vec::as_slice).unwrap_or_default();
        let mut m = s.serialize_map(Some(rules.len()))?;
        for (action, models) in rules {
            m.serialize_entry(action, models)?;
        }
        m.end()
    }
}

/// `role`'s entry as written, keys and lists in file order (`{}` for a role without one): what
/// `GET /admin/abilities` answers and admin UIs build their menus from.
pub fn entry<'a>(file: &'a AbilitiesFile, role: &str) -> Entry<'a> {
    Entry(file.roles.iter().find(|(r, _)| r == role).map(|(_, rules)| rules))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cancan_semantics() {
        let f = AbilitiesFile::builtin();
        assert!(can(&f, "admin", "read", "Permission"));
        assert!(!can(&f, "admin", "create", "Permission"), "read does not imply create");
        assert!(can(&f, "admin", "destroy", "Restriction"), "manage covers destroy");
        assert!(can(&f, "technical", "read", "User") && !can(&f, "technical", "update", "User"));
        assert!(!can(&f, "member", "read", "User"), "no entry, no rule");
        assert!(!can(&f, "accountant", "read", "Permission"));
        let all = AbilitiesFile::parse("admin_permissions:\n  ops:\n    read: [all]\n").expect("parses");
        assert!(can(&all, "ops", "read", "Restriction") && !can(&all, "ops", "update", "Restriction"));
        assert_eq!(
            require(&f, "support", "update", "Label").map_err(|e| e.key().to_string()),
            Err("admin.ability.not_permitted".to_string())
        );
    }

    #[test]
    fn entries_keep_file_order() {
        let f = AbilitiesFile::builtin();
        let text = serde_json::to_string(&entry(&f, "admin")).expect("serialises");
        assert_eq!(
            text,
            r#"{"read":["Activity","Permission"],"manage":["Ability","User","Level","Label","Profile","APIKey","Restriction","Document"]}"#
        );
        assert_eq!(serde_json::to_string(&entry(&f, "member")).expect("serialises"), "{}");
    }
}

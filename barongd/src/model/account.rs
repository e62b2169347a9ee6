//! Accounts (users and service accounts): their state and role.

use std::fmt;

/// The state of a user or a service account. Barong's states, plus any state an operator's
/// `state_triggers` names (kept as written): an unknown state is never lost or rewritten.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AccountState {
    Pending,
    Active,
    Banned,
    Locked,
    Deleted,
    /// A service account the operator switched off.
    Disabled,
    /// A state of the operator's own (`state_triggers`).
    Other(String),
}

impl AccountState {
    pub fn as_str(&self) -> &str {
        match self {
            AccountState::Pending => "pending",
            AccountState::Active => "active",
            AccountState::Banned => "banned",
            AccountState::Locked => "locked",
            AccountState::Deleted => "deleted",
            AccountState::Disabled => "disabled",
            AccountState::Other(s) => s,
        }
    }

    /// Whether the account may still authenticate: Barong lets `pending` users in too (they see
    /// their own account before confirming the email).
    pub fn may_sign_in(&self) -> bool {
        matches!(self, AccountState::Active | AccountState::Pending)
    }

    /// The states an operator may set directly on a user (`barongctl user create --state`).
    pub fn settable(s: &str) -> Option<AccountState> {
        let state = AccountState::from(s);
        (!matches!(state, AccountState::Other(_) | AccountState::Disabled)).then_some(state)
    }
}

impl From<&str> for AccountState {
    fn from(s: &str) -> Self {
        match s {
            "pending" => AccountState::Pending,
            "active" => AccountState::Active,
            "banned" => AccountState::Banned,
            "locked" => AccountState::Locked,
            "deleted" => AccountState::Deleted,
            "disabled" => AccountState::Disabled,
            other => AccountState::Other(other.to_string()),
        }
    }
}

impl From<String> for AccountState {
    fn from(s: String) -> Self {
        match AccountState::from(s.as_str()) {
            AccountState::Other(_) => AccountState::Other(s),
            known => known,
        }
    }
}

impl fmt::Display for AccountState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A role, as permissions name it. Roles are the operator's (any name a permission uses), so
/// this is an open set; the two Barong gives meaning to have constructors.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Role(String);

impl Role {
    /// What registration gives.
    pub fn member() -> Role {
        Role("member".into())
    }

    /// What `first_registration_superadmin` gives.
    pub fn superadmin() -> Role {
        Role("superadmin".into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<String> for Role {
    fn from(s: String) -> Self {
        Role(s)
    }
}

impl From<&str> for Role {
    fn from(s: &str) -> Self {
        Role(s.to_string())
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_round_trip_and_keep_unknown_ones() {
        for s in ["pending", "active", "banned", "locked", "deleted", "disabled", "frozen"] {
            assert_eq!(AccountState::from(s).as_str(), s);
            assert_eq!(AccountState::from(s.to_string()).to_string(), s);
        }
        assert_eq!(AccountState::from("frozen"), AccountState::Other("frozen".into()));
        assert!(AccountState::Pending.may_sign_in() && !AccountState::Banned.may_sign_in());
        assert_eq!(AccountState::settable("locked"), Some(AccountState::Locked));
        assert_eq!(AccountState::settable("disabled"), None);
        assert_eq!(AccountState::settable("frozen"), None);
    }
}

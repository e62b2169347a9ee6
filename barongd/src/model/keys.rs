//! API keys and signing keys: their states, and who holds an API key.

use std::fmt;

/// An API key's state. Barong's own cascades wrote `inactive` while its web client sent
/// `disabled`; one non-active value keeps the vocabulary closed (clients treat anything but
/// `active` alike). Stored `inactive` reads as disabled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyState {
    Active,
    Disabled,
}

impl KeyState {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyState::Active => "active",
            KeyState::Disabled => "disabled",
        }
    }

    /// What a client may ask for: exactly `active` or `disabled`.
    pub fn parse(s: &str) -> Option<KeyState> {
        match s {
            "active" => Some(KeyState::Active),
            "disabled" => Some(KeyState::Disabled),
            _ => None,
        }
    }
}

impl From<String> for KeyState {
    fn from(s: String) -> Self {
        if s == "active" { KeyState::Active } else { KeyState::Disabled }
    }
}

impl fmt::Display for KeyState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whose an API key is: Barong's polymorphic `key_holder_account_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HolderKind {
    User,
    ServiceAccount,
}

impl HolderKind {
    /// Barong's class name, as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            HolderKind::User => "User",
            HolderKind::ServiceAccount => "ServiceAccount",
        }
    }
}

impl TryFrom<String> for HolderKind {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        match s.as_str() {
            "User" => Ok(HolderKind::User),
            "ServiceAccount" => Ok(HolderKind::ServiceAccount),
            _ => Err(format!("unknown key holder type `{s}`")),
        }
    }
}

impl fmt::Display for HolderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A JWT signing key's state: the one `active` key signs; a `next` key is published (JWKS) and
/// verifies, and signs from its `takes_over_at` on (a rotation gives consumers that cache the
/// JWKS time to learn it); `previous` ones only verify until the tokens they signed expire (or,
/// imported without `--activate`, until activated); `retired` ones neither sign nor verify, but
/// stay stored (a later `keys activate` may bring one back).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigningKeyState {
    Active,
    Next,
    Previous,
    Retired,
}

impl SigningKeyState {
    pub fn as_str(self) -> &'static str {
        match self {
            SigningKeyState::Active => "active",
            SigningKeyState::Next => "next",
            SigningKeyState::Previous => "previous",
            SigningKeyState::Retired => "retired",
        }
    }
}

impl From<String> for SigningKeyState {
    fn from(s: String) -> Self {
        match s.as_str() {
            "active" => SigningKeyState::Active,
            "next" => SigningKeyState::Next,
            "retired" => SigningKeyState::Retired,
            _ => SigningKeyState::Previous,
        }
    }
}

impl fmt::Display for SigningKeyState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

//! Restrictions: their category, scope and state.

use std::fmt;

/// What a restriction does, in the order the gateway checks them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RestrictionCategory {
    Whitelist,
    Maintenance,
    Blacklist,
    Blocklogin,
}

impl RestrictionCategory {
    pub const ALL: [RestrictionCategory; 4] = [
        RestrictionCategory::Whitelist,
        RestrictionCategory::Maintenance,
        RestrictionCategory::Blacklist,
        RestrictionCategory::Blocklogin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RestrictionCategory::Whitelist => "whitelist",
            RestrictionCategory::Maintenance => "maintenance",
            RestrictionCategory::Blacklist => "blacklist",
            RestrictionCategory::Blocklogin => "blocklogin",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// Whom a restriction matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RestrictionScope {
    All,
    Ip,
    IpSubnet,
    Continent,
    Country,
}

impl RestrictionScope {
    pub const ALL: [RestrictionScope; 5] = [
        RestrictionScope::All,
        RestrictionScope::Ip,
        RestrictionScope::IpSubnet,
        RestrictionScope::Continent,
        RestrictionScope::Country,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RestrictionScope::All => "all",
            RestrictionScope::Ip => "ip",
            RestrictionScope::IpSubnet => "ip_subnet",
            RestrictionScope::Continent => "continent",
            RestrictionScope::Country => "country",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// Whether a restriction is enforced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestrictionState {
    Enabled,
    Disabled,
}

impl RestrictionState {
    pub fn as_str(self) -> &'static str {
        match self {
            RestrictionState::Enabled => "enabled",
            RestrictionState::Disabled => "disabled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [RestrictionState::Enabled, RestrictionState::Disabled].into_iter().find(|c| c.as_str() == s)
    }
}

impl fmt::Display for RestrictionCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for RestrictionScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for RestrictionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

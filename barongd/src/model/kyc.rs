//! The states of KYC records.

/// Barong's enum values (the gap at 2 is theirs), kept so migrated rows read the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileState {
    Drafted,
    Submitted,
    Verified,
    Rejected,
}

impl ProfileState {
    pub fn code(self) -> i64 {
        match self {
            ProfileState::Drafted => 0,
            ProfileState::Submitted => 1,
            ProfileState::Verified => 3,
            ProfileState::Rejected => 4,
        }
    }

    /// Unknown codes read as drafted: the state a user can still fix.
    pub fn from_code(code: i64) -> Self {
        match code {
            1 => ProfileState::Submitted,
            3 => ProfileState::Verified,
            4 => ProfileState::Rejected,
            _ => ProfileState::Drafted,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ProfileState::Drafted => "drafted",
            ProfileState::Submitted => "submitted",
            ProfileState::Verified => "verified",
            ProfileState::Rejected => "rejected",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        [ProfileState::Drafted, ProfileState::Submitted, ProfileState::Verified, ProfileState::Rejected]
            .into_iter()
            .find(|s| s.name() == name)
    }
}

impl From<i64> for ProfileState {
    fn from(code: i64) -> Self {
        ProfileState::from_code(code)
    }
}

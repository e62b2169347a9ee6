//! Labels: their scope, the keys the system writes, and the values of the KYC steps.

use std::fmt;

/// Who may write a label: `private` ones are the system's and the operator's (they drive level
/// and state), `public` ones the user's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LabelScope {
    Private,
    Public,
}

impl LabelScope {
    pub fn as_str(self) -> &'static str {
        match self {
            LabelScope::Private => "private",
            LabelScope::Public => "public",
        }
    }

    pub fn parse(s: &str) -> Option<LabelScope> {
        match s {
            "private" => Some(LabelScope::Private),
            "public" => Some(LabelScope::Public),
            _ => None,
        }
    }
}

impl TryFrom<String> for LabelScope {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        LabelScope::parse(&s).ok_or_else(|| format!("unknown label scope `{s}`"))
    }
}

impl fmt::Display for LabelScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Private label keys the system writes (each KYC step, 2FA, deletion by the owner).
pub mod keys {
    pub const EMAIL: &str = "email";
    pub const PHONE: &str = "phone";
    pub const PROFILE: &str = "profile";
    pub const DOCUMENT: &str = "document";
    pub const ADDRESS: &str = "address";
    pub const OTP: &str = "otp";
    pub const DELETE: &str = "delete";
}

/// The value of `otp` while 2FA is on.
pub const OTP_ENABLED: &str = "enabled";
/// The value of `delete` when the owner closed the account.
pub const DELETED_BY_USER: &str = "by_user";
/// The value of a data storage's `<title>` label.
pub const RECORDED: &str = "recorded";

/// Where a KYC check stands (the value of the `email`, `phone`, `document` and `address` labels).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckState {
    Pending,
    Verified,
    Rejected,
}

impl CheckState {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckState::Pending => "pending",
            CheckState::Verified => "verified",
            CheckState::Rejected => "rejected",
        }
    }

    pub fn parse(s: &str) -> Option<CheckState> {
        [CheckState::Pending, CheckState::Verified, CheckState::Rejected].into_iter().find(|c| c.as_str() == s)
    }

    /// An operator's decision: only `verified` or `rejected`.
    pub fn verdict(s: &str) -> Option<CheckState> {
        CheckState::parse(s).filter(|c| *c != CheckState::Pending)
    }
}

//! Who makes an admin change: an admin user through the Admin API, or the operator (the admin
//! socket's owner) through barongctl. Both call the same services. The operator is not subject
//! to abilities, RBAC, the superadmin guard or the self guard — it owns the daemon — but a change
//! to a superadmin or to an admin-role account is confirmed first (`--yes`), so a typo in a uid
//! cannot silently demote or lock out the people who run the exchange.

use crate::services::error::{ServiceError, ServiceResult};
use crate::store::UserRow;

/// The `author_uid` of the operator's notes (spec §9).
pub const OPERATOR_AUTHOR: &str = "barongctl";

pub const SUPERADMIN: &str = "superadmin";

/// The operator's side of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operator {
    /// `--yes` given (or confirmed on a terminal).
    pub confirmed: bool,
}

impl Operator {
    /// Passes when the operator confirmed; else 422 `operator.confirmation_required`, which
    /// barongctl turns into a prompt on a terminal.
    pub fn confirm(&self) -> ServiceResult<()> {
        if self.confirmed { Ok(()) } else { Err(ServiceError::invalid("operator.confirmation_required")) }
    }
}

#[derive(Debug, Clone, Copy)]
pub enum Actor<'a> {
    Admin(&'a UserRow),
    Operator(Operator),
}

impl Actor<'_> {
    pub fn is_superadmin(&self) -> bool {
        match self {
            Actor::Admin(u) => u.role.as_str() == SUPERADMIN,
            Actor::Operator(_) => true,
        }
    }

    /// The uid recorded as a note's author.
    pub fn author_uid(&self) -> &str {
        match self {
            Actor::Admin(u) => &u.uid,
            Actor::Operator(_) => OPERATOR_AUTHOR,
        }
    }

    /// The role whose view of PII the answer gets: the operator sees what a superadmin sees.
    pub fn viewer_role(&self) -> &str {
        match self {
            Actor::Admin(u) => u.role.as_str(),
            Actor::Operator(_) => SUPERADMIN,
        }
    }
}

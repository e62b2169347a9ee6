//! The closed sets of the domain (states, scopes, kinds), decoded once from stored text and
//! spelled as strings only at the edges. The store and the services both use them.

mod account;
mod files;
mod keys;
mod kyc;
pub mod labels;
mod restrictions;

pub use account::{AccountState, Role};
pub use files::{FileKind, KNOWN_EXTENSIONS};
pub use keys::{HolderKind, KeyState, SigningKeyState};
pub use kyc::ProfileState;
pub use labels::{CheckState, LabelScope};
pub use restrictions::{RestrictionCategory, RestrictionScope, RestrictionState};

/// Each type is written as its stored name wherever it is serialised (events, JSON entities).
macro_rules! serialize_as_str {
    ($($ty:ty),*) => {$(
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    )*};
}

serialize_as_str!(AccountState, Role, HolderKind, KeyState, SigningKeyState, LabelScope, CheckState);

//! Who a gateway call's credentials belong to, and the claims of the upstream JWT made for it.

use std::sync::Arc;

use serde_json::{Map, Value, json};

use crate::services::gateway::caches::{CachedUser, Subject};
use crate::store::service_accounts::ServiceAccountRow;

/// Who the credentials belong to.
pub(super) enum Holder {
    User(Arc<CachedUser>),
    ServiceAccount(Arc<ServiceAccountRow>),
}

impl Holder {
    pub(super) fn role(&self) -> &str {
        match self {
            Holder::User(u) => u.row.role.as_str(),
            Holder::ServiceAccount(sa) => sa.role.as_str(),
        }
    }

    pub(super) fn uid(&self) -> &str {
        match self {
            Holder::User(u) => u.row.uid.as_str(),
            Holder::ServiceAccount(sa) => sa.uid.as_str(),
        }
    }

    pub(super) fn subject(&self) -> Subject {
        match self {
            Holder::User(u) => Subject::User(u.row.id),
            Holder::ServiceAccount(sa) => Subject::ServiceAccount(sa.id),
        }
    }

    pub(super) fn claims(&self) -> Map<String, Value> {
        let v = match self {
            Holder::User(u) => json!({
                "uid": u.row.uid,
                "username": u.row.username,
                "email": u.row.email,
                // Barong's claim: the referrer's numeric users.id (ids survive the import, so a
                // migrated user's claim is unchanged), never the uid (docs/compatibility.md).
                "referral_id": u.row.referral_id,
                "role": u.row.role,
                "level": u.row.level,
                "state": u.row.state,
            }),
            Holder::ServiceAccount(sa) => json!({
                "uid": sa.uid,
                "email": sa.email,
                "role": sa.role,
                "level": sa.level,
                "state": sa.state,
            }),
        };
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }
}

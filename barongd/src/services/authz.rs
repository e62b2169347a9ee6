//! The authz gateway's decision (identity-and-authz §8): rules, cookie and API-key flows,
//! permissions, and the upstream JWT, with in-memory caches kept fresh from the change feed.

use common::config::Config;

use crate::store::DynStore;

/// The gateway's state, built at start-up.
pub struct Authz {}

impl Authz {
    pub async fn load(_config: &Config, _store: &DynStore) -> Result<Self, String> {
        Ok(Authz {})
    }
}

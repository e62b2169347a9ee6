//! Restrictions (whitelist, maintenance, blacklist, blocklogin) and whitelink tokens
//! (identity-and-authz §7.7, §8.1).

use common::config::Config;

use crate::store::DynStore;

/// Enabled restrictions, cached in memory.
pub struct Restrictions {}

impl Restrictions {
    pub async fn load(_config: &Config, _store: &DynStore) -> Result<Self, String> {
        Ok(Restrictions {})
    }
}

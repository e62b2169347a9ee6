//! permissions, API-key nonces and the change feed the authz gateway reads.

use async_trait::async_trait;

#[async_trait]
pub trait AuthzStore {}

macro_rules! impl_authz_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::authz::AuthzStore for $store {}
    };
}
pub(crate) use impl_authz_store;

//! restrictions and whitelink tokens.

use async_trait::async_trait;

#[async_trait]
pub trait RestrictionStore {}

macro_rules! impl_restrictions_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::restrictions::RestrictionStore for $store {}
    };
}
pub(crate) use impl_restrictions_store;

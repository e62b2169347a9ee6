//! api_keys and service_accounts.

use async_trait::async_trait;

#[async_trait]
pub trait ApiKeyStore {}

macro_rules! impl_api_key_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::api_keys::ApiKeyStore for $store {}
    };
}
pub(crate) use impl_api_key_store;

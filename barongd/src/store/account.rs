//! What a user changes about their own account: public labels, data storages, profile data,
//! and the activity history they read.

use async_trait::async_trait;

#[async_trait]
pub trait AccountStore {}

macro_rules! impl_account_store {
    ($store:ty, $db:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::account::AccountStore for $store {}
    };
}
pub(crate) use impl_account_store;

//! A user's own account: its full view, password, data and deletion, activity history, labels,
//! data storages, API keys and service accounts.

pub mod api_keys;
pub mod data_storage;
pub mod full_info;
pub mod labels;
pub mod me;
pub mod service_accounts;

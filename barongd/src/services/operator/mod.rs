//! What the operator drives (today through barongctl and the admin socket): users, labels,
//! service accounts and API keys, restrictions, the gateway's permissions, the signing keys, and
//! seeds.

pub mod admin_log;
pub mod api_keys;
pub mod backup;
pub mod gateway;
pub mod import;
pub mod keys;
pub mod kyc;
pub mod labels;
pub mod master_key;
pub mod restrictions;
pub mod seeds;
pub mod service_accounts;
pub mod users;

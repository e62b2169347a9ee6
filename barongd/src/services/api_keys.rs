//! API keys of users (resource-admin-kyc §2.3, §10).

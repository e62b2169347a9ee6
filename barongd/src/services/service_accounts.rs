//! Service accounts and their API keys (resource-admin-kyc §2.4).

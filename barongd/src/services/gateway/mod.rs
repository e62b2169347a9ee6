//! The authz gateway: restrictions, pass/block rules, the cookie and API-key flows, permissions
//! and the upstream JWT, decided from in-memory caches the change feed keeps fresh.

pub mod amr;
pub mod api_key_headers;
pub mod audit;
pub mod audit_budget;
pub mod caches;
pub mod decide;
mod holder;
pub mod nonce_batch;
pub mod poller;
pub mod restrictions;
pub mod rules;
pub mod session_entry;

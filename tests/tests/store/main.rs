//! The store contract suite: every method of every store trait, called directly (no HTTP) on
//! SQLite and on PostgreSQL. Each `contract!` test runs twice, as `<name>::sqlite` and
//! `<name>::postgres`, on a fresh, migrated database; PostgreSQL needs `BARONG_TEST_PG_URL`.
//! Times are parameters (`support::NOW`), so windows and expiries are tested without sleeping.

#[macro_use]
mod support;

mod activities;
mod admin;
mod admin_users;
mod api_keys;
mod authz;
mod changes;
mod documents;
mod events;
mod key_fingerprint;
mod keys;
mod labels;
mod mail;
mod management;
mod migrations;
mod otp;
mod phones;
mod profiles;
mod restrictions;
mod service_accounts;
mod sessions;
mod throttle;
mod tokens;
mod users;
mod webauthn;

pub use support::*;

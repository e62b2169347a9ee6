//! Domain logic, free of HTTP and SQL: both the HTTP API and the admin socket call these.

pub mod account;
pub mod accounts;
pub mod activity;
pub mod admin_labels;
pub mod admin_users;
pub mod api_keys;
pub mod authz;
pub mod captcha;
pub mod clock;
pub mod context;
pub mod data_storage;
pub mod documents;
pub mod email_format;
pub mod entities;
pub mod error;
pub mod event_publisher;
pub mod events;
pub mod kyc_review;
pub mod levels;
pub mod login;
pub mod mail;
pub mod otp;
pub mod otp_setup;
pub mod outbox_files;
pub mod password_strength;
pub mod passwords;
pub mod phones;
pub mod profiles;
pub mod restrictions;
pub mod seal;
pub mod seeds;
pub mod service_accounts;
pub mod sessions;
pub mod sms;
pub mod tokens;
pub mod uploads;
pub mod user_labels;

use std::sync::Arc;
use std::time::Instant;

use common::config::Config;

use crate::store::DynStore;

/// Everything a service needs, built once at start-up and shared by reference.
pub struct App {
    pub config: Arc<Config>,
    pub store: DynStore,
    pub clock: Arc<dyn clock::Clock>,
    pub hasher: passwords::Hasher,
    pub policy: passwords::Policy,
    pub tokens: tokens::Tokens,
    pub sealer: seal::Sealer,
    pub mailer: mail::Mailer,
    pub captcha: captcha::Captcha,
    /// Delivery and checking of phone verification codes.
    pub sms: sms::Sms,
    pub authz: authz::Authz,
    pub restrictions: restrictions::Restrictions,
    pub started: Instant,
    /// The address actually bound (port 0 resolved), for status output.
    pub listen: String,
    /// The database URL with any password removed.
    pub database: String,
}

//! The daemon's settings: the YAML file, `BARONG_*` environment variables and flags, parsed once
//! into typed values (addresses, proxies, providers, the Event API's broker), with Barong's own
//! file formats read through the one YAML entry point.

pub mod abilities;
pub mod amqp;
pub mod authz_file;
pub mod barong_env;
pub mod barong_file;
mod defaults;
pub mod durations;
pub mod env;
pub mod key_lines;
pub mod limits;
pub mod load;
pub mod log_level;
pub mod management;
pub mod management_file;
pub mod operability;
pub mod overrides;
pub mod paths;
pub mod production;
pub mod proxies;
pub mod settings;
pub mod sources;
pub mod storage;
pub mod typed;
pub mod unknown_keys;
pub mod values;
pub mod webauthn;
pub mod yaml;

pub use limits::{BodySettings, DeniedAuditSettings, RotationSettings};
pub use settings::{Argon2Settings, Config, MailThrottleSettings, MailerSettings, StateTrigger, ThrottleSettings};
pub use values::{CaptchaMode, Gateway, KycProvider, Listen, MailTransport, PhoneVerification, Secret};

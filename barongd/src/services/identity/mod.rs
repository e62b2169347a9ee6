//! Who a user is: registration, email confirmation, password reset, login and sessions,
//! passwords and their strength, email format, captcha, and the second factor (TOTP).

pub mod attempts;
pub mod auth0;
pub mod auth0_keys;
pub mod captcha;
pub mod email_address;
pub mod email_confirmation;
pub mod hash_slots;
pub mod legacy_passwords;
pub mod login;
pub mod mail_links;
pub mod mail_requests;
pub mod password_reset;
pub mod password_strength;
pub mod passwords;
pub mod registration;
pub mod sessions;
pub mod totp;
pub mod two_factor;
pub mod webauthn;

//! Domain logic, free of HTTP and SQL: the HTTP API and the admin socket both call these.
//!
//! The root holds the kernel every domain uses (the shared `App`, errors, the request context,
//! the clock, sealing, tokens); each folder is one domain. Domains use the kernel and the store,
//! and each other only through leaf modules, so no two files import each other.

pub mod account;
pub mod admin;
pub mod app;
pub mod clock;
pub mod context;
pub mod error;
pub mod events;
pub mod gateway;
pub mod identity;
pub mod kyc;
pub mod management;
pub mod operator;
pub mod random;
pub mod seal;
pub mod telemetry;
pub mod tokens;

pub use app::App;

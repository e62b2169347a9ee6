//! The admin socket barongctl talks to (named apart from Barong's Admin API, an HTTP API): a Unix
//! socket, owner-only, speaking the newline-delimited JSON protocol of `common::admin`.

pub mod admin_api;
pub mod explain;
pub mod handle;
pub mod kyc;
pub mod server;
pub mod webauthn;

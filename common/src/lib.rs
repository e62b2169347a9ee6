//! The wire contract shared by `barongd` and `barongctl`: the admin-socket protocol, the API
//! entities and the JWT algorithm names. No I/O, no web or database types, so the CLI stays small.

pub mod admin;
pub mod admin_api;
pub mod entities;
pub mod jwt;

//! The wire contract shared by `barongd` and `barongctl`: configuration types, the admin-socket
//! protocol and the API entities. No I/O, no web or database types, so the CLI stays small.

pub mod admin;
pub mod config;
pub mod entities;

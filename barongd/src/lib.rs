//! barongd as a library: the binary in `main.rs` wires these together; tests and benchmarks can
//! reach the pieces directly.

pub mod admin;
pub mod config;
pub mod http;
pub mod memory;
pub mod services;
pub mod store;

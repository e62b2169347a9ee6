//! barongd as a library: the binary in `main.rs` wires these together; tests and benchmarks can
//! reach the pieces directly.

pub mod config;
pub mod ctl_socket;
pub mod http;
pub mod input;
pub mod logging;
pub mod memory;
pub mod model;
pub mod redact;
pub mod services;
pub mod store;

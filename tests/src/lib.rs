//! testkit: starts the real `barongd` binary on port 0 with a fresh SQLite file or a fresh
//! PostgreSQL database, and gives tests an HTTP client, the outbox, the logs and `barongctl`.
//!
//! - `binaries`: [`binary`] builds barongd and barongctl once per test process, so tests never
//!   run a stale daemon;
//! - `server`: [`TestServer`], one daemon and what a test reads from it;
//! - `pg`: a fresh PostgreSQL database per daemon;
//! - `both`: the [`both!`] macro, one body on both backends within [`TEST_LIMIT`];
//! - `fakes`: fake HTTP and SMTP servers for the services barongd calls;
//! - `proxy`: a TCP proxy a test cuts to stand for a network failure or a server restart;
//! - `private_pg`: a PostgreSQL cluster of one test's own, which it may restart;
//! - `vault_standin`: Vault's API for the import tests;
//! - `moto`: a real S3-compatible server (moto_server) for the object-storage tests.

mod barong_fixture;
mod binaries;
mod both;
mod fakes;
pub mod mmdb;
mod moto;
mod pg;
mod private_pg;
mod proxy;
mod server;
mod vault_standin;

pub use barong_fixture::BarongFixture;
pub use binaries::{binary, workspace_root};
pub use both::{TEST_LIMIT, spawn_and_run, within_limit};
pub use fakes::{FakeRequest, fake_http, fake_http_requests, fake_router, smtp_sink};
pub use moto::MotoServer;
pub use pg::{PgDatabase, pg_url};
pub use private_pg::PrivatePg;
pub use proxy::TcpProxy;
pub use serde_json::{Value, json};
pub use server::{Backend, Options, TEST_UA, TestServer, provide_master_key};
pub use vault_standin::{TOTP_MOUNT_UUID, VaultStandIn, vault_standin};

/// The first `name=value` token found in a message (the JWT in an email link).
pub fn token_in(mail: &str, name: &str) -> Option<String> {
    let re = regex::Regex::new(&format!(r"{name}=([A-Za-z0-9_\-\.]+)")).ok()?;
    re.captures(mail).map(|c| c[1].to_string())
}

//! `barongctl migrate ...`: the daemon's schema migrations.

use clap::Subcommand;
use common::admin::{MigrationInfo, Request};

use crate::table::table;

#[derive(Subcommand, Debug)]
pub enum MigrateVerb {
    /// Show applied and pending migrations.
    Status,
    /// Apply pending migrations.
    Run,
}

pub fn request(verb: MigrateVerb) -> Request {
    match verb {
        MigrateVerb::Status => Request::MigrateStatus,
        MigrateVerb::Run => Request::MigrateRun,
    }
}

pub fn print_migrations(migrations: Vec<MigrationInfo>) {
    let mut t = table(&["version", "name", "state", "applied at"]);
    for m in migrations {
        let state = if m.applied { "applied" } else { "pending" };
        t.add_row(vec![m.version.to_string(), m.name, state.into(), m.applied_at.unwrap_or_default()]);
    }
    println!("{t}");
}

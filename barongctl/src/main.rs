//! barongctl: the operator's CLI. It talks to a running barongd over the admin socket and prints
//! tables (comfy-table) or one JSON document (`--json`). Exit codes: 0 ok, 1 refused by the
//! daemon, 2 usage or input error, 3 daemon unreachable.
//!
//! Each noun has its own module with its verbs, its request builder and its tables; `output`
//! picks the printer for a reply, and every table comes from the leaf `table`.

mod activity;
mod apikey;
mod backup;
mod client;
mod comment;
mod gateway;
mod import;
mod import_show;
mod import_vault;
mod keys;
mod kyc;
mod kyc_case;
mod label;
mod management;
mod master_key;
mod metrics;
mod migrate;
mod output;
mod restriction;
mod secret_input;
mod seed;
mod service_account;
mod status;
mod table;
mod user;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use common::admin::{Reply, Request};

use output::Format;

#[derive(Parser, Debug)]
#[command(name = "barongctl", version, about = "Operate a running barongd over its admin socket")]
struct Cli {
    /// Admin socket path (default: <data-dir>/barongd.sock).
    #[arg(long, global = true, env = "BARONG_SOCKET")]
    socket: Option<PathBuf>,
    /// Data directory of the daemon.
    #[arg(long, global = true, env = "BARONG_DATA_DIR", default_value = "./data")]
    data_dir: PathBuf,
    /// Shorthand for `--output json`.
    #[arg(long, global = true)]
    json: bool,
    /// Output format.
    #[arg(long, global = true, value_enum, default_value_t = Format::Text)]
    output: Format,
    #[command(subcommand)]
    command: Noun,
}

#[derive(Subcommand, Debug)]
enum Noun {
    /// Daemon health: version, address, database, counts.
    Status,
    /// Users.
    User {
        #[command(subcommand)]
        verb: user::UserVerb,
    },
    /// Schema migrations.
    Migrate {
        #[command(subcommand)]
        verb: migrate::MigrateVerb,
    },
    /// Service accounts: machine identities owned by a user, who manages their API keys.
    ServiceAccount {
        #[command(subcommand)]
        verb: service_account::ServiceAccountVerb,
    },
    /// API keys of users and service accounts (secrets are never shown).
    Apikey {
        #[command(subcommand)]
        verb: apikey::ApiKeyVerb,
    },
    /// Restrictions (whitelist, maintenance, blacklist, blocklogin) and whitelink tokens.
    Restriction {
        #[command(subcommand)]
        verb: restriction::RestrictionVerb,
    },
    /// The JWT signing keys the gateway signs upstream tokens with.
    Keys {
        #[command(subcommand)]
        verb: keys::KeysVerb,
    },
    /// Gateway permissions: role × verb × path prefix → accept, drop or audit.
    Permission {
        #[command(subcommand)]
        verb: gateway::PermissionVerb,
    },
    /// A user's labels: ban or lock an account, record checks, see what drives the level.
    Label {
        #[command(subcommand)]
        verb: label::LabelVerb,
    },
    /// Apply a seeds file (Barong's seeds.yml: levels, permissions, users, restrictions); rows that
    /// exist are skipped, so it can run again. Passwords of seeded users are never printed.
    Seed(seed::SeedArgs),
    /// Local KYC review: the queue and the decisions on profiles, documents and addresses.
    Kyc {
        #[command(subcommand)]
        verb: kyc::KycVerb,
    },
    /// The users' activity log and the admin log (the Admin API's activities).
    Activity {
        #[command(subcommand)]
        verb: activity::ActivityVerb,
    },
    /// Sign-ups and logins per UTC day, and the KYC applications waiting.
    Metrics(metrics::MetricsArgs),
    /// The Management API's configuration: keys, scopes and their problems.
    Management {
        #[command(subcommand)]
        verb: management::ManagementVerb,
    },
    /// A consistent online copy of the SQLite database (on PostgreSQL: use pg_dump).
    Backup(backup::BackupArgs),
    /// Copy a running Barong's database into barong-rs, follow and finish the job.
    Import {
        #[command(subcommand)]
        verb: import::ImportVerb,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let format = if cli.json { Format::Json } else { cli.output };
    let socket = cli.socket.clone().unwrap_or_else(|| cli.data_dir.join(common::admin::SOCKET_FILE));
    if let Noun::Management { verb } = &cli.command
        && let Some(path) = management::offline_file(verb)
    {
        return management::check_offline(path, format == Format::Json);
    }
    if let Noun::Kyc { verb: kyc::KycVerb::Show { user, export: Some(dir) } } = &cli.command {
        return kyc_case::show_and_export(&socket, user, dir, format);
    }
    if let Noun::Import { verb } = cli.command {
        return import::run(verb, &socket, format == Format::Json);
    }
    let wait = matches!(&cli.command, Noun::Keys { verb: keys::KeysVerb::RotateMaster { wait: true, .. } });
    let request = match build_request(cli.command) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("barongctl: {e}");
            return ExitCode::from(2);
        }
    };
    let reply = match client::call(&socket, request.clone()) {
        Ok(reply) => reply,
        Err(e) => {
            eprintln!("barongctl: {e}");
            return ExitCode::from(3);
        }
    };
    let reply = match confirm_and_retry(&socket, &request, reply) {
        Ok(reply) => reply,
        Err(e) => {
            eprintln!("barongctl: {e}");
            return ExitCode::from(3);
        }
    };
    let reply = if wait { master_key::wait(&socket, reply) } else { Ok(reply) };
    match reply {
        Ok(reply) => output::print_for(&request, reply, format),
        Err(e) => {
            eprintln!("barongctl: {e}");
            ExitCode::from(3)
        }
    }
}

/// A change the daemon wants confirmed (a superadmin or admin-role account) is asked on a
/// terminal and sent again; without a terminal the refusal stands and `--yes` is the way.
fn confirm_and_retry(socket: &std::path::Path, request: &Request, reply: Reply) -> Result<Reply, String> {
    use std::io::IsTerminal;
    let Some(again) = user::confirmed(request).filter(|_| output::asks_confirmation(&reply)) else {
        return Ok(reply);
    };
    if !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
        return Ok(reply);
    }
    let yes = dialoguer::Confirm::new()
        .with_prompt("This changes a superadmin or an admin-role account. Go ahead?")
        .default(false)
        .interact()
        .unwrap_or(false);
    if !yes {
        return Ok(reply);
    }
    client::call(socket, again)
}

fn build_request(noun: Noun) -> Result<Request, String> {
    Ok(match noun {
        Noun::Status => status::request(),
        Noun::User { verb } => user::request(verb)?,
        Noun::Migrate { verb } => migrate::request(verb),
        Noun::ServiceAccount { verb } => service_account::request(verb),
        Noun::Apikey { verb } => apikey::request(verb),
        Noun::Restriction { verb } => restriction::request(verb),
        Noun::Keys { verb } => keys::request(verb)?,
        Noun::Permission { verb } => gateway::permission_request(verb)?,
        Noun::Label { verb } => label::request(verb),
        Noun::Seed(args) => seed::request(args)?,
        Noun::Kyc { verb } => kyc::request(verb),
        Noun::Activity { verb } => activity::request(verb),
        Noun::Metrics(args) => metrics::request(args),
        Noun::Management { verb } => management::request(verb),
        Noun::Backup(args) => backup::request(args)?,
        Noun::Import { .. } => return Err("import is handled on its own".into()),
    })
}

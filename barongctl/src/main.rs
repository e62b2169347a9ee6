//! barongctl: the operator's CLI. It talks to a running barongd over the admin socket and prints
//! tables (comfy-table) or one JSON document (`--json`). Exit codes: 0 ok, 1 refused by the
//! daemon, 2 usage or input error, 3 daemon unreachable.

mod client;
mod gateway;
mod kyc;
mod label;
mod output;
mod restriction;
mod table;

use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use common::admin::Request;

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
        verb: UserVerb,
    },
    /// Schema migrations.
    Migrate {
        #[command(subcommand)]
        verb: MigrateVerb,
    },
    /// Service accounts: machine identities owned by a user, who manages their API keys.
    ServiceAccount {
        #[command(subcommand)]
        verb: ServiceAccountVerb,
    },
    /// API keys of users and service accounts (secrets are never shown).
    Apikey {
        #[command(subcommand)]
        verb: ApiKeyVerb,
    },
    /// Restrictions (whitelist, maintenance, blacklist, blocklogin) and whitelink tokens.
    Restriction {
        #[command(subcommand)]
        verb: restriction::RestrictionVerb,
    },
    /// The JWT signing keys the gateway signs upstream tokens with.
    Keys {
        #[command(subcommand)]
        verb: gateway::KeysVerb,
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
    Seed {
        /// The YAML file (`-` for stdin).
        file: PathBuf,
    },
    /// Local KYC review: the queue and the decisions on profiles, documents and addresses.
    Kyc {
        #[command(subcommand)]
        verb: kyc::KycVerb,
    },
}

#[derive(Subcommand, Debug)]
enum ServiceAccountVerb {
    /// Create a service account; it starts active.
    Create {
        /// The owning user, by uid or email.
        #[arg(long)]
        owner: String,
        /// Role (must have permissions).
        #[arg(long)]
        role: String,
        /// Default: <owner name>+<uid>@<owner domain>.
        #[arg(long)]
        email: Option<String>,
    },
    /// List service accounts, all or one owner's.
    List {
        /// Only this owner's (uid or email).
        #[arg(long)]
        owner: Option<String>,
    },
    /// Disable a service account and its active API keys.
    Disable { uid: String },
}

#[derive(Subcommand, Debug)]
enum ApiKeyVerb {
    /// A user's API keys and those of its service accounts.
    List {
        /// The user, by uid or email.
        #[arg(long)]
        user: String,
    },
    /// Disable one API key, whoever holds it.
    Disable { kid: String },
}

#[derive(Subcommand, Debug)]
enum UserVerb {
    /// Create a user (no email confirmation). The password is prompted on a terminal, or read
    /// from stdin with --password-stdin.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        username: Option<String>,
        /// Role (must have permissions), default member.
        #[arg(long)]
        role: Option<String>,
        /// pending, active, banned, locked or deleted.
        #[arg(long)]
        state: Option<String>,
        /// Grant the private labels of levels 1..=LEVEL.
        #[arg(long)]
        level: Option<i64>,
        /// Read the password from the first line of stdin.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List users, newest first.
    List {
        #[arg(long, default_value_t = 1)]
        page: i64,
        #[arg(long, default_value_t = 100)]
        limit: i64,
    },
    /// Show one user by uid or email.
    Show { user: String },
}

#[derive(Subcommand, Debug)]
enum MigrateVerb {
    /// Show applied and pending migrations.
    Status,
    /// Apply pending migrations.
    Run,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let format = if cli.json { Format::Json } else { cli.output };
    let socket = cli.socket.clone().unwrap_or_else(|| cli.data_dir.join(common::admin::SOCKET_FILE));
    let request = match build_request(cli.command) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("barongctl: {e}");
            return ExitCode::from(2);
        }
    };
    match client::call(&socket, request) {
        Ok(reply) => output::print(reply, format),
        Err(e) => {
            eprintln!("barongctl: {e}");
            ExitCode::from(3)
        }
    }
}

fn build_request(noun: Noun) -> Result<Request, String> {
    Ok(match noun {
        Noun::Status => Request::Status,
        Noun::User { verb: UserVerb::Create { email, username, role, state, level, password_stdin } } => {
            let password = read_password(password_stdin)?;
            Request::UserCreate { email, password, username, role, state, level }
        }
        Noun::User { verb: UserVerb::List { page, limit } } => {
            Request::UserList { page: Some(page), limit: Some(limit) }
        }
        Noun::User { verb: UserVerb::Show { user } } => Request::UserShow { user },
        Noun::Migrate { verb: MigrateVerb::Status } => Request::MigrateStatus,
        Noun::Migrate { verb: MigrateVerb::Run } => Request::MigrateRun,
        Noun::ServiceAccount { verb: ServiceAccountVerb::Create { owner, role, email } } => {
            Request::ServiceAccountCreate { owner, role, email }
        }
        Noun::ServiceAccount { verb: ServiceAccountVerb::List { owner } } => Request::ServiceAccountList { owner },
        Noun::ServiceAccount { verb: ServiceAccountVerb::Disable { uid } } => Request::ServiceAccountDisable { uid },
        Noun::Apikey { verb: ApiKeyVerb::List { user } } => Request::ApiKeyList { user },
        Noun::Apikey { verb: ApiKeyVerb::Disable { kid } } => Request::ApiKeyDisable { kid },
        Noun::Restriction { verb } => restriction::request(verb),
        Noun::Keys { verb } => gateway::keys_request(verb),
        Noun::Permission { verb } => gateway::permission_request(verb)?,
        Noun::Kyc { verb } => kyc::request(verb),
        Noun::Seed { file } => Request::Seed { yaml: read_seeds(&file)? },
        Noun::Label { verb } => label::request(verb),
    })
}

fn read_seeds(file: &std::path::Path) -> Result<String, String> {
    let mut text = String::new();
    if file.as_os_str() == "-" {
        std::io::stdin().take(1024 * 1024).read_to_string(&mut text).map_err(|e| format!("reading stdin: {e}"))?;
    } else {
        text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    }
    Ok(text)
}

fn read_password(from_stdin: bool) -> Result<String, String> {
    if from_stdin {
        let mut s = String::new();
        std::io::stdin().take(64 * 1024).read_to_string(&mut s).map_err(|e| format!("reading stdin: {e}"))?;
        let line = s.lines().next().unwrap_or("").to_string();
        if line.is_empty() {
            return Err("--password-stdin: stdin held no password".into());
        }
        return Ok(line);
    }
    if !std::io::stdin().is_terminal() {
        return Err("no terminal to prompt for the password: pass --password-stdin".into());
    }
    dialoguer::Password::new()
        .with_prompt("Password")
        .with_confirmation("Repeat password", "passwords do not match")
        .interact()
        .map_err(|e| format!("password prompt: {e}"))
}

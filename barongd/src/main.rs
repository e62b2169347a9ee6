//! barongd: Barong's API in one binary. Start-up order matters: configuration, data dir and
//! keys, database (migrations, first-start seeds), services, then the listeners.

use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use barongd::config::Config;
use clap::{Parser, Subcommand};

use barongd::ctl_socket::server as ctl_socket;
use barongd::services::events::{mail, publisher};
use barongd::services::gateway::restrictions::{cache::Restrictions, refresh};
use barongd::services::gateway::{caches::Authz, poller};
use barongd::services::identity::hash_slots::HashSlots;
use barongd::services::identity::legacy_passwords::{self, LegacyPasswords};
use barongd::services::identity::{auth0_keys, captcha, passwords};
use barongd::services::kyc::file_store::FileStore;
use barongd::services::kyc::sms;
use barongd::services::operator::master_key::{self, RotationRuntime, fingerprint};
use barongd::services::operator::seeds;
use barongd::services::{App, clock, seal, tokens};
use barongd::{config, http, redact, store};

/// See `barongd::memory`.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Barong-compatible authentication server. Flags may come before or after the subcommand
/// (`barongd config check --config X`); a flag beats its variable, which beats the file.
#[derive(Parser, Debug)]
#[command(name = "barongd", version)]
struct Cli {
    /// YAML configuration file (see config/barong.example.yml); relative paths written in it are
    /// resolved against its folder. Without one, every setting has its default.
    #[arg(long, global = true, env = "BARONG_CONFIG", hide_env_values = true)]
    config: Option<PathBuf>,
    /// Address to listen on (port 0 picks a free port). Overrides `listen`.
    #[arg(long, global = true, env = "BARONG_LISTEN", hide_env_values = true, default_value = "127.0.0.1:3000")]
    listen: String,
    /// Data directory (database, keys, outbox, uploads, admin socket). Overrides `data_dir`.
    #[arg(long, global = true, env = "BARONG_DATA_DIR", hide_env_values = true, default_value = "./data")]
    data_dir: String,
    /// sqlite://PATH or postgres://USER@HOST/DB [default: sqlite://<data-dir>/barong.db].
    /// Overrides `database_url`.
    #[arg(long, global = true, env = "DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    /// Log filter: trace, debug, info, warn, error or off, or per target (info,access=warn).
    /// Overrides `log_level`; RUST_LOG, when set, overrides both.
    #[arg(long, global = true, env = "BARONG_LOG_LEVEL", hide_env_values = true, default_value = "info")]
    log_level: String,
    /// Refuse to start on development-only settings (the same as `mode: production`).
    #[arg(long, global = true)]
    production: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

impl Cli {
    /// The flags given on the command line. A default or a variable is left to the
    /// configuration, which reads the same variables itself and names them in its errors.
    fn overrides(&self, matches: &clap::ArgMatches) -> config::load::Overrides {
        let given = |id: &str, v: &str| {
            let typed = matches.value_source(id) == Some(clap::parser::ValueSource::CommandLine);
            typed.then(|| v.to_string())
        };
        config::load::Overrides {
            config: self.config.clone(),
            listen: given("listen", &self.listen),
            data_dir: given("data_dir", &self.data_dir),
            database_url: self.database_url.as_deref().and_then(|v| given("database_url", v)),
            log_level: given("log_level", &self.log_level),
        }
    }
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Configuration tools.
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
    /// Master-key tools.
    Keys {
        #[command(subcommand)]
        action: KeysAction,
    },
}

#[derive(Subcommand, Debug)]
enum KeysAction {
    /// Make a new random master key: printed for BARONG_MASTER_KEY, or written to a new 0600 file.
    NewMaster {
        /// Write the key to this file (created 0600; an existing file is never replaced).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
enum ConfigAction {
    /// Validate the configuration and print the effective settings (secrets redacted).
    Check {
        /// Unknown keys in the configuration file are errors, not warnings (for CI).
        #[arg(long)]
        strict: bool,
    },
}

fn main() -> ExitCode {
    let matches = <Cli as clap::CommandFactory>::command().get_matches();
    let cli = match <Cli as clap::FromArgMatches>::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    if let Some(Command::Keys { action: KeysAction::NewMaster { out } }) = &cli.command {
        return new_master_key(out.as_deref());
    }
    let flags = cli.overrides(&matches);
    let strict = matches!(cli.command, Some(Command::Config { action: ConfigAction::Check { strict: true } }));
    let config::load::Loaded { mut config, mut warnings } =
        match config::load::load_checked(&flags, &|k| std::env::var(k).ok(), strict) {
            Ok(l) => l,
            Err(e) => {
                eprintln!("barongd: configuration error: {e}");
                return ExitCode::from(2);
            }
        };
    // Names only: the values of these variables (tokens, passwords) never reach the log.
    let names: Vec<String> = std::env::vars_os().map(|(k, _)| k.to_string_lossy().into_owned()).collect();
    warnings.extend(config::barong_env::ignored_line(&names));
    if cli.production {
        config.mode = config::production::Mode::Production;
    }
    match config::production::verdict(&config) {
        config::production::Verdict::Clean => {}
        // `config check` spells out each one; a start logs them in one line.
        config::production::Verdict::Warn(_) if matches!(cli.command, Some(Command::Config { .. })) => {
            warnings.extend(config::production::findings(&config).iter().map(|f| format!("development default: {f}")))
        }
        config::production::Verdict::Warn(line) => warnings.push(line),
        config::production::Verdict::Refuse(lines) => {
            lines.iter().for_each(|l| eprintln!("barongd: {l}"));
            return ExitCode::from(2);
        }
    }
    if let Some(Command::Config { action: ConfigAction::Check { .. } }) = cli.command {
        warnings.iter().for_each(|w| eprintln!("barongd: warning: {w}"));
        // The Management API's keychain and scopes are part of the configuration to check.
        let management = &config.management_api.file;
        if !management.is_empty() && !Path::new(management).exists() {
            eprintln!("barongd: warning: management_api.file {management} does not exist: the Management API is off");
        } else if !management.is_empty() {
            match config::management_file::load(&config.management_api.file, &|k| std::env::var(k).ok()) {
                Ok(file) => file.warnings.iter().for_each(|w| eprintln!("barongd: warning: management_api.file: {w}")),
                Err(e) => {
                    eprintln!("barongd: configuration error: {e}");
                    return ExitCode::from(2);
                }
            }
        }
        print!("{}", config::load::redacted_yaml(&config));
        eprintln!("barongd: configuration is valid");
        return ExitCode::SUCCESS;
    }
    barongd::logging::init(&config.log_level, config.log_format);
    warnings.iter().for_each(|w| tracing::warn!("{w}"));
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("barongd: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("barongd: {e}");
            tracing::error!(error = %e, "barongd stopped");
            ExitCode::from(e.exit_code())
        }
    }
}

/// `barongd keys new-master`: needs no configuration, so it works before there is one.
fn new_master_key(out: Option<&Path>) -> ExitCode {
    match out {
        None => println!("{}", *seal::new_key_hex()),
        Some(path) => match seal::write_new_key_file(path) {
            Ok(()) => eprintln!(
                "barongd: new master key written to {} (0600); back it up apart from the database",
                path.display()
            ),
            Err(e) => {
                eprintln!("barongd: {e}");
                return ExitCode::from(2);
            }
        },
    }
    ExitCode::SUCCESS
}

/// Start-up failures: bad setup (exit 2) or a runtime failure (exit 1).
enum Failure {
    Setup(String),
    Runtime(String),
}

impl Failure {
    fn exit_code(&self) -> u8 {
        match self {
            Failure::Setup(_) => 2,
            Failure::Runtime(_) => 1,
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Setup(m) | Failure::Runtime(m) => f.write_str(m),
        }
    }
}

fn private_dir(path: &Path) -> Result<(), Failure> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
        .map_err(|e| Failure::Setup(format!("data dir {}: {e}", path.display())))
}

fn tighten_dir(path: &Path) -> Result<(), Failure> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(path).map_err(|e| Failure::Setup(format!("data dir {}: {e}", path.display())))?;
    if mode.permissions().mode() & 0o077 != 0 {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| Failure::Setup(format!("data dir {}: cannot make it owner-only: {e}", path.display())))?;
    }
    Ok(())
}

async fn run(config: Config) -> Result<(), Failure> {
    let started = Instant::now();
    let management = load_management_file(&config)?;
    let data_dir = PathBuf::from(&config.data_dir);
    let files = FileStore::new(&config).map_err(Failure::Setup)?;
    let mut dirs = vec![data_dir.clone(), data_dir.join("keys"), data_dir.join("outbox")];
    if let FileStore::Local(uploads) = &files {
        dirs.push(uploads.clone());
    }
    for dir in dirs {
        private_dir(&dir)?;
    }
    // Directories made before (by hand, by an older barongd) are tightened too: they hold the
    // database, the master key and mails with live tokens.
    for dir in [&data_dir, &data_dir.join("keys"), &data_dir.join("outbox")] {
        tighten_dir(dir)?;
    }
    let db_url = config.database_url.expose().to_string();
    let database = redact::redact_url(&db_url);
    let store = store::open(&db_url, config.database_max_connections)
        .await
        .map_err(|e| Failure::Setup(format!("database {database}: {e}")))?;
    let clock: Arc<dyn clock::Clock> = Arc::new(clock::SystemClock);
    let applied = store.migrate(clock.now()).await.map_err(|e| Failure::Setup(format!("database {database}: {e}")))?;
    if applied > 0 {
        tracing::info!(applied, "migrations applied");
    }
    // After the database: whether a key may be made, and whether it is this database's, depend on it.
    let master = std::env::var("BARONG_MASTER_KEY").ok();
    let key_file = data_dir.join("keys").join(master_key::files::CURRENT);
    let (sealer, key_source) = fingerprint::load(&store, master.as_deref(), &key_file).await.map_err(Failure::Setup)?;
    let rotation = RotationRuntime::new(data_dir.join("keys"), key_source.is_env());
    let resume_rotation = master_key::recover(&store, &sealer, &rotation).await.map_err(Failure::Setup)?;
    fingerprint::verify(&store, &sealer, &key_source, clock.now()).await.map_err(Failure::Setup)?;
    seeds::seed_first_start(&store, clock.now()).await.map_err(Failure::Setup)?;

    // Barong's key file: when set (and not empty), its key signs from every start on.
    let pinned_pem = match std::env::var("JWT_PRIVATE_KEY_PATH") {
        Ok(p) if !p.trim().is_empty() => Some(zeroize::Zeroizing::new(
            std::fs::read_to_string(&p).map_err(|e| Failure::Setup(format!("JWT_PRIVATE_KEY_PATH {p}: {e}")))?,
        )),
        _ => None,
    };
    let tokens = tokens::Tokens::load(
        &store,
        &sealer,
        pinned_pem,
        config.jwt_algorithm,
        config.jwt_expire_time,
        config.jwt_key_activation_delay,
        clock.now(),
    )
    .await
    .map_err(Failure::Setup)?;
    let hasher = passwords::Hasher::new(&config.argon2).map_err(Failure::Setup)?;
    // The password checker's matchers are built here rather than on the first registration's
    // worker thread, so what building them leaves behind (~20 MB) is handed back now instead of
    // staying in that thread's heap for good; the dummy hash above is freed with it.
    barongd::services::identity::password_strength::warm_up();
    barongd::memory::give_back(true);
    let hash_slots = HashSlots::new(&config.login_throttle);
    let legacy_passwords =
        Arc::new(LegacyPasswords::load(config.legacy_password_time_floor_ms, &store).await.map_err(Failure::Setup)?);
    let policy = passwords::Policy::new(&config).map_err(Failure::Setup)?;
    let captcha = captcha::Captcha::new(&config).map_err(Failure::Setup)?;
    let auth0 = auth0_keys::Tenant::new(&config).map_err(Failure::Setup)?;
    let webauthn =
        barongd::services::identity::webauthn::relying_party::RelyingParty::new(&config).map_err(Failure::Setup)?;
    let sms = sms::Sms::new(&config, data_dir.join("outbox"), clock.clone()).map_err(Failure::Setup)?;
    let mailer = mail::Mailer::new(
        &config.mailer,
        data_dir.join("outbox"),
        store.clone(),
        &config.default_language,
        clock.clone(),
    )
    .map_err(Failure::Setup)?;
    let authz = Authz::load(&config, &store).await.map_err(Failure::Setup)?;
    let restrictions = Restrictions::load(&config, &store).await.map_err(Failure::Setup)?;
    files.probe().await.map_err(Failure::Setup)?;
    tracing::info!(store = %files.describe(), "KYC files");

    let listener = tokio::net::TcpListener::bind(config.listen.0)
        .await
        .map_err(|e| Failure::Setup(format!("cannot listen on {}: {e}", config.listen)))?;
    let bound = listener.local_addr().map_err(|e| Failure::Runtime(e.to_string()))?;
    let metrics_listener = match config.metrics_listen.0 {
        Some(addr) => Some(
            tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|e| Failure::Setup(format!("cannot listen on {addr} (metrics_listen): {e}")))?,
        ),
        None => None,
    };
    let socket_path = data_dir.join(common::admin::SOCKET_FILE);
    let admin_listener = ctl_socket::bind(&socket_path).map_err(Failure::Setup)?;

    let app = Arc::new(App {
        config: Arc::new(config),
        store: store.clone(),
        clock: clock.clone(),
        hasher,
        hash_slots,
        legacy_passwords: legacy_passwords.clone(),
        policy,
        tokens,
        sealer,
        mailer,
        captcha,
        auth0,
        webauthn,
        sms,
        files,
        authz,
        restrictions,
        management,
        started,
        listen: bound.to_string(),
        database: database.clone(),
        import: Default::default(),
        master_key: rotation,
        draining: Default::default(),
    });
    barongd::services::operator::import::recover(&app)
        .await
        .map_err(|e| Failure::Setup(format!("database {database}: import jobs: {e:?}")))?;

    if resume_rotation {
        tracing::info!("continuing the unfinished master-key rotation");
        master_key::spawn(app.clone());
    }

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mail_worker = app.mailer.spawn_worker(stop_rx.clone());
    let admin_task = tokio::spawn(ctl_socket::serve(app.clone(), admin_listener, socket_path.clone()));
    let janitor = tokio::spawn(janitor(store.clone(), clock.clone(), stop_rx.clone()));
    let legacy_recount = tokio::spawn(legacy_passwords::recount_loop(legacy_passwords, store.clone(), stop_rx.clone()));
    let restrictions_refresh = tokio::spawn(refresh::refresh_loop(app.clone(), stop_rx.clone()));
    let key_takeover = tokio::spawn(barongd::services::operator::keys::takeover_loop(app.clone(), stop_rx.clone()));
    let authz_poller = poller::spawn_poller(app.clone(), stop_rx.clone());
    // Only when the Event API is enabled (event_api_rabbitmq_url or _host).
    let event_publisher = publisher::worker::spawn(app.clone(), stop_rx.clone());

    let metrics_server = match metrics_listener {
        Some(listener) => {
            let addr = listener.local_addr().map_err(|e| Failure::Runtime(e.to_string()))?;
            // Worded apart from the API's "listening on" line, which tools wait for (so
            // this one is logged first: when that line is out, both listeners are up).
            tracing::info!("metrics and health probes served at http://{addr}/metrics");
            Some(http::ops::spawn(app.clone(), listener))
        }
        None => None,
    };
    tracing::info!(
        "barongd {} listening on http://{bound} (database {database}, data dir {}, admin socket {})",
        env!("CARGO_PKG_VERSION"),
        data_dir.display(),
        socket_path.display()
    );

    let routes = http::routes(app.clone());
    let mut stop_for_server = stop_rx.clone();
    let server = warp::serve(routes)
        .incoming(listener)
        .graceful(async move {
            let _ = stop_for_server.wait_for(|s| *s).await;
        })
        .run();
    let mut server = std::pin::pin!(server);
    tokio::select! {
        _ = &mut server => {}
        _ = shutdown_signal() => {
            tracing::info!("shutting down: finishing in-flight requests");
            app.draining.store(true, std::sync::atomic::Ordering::SeqCst);
            let _ = stop_tx.send(true);
            // In-flight requests get a bounded grace period; idle keep-alive connections do not hold us.
            if tokio::time::timeout(Duration::from_secs(10), &mut server).await.is_err() {
                tracing::warn!("in-flight requests still running after 10 s; exiting anyway");
            }
        }
    }
    let _ = stop_tx.send(true);
    admin_task.abort();
    let _ = tokio::time::timeout(Duration::from_secs(5), mail_worker).await;
    if let Some(publisher) = event_publisher {
        let _ = tokio::time::timeout(Duration::from_secs(5), publisher).await;
    }
    janitor.abort();
    legacy_recount.abort();
    restrictions_refresh.abort();
    key_takeover.abort();
    authz_poller.abort();
    if let Some(m) = metrics_server {
        m.abort();
    }
    let _ = std::fs::remove_file(&socket_path);
    tracing::info!("barongd stopped");
    Ok(())
}

/// Barong's `management_api.yml`, when configured; its problems stop start-up (exit 2) and its
/// warnings are logged once.
fn load_management_file(
    config: &Config,
) -> Result<Option<Arc<barongd::config::management_file::ManagementFile>>, Failure> {
    let path = &config.management_api.file;
    if path.is_empty() {
        tracing::warn!("management_api.file is not set: the Management API is off");
        return Ok(None);
    }
    // Barong could not boot without the file; here its absence only turns the API off.
    if !Path::new(path).exists() {
        tracing::warn!("management_api.file {path} does not exist: the Management API is off");
        return Ok(None);
    }
    let file = barongd::config::management_file::load(path, &|k| std::env::var(k).ok()).map_err(Failure::Setup)?;
    for w in &file.warnings {
        tracing::warn!("management_api.file {path}: {w}");
    }
    if config.management_api.allowed_networks.0.is_empty() {
        tracing::warn!("management_api.allowed_networks is empty: any peer may call the Management API");
    }
    Ok(Some(Arc::new(file)))
}

async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) {
        (Ok(mut term), Ok(mut int)) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        }
        _ => std::future::pending::<()>().await,
    }
}

/// Removes expired sessions, used tokens, nonces and throttle windows once a minute.
async fn janitor(store: store::DynStore, clock: Arc<dyn clock::Clock>, mut stop: tokio::sync::watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(60)) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        match store.purge_management_jtis(clock.now()).await {
            Ok(n) if n > 0 => tracing::debug!(purged = n, "expired management jtis removed"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "purging management jtis failed"),
        }
        match store.purge_expired(clock.now()).await {
            Ok(n) if n > 0 => tracing::debug!(purged = n, "expired rows removed"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "purging expired rows failed"),
        }
        match store.purge_nonces(clock.now()).await {
            Ok(n) if n > 0 => tracing::debug!(purged = n, "expired API-key nonces removed"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "purging API-key nonces failed"),
        }
    }
}

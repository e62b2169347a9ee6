//! `barongctl import …` (spec migration-from-barong §2.1): start a run of the Barong importer
//! and follow it, show a job's status and report, cancel or finish it. Secret inputs are read
//! here (files, stdin, the environment) and sent once to the daemon, which seals them.
//!
//! Exit codes besides the common ones: 3 preflight refused, 4 run failed or cancelled, 6
//! `--strict` and rows were skipped.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Args, Subcommand};
use common::admin::{ImportOptions, ImportSecrets, ImportStatus, Reply, ReplyData, Request, STAGE_PIECE};

use crate::client;
use crate::import_show::{print_progress, print_status, print_summary};
use crate::import_vault::VaultArgs;
use crate::secret_input::{read_secret, warn_if_readable_by_others};

#[derive(Subcommand, Debug)]
pub enum ImportVerb {
    /// Copy a Barong 2.7 database into barong-rs (a new job, or the next run of the open one).
    Barong(Box<BarongArgs>),
    /// A job's progress (the open or newest job by default).
    Status {
        job: Option<i64>,
        /// Refresh every 2 s until the run ends.
        #[arg(long)]
        watch: bool,
    },
    /// A job's report (§2.9), or one section of it.
    Report {
        job: Option<i64>,
        /// tables, secrets, totp_missing, apikeys_without_secret, files_missing, drift, passwords,
        /// skipped or config.
        #[arg(long)]
        section: Option<String>,
        /// Write the report (JSON) to this file instead of printing it.
        #[arg(long)]
        output_file: Option<PathBuf>,
    },
    /// Stop a job at its next batch; `--purge` deletes every row it wrote.
    Cancel {
        job: Option<i64>,
        #[arg(long)]
        purge: bool,
        #[arg(long)]
        yes: bool,
    },
    /// Close a completed job once Barong is stopped: barong-rs goes live.
    Finish {
        job: Option<i64>,
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Args, Debug)]
pub struct BarongArgs {
    /// The source: mysql://USER[:PASS]@HOST[:PORT]/DB (prefer --source-password-file).
    #[arg(long, conflicts_with = "from_env", required_unless_present = "from_env")]
    from: Option<String>,
    /// Build the source from DATABASE_* variables, of this process or of ENV_FILE.
    #[arg(long, num_args = 0..=1, value_name = "ENV_FILE")]
    from_env: Option<Option<PathBuf>>,
    /// The source database's password.
    #[arg(long)]
    source_password_file: Option<PathBuf>,
    /// SECRET_KEY_BASE (`-` = stdin; one trailing newline is stripped).
    #[arg(long)]
    secret_key_base_file: Option<PathBuf>,
    /// RAILS_ENV of the Barong that wrote the database (default production).
    #[arg(long)]
    rails_env: Option<String>,
    #[arg(long)]
    crc32_salt: Option<String>,
    /// TOTP seeds and API-key secrets exported from Vault (JSON or YAML); repeatable.
    #[arg(long)]
    secrets_file: Vec<PathBuf>,
    /// The JSON of `GET transit/export/encryption-key/<app>_apikeys_secret`.
    #[arg(long)]
    transit_key_file: Option<PathBuf>,
    #[arg(long)]
    vault_app_name: Option<String>,
    /// DIR (a copy of Barong's bucket or public/) or `none`.
    #[arg(long)]
    uploads: Option<String>,
    /// all, none or since=YYYY-MM-DD.
    #[arg(long, default_value = "all")]
    activities: String,
    /// Read, decrypt and check everything; write only the job record and its report.
    #[arg(long)]
    dry_run: bool,
    #[arg(long, default_value_t = 1000)]
    batch_size: i64,
    #[arg(long, default_value_t = 1000)]
    max_row_errors: i64,
    /// Exit 6 when rows were skipped (and stop at the first).
    #[arg(long)]
    strict: bool,
    /// Return once the run has started.
    #[arg(long)]
    detach: bool,
    /// Continue this job.
    #[arg(long)]
    job: Option<i64>,
    #[command(flatten)]
    vault: VaultArgs,
}

/// Runs an `import` verb to its end and says how the process exits.
pub fn run(verb: ImportVerb, socket: &Path, json: bool) -> ExitCode {
    match run_verb(verb, socket, json) {
        Ok(code) => code,
        Err(Failure::Usage(e)) => {
            eprintln!("barongctl: {e}");
            ExitCode::from(2)
        }
        Err(Failure::Unreachable(e)) => {
            eprintln!("barongctl: {e}");
            ExitCode::from(3)
        }
        Err(Failure::Refused(code, message)) => {
            if json {
                println!("{}", serde_json::json!({"ok": false, "error": {"code": code, "message": message}}));
            }
            eprintln!("barongctl: refused: {message} ({code})");
            ExitCode::from(1)
        }
    }
}

enum Failure {
    Usage(String),
    Unreachable(String),
    Refused(String, String),
}

fn call(socket: &Path, request: Request) -> Result<ReplyData, Failure> {
    data_of(client::call(socket, request).map_err(Failure::Unreachable)?)
}

fn data_of(reply: Reply) -> Result<ReplyData, Failure> {
    if !reply.ok {
        let e = reply.error.unwrap_or(common::admin::AdminError { code: "unknown".into(), message: String::new() });
        return Err(Failure::Refused(e.code, e.message));
    }
    reply.data.ok_or_else(|| Failure::Unreachable("empty reply from barongd".into()))
}

fn status_call(socket: &Path, job: Option<i64>) -> Result<ImportStatus, Failure> {
    match call(socket, Request::ImportStatus { job })? {
        ReplyData::ImportStatus(s) => Ok(*s),
        _ => Err(Failure::Unreachable("unexpected reply from barongd".into())),
    }
}

fn run_verb(verb: ImportVerb, socket: &Path, json: bool) -> Result<ExitCode, Failure> {
    match verb {
        ImportVerb::Barong(args) => barong(*args, socket, json),
        ImportVerb::Status { job, watch } => {
            let mut s = status_call(socket, job)?;
            while watch && is_running(&s) {
                print_progress(&s);
                std::thread::sleep(Duration::from_secs(2));
                s = status_call(socket, Some(s.job))?;
            }
            print_status(&s, json);
            Ok(ExitCode::SUCCESS)
        }
        ImportVerb::Report { job, section, output_file } => {
            let ReplyData::ImportReport { report } = call(socket, Request::ImportReport { job, section })? else {
                return Err(Failure::Unreachable("unexpected reply from barongd".into()));
            };
            let text = serde_json::to_string_pretty(&report).unwrap_or_default();
            match output_file {
                Some(path) => {
                    write_private(&path, &text).map_err(|e| Failure::Usage(format!("{}: {e}", path.display())))?
                }
                None => println!("{text}"),
            }
            Ok(ExitCode::SUCCESS)
        }
        ImportVerb::Cancel { job, purge, yes } => {
            if purge && !confirmed(yes, "Delete every row this import wrote?") {
                return Err(Failure::Usage("--purge deletes imported rows: confirm with --yes".into()));
            }
            let s = status_from(call(socket, Request::ImportCancel { job, purge })?)?;
            print_status(&s, json);
            Ok(ExitCode::SUCCESS)
        }
        ImportVerb::Finish { job, yes } => {
            if !confirmed(yes, "Finish the import and open barong-rs's API?") {
                return Err(Failure::Usage("finish opens the API: confirm with --yes".into()));
            }
            let s = status_from(call(socket, Request::ImportFinish { job })?)?;
            print_status(&s, json);
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn status_from(data: ReplyData) -> Result<ImportStatus, Failure> {
    match data {
        ReplyData::ImportStatus(s) => Ok(*s),
        _ => Err(Failure::Unreachable("unexpected reply from barongd".into())),
    }
}

/// Asks on a terminal unless `--yes`; without a terminal only `--yes` confirms.
fn confirmed(yes: bool, prompt: &str) -> bool {
    use std::io::IsTerminal;
    if yes {
        return true;
    }
    if !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
        return false;
    }
    dialoguer::Confirm::new().with_prompt(prompt).default(false).interact().unwrap_or(false)
}

fn barong(a: BarongArgs, socket: &Path, json: bool) -> Result<ExitCode, Failure> {
    let env = match &a.from_env {
        Some(Some(file)) => {
            let text = std::fs::read_to_string(file).map_err(|e| Failure::Usage(format!("{}: {e}", file.display())))?;
            barong_legacy::env_file::parse(&text)
        }
        Some(None) => std::env::vars().collect(),
        None => BTreeMap::new(),
    };
    let from_env = a.from_env.is_some();
    let get = |k: &str| if from_env { env.get(k).cloned() } else { None };
    let url = match &a.from {
        Some(u) => u.clone(),
        None => barong_legacy::env_file::source_url(&|k| env.get(k).cloned()).map_err(Failure::Usage)?,
    };
    let (source, url_password) = split_password(&url);
    let source_password = match &a.source_password_file {
        Some(f) => Some(read_secret(f).map_err(Failure::Usage)?),
        None => url_password,
    };
    let secret_key_base = match &a.secret_key_base_file {
        Some(f) => Some(read_secret(f).map_err(Failure::Usage)?),
        None => get("SECRET_KEY_BASE"),
    };
    if let Some(k) = &secret_key_base
        && k.trim() != k
    {
        eprintln!("barongctl: warning: SECRET_KEY_BASE has surrounding whitespace; it is used as given");
    }
    let mut secrets_files = Vec::new();
    for f in &a.secrets_file {
        warn_if_readable_by_others(f);
        secrets_files.push(std::fs::read_to_string(f).map_err(|e| Failure::Usage(format!("{}: {e}", f.display())))?);
    }
    let transit_key = match &a.transit_key_file {
        Some(f) => Some(std::fs::read_to_string(f).map_err(|e| Failure::Usage(format!("{}: {e}", f.display())))?),
        None => None,
    };
    let (vault, vault_token) = a.vault.resolve(&get).map_err(Failure::Usage)?;
    let uploads = a
        .uploads
        .map(|u| if u == "none" { u } else { std::fs::canonicalize(&u).map(|p| p.display().to_string()).unwrap_or(u) });
    let options = ImportOptions {
        source,
        rails_env: a.rails_env.or_else(|| get("RAILS_ENV")).unwrap_or_else(|| "production".into()),
        crc32_salt: a.crc32_salt.or_else(|| get("BARONG_CRC32_SALT")).unwrap_or_default(),
        vault_app_name: a.vault_app_name.or_else(|| get("BARONG_VAULT_APP_NAME")).unwrap_or_else(|| "barong".into()),
        uploads,
        activities: a.activities,
        dry_run: a.dry_run,
        batch_size: a.batch_size,
        max_row_errors: if a.strict { 0 } else { a.max_row_errors },
        job: a.job,
        vault,
    };
    let secrets =
        ImportSecrets { secret_key_base, source_password, secrets_files: Vec::new(), transit_key, vault_token };
    let started = status_from(start(socket, options, secrets, &secrets_files)?)?;
    if !json {
        println!("job {} run started: source {}", started.job, started.source);
    }
    if a.detach {
        print_status(&started, json);
        return Ok(ExitCode::SUCCESS);
    }
    let begun = Instant::now();
    let mut last_print = Instant::now();
    let mut s = started;
    loop {
        std::thread::sleep(Duration::from_millis(300));
        s = status_call(socket, Some(s.job))?;
        if !is_running(&s) {
            break;
        }
        if !json && last_print.elapsed() >= Duration::from_secs(2) {
            print_progress(&s);
            last_print = Instant::now();
        }
    }
    if json {
        print_status(&s, true);
    } else {
        print_summary(&s, begun.elapsed());
    }
    Ok(exit_code(&s, a.strict))
}

/// Sends the secrets files in frame-sized pieces on one connection, then the start request on
/// the same connection, which takes them with it (an export for 100,000 users is megabytes).
fn start(
    socket: &Path,
    options: ImportOptions,
    secrets: ImportSecrets,
    files: &[String],
) -> Result<ReplyData, Failure> {
    let mut session = client::Session::connect(socket).map_err(Failure::Unreachable)?;
    for (file, text) in files.iter().enumerate() {
        for part in pieces(text, STAGE_PIECE) {
            data_of(
                session.send(Request::ImportStage { file, part: part.to_string() }).map_err(Failure::Unreachable)?,
            )?;
        }
    }
    data_of(session.send(Request::ImportStart { options: Box::new(options), secrets }).map_err(Failure::Unreachable)?)
}

/// `text` cut into pieces of at most `max` bytes on character boundaries; an empty text is one
/// empty piece, so the file still counts.
fn pieces(text: &str, max: usize) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while rest.len() > max {
        let mut cut = max;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        let (head, tail) = rest.split_at(cut);
        out.push(head);
        rest = tail;
    }
    out.push(rest);
    out
}

fn is_running(s: &ImportStatus) -> bool {
    matches!(s.state.as_str(), "preflight" | "running")
}

/// §2.1's exit codes for the end of a run.
fn exit_code(s: &ImportStatus, strict: bool) -> ExitCode {
    if !s.refusals.is_empty() {
        for r in &s.refusals {
            eprintln!("barongctl: preflight refused: {r}");
        }
        return ExitCode::from(3);
    }
    // A dry run that stopped keeps its state (nothing to continue) but not its exit code.
    if matches!(s.state.as_str(), "failed" | "cancelled" | "interrupted") || (s.dry_run && s.last_error.is_some()) {
        eprintln!("barongctl: run {}: {}", s.state, s.last_error.clone().unwrap_or_default());
        return ExitCode::from(4);
    }
    if strict && s.last_run.get("skipped").copied().unwrap_or(0) > 0 {
        return ExitCode::from(6);
    }
    ExitCode::SUCCESS
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?;
    f.write_all(text.as_bytes())
}

/// The URL without its password, and the password (percent-decoded), so the password never
/// lands in the job's stored options.
fn split_password(url: &str) -> (String, Option<String>) {
    let Some((scheme, rest)) = url.split_once("://") else { return (url.to_string(), None) };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let Some((userinfo, host)) = authority.rsplit_once('@') else { return (url.to_string(), None) };
    let Some((user, password)) = userinfo.split_once(':') else { return (url.to_string(), None) };
    (format!("{scheme}://{user}@{host}{path}"), Some(percent_decode(password)))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match hex.filter(|_| bytes[i] == b'%').and_then(|h| u8::from_str_radix(h, 16).ok()) {
            Some(b) => {
                out.push(b);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_leaves_the_url() {
        let (url, pw) = split_password("mysql://barong:s%40cret@10.0.0.5:3306/barong_production");
        assert_eq!(url, "mysql://barong@10.0.0.5:3306/barong_production");
        assert_eq!(pw.as_deref(), Some("s@cret"));
        let (url, pw) = split_password("mysql://root@127.0.0.1/db");
        assert_eq!((url.as_str(), pw), ("mysql://root@127.0.0.1/db", None));
    }

    #[test]
    fn pieces_cut_on_character_boundaries_and_join_back() {
        let text = "é".repeat(10) + "abc";
        let parts = pieces(&text, 3);
        assert!(parts.iter().all(|p| p.len() <= 3), "{parts:?}");
        assert_eq!(parts.concat(), text);
        assert_eq!(pieces("", 3), vec![""]);
    }
}

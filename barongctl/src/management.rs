//! `barongctl management check [--file PATH]` (spec §7): what a Management API file configures
//! and what is wrong with it. Without `--file` the daemon reports the file it loaded and the
//! settings it runs with; with it the file is linted here, offline, by the same code the daemon
//! loads files with. Exit 0 without errors, 1 with errors, 3 when the daemon is unreachable.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Subcommand;
use common::admin::{ManagementReport, Request, Severity};

use crate::table::table;

#[derive(Subcommand, Debug)]
pub enum ManagementVerb {
    /// Lint the Management API file: the daemon's (default) or PATH, offline.
    Check {
        /// Lint this file here instead of asking the daemon (ERB reads this environment).
        #[arg(long)]
        file: Option<PathBuf>,
    },
}

/// The file to lint offline, if the command names one.
pub fn offline_file(verb: &ManagementVerb) -> Option<&Path> {
    let ManagementVerb::Check { file } = verb;
    file.as_deref()
}

pub fn request(_verb: ManagementVerb) -> Request {
    Request::ManagementCheck
}

/// `--file PATH`: read, lint, print; 2 when the file cannot be read.
pub fn check_offline(path: &Path, json: bool) -> ExitCode {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("barongctl: cannot read {}: {e}", path.display());
            return ExitCode::from(2);
        }
    };
    let text = String::from_utf8_lossy(&bytes);
    let lint = mgmtlint::lint(&text, &|k| std::env::var(k).ok());
    let shown = path.display().to_string();
    let report = mgmtlint::report(&lint, Some((&shown, &bytes)));
    print(&report, json)
}

/// Prints the report (one JSON document with `json`); the exit code says whether it holds errors.
pub fn print(r: &ManagementReport, json: bool) -> ExitCode {
    if json {
        match serde_json::to_string(r) {
            Ok(s) => println!("{s}"),
            Err(e) => {
                eprintln!("barongctl: cannot encode output: {e}");
                return ExitCode::from(1);
            }
        }
    } else {
        print_text(r);
    }
    if r.has_errors() { ExitCode::from(1) } else { ExitCode::SUCCESS }
}

fn print_text(r: &ManagementReport) {
    let file = match (&r.file, &r.sha256) {
        (Some(f), Some(sha)) => format!("{f} (sha256 {})", &sha[..sha.len().min(12)]),
        (Some(f), None) => f.clone(),
        _ => "(none: the Management API is disabled)".into(),
    };
    println!("file        {file}");
    if let Some(s) = &r.settings {
        println!(
            "networks    {}",
            if s.allowed_networks.is_empty() { "any".into() } else { s.allowed_networks.join(", ") }
        );
        println!(
            "hardening   require_exp={}  max_token_lifetime={}s  jti_single_use={}  jwt: {}",
            s.require_exp, s.max_token_lifetime, s.jti_single_use, r.jwt
        );
    } else {
        println!("hardening   (daemon settings not read offline)  jwt: {}", r.jwt);
    }
    let mut keys = table(&["KEY", "TYPE", "FINGERPRINT (SPKI SHA-256)", "CONFIGURED", "ACCEPTED"]);
    for k in &r.keys {
        let fp = if k.fingerprint.len() > 8 {
            format!("{}…{}", &k.fingerprint[..4], &k.fingerprint[k.fingerprint.len() - 2..])
        } else {
            k.fingerprint.clone()
        };
        keys.add_row(vec![
            k.id.clone(),
            k.kind.clone(),
            fp,
            k.configured.clone().unwrap_or_default(),
            k.accepted.join(" "),
        ]);
    }
    println!("{keys}");
    let mut scopes = table(&["SCOPE", "PERMITTED", "MANDATORY", "ENDPOINTS"]);
    for s in &r.scopes {
        scopes.add_row(vec![s.name.clone(), s.permitted.join(" "), s.mandatory.join(" "), s.endpoints.join(", ")]);
    }
    println!("{scopes}");
    if r.problems.is_empty() {
        println!("problems: none");
        return;
    }
    println!("problems:");
    for p in &r.problems {
        let level = if p.severity == Severity::Error { "error  " } else { "warning" };
        println!("  {level} {}", p.text);
    }
}

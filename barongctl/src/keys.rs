//! `barongctl keys ...`: the JWT signing keys. A change reaches every daemon on the database
//! within a second. A private key file is read here and sent over the socket; it and its
//! passphrase are never printed.

use std::io::Read;
use std::path::PathBuf;

use clap::{Subcommand, ValueEnum};
use common::admin::{ImportedKeyInfo, PublicKeyExport, PublicKeyFormat, Request, SigningKeyInfo};
use common::jwt::JwtAlgorithm;

use crate::table::table;

/// Largest key file read (an RSA 8192 PEM is under 7 KiB).
const MAX_KEY_FILE: u64 = 64 * 1024;

#[derive(Subcommand, Debug)]
pub enum KeysVerb {
    /// The signing keys: the active one and the previous ones that still verify.
    List,
    /// Publish a fresh key in the JWKS; it signs after `jwt_key_activation_delay` (default 300 s),
    /// so consumers caching the JWKS know it first. Tokens signed by the old key stay valid until
    /// they expire.
    Rotate {
        /// Algorithm of the new key (default: the daemon's `jwt_algorithm`). The daemon's next
        /// start rotates back to `jwt_algorithm` if it differs.
        #[arg(long, value_enum)]
        algorithm: Option<KeyAlgorithm>,
        /// Sign with the new key at once (an emergency, e.g. a leaked key: consumers caching the
        /// JWKS refuse its tokens until they refresh it).
        #[arg(long)]
        now: bool,
    },
    /// Add a private key (PEM: PKCS#1 RSA, PKCS#8 RSA / EC P-256 / Ed25519, SEC1 EC) to the
    /// keyring, e.g. Barong's JWT key. Its kid is its RFC 7638 thumbprint.
    Import {
        file: PathBuf,
        /// Make it the signing key at once, on every daemon (the migration path: consumers
        /// already pin this key).
        #[arg(long)]
        activate: bool,
        /// Read the passphrase of an encrypted PKCS#8 key from the first line of stdin.
        #[arg(long)]
        passphrase_stdin: bool,
    },
    /// Make a stored key the signing key once it has been in the JWKS for
    /// `jwt_key_activation_delay`; the active one stays verify-only until its tokens expire.
    Activate {
        /// A thumbprint kid may start with `-` (base64url).
        #[arg(allow_hyphen_values = true)]
        kid: String,
        /// At once, however recently the key was published.
        #[arg(long)]
        now: bool,
    },
    /// Re-seal every secret at rest (PII, TOTP seeds, API-key secrets, signing keys, queued
    /// events) under a new master key, online; continues an unfinished rotation, and shows where
    /// it stands. Needs the key file (`keys/master.key`), not BARONG_MASTER_KEY.
    RotateMaster {
        /// Confirm without a prompt.
        #[arg(long)]
        yes: bool,
        /// Follow the rotation to its end, with progress on stderr.
        #[arg(long)]
        wait: bool,
    },
    /// Where the latest master-key rotation stands.
    MasterStatus,
    /// Print a public key (default: the active one) for a consumer.
    ExportPublic {
        #[arg(allow_hyphen_values = true)]
        kid: Option<String>,
        /// pem (SPKI), jwk, jwks, or peatio (URL-safe Base64 of the PEM: JWT_PUBLIC_KEY).
        #[arg(long, value_enum, default_value_t = ExportFormat::Pem)]
        format: ExportFormat,
        /// Shorthand for `--format pem`.
        #[arg(long, conflicts_with = "format")]
        pem: bool,
    },
}

/// `keys rotate --algorithm`: the JOSE names, exactly (`common::jwt::JwtAlgorithm`).
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyAlgorithm {
    /// RSA 2048 (Barong's algorithm).
    #[value(name = "RS256")]
    Rs256,
    /// ECDSA P-256.
    #[value(name = "ES256")]
    Es256,
    /// Ed25519.
    #[value(name = "EdDSA")]
    EdDsa,
}

impl From<KeyAlgorithm> for JwtAlgorithm {
    fn from(a: KeyAlgorithm) -> JwtAlgorithm {
        match a {
            KeyAlgorithm::Rs256 => JwtAlgorithm::Rs256,
            KeyAlgorithm::Es256 => JwtAlgorithm::Es256,
            KeyAlgorithm::EdDsa => JwtAlgorithm::EdDsa,
        }
    }
}

/// `keys export-public --format`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    Pem,
    Jwk,
    Jwks,
    Peatio,
}

impl From<ExportFormat> for PublicKeyFormat {
    fn from(f: ExportFormat) -> PublicKeyFormat {
        match f {
            ExportFormat::Pem => PublicKeyFormat::Pem,
            ExportFormat::Jwk => PublicKeyFormat::Jwk,
            ExportFormat::Jwks => PublicKeyFormat::Jwks,
            ExportFormat::Peatio => PublicKeyFormat::Peatio,
        }
    }
}

pub fn request(verb: KeysVerb) -> Result<Request, String> {
    Ok(match verb {
        KeysVerb::List => Request::KeysList,
        KeysVerb::Rotate { algorithm, now } => {
            Request::KeysRotate { algorithm: algorithm.map(JwtAlgorithm::from), now }
        }
        KeysVerb::Import { file, activate, passphrase_stdin } => {
            let pem = read_key_file(&file)?;
            let passphrase = if passphrase_stdin { Some(read_passphrase()?) } else { None };
            Request::KeysImport { pem, passphrase, activate }
        }
        KeysVerb::Activate { kid, now } => Request::KeysActivate { kid, now },
        KeysVerb::ExportPublic { kid, format, pem } => {
            let format = if pem { ExportFormat::Pem } else { format };
            Request::KeysExportPublic { kid, format: format.into() }
        }
        KeysVerb::RotateMaster { yes, .. } => {
            if !crate::master_key::confirmed(yes) {
                return Err("rotate-master re-seals every secret under a new master key: confirm with --yes".into());
            }
            Request::MasterKeyRotate
        }
        KeysVerb::MasterStatus => Request::MasterKeyStatus,
    })
}

/// The file's text; errors name the file, never its content.
fn read_key_file(file: &std::path::Path) -> Result<String, String> {
    let f = std::fs::File::open(file).map_err(|e| format!("{}: {e}", file.display()))?;
    let mut text = String::new();
    f.take(MAX_KEY_FILE + 1)
        .read_to_string(&mut text)
        .map_err(|e| format!("{}: {e} (a PEM key file is text)", file.display()))?;
    if text.len() as u64 > MAX_KEY_FILE {
        return Err(format!("{}: larger than {MAX_KEY_FILE} bytes, not a PEM key file", file.display()));
    }
    Ok(text)
}

fn read_passphrase() -> Result<String, String> {
    let mut s = String::new();
    std::io::stdin().take(64 * 1024).read_to_string(&mut s).map_err(|e| format!("reading stdin: {e}"))?;
    let line = s.lines().next().unwrap_or("").to_string();
    if line.is_empty() {
        return Err("--passphrase-stdin: stdin held no passphrase".into());
    }
    Ok(line)
}

fn print_warnings(warnings: &[String]) {
    for w in warnings {
        eprintln!("warning: {w}");
    }
}

pub fn print_keys(keys: &[SigningKeyInfo]) {
    let mut t = table(&["kid", "algorithm", "state", "created", "signs from"]);
    for k in keys {
        let from = k.takes_over_at.clone().unwrap_or_default();
        t.add_row(vec![k.kid.clone(), k.algorithm.clone(), k.state.clone(), k.created_at.clone(), from]);
    }
    println!("{t}");
    for k in keys {
        print_warnings(&k.warnings);
    }
}

pub fn print_imported(k: &ImportedKeyInfo) {
    if k.already_present {
        println!("already present: {}", k.kid);
    }
    let mut t = table(&["kid", "algorithm", "size", "state", "SHA-256 fingerprint"]);
    t.add_row(vec![k.kid.clone(), k.algorithm.clone(), k.size.to_string(), k.state.clone(), k.fingerprint.clone()]);
    println!("{t}");
    println!("public key (Peatio JWT_PUBLIC_KEY):\n{}", k.public_key);
    print_warnings(&k.warnings);
}

/// The text alone, so it can be redirected into a consumer's configuration.
pub fn print_public(k: &PublicKeyExport) {
    if k.text.ends_with('\n') {
        print!("{}", k.text);
    } else {
        println!("{}", k.text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_algorithm_flag_takes_every_jwt_algorithm_by_its_jose_name() {
        for v in KeyAlgorithm::value_variants() {
            let name = v.to_possible_value().map(|p| p.get_name().to_string()).unwrap_or_default();
            assert_eq!(name.parse::<JwtAlgorithm>(), Ok(JwtAlgorithm::from(*v)));
        }
        assert_eq!(KeyAlgorithm::value_variants().len(), JwtAlgorithm::ALL.len());
    }

    #[test]
    fn kids_may_start_with_a_hyphen() {
        use clap::Parser;
        #[derive(Parser)]
        struct Cli {
            #[command(subcommand)]
            verb: KeysVerb,
        }
        for args in [["x", "activate", "-7JQ-b3w"], ["x", "export-public", "-7JQ-b3w"]] {
            let cli = Cli::try_parse_from(args).map_err(|e| e.to_string());
            let kid = match cli.map(|c| c.verb) {
                Ok(KeysVerb::Activate { kid, .. }) | Ok(KeysVerb::ExportPublic { kid: Some(kid), .. }) => kid,
                other => panic!("{other:?}"),
            };
            assert_eq!(kid, "-7JQ-b3w");
        }
    }

    #[test]
    fn a_missing_key_file_is_named_and_nothing_is_sent() {
        let verb = KeysVerb::Import { file: "/nonexistent/key.pem".into(), activate: true, passphrase_stdin: false };
        let e = request(verb).err().unwrap_or_default();
        assert!(e.starts_with("/nonexistent/key.pem:"), "{e}");
    }
}

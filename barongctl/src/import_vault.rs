//! `import barong`'s Vault options (spec §2.1): where Vault is, the token, how seeds are read.

use std::path::PathBuf;

use clap::Args;
use common::admin::VaultOptions;

use crate::secret_input::read_secret;

#[derive(Args, Debug, Default)]
pub struct VaultArgs {
    /// Read seeds and secrets from this Vault (`none`: not at all). Default with --from-env:
    /// BARONG_VAULT_ADDRESS, then VAULT_ADDR.
    #[arg(long)]
    vault_addr: Option<String>,
    /// The Vault token, from a file (`-` = stdin).
    #[arg(long, conflicts_with = "vault_token")]
    vault_token_file: Option<PathBuf>,
    /// The Vault token (visible in `ps`: prefer --vault-token-file).
    #[arg(long)]
    vault_token: Option<String>,
    /// export (the openware build's totp/export), raw (stock Vault's sys/raw) or none.
    #[arg(long, default_value = "export")]
    vault_totp: String,
    #[arg(long, default_value = "totp")]
    vault_totp_mount: String,
    #[arg(long, default_value = "transit")]
    vault_transit_mount: String,
    /// Compare N imported seeds with the codes Vault computes; a mismatch stops the run.
    #[arg(long, default_value_t = 0)]
    vault_verify_totp: u32,
    /// A CA certificate (PEM) to trust for Vault.
    #[arg(long)]
    vault_ca_file: Option<PathBuf>,
    /// Accept any certificate from Vault.
    #[arg(long)]
    vault_skip_verify: bool,
}

impl VaultArgs {
    /// The options and the token; `get` reads the `--from-env` source.
    pub fn resolve(
        self,
        get: &dyn Fn(&str) -> Option<String>,
    ) -> Result<(Option<VaultOptions>, Option<String>), String> {
        let addr = self.vault_addr.or_else(|| get("BARONG_VAULT_ADDRESS")).or_else(|| get("VAULT_ADDR"));
        let Some(addr) = addr.filter(|a| !a.is_empty() && a != "none") else { return Ok((None, None)) };
        if !addr.starts_with("http://") && !addr.starts_with("https://") {
            return Err(format!("--vault-addr {addr:?}: give http(s)://HOST:PORT"));
        }
        let token = match (&self.vault_token_file, self.vault_token) {
            (Some(f), _) => Some(read_secret(f)?),
            (None, Some(t)) => Some(t),
            (None, None) => get("BARONG_VAULT_TOKEN").or_else(|| get("VAULT_TOKEN")),
        };
        if token.as_deref().is_none_or(str::is_empty) {
            return Err("a Vault token is needed with --vault-addr: --vault-token-file FILE".into());
        }
        let ca_pem = match &self.vault_ca_file {
            Some(f) => Some(std::fs::read_to_string(f).map_err(|e| format!("{}: {e}", f.display()))?),
            None => None,
        };
        let options = VaultOptions {
            addr,
            totp: self.vault_totp,
            totp_mount: self.vault_totp_mount,
            transit_mount: self.vault_transit_mount,
            verify_totp: self.vault_verify_totp,
            ca_pem,
            skip_verify: self.vault_skip_verify,
        };
        Ok((Some(options), token))
    }
}

//! Vault as a secrets source during a run (spec §2.3, §2.8): the preflight proves the token can
//! read every path the run needs, the fetch asks Vault for what the secrets files lack, and
//! `--vault-verify-totp` compares imported seeds with the codes Vault computes.

use futures::StreamExt;
use rand::seq::SliceRandom;

use super::report::Report;
use super::secrets::SecretSources;
use super::source::Source;
use super::vault::{Vault, unreachable};

/// Concurrent seed reads: Vault serves them from memory, the round trip is what costs.
const SEED_READS_IN_FLIGHT: usize = 16;

/// What the run needs from Vault, probed with one real request per path (`import.vault_unreachable`).
pub async fn preflight(vault: &Vault, source: &mut Source, refusals: &mut Vec<String>) {
    if let Err(e) = vault.health().await {
        refusals.push(e);
        return;
    }
    match source.transit_ciphertexts().await {
        Ok(keys) => {
            if let Some((_, first)) = keys.first()
                && let Err(e) = vault.decrypt(&[first.as_str()]).await
            {
                refusals.push(e);
            }
        }
        Err(e) => refusals.push(e),
    }
    if vault.options.totp == "none" {
        return;
    }
    let uuid = match raw_uuid(vault).await {
        Ok(u) => u,
        Err(e) => {
            refusals.push(e);
            return;
        }
    };
    match source.otp_uids().await {
        Ok(uids) => {
            if let Some(uid) = uids.first()
                && let Err(e) = vault.totp_seed(uid, uuid.as_deref()).await
            {
                refusals.push(e);
            }
        }
        Err(e) => refusals.push(e),
    }
}

async fn raw_uuid(vault: &Vault) -> Result<Option<String>, String> {
    match vault.options.totp.as_str() {
        "raw" => vault.totp_mount_uuid().await.map(Some),
        _ => Ok(None),
    }
}

/// Asks Vault for every API-key secret and TOTP seed the files did not carry, inside the run's
/// snapshot, `batch` ciphertexts per decrypt call.
pub async fn fetch(
    vault: &Vault,
    source: &mut Source,
    secrets: &mut SecretSources,
    batch: usize,
    report: &mut Report,
) -> Result<(), String> {
    let keys: Vec<(String, String)> = source
        .transit_ciphertexts()
        .await?
        .into_iter()
        .filter(|(kid, stored)| secrets.needs_vault(kid, stored))
        .collect();
    for chunk in keys.chunks(batch.max(1)) {
        let ciphertexts: Vec<&str> = chunk.iter().map(|(_, c)| c.as_str()).collect();
        let verdicts = vault.decrypt(&ciphertexts).await?;
        for ((kid, _), verdict) in chunk.iter().zip(verdicts) {
            secrets.add_vault_key(kid.clone(), verdict);
        }
    }
    if vault.options.totp == "none" {
        return Ok(());
    }
    let uuid = raw_uuid(vault).await?;
    let wanted: Vec<String> = source.otp_uids().await?.into_iter().filter(|u| !secrets.has_totp(u)).collect();
    let asked = wanted.len();
    let mut reads = futures::stream::iter(wanted.into_iter().map(|uid| {
        let uuid = uuid.clone();
        async move {
            let seed = vault.totp_seed(&uid, uuid.as_deref()).await;
            (uid, seed)
        }
    }))
    .buffer_unordered(SEED_READS_IN_FLIGHT);
    let mut absent = 0;
    while let Some((uid, seed)) = reads.next().await {
        match seed? {
            Some(seed) => secrets.add_vault_totp(uid, seed),
            None => absent += 1,
        }
    }
    if absent > 0 && absent == asked && vault.options.totp == "export" {
        // Stock Vault has no `totp/export` route and answers it with 404 too.
        report.warn(
            "vault",
            format!(
                "Vault had no TOTP key for any of {asked} users with 2FA: if it is stock Vault, use --vault-totp raw"
            ),
        );
    } else if absent > 0 {
        report.warn("vault", format!("{absent} user(s) with 2FA have no TOTP key in Vault"));
    }
    Ok(())
}

/// `--vault-verify-totp N`: the code computed from N random Vault-read seeds must equal the one
/// Vault computes (`import.totp_export_mismatch` otherwise). A code is taken before and after
/// Vault's answer, so a 30 s boundary in between is no mismatch.
pub async fn verify(vault: &Vault, secrets: &SecretSources, n: u32) -> Result<(), String> {
    let mut seeded = secrets.vault_seeded();
    seeded.shuffle(&mut rand::rngs::OsRng);
    for (uid, seed) in seeded.into_iter().take(n as usize) {
        let before = code_now(&seed)?;
        let vaults = vault.totp_code(&uid).await?;
        let after = code_now(&seed)?;
        if vaults != before && vaults != after {
            return Err(format!(
                "import.totp_export_mismatch: the seed read for user {uid} does not give the code Vault computes"
            ));
        }
    }
    Ok(())
}

fn code_now(seed: &[u8]) -> Result<String, String> {
    let totp = totp_rs::TOTP::new_unchecked(totp_rs::Algorithm::SHA1, 6, 1, 30, seed.to_vec(), None, String::new());
    totp.generate_current().map_err(|e| unreachable(format!("clock: {e}")))
}

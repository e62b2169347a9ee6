//! `barongctl keys ...`: the JWT signing keys. Every change lands in the change feed (triggers),
//! so every daemon signs with the new active key within a second; this daemon applies it before
//! answering.

use common::admin::{ImportedKeyInfo, PublicKeyExport, PublicKeyFormat, SigningKeyInfo};
use common::jwt::JwtAlgorithm;
use zeroize::Zeroizing;

use crate::model::SigningKeyState;
use crate::services::App;
use crate::services::clock::iso8601;
use crate::services::error::{ServiceError, ServiceResult};
use crate::services::gateway::poller;

/// What changing the signing key asks of the operator: consumers that pin the public key itself
/// (none of them reads `kid` or the JWKS) reject tokens and events of the new key until updated.
pub const PINNED_CONSUMERS_WARNING: &str = "consumers pinning the previous public key must be updated: Peatio \
     (and other upstreams) JWT_PUBLIC_KEY, the Barong mailer's keychain (mailer.yml), and Management API keychains \
     that list this server (`barongctl keys export-public --format peatio` prints the new one); consumers of \
     /.well-known/jwks.json need nothing";

/// The keys that sign or verify, the active one first.
pub async fn list(app: &App) -> ServiceResult<Vec<SigningKeyInfo>> {
    let mut rows = app.store.signing_keys().await?;
    rows.sort_by_key(|r| r.state != SigningKeyState::Active);
    Ok(rows
        .into_iter()
        .map(|r| SigningKeyInfo {
            kid: r.kid,
            algorithm: r.algorithm,
            state: r.state.to_string(),
            created_at: iso8601(r.created_at),
            takes_over_at: (r.state != SigningKeyState::Previous).then(|| iso8601(r.takes_over_at)),
            warnings: Vec::new(),
        })
        .collect())
}

async fn info_with_warning(app: &App, kid: &str) -> ServiceResult<SigningKeyInfo> {
    let mut info = list(app)
        .await?
        .into_iter()
        .find(|k| k.kid == kid)
        .ok_or_else(|| ServiceError::internal("activated key not found"))?;
    info.warnings.push(PINNED_CONSUMERS_WARNING.to_string());
    Ok(info)
}

/// `keys rotate [--now]`: a fresh key of `algorithm`, or of the configured `jwt_algorithm`,
/// published at once and signing after `jwt_key_activation_delay` (with `--now`, at once).
pub async fn rotate(app: &App, algorithm: Option<JwtAlgorithm>, at_once: bool) -> ServiceResult<SigningKeyInfo> {
    let algorithm = algorithm.unwrap_or(app.config.jwt_algorithm);
    let (kid, at) = app.tokens.rotate(&app.store, &app.sealer, algorithm, app.clock.now(), at_once).await?;
    poller::catch_up(app).await;
    tracing::info!(%kid, %algorithm, signs_from = %iso8601(at), "signing key rotated by the operator");
    info_with_warning(app, &kid).await
}

/// `keys activate KID [--now]`.
pub async fn activate(app: &App, kid: &str, at_once: bool) -> ServiceResult<SigningKeyInfo> {
    let at = app.tokens.activate(&app.store, &app.sealer, kid, app.clock.now(), at_once).await?;
    poller::catch_up(app).await;
    tracing::info!(%kid, signs_from = %iso8601(at), "signing key activated by the operator");
    info_with_warning(app, kid).await
}

/// Activates a published `next` key when its time comes, on whichever daemon sees it first, until
/// `stop` turns true.
pub async fn takeover_loop(app: std::sync::Arc<App>, mut stop: tokio::sync::watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        match app.tokens.activate_due(&app.store, &app.sealer, app.clock.now()).await {
            Ok(Some(_)) => poller::catch_up(&app).await,
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "activating the next signing key failed; retrying"),
        }
    }
}

/// `keys import`: the PEM text and passphrase as barongctl read them (never logged).
pub async fn import(
    app: &App,
    pem: String,
    passphrase: Option<String>,
    activate: bool,
) -> ServiceResult<ImportedKeyInfo> {
    let was_active = app.tokens.export_public(None, PublicKeyFormat::Pem)?.kid;
    let imported = app
        .tokens
        .import(&app.store, &app.sealer, Zeroizing::new(pem), passphrase.map(Zeroizing::new), activate, app.clock.now())
        .await?;
    poller::catch_up(app).await;
    tracing::info!(
        kid = %imported.kid,
        algorithm = %imported.algorithm,
        state = %imported.state,
        already_present = imported.already_present,
        "signing key imported by the operator"
    );
    let mut warnings = Vec::new();
    if activate && was_active.as_deref() != Some(imported.kid.as_str()) {
        warnings.push(PINNED_CONSUMERS_WARNING.to_string());
    }
    if activate && app.tokens.pinned().is_none() && imported.algorithm != app.config.jwt_algorithm {
        warnings.push(format!(
            "jwt_algorithm is {}: the next start makes a fresh {} key active unless jwt_algorithm is set to {}",
            app.config.jwt_algorithm, app.config.jwt_algorithm, imported.algorithm
        ));
    }
    Ok(ImportedKeyInfo {
        kid: imported.kid,
        algorithm: imported.algorithm.as_str().to_string(),
        size: u32::try_from(imported.bits).unwrap_or(u32::MAX),
        fingerprint: imported.fingerprint,
        public_key: crate::services::tokens::peatio_form(&imported.public_pem),
        state: imported.state.to_string(),
        already_present: imported.already_present,
        warnings,
    })
}

/// `keys export-public [KID] --format`.
pub fn export_public(app: &App, kid: Option<&str>, format: PublicKeyFormat) -> ServiceResult<PublicKeyExport> {
    let key = app.tokens.export_public(kid, format)?;
    Ok(PublicKeyExport { kid: key.kid, format, text: key.text })
}

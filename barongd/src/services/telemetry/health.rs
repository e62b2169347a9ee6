//! Readiness: whether this daemon should get traffic. Liveness needs no check (answering at all
//! is the proof); readiness needs the database to answer in time with the schema this binary
//! expects, a signing key to issue tokens with, and no shutdown under way.

use std::sync::atomic::Ordering;
use std::time::Duration;

use crate::services::App;
use crate::store::migrate::MIGRATIONS;

/// A load balancer probes every few seconds: a database slower than this is as good as down
/// for the requests it would send.
const DB_LIMIT: Duration = Duration::from_secs(1);

/// The checks that failed, by name (`draining`, `database`, `migrations`, `signing_key`); empty
/// when ready.
pub async fn unready_checks(app: &App) -> Vec<&'static str> {
    let mut failed = Vec::new();
    if app.draining.load(Ordering::SeqCst) {
        failed.push("draining");
    }
    let expected = MIGRATIONS.last().map_or(0, |m| m.version);
    match tokio::time::timeout(DB_LIMIT, app.store.schema_version()).await {
        Ok(Ok(v)) if v == expected => {}
        Ok(Ok(v)) => {
            tracing::warn!(schema = v, expected, "not ready: the database schema is not this binary's");
            failed.push("migrations");
        }
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "not ready: the database did not answer");
            failed.push("database");
        }
        Err(_) => {
            tracing::warn!("not ready: the database did not answer within {DB_LIMIT:?}");
            failed.push("database");
        }
    }
    if !app.tokens.has_signing_key() {
        failed.push("signing_key");
    }
    failed
}

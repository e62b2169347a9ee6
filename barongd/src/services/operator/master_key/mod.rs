//! `barongctl keys rotate-master` (issue 12): every sealed value re-sealed under a new master key
//! while the daemon serves. From the moment a rotation begins, new values are sealed under the new
//! key and both keys open (and both indexes find) what is stored; progress is committed with each
//! batch, so a daemon killed halfway continues at its next start. When every value is under the
//! new key, `keys/master.key.next` replaces `keys/master.key` and the old key opens nothing more.
//!
//! Only a key file can be rotated: with `BARONG_MASTER_KEY`, every daemon sharing the database
//! would need the new key at the same moment, which one daemon cannot arrange (README, "Master
//! key").

pub mod files;
pub mod fingerprint;
pub mod reseal;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use common::admin::MasterKeyRotation;

use crate::services::App;
use crate::services::error::{ServiceError, ServiceResult};
use crate::services::seal::{Sealer, key_id};
use crate::store::DynStore;

/// The daemon's side of rotations: where the key lives and whether a re-seal runs here.
#[derive(Debug)]
pub struct RotationRuntime {
    keys_dir: PathBuf,
    from_env: bool,
    running: AtomicBool,
    error: Mutex<Option<String>>,
}

impl RotationRuntime {
    pub fn new(keys_dir: PathBuf, from_env: bool) -> Self {
        RotationRuntime { keys_dir, from_env, running: AtomicBool::new(false), error: Mutex::new(None) }
    }
}

/// At start-up, before anything opens a sealed value: puts the key ring where the latest
/// rotation left it. `true` when a rotation is unfinished and its re-seal must continue.
pub async fn recover(store: &DynStore, sealer: &Sealer, rt: &RotationRuntime) -> Result<bool, String> {
    let latest = store.latest_rotation().await.map_err(|e| format!("master-key rotations: {e}"))?;
    let unfinished = latest.as_ref().filter(|r| r.finished_at.is_none());
    if rt.from_env {
        return match unfinished {
            Some(r) => Err(format!(
                "master-key rotation {} is unfinished, but the key now comes from BARONG_MASTER_KEY: unset it so \
                 keys/master.key and keys/master.key.next are used until the rotation ends",
                r.id
            )),
            None => Ok(false),
        };
    }
    let next = files::read_next(&rt.keys_dir)?;
    let (current, _) = sealer.key_ids();
    match (next, latest) {
        (Some(key), Some(r)) if r.new_key_id == key_id(&key) => {
            if r.finished_at.is_some() {
                // Killed between the last commit and the file swap: every value is under the
                // new key already.
                files::promote(&rt.keys_dir)?;
                sealer.begin_rotation(&key);
                sealer.end_rotation();
                return Ok(false);
            }
            if current != r.old_key_id {
                return Err(format!(
                    "master-key rotation {} started from key {}, but keys/master.key is key {current}: restore \
                     the key file it started from",
                    r.id, r.old_key_id
                ));
            }
            sealer.begin_rotation(&key);
            Ok(true)
        }
        (Some(_), Some(r)) if r.finished_at.is_none() => Err(format!(
            "master-key rotation {} goes to key {}, but keys/{} holds another key: restore the file it wrote",
            r.id,
            r.new_key_id,
            files::NEXT
        )),
        // Written by a start that died before recording its rotation: nothing is sealed under it.
        (Some(_), _) => files::remove_next(&rt.keys_dir).map(|_| false),
        (None, Some(r)) if r.finished_at.is_none() => Err(format!(
            "master-key rotation {} is unfinished but keys/{} is missing: restore it from the data dir's backup \
             (values re-sealed so far open only with it)",
            r.id,
            files::NEXT
        )),
        (None, _) => Ok(false),
    }
}

/// Starts a rotation, or continues the unfinished one; answers where it stands.
pub async fn rotate(app: &Arc<App>) -> ServiceResult<MasterKeyRotation> {
    let rt = &app.master_key;
    if rt.from_env {
        return Err(ServiceError::rejected(
            "admin.master_key.from_env: the master key comes from BARONG_MASTER_KEY; rotate it by hand (README, \
             \"Master key\")",
        ));
    }
    let latest = app.store.latest_rotation().await?;
    if latest.as_ref().is_none_or(|r| r.finished_at.is_some()) {
        if let Some(stale) = files::read_next(&rt.keys_dir).map_err(ServiceError::internal)? {
            if latest.as_ref().is_some_and(|r| r.new_key_id == key_id(&stale)) {
                // The last rotation finished but its file swap failed: every value needs this key.
                files::promote(&rt.keys_dir).map_err(ServiceError::internal)?;
            } else {
                // From a start that failed before recording its rotation: nothing is sealed under it.
                files::remove_next(&rt.keys_dir).map_err(ServiceError::internal)?;
            }
        }
        let key = files::create_next(&rt.keys_dir).map_err(ServiceError::internal)?;
        let (old, _) = app.sealer.key_ids();
        app.store.start_rotation(&old, &key_id(&key), app.clock.now()).await?;
        app.sealer.begin_rotation(&key);
        tracing::info!(old_key_id = %old, new_key_id = %key_id(&key), "master-key rotation started");
    }
    spawn(app.clone());
    status(app).await
}

/// Runs the re-seal of the unfinished rotation in the background, unless it runs already.
pub fn spawn(app: Arc<App>) {
    if app.master_key.running.swap(true, Ordering::SeqCst) {
        return;
    }
    tokio::spawn(async move {
        let result = run(&app).await;
        if let Err(e) = &result {
            tracing::error!(error = %e, "master-key rotation stopped; `barongctl keys rotate-master` continues it");
        }
        *app.master_key.error.lock().unwrap_or_else(|e| e.into_inner()) = result.err();
        app.master_key.running.store(false, Ordering::SeqCst);
    });
}

async fn run(app: &App) -> Result<(), String> {
    let rotation = app.store.latest_rotation().await.map_err(|e| e.to_string())?;
    let Some(rotation) = rotation.filter(|r| r.finished_at.is_none()) else { return Ok(()) };
    reseal::run_from(app, &rotation).await?;
    // The database says "finished" before the file swap: a crash in between is completed at the
    // next start (`recover`), and never leaves a data dir whose key file opens nothing.
    app.store.finish_rotation(rotation.id, app.clock.now()).await.map_err(|e| e.to_string())?;
    files::promote(&app.master_key.keys_dir)?;
    app.sealer.end_rotation();
    tracing::info!(new_key_id = %rotation.new_key_id, "master-key rotation finished");
    Ok(())
}

/// Where the latest rotation stands.
pub async fn status(app: &App) -> ServiceResult<MasterKeyRotation> {
    let rt = &app.master_key;
    let latest = app.store.latest_rotation().await?;
    let running = rt.running.load(Ordering::SeqCst);
    let error = rt.error.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let state = match &latest {
        None => "none",
        Some(r) if r.finished_at.is_some() => "finished",
        Some(_) if running => "running",
        Some(_) => "stalled",
    };
    let time = |t: i64| crate::services::clock::iso8601(t);
    Ok(MasterKeyRotation {
        state: state.into(),
        key_source: if rt.from_env { "env" } else { "file" }.into(),
        current_key_id: app.sealer.key_ids().0,
        old_key_id: latest.as_ref().map(|r| r.old_key_id.clone()),
        new_key_id: latest.as_ref().map(|r| r.new_key_id.clone()),
        table: latest.as_ref().filter(|r| r.finished_at.is_none()).map(|r| r.table_name.clone()),
        resealed: latest.as_ref().map_or(0, |r| r.resealed),
        sealed_rows: app.store.sealed_rows().await?,
        started_at: latest.as_ref().map(|r| time(r.started_at)),
        finished_at: latest.as_ref().and_then(|r| r.finished_at).map(time),
        error: if state == "stalled" { error } else { None },
    })
}

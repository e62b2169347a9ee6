//! `barongctl import barong` (spec migration-from-barong §2): the entry points the admin socket
//! calls. A run goes on in the background; barongctl follows it with `status`.

pub mod drift;
pub mod job;
pub mod mapping;
pub mod pass;
pub mod pii;
pub mod report;
pub mod run;
pub mod secrets;
pub mod source;
pub mod vault;
pub mod vault_fetch;

use std::sync::Arc;

use common::admin::{ImportOptions, ImportSecrets, ImportStatus, TableCounters};

use self::job::ImportRuntime;
use self::report::Report;
use crate::services::App;
use crate::services::clock::iso8601;
use crate::services::error::{Refusal, ServiceError, ServiceResult};
use crate::services::operator::admin_log::{self, OperatorWrite};
use crate::store::import::ImportJobRow;

pub use job::ImportRuntime as Runtime;

/// A refusal with its key first (the socket's error code) and the explanation after.
fn refused(key: &str, why: impl std::fmt::Display) -> ServiceError {
    ServiceError::Refused { why: Refusal::Rejected, keys: vec![key.to_string(), why.to_string()] }
}

/// A refusal from a `key: explanation` message.
fn refused_msg(message: &str) -> ServiceError {
    match message.split_once(": ") {
        Some((key, why)) if key.starts_with("import.") => refused(key, why),
        _ => refused("import.failed", message),
    }
}

/// Seals the secret inputs for the job row.
fn seal_inputs(app: &App, s: &ImportSecrets) -> String {
    app.sealer.seal(&serde_json::to_vec(s).unwrap_or_default())
}

fn open_inputs(app: &App, sealed: &str) -> ServiceResult<ImportSecrets> {
    let bytes = zeroize::Zeroizing::new(app.sealer.open(sealed).map_err(ServiceError::internal)?);
    serde_json::from_slice(&bytes).map_err(ServiceError::internal)
}

/// An HMAC of SECRET_KEY_BASE under a key derived from the master key: a continuation with
/// another key is refused without the job keeping the key itself.
fn fingerprint(app: &App, s: &ImportSecrets) -> Option<String> {
    s.secret_key_base.as_deref().map(|k| app.sealer.blind_index("import secret_key_base", k))
}

fn check_options(o: &ImportOptions) -> ServiceResult<()> {
    if !(1..=10_000).contains(&o.batch_size) {
        return Err(refused("import.bad_option", "--batch-size must be 1..10000"));
    }
    if o.max_row_errors < 0 {
        return Err(refused("import.bad_option", "--max-row-errors must be 0 or more"));
    }
    if o.activities != "all" && run::activities_since(&o.activities).is_none() {
        return Err(refused("import.bad_option", "--activities takes all, none or since=YYYY-MM-DD"));
    }
    if let Some(dir) = o.uploads.as_deref().filter(|u| *u != "none")
        && !std::path::Path::new(dir).is_dir()
    {
        return Err(refused("import.bad_option", format!("--uploads {dir}: not a directory")));
    }
    Ok(())
}

/// `import barong`: a new job, or the next run of the open one.
pub async fn start(app: &Arc<App>, options: ImportOptions, secrets: ImportSecrets) -> ServiceResult<ImportStatus> {
    check_options(&options)?;
    let now = app.clock.now();
    let mut latest = app.store.import_latest_job().await?;
    // A run that has recorded its outcome leaves the runtime a moment later.
    for _ in 0..50 {
        if app.import.running_job().is_none() || latest.as_ref().is_some_and(|j| job::is_active(&j.state)) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        latest = app.store.import_latest_job().await?;
    }
    if let Some(j) = &latest {
        if app.import.running_job().is_some() {
            return Err(refused("import.already_running", format!("job {} is running", j.id)));
        }
        if j.state == job::FINISHED && !options.dry_run {
            return Err(refused("import.already_finished", format!("job {} was finished; barong-rs is live", j.id)));
        }
    }
    let open = app.store.import_open_job().await?;
    let mut job_row = match (&open, options.dry_run, options.job) {
        (_, _, Some(id)) if open.as_ref().map(|j| j.id) != Some(id) => {
            return Err(refused("import.job_not_found", format!("job {id} is not the open job")));
        }
        (Some(j), false, _) => continue_job(app, j.clone(), &options, &secrets)?,
        _ => ImportJobRow {
            id: 0,
            state: job::PREFLIGHT.into(),
            dry_run: options.dry_run,
            import_mode: false,
            options: serde_json::to_string(&options).unwrap_or_default(),
            inputs_sealed: Some(seal_inputs(app, &secrets)),
            skb_fingerprint: fingerprint(app, &secrets),
            runs: 0,
            checkpoint: "{}".into(),
            counters: "{}".into(),
            report: "{}".into(),
            last_error: None,
            created_at: now,
            updated_at: now,
            finished_at: None,
        },
    };
    let secrets = match &job_row.inputs_sealed {
        Some(sealed) => open_inputs(app, sealed)?,
        None => secrets,
    };
    job_row.state = job::PREFLIGHT.into();
    job_row.updated_at = now;
    if job_row.id == 0 {
        job_row.id = app.store.import_insert_job(&job_row).await?;
    } else {
        app.store.import_save_job(&job_row).await?;
    }
    let Some((cancel, progress)) = app.import.begin(job_row.id) else {
        return Err(refused("import.already_running", "another run is in progress"));
    };
    let status_now = status_of(app, &job_row);
    tokio::spawn(run::run(app.clone(), job_row, options, secrets, cancel, progress));
    Ok(status_now)
}

/// The open job with this run's options, and its sealed inputs replaced when new ones came.
fn continue_job(
    app: &App,
    mut j: ImportJobRow,
    options: &ImportOptions,
    secrets: &ImportSecrets,
) -> ServiceResult<ImportJobRow> {
    let mut stored: ImportOptions = serde_json::from_str(&j.options).map_err(ServiceError::internal)?;
    if stored.source != options.source {
        return Err(refused("import.source_mismatch", format!("job {} imports from {}", j.id, stored.source)));
    }
    if !secrets.is_empty() {
        let fp = fingerprint(app, secrets);
        if j.skb_fingerprint.is_some() && fp.is_some() && fp != j.skb_fingerprint {
            return Err(refused(
                "import.secret_key_base_changed",
                format!("job {} was started with another SECRET_KEY_BASE", j.id),
            ));
        }
        j.skb_fingerprint = fp.or(j.skb_fingerprint);
        j.inputs_sealed = Some(seal_inputs(app, secrets));
    }
    stored = options.clone();
    j.options = serde_json::to_string(&stored).unwrap_or_default();
    Ok(j)
}

async fn find(app: &App, id: Option<i64>) -> ServiceResult<ImportJobRow> {
    let found = match id {
        Some(id) => app.store.import_job(id).await?,
        // The open job first: a dry run made meanwhile must not hide it.
        None => match app.store.import_open_job().await? {
            Some(j) => Some(j),
            None => app.store.import_latest_job().await?,
        },
    };
    found.ok_or_else(|| ServiceError::Refused {
        why: Refusal::NotFound,
        keys: vec!["import.job_not_found".into(), "no import job".into()],
    })
}

/// `import status`.
pub async fn status(app: &App, id: Option<i64>) -> ServiceResult<ImportStatus> {
    let j = find(app, id).await?;
    // A run that ended between reading the row and asking for its progress looks cut short:
    // the row it saved before ending says how it ended.
    if job::is_active(&j.state) && app.import.progress(j.id).is_none() {
        let j = app.store.import_job(j.id).await?.unwrap_or(j);
        return Ok(status_of(app, &j));
    }
    Ok(status_of(app, &j))
}

fn status_of(app: &App, j: &ImportJobRow) -> ImportStatus {
    let report: Report = serde_json::from_str(&j.report).unwrap_or_default();
    let options: Option<ImportOptions> = serde_json::from_str(&j.options).ok();
    let counters: std::collections::BTreeMap<String, TableCounters> =
        serde_json::from_str(&j.counters).unwrap_or_default();
    let live = app.import.progress(j.id);
    let mut tables: Vec<(String, TableCounters)> =
        source::TABLES.iter().map(|t| (t.to_string(), counters.get(*t).cloned().unwrap_or_default())).collect();
    let mut table = None;
    let mut snapshot_at = report.runs.last().map(|r| r.snapshot_at.clone());
    let state = match &live {
        Some(p) => {
            if !p.tables.is_empty() {
                tables = p.tables.clone();
            }
            table = p.table.clone();
            snapshot_at = p.snapshot_at.clone().or(snapshot_at);
            j.state.clone()
        }
        // A run recorded as in progress that this daemon does not run was cut short.
        None if job::is_active(&j.state) => job::INTERRUPTED.to_string(),
        None => j.state.clone(),
    };
    ImportStatus {
        job: j.id,
        state,
        dry_run: j.dry_run,
        run: j.runs,
        table,
        source: options.map(|o| o.source).unwrap_or_default(),
        snapshot_at,
        elapsed_seconds: app.clock.now() - j.created_at,
        tables,
        items: report.items.len() as i64,
        warnings: report.warnings.len() as i64,
        refusals: report.refusals.clone(),
        last_error: j.last_error.clone(),
        last_run: report.runs.last().map(|r| r.totals.clone()).unwrap_or_default(),
    }
}

/// `import report [--section]`.
pub async fn report(app: &App, id: Option<i64>, section: Option<&str>) -> ServiceResult<serde_json::Value> {
    let j = find(app, id).await?;
    let mut report: Report = serde_json::from_str(&j.report).unwrap_or_default();
    report.job = j.id;
    report.state = status_of(app, &j).state;
    report.dry_run = j.dry_run;
    report.section(section).map_err(|e| refused("import.bad_option", e))
}

/// `import cancel [--purge]`: stops the run at its next batch; `purge` deletes what the job wrote.
pub async fn cancel(app: &App, id: Option<i64>, purge: bool) -> ServiceResult<ImportStatus> {
    let j = find(app, id).await?;
    if !job::is_open(&j.state) {
        return Err(refused("import.not_open", format!("job {} is {}", j.id, j.state)));
    }
    if app.import.cancel(j.id) {
        // The run stops at its next batch boundary and records `cancelled` itself.
        for _ in 0..600 {
            if app.import.running_job() != Some(j.id) {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
    let mut j = find(app, Some(j.id)).await?;
    j.state = if purge {
        app.store.import_purge(j.id).await?;
        job::PURGED.into()
    } else {
        job::CANCELLED.into()
    };
    if purge {
        j.import_mode = false;
        j.inputs_sealed = None;
    }
    j.updated_at = app.clock.now();
    app.store.import_save_job(&j).await?;
    refresh_mode(app).await?;
    Ok(status_of(app, &j))
}

/// Re-reads import mode from the database into the cached flag.
pub async fn refresh_mode(app: &App) -> ServiceResult<()> {
    app.import.set_import_mode(app.store.import_mode().await?);
    Ok(())
}

/// At start: a run recorded as in progress was cut short by the stop; import mode as stored.
pub async fn recover(app: &App) -> ServiceResult<()> {
    if let Some(mut j) = app.store.import_latest_job().await?
        && job::is_active(&j.state)
    {
        j.state = job::INTERRUPTED.into();
        j.updated_at = app.clock.now();
        app.store.import_save_job(&j).await?;
    }
    refresh_mode(app).await
}

/// `import finish` (§2.2): a completed run, a quiet source, then the job closes and import
/// mode ends.
pub async fn finish(app: &App, id: Option<i64>, os_uid: Option<u32>) -> ServiceResult<ImportStatus> {
    let mut j = find(app, id).await?;
    if j.dry_run || j.state != job::COMPLETED {
        return Err(refused(
            "import.not_completed",
            format!("job {} is {}; finish needs a completed run", j.id, j.state),
        ));
    }
    let options: ImportOptions = serde_json::from_str(&j.options).map_err(ServiceError::internal)?;
    let secrets = match &j.inputs_sealed {
        Some(s) => open_inputs(app, s)?,
        None => ImportSecrets::default(),
    };
    let mut report: Report = serde_json::from_str(&j.report).unwrap_or_default();
    let mut src =
        source::Source::open(&options.source, secrets.source_password.as_deref()).await.map_err(|e| refused_msg(&e))?;
    let marks = async {
        src.begin_snapshot().await?;
        src.marks().await
    }
    .await;
    src.close().await;
    let marks = marks.map_err(|e| refused("import.source_unreachable", e))?;
    let expected = report.runs.last().map(|r| r.marks.clone()).unwrap_or_default();
    let changed: Vec<&String> = marks.iter().filter(|(t, m)| expected.get(*t) != Some(m)).map(|(t, _)| t).collect();
    if !changed.is_empty() {
        let names: Vec<&str> = changed.iter().map(|s| s.as_str()).collect();
        return Err(refused(
            "import.source_changed",
            format!("{} changed since the last run's snapshot: stop Barong and run the import again", names.join(", ")),
        ));
    }
    let now = app.clock.now();
    j.state = job::FINISHED.into();
    j.import_mode = false;
    j.inputs_sealed = None;
    j.finished_at = Some(now);
    j.updated_at = now;
    report.state = j.state.clone();
    report.job = j.id;
    j.report = serde_json::to_string(&report).unwrap_or_default();
    app.store.import_save_job(&j).await?;
    refresh_mode(app).await?;
    write_report_file(app, &j)?;
    tracing::info!(job = j.id, operator_os_uid = ?os_uid, finished_at = %iso8601(now), "import finished: barong-rs is live");
    let w = OperatorWrite {
        method: "POST",
        rest: "import/finish",
        params: serde_json::json!({"job": j.id, "source": options.source}),
        os_uid,
    };
    admin_log::record_as(app, w, Some("finish"), &Ok::<(), ServiceError>(())).await;
    if let Err(e) = app.legacy_passwords.refresh(&app.store).await {
        tracing::warn!(error = %e, "import: recounting legacy passwords failed");
    }
    Ok(status_of(app, &j))
}

/// `<data-dir>/imports/<job>/report.json`, owner-only.
fn write_report_file(app: &App, j: &ImportJobRow) -> ServiceResult<()> {
    let dir = std::path::Path::new(&app.config.data_dir).join("imports").join(j.id.to_string());
    std::fs::create_dir_all(&dir).map_err(ServiceError::internal)?;
    let path = dir.join("report.json");
    let _ = std::fs::remove_file(&path);
    crate::services::seal::write_private_file(&path, j.report.as_bytes()).map_err(ServiceError::internal)
}

/// Whether `runtime` keeps the API closed (for callers holding only the runtime).
pub fn closed(runtime: &ImportRuntime) -> bool {
    runtime.in_import_mode()
}

//! One run of a job (spec §2.2–§2.4): preflight, one snapshot, every table in order by keyset
//! batches, digest compare, batch writes with the id map and checkpoint, deletions, post-pass.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use common::admin::{ImportOptions, ImportSecrets, TableCounters};

use super::job::{self, Progress};
use super::mapping::{self, Ctx, Mapping};
use super::pii::Pii;
use super::report::{Item, Report, RunInfo};
use super::secrets::SecretSources;
use super::source::{self, Source, preflight, rows};
use crate::services::App;
use crate::services::clock::iso8601;
use crate::store::StoreError;
use crate::store::import::{Checkpoint, ImportJobRow, MapRow, TargetRow};

/// Why a run stopped early.
pub enum Stop {
    /// The preflight refused (every reason).
    Refused(Vec<String>),
    Cancelled,
    Failed(String),
}

impl From<StoreError> for Stop {
    fn from(e: StoreError) -> Self {
        Stop::Failed(format!("target database: {e}"))
    }
}

impl From<String> for Stop {
    fn from(e: String) -> Self {
        Stop::Failed(e)
    }
}

/// What a table pass needs besides the context.
pub struct Pass<'a> {
    pub app: &'a App,
    pub job: &'a mut ImportJobRow,
    pub run: i64,
    pub options: &'a ImportOptions,
    pub cancel: &'a AtomicBool,
    pub progress: &'a Mutex<Progress>,
    pub counters: BTreeMap<String, TableCounters>,
}

/// Runs the job's next run to its end and records the outcome in the job row.
pub async fn run(
    app: Arc<App>,
    mut job: ImportJobRow,
    options: ImportOptions,
    secrets: ImportSecrets,
    cancel: Arc<AtomicBool>,
    progress: Arc<Mutex<Progress>>,
) {
    let mut report: Report = serde_json::from_str(&job.report).unwrap_or_default();
    let counters: BTreeMap<String, TableCounters> = serde_json::from_str(&job.counters).unwrap_or_default();
    let outcome = {
        let mut pass = Pass {
            app: &app,
            job: &mut job,
            run: 0,
            options: &options,
            cancel: &cancel,
            progress: &progress,
            counters,
        };
        let r = run_inner(&mut pass, &secrets, &mut report).await;
        job.counters = serde_json::to_string(&pass.counters).unwrap_or_default();
        r
    };
    let now = app.clock.now();
    if let Some(r) = report.runs.last_mut() {
        r.ended_at = Some(iso8601(now));
    }
    job.last_error = None;
    report.refusals.clear();
    job.state = match outcome {
        Ok(()) if job.dry_run => job::DRY_RUN.into(),
        Ok(()) => job::COMPLETED.into(),
        Err(Stop::Cancelled) => job::CANCELLED.into(),
        Err(Stop::Refused(reasons)) => {
            job.last_error = reasons.first().cloned();
            report.refusals = reasons;
            if job.dry_run { job::DRY_RUN.into() } else { job::FAILED.into() }
        }
        Err(Stop::Failed(e)) => {
            tracing::warn!(job = job.id, error = %e, "import run failed");
            job.last_error = Some(e);
            if job.dry_run { job::DRY_RUN.into() } else { job::FAILED.into() }
        }
    };
    if job.dry_run {
        // A dry run's inputs are never needed again.
        job.inputs_sealed = None;
    }
    report.job = job.id;
    report.state = job.state.clone();
    report.dry_run = job.dry_run;
    job.report = serde_json::to_string(&report).unwrap_or_default();
    job.updated_at = now;
    if let Err(e) = app.store.import_save_job(&job).await {
        tracing::error!(job = job.id, error = %e, "import: cannot save the job's outcome");
    }
    app.import.end();
    // The bcrypt time floor follows the digests now stored (migration spec, Appendix).
    if let Err(e) = app.legacy_passwords.refresh(&app.store).await {
        tracing::warn!(error = %e, "import: recounting legacy passwords failed");
    }
}

async fn run_inner(pass: &mut Pass<'_>, secrets: &ImportSecrets, report: &mut Report) -> Result<(), Stop> {
    let opts = pass.options;
    report.start_run();
    report.source.url = opts.source.clone();
    report.source.rails_env = opts.rails_env.clone();
    report.source.vault_app_name = opts.vault_app_name.clone();
    let mut source =
        Source::open(&opts.source, secrets.source_password.as_deref()).await.map_err(|e| Stop::Refused(vec![e]))?;
    report.source.server = source.server.clone();
    let findings = preflight::check(&mut source).await;
    let mut refusals = findings.refusals;
    for (code, detail) in findings.warnings {
        report.warn(&code, detail);
    }
    report.source.schema = preflight::SCHEMA_VERSION.into();
    let production = opts.rails_env == "production";
    let secret_sources =
        match SecretSources::load(&secrets.secrets_files, secrets.transit_key.as_deref(), &opts.vault_app_name) {
            Ok(s) => Some(s),
            Err(e) => {
                refusals.push(e);
                None
            }
        };
    let skb = match (&secrets.secret_key_base, production) {
        (Some(k), _) => Some(k.clone()),
        (None, false) => Some(String::new()),
        (None, true) => None,
    };
    let mut pii = Pii::new(skb.as_deref().unwrap_or_default().as_bytes(), &opts.crc32_salt);
    if refusals.is_empty() {
        check_secret_key_base(&mut source, &mut pii, skb.is_some(), &mut refusals).await;
        let (documents,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM documents").fetch_one(source_conn(&mut source)).await.unwrap_or((0,));
        if documents > 0 && opts.uploads.is_none() {
            refusals.push("import.uploads_unspecified: documents exist: give --uploads DIR or --uploads none".into());
        }
        if !pass.job.dry_run && pass.job.runs == 0 && pass.app.store.import_foreign_rows().await? > 0 {
            refusals.push(
                "import.target_not_empty: barong-rs already holds users, service accounts or API keys that no import wrote"
                    .into(),
            );
        }
    }
    let Some(secret_sources) = secret_sources.filter(|_| refusals.is_empty()) else {
        source.close().await;
        return Err(Stop::Refused(refusals));
    };
    for w in &secret_sources.file_warnings {
        report.warn("secrets_file", w.clone());
    }

    source.begin_snapshot().await?;
    let started = pass.app.clock.now();
    let marks = source.marks().await?;
    let binlog = source.binlog().await;
    pass.job.runs += 1;
    pass.run = pass.job.runs;
    pass.job.state = job::RUNNING.into();
    if !pass.job.dry_run {
        pass.job.import_mode = true;
        pass.app.import.set_import_mode(true);
    }
    pass.job.updated_at = started;
    pass.app.store.import_save_job(pass.job).await?;
    for (table, mark) in &marks {
        pass.counters.entry(table.clone()).or_default().source = mark.count;
    }
    {
        let mut p = pass.progress.lock().unwrap_or_else(|p| p.into_inner());
        p.snapshot_at = Some(iso8601(started));
    }
    report.runs.push(RunInfo {
        run: pass.run,
        snapshot_at: iso8601(started),
        binlog,
        started_at: iso8601(started),
        ended_at: None,
        marks,
        totals: BTreeMap::new(),
    });

    let mut ctx = Ctx {
        sealer: pass.app.sealer.clone(),
        config: pass.app.config.clone(),
        pii,
        secrets: secret_sources,
        report: std::mem::take(report),
        users: HashMap::new(),
        email_keys: HashMap::new(),
        service_accounts: HashMap::new(),
        roles_with_permissions: HashSet::new(),
        referrals: Vec::new(),
        verified_phones: HashSet::new(),
        open_profiles: HashSet::new(),
        uploads: opts.uploads.as_deref().filter(|u| *u != "none").map(std::path::PathBuf::from),
        activities_since: activities_since(&opts.activities),
        dry_run: pass.job.dry_run,
    };
    let result = tables(pass, &mut source, &mut ctx).await;
    source.close().await;
    *report = std::mem::take(&mut ctx.report);
    result?;
    post_pass(pass, &mut ctx, report).await
}

async fn tables(pass: &mut Pass<'_>, source: &mut Source, ctx: &mut Ctx) -> Result<(), Stop> {
    table::<rows::Level>(pass, source, ctx).await?;
    table::<rows::Permission>(pass, source, ctx).await?;
    table::<rows::Restriction>(pass, source, ctx).await?;
    table::<rows::User>(pass, source, ctx).await?;
    table::<rows::ServiceAccount>(pass, source, ctx).await?;
    table::<rows::Label>(pass, source, ctx).await?;
    table::<rows::Profile>(pass, source, ctx).await?;
    table::<rows::Phone>(pass, source, ctx).await?;
    table::<rows::Document>(pass, source, ctx).await?;
    table::<rows::DataStorage>(pass, source, ctx).await?;
    table::<rows::Comment>(pass, source, ctx).await?;
    table::<rows::ApiKey>(pass, source, ctx).await?;
    table::<rows::Activity>(pass, source, ctx).await
}

/// `--activities`: `None` = all, `Some(i64::MAX)` = none, else the first second kept.
pub fn activities_since(v: &str) -> Option<i64> {
    match v {
        "all" => None,
        "none" => Some(i64::MAX),
        other => other
            .strip_prefix("since=")
            .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| t.and_utc().timestamp()),
    }
}

fn source_conn(source: &mut Source) -> &mut sqlx::mysql::MySqlConnection {
    source.conn()
}

/// `import.secret_key_base_missing` / `_wrong` (§2.3).
async fn check_secret_key_base(source: &mut Source, pii: &mut Pii, have_key: bool, refusals: &mut Vec<String>) {
    let mut sample = Vec::new();
    for (table, column) in [
        ("profiles", "first_name_encrypted"),
        ("profiles", "last_name_encrypted"),
        ("phones", "number_encrypted"),
        ("documents", "doc_number_encrypted"),
    ] {
        if sample.len() < 20 {
            sample.extend(source.sample(table, column, 20).await.unwrap_or_default());
        }
    }
    sample.truncate(20);
    if sample.is_empty() {
        return;
    }
    if !have_key {
        refusals.push(
            "import.secret_key_base_missing: encrypted rows exist and RAILS_ENV is production: give --secret-key-base-file"
                .into(),
        );
    } else if !sample.iter().any(|v| pii.opens(v)) {
        refusals.push(format!(
            "import.secret_key_base_wrong: the first {} encrypted values all fail their tag with this SECRET_KEY_BASE",
            sample.len()
        ));
    }
}

/// One table: batches until the source is exhausted, then the deletions.
async fn table<T: Mapping>(pass: &mut Pass<'_>, source: &mut Source, ctx: &mut Ctx) -> Result<(), Stop> {
    let spec = T::SPEC;
    let name = T::TABLE;
    let dry = pass.job.dry_run;
    let store = pass.app.store.clone();
    if matches!(name, "levels" | "permissions" | "restrictions") && !dry {
        // barong-rs's own seeded rows give way to Barong's (§2.5).
        store.import_clear_unmapped(spec.source, spec).await?;
    }
    set_table(pass, Some(name));
    let mut run_counts = TableCounters::default();
    let mut seen: HashSet<i64> = HashSet::new();
    let mut after = 0;
    let batch_size = pass.options.batch_size.clamp(1, 10_000);
    loop {
        if pass.cancel.load(Ordering::Relaxed) {
            return Err(Stop::Cancelled);
        }
        let batch: Vec<T> = source.batch(after, batch_size).await?;
        let (Some(first), Some(last)) = (batch.first(), batch.last()) else { break };
        let (lo, hi) = (first.id(), last.id());
        after = hi;
        let known: HashMap<i64, String> = store.import_digests(name, lo, hi).await?.into_iter().collect();
        let mut writes: Vec<(TargetRow, MapRow, bool)> = Vec::new();
        for r in &batch {
            run_counts.done += 1;
            if name == "activities" && skipped_by_filter(r, ctx) {
                continue;
            }
            let extras = r.extras(ctx);
            let digest = mapping::digest(r, &extras);
            let previous = known.get(&r.id());
            let changed = previous != Some(&digest);
            match r.map(ctx, changed) {
                Err(item) => {
                    run_counts.skipped += 1;
                    ctx.report.item(*item);
                }
                Ok(target) => {
                    seen.insert(r.id());
                    if !changed {
                        run_counts.unchanged += 1;
                        continue;
                    }
                    let map = MapRow { source_table: spec.source, source_id: r.id(), target_id: target.id(), digest };
                    writes.push((target, map, previous.is_some()));
                }
            }
        }
        if !dry && !writes.is_empty() {
            write_batch(pass, name, after, writes, &mut run_counts, ctx).await?;
        } else {
            for (_, _, existed) in &writes {
                if *existed { run_counts.updated += 1 } else { run_counts.inserted += 1 }
            }
        }
        show(pass, name, &run_counts);
        if run_counts.skipped > pass.options.max_row_errors {
            return Err(Stop::Failed(format!(
                "stopped after {} skipped rows (--max-row-errors {})",
                run_counts.skipped, pass.options.max_row_errors
            )));
        }
    }
    // Rows imported before and gone from the source now (§2.2).
    let gone: Vec<(i64, i64)> =
        store.import_mapped(name).await?.into_iter().filter(|(s, _)| !seen.contains(s)).collect();
    run_counts.deleted = gone.len() as i64;
    if !dry && !gone.is_empty() {
        store.import_delete(name, spec, &gone).await?;
    }
    finish_table(pass, ctx, name, &run_counts);
    Ok(())
}

fn skipped_by_filter<T: Mapping>(row: &T, ctx: &Ctx) -> bool {
    let Some(since) = ctx.activities_since else { return false };
    let created =
        serde_json::to_value(row).ok().and_then(|v| v.get("created_at").and_then(|c| c.as_i64())).unwrap_or(0);
    created < since
}

/// Writes one batch in one transaction; a unique conflict makes it retry row by row, skipping
/// the rows that conflict (`conflict`).
async fn write_batch(
    pass: &mut Pass<'_>,
    name: &str,
    after: i64,
    writes: Vec<(TargetRow, MapRow, bool)>,
    counts: &mut TableCounters,
    ctx: &mut Ctx,
) -> Result<(), Stop> {
    let store = pass.app.store.clone();
    let rows: Vec<(TargetRow, MapRow)> = writes.iter().map(|(t, m, _)| (t.clone(), m.clone())).collect();
    let cp = checkpoint(pass, name, after, counts);
    match store.import_write(pass.job.id, pass.run, &rows, &cp).await {
        Ok(()) => {
            for (_, _, existed) in &writes {
                if *existed { counts.updated += 1 } else { counts.inserted += 1 }
            }
            Ok(())
        }
        Err(StoreError::Unique(_)) => {
            for (t, m, existed) in writes {
                let id = m.source_id;
                match store.import_write(pass.job.id, pass.run, &[(t, m)], &cp).await {
                    Ok(()) if existed => counts.updated += 1,
                    Ok(()) => counts.inserted += 1,
                    Err(StoreError::Unique(constraint)) => {
                        counts.skipped += 1;
                        ctx.report
                            .item(Item::new("conflict", name, id).detail(format!("unique constraint {constraint}")));
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            Ok(())
        }
        Err(e) => Err(e.into()),
    }
}

fn checkpoint(pass: &Pass<'_>, name: &str, after: i64, counts: &TableCounters) -> Checkpoint {
    let mut counters = pass.counters.clone();
    let c = counters.entry(name.to_string()).or_default();
    c.inserted += counts.inserted;
    c.updated += counts.updated;
    Checkpoint {
        job_id: pass.job.id,
        checkpoint: serde_json::json!({ "run": pass.run, "table": name, "after": after }).to_string(),
        counters: serde_json::to_string(&counters).unwrap_or_default(),
        now: pass.app.clock.now(),
    }
}

fn set_table(pass: &Pass<'_>, name: Option<&str>) {
    pass.progress.lock().unwrap_or_else(|p| p.into_inner()).table = name.map(str::to_string);
}

/// The live counters `import status` shows: the job's totals plus this run's so far.
fn show(pass: &Pass<'_>, name: &str, run: &TableCounters) {
    let mut p = pass.progress.lock().unwrap_or_else(|p| p.into_inner());
    let mut all = pass.counters.clone();
    let c = all.entry(name.to_string()).or_default();
    add(c, run);
    p.tables = source::TABLES.iter().map(|t| (t.to_string(), all.get(*t).cloned().unwrap_or_default())).collect();
}

fn add(total: &mut TableCounters, run: &TableCounters) {
    total.done = run.done;
    total.inserted += run.inserted;
    total.updated += run.updated;
    total.skipped += run.skipped;
    total.deleted += run.deleted;
    // `unchanged` is what the latest run found unchanged (§2.2: a second job counts its rows so).
    total.unchanged = run.unchanged;
}

fn finish_table(pass: &mut Pass<'_>, ctx: &mut Ctx, name: &str, run: &TableCounters) {
    add(pass.counters.entry(name.to_string()).or_default(), run);
    if let Some(r) = ctx.report.runs.last_mut() {
        for (k, v) in
            [("inserted", run.inserted), ("updated", run.updated), ("deleted", run.deleted), ("skipped", run.skipped)]
        {
            *r.totals.entry(k.to_string()).or_default() += v;
        }
    }
    show(pass, name, &TableCounters { done: run.done, ..Default::default() });
}

/// Phase 8: referral links, unused secrets, sequences (§2.4).
async fn post_pass(pass: &mut Pass<'_>, ctx: &mut Ctx, report: &mut Report) -> Result<(), Stop> {
    set_table(pass, None);
    let mut links = Vec::with_capacity(ctx.referrals.len());
    for (user, referrer) in &ctx.referrals {
        if ctx.users.contains_key(referrer) {
            links.push((*user, Some(*referrer)));
        } else {
            report.item(Item::new("referral_dangling", "users", *user).uid(ctx.uid_of(*user)));
            links.push((*user, None));
        }
    }
    for uid in ctx.secrets.unused_totp() {
        if !ctx.users.values().any(|u| u.uid == uid) {
            report.item(Item::new("secret_unused", "totp", 0).uid(Some(&uid)));
        }
    }
    for kid in ctx.secrets.unused_keys() {
        report.item(Item::new("secret_unused", "apikeys", 0).kid(&kid));
    }
    report.pii.salts = ctx.pii.salts() as i64;
    report.tables = pass.counters.clone();
    if pass.job.dry_run {
        return Ok(());
    }
    let store = pass.app.store.clone();
    store.import_set_referrals(&links).await?;
    store.import_fix_sequences().await?;
    Ok(())
}

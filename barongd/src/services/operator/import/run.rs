//! One run of a job (spec §2.2–§2.4): preflight, one snapshot, every table in order by keyset
//! batches, digest compare, batch writes with the id map and checkpoint, deletions, post-pass.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use common::admin::{ImportOptions, ImportSecrets, TableCounters};

use super::drift::{self, Drift};
use super::job::{self, Progress};
use super::mapping::Ctx;
use super::pass::{self, Pass, Stop, set_table};
use super::pii::Pii;
use super::report::{Item, Report, RunInfo};
use super::secrets::SecretSources;
use super::source::{Source, preflight, rows};
use super::vault::Vault;
use super::vault_fetch;
use crate::model::LabelScope;
use crate::services::App;
use crate::services::clock::iso8601;
use crate::store::StoreError;
use crate::store::import::ImportJobRow;
use crate::store::labels::{Description, LabelMode, LabelWrite};

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
    let vault = match &opts.vault {
        Some(v) => match Vault::new(v, secrets.vault_token.as_deref(), &opts.vault_app_name) {
            Ok(vault) => Some(vault),
            Err(e) => {
                refusals.push(e);
                None
            }
        },
        None => None,
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
        if let Some(v) = &vault {
            vault_fetch::preflight(v, &mut source, &mut refusals).await;
        }
        if !pass.job.dry_run && pass.job.runs == 0 && pass.app.store.import_foreign_rows().await? > 0 {
            refusals.push(
                "import.target_not_empty: barong-rs already holds users, service accounts or API keys that no import wrote"
                    .into(),
            );
        }
    }
    let Some(mut secret_sources) = secret_sources.filter(|_| refusals.is_empty()) else {
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
    if let Some(v) = &vault {
        let batch = usize::try_from(opts.batch_size).unwrap_or(1000);
        vault_fetch::fetch(v, &mut source, &mut secret_sources, batch, report).await?;
        vault_fetch::verify(v, &secret_sources, v.options.verify_totp).await?;
    }
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
        files: pass.app.files.clone(),
        pii,
        secrets: secret_sources,
        report: std::mem::take(report),
        users: HashMap::new(),
        labels: HashMap::new(),
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
    pass::table::<rows::Level>(pass, source, ctx).await?;
    pass::table::<rows::Permission>(pass, source, ctx).await?;
    pass::table::<rows::Restriction>(pass, source, ctx).await?;
    pass::table::<rows::User>(pass, source, ctx).await?;
    pass::table::<rows::ServiceAccount>(pass, source, ctx).await?;
    pass::table::<rows::Label>(pass, source, ctx).await?;
    pass::table::<rows::Profile>(pass, source, ctx).await?;
    pass::table::<rows::Phone>(pass, source, ctx).await?;
    pass::table::<rows::Document>(pass, source, ctx).await?;
    pass::table::<rows::DataStorage>(pass, source, ctx).await?;
    pass::table::<rows::Comment>(pass, source, ctx).await?;
    pass::table::<rows::ApiKey>(pass, source, ctx).await?;
    pass::table::<rows::Activity>(pass, source, ctx).await
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
    let store = pass.app.store.clone();
    let levels = store.levels().await?;
    let drift = drift::check(&pass.app.config, &levels, &ctx.users, &ctx.labels);
    for (user_id, found) in &drift {
        report.item(drift_item(*user_id, ctx.uid_of(*user_id), found));
    }
    if pass.job.dry_run {
        return Ok(());
    }
    store.import_set_referrals(&links).await?;
    for (user_id, found) in &drift {
        if let Drift::Restrictive { key, reason } = found {
            keep_restriction(pass, *user_id, key, reason).await?;
        }
    }
    store.import_fix_sequences().await?;
    Ok(())
}

fn drift_item(user_id: i64, uid: Option<&str>, found: &Drift) -> Item {
    let (code, detail) = match found {
        Drift::Restrictive { key, reason } => ("state_drift_restrictive", format!("{reason}; added {key}=migrated")),
        Drift::State { stored, computed } => {
            ("state_drift", format!("stored {stored}, private labels give {computed}"))
        }
        Drift::Level { stored, computed } => {
            ("level_drift", format!("stored {stored}, private labels give {computed}"))
        }
    };
    Item::new(code, "users", user_id).uid(uid).detail(detail)
}

/// The private `key=migrated` label that makes barong-rs's engine keep a restriction Barong
/// stored; the stored state and level are not touched, and no event is emitted (§2.2).
async fn keep_restriction(pass: &Pass<'_>, user_id: i64, key: &str, reason: &str) -> Result<(), Stop> {
    let description = format!("migrated from Barong: {reason}");
    let write = LabelWrite {
        user_id,
        key,
        value: "migrated",
        scope: LabelScope::Private,
        description: Description::Set(Some(&description)),
        mode: LabelMode::Create,
        now: pass.app.clock.now(),
        state_level: None,
        review: None,
    };
    match pass.app.store.save_label_with_events(&write, &|_| Vec::new()).await {
        Ok(_) | Err(StoreError::Unique(_)) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

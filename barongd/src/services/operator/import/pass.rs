//! One table's pass of a run (spec §2.2): keyset batches, digest compare, one target
//! transaction per batch with the id map and checkpoint, then the rows gone from the source.

use std::collections::BTreeMap;
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use common::admin::{ImportOptions, TableCounters};

use super::job::Progress;

use super::mapping::{self, Ctx, Mapping};
use super::report::Item;
use super::source::{self, Source};
use crate::services::App;
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

/// One table: batches until the source is exhausted, then the deletions.
pub async fn table<T: Mapping>(pass: &mut Pass<'_>, source: &mut Source, ctx: &mut Ctx) -> Result<(), Stop> {
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

pub fn set_table(pass: &Pass<'_>, name: Option<&str>) {
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

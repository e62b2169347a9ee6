//! How `barongctl import` shows a job: progress lines while following, the status table and
//! the run's one-line summary.

use std::time::Duration;

use common::admin::ImportStatus;

use crate::table::table;

pub fn print_progress(s: &ImportStatus) {
    if let Some(table) = &s.table
        && let Some((_, c)) = s.tables.iter().find(|(t, _)| t == table)
    {
        println!(
            "{table:<16} {}/{}  inserted {}  updated {}  unchanged {}  skipped {}",
            c.done, c.source, c.inserted, c.updated, c.unchanged, c.skipped
        );
    }
}

pub fn print_summary(s: &ImportStatus, took: Duration) {
    print_status(s, false);
    let n = |k: &str| s.last_run.get(k).copied().unwrap_or(0);
    let verdict = if n("inserted") + n("updated") + n("deleted") == 0 { "nothing new: " } else { "" };
    println!(
        "run {} {} in {}s: {verdict}{} inserted, {} updated, {} deleted, {} skipped — barongctl import report {}",
        s.run,
        s.state,
        took.as_secs(),
        n("inserted"),
        n("updated"),
        n("deleted"),
        n("skipped"),
        s.job
    );
}

pub fn print_status(s: &ImportStatus, json: bool) {
    if json {
        println!("{}", serde_json::to_string(s).unwrap_or_default());
        return;
    }
    println!(
        "job {}  state {}{}  run {}  source {}  snapshot {}",
        s.job,
        s.state,
        if s.dry_run { " (dry run)" } else { "" },
        s.run,
        s.source,
        s.snapshot_at.clone().unwrap_or_default()
    );
    let mut t = table(&["table", "source", "done", "inserted", "updated", "unchanged", "skipped", "deleted"]);
    for (name, c) in &s.tables {
        t.add_row(vec![
            name.clone(),
            c.source.to_string(),
            c.done.to_string(),
            c.inserted.to_string(),
            c.updated.to_string(),
            c.unchanged.to_string(),
            c.skipped.to_string(),
            c.deleted.to_string(),
        ]);
    }
    println!("{t}");
    for r in &s.refusals {
        println!("refused: {r}");
    }
    if let Some(e) = &s.last_error {
        println!("last error: {e}");
    }
    println!("report items {}  warnings {}", s.items, s.warnings);
}

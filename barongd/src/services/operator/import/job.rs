//! The import job's life in the daemon: its states, the one run that may be in progress, its
//! cancellation flag and its live progress, and the cached import-mode flag the HTTP filter reads
//! on every request (never a database query per request).

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use common::admin::TableCounters;

/// Job states (spec §2.2).
pub const PREFLIGHT: &str = "preflight";
pub const RUNNING: &str = "running";
pub const COMPLETED: &str = "completed";
pub const FINISHED: &str = "finished";
pub const DRY_RUN: &str = "dry_run";
pub const FAILED: &str = "failed";
pub const INTERRUPTED: &str = "interrupted";
pub const CANCELLED: &str = "cancelled";
/// A cancelled job whose rows were deleted: closed, like a finished one, but leaves nothing.
pub const PURGED: &str = "purged";

/// Whether a job in `state` can take another run (the open job).
pub fn is_open(state: &str) -> bool {
    !matches!(state, FINISHED | DRY_RUN | PURGED)
}

/// Whether a run of a job in `state` is in progress (in this daemon or a crashed one).
pub fn is_active(state: &str) -> bool {
    matches!(state, PREFLIGHT | RUNNING)
}

/// What the run in progress shows `import status` between checkpoints.
#[derive(Debug, Clone, Default)]
pub struct Progress {
    pub table: Option<String>,
    pub tables: Vec<(String, TableCounters)>,
    pub snapshot_at: Option<String>,
    pub refusals: Vec<String>,
}

/// The run in progress in this daemon.
pub struct Running {
    pub job: i64,
    pub cancel: Arc<AtomicBool>,
    pub progress: Arc<Mutex<Progress>>,
}

/// The importer's state held by `App`.
#[derive(Default)]
pub struct ImportRuntime {
    /// Import mode (§2.2): the public API answers 503 while set.
    mode: AtomicBool,
    running: Mutex<Option<Running>>,
}

impl ImportRuntime {
    pub fn in_import_mode(&self) -> bool {
        self.mode.load(Ordering::Relaxed)
    }

    pub fn set_import_mode(&self, on: bool) {
        self.mode.store(on, Ordering::Relaxed);
    }

    /// Registers a run of `job`; `None` when one is already in progress here.
    pub fn begin(&self, job: i64) -> Option<(Arc<AtomicBool>, Arc<Mutex<Progress>>)> {
        let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        if running.is_some() {
            return None;
        }
        let cancel = Arc::new(AtomicBool::new(false));
        let progress = Arc::new(Mutex::new(Progress::default()));
        *running = Some(Running { job, cancel: cancel.clone(), progress: progress.clone() });
        Some((cancel, progress))
    }

    pub fn end(&self) {
        *self.running.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// The job whose run is in progress here.
    pub fn running_job(&self) -> Option<i64> {
        self.running.lock().unwrap_or_else(|p| p.into_inner()).as_ref().map(|r| r.job)
    }

    /// Asks the run of `job` to stop at its next batch; false when it is not running here.
    pub fn cancel(&self, job: i64) -> bool {
        match self.running.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
            Some(r) if r.job == job => {
                r.cancel.store(true, Ordering::Relaxed);
                true
            }
            _ => false,
        }
    }

    /// The live progress of `job`, when its run is in progress here.
    pub fn progress(&self, job: i64) -> Option<Progress> {
        let running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        running.as_ref().filter(|r| r.job == job).map(|r| r.progress.lock().unwrap_or_else(|p| p.into_inner()).clone())
    }
}

-- `barongctl import barong` (spec migration-from-barong §2.2): the job and its runs, and the id
-- map that makes every run idempotent. Secret inputs (SECRET_KEY_BASE, source password, secrets
-- files, transit key) are sealed with the master key so an interrupted run can continue, and are
-- erased when the job ends; `skb_fingerprint` (an HMAC, not the key) refuses a continuation with
-- another SECRET_KEY_BASE.
CREATE TABLE import_jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    state TEXT NOT NULL,
    dry_run BOOLEAN NOT NULL DEFAULT FALSE,
    -- TRUE from the first non-dry run until finish or purge: the public API answers 503.
    import_mode BOOLEAN NOT NULL DEFAULT FALSE,
    options TEXT NOT NULL,
    inputs_sealed TEXT,
    skb_fingerprint TEXT,
    runs INTEGER NOT NULL DEFAULT 0,
    checkpoint TEXT NOT NULL DEFAULT '{}',
    counters TEXT NOT NULL DEFAULT '{}',
    report TEXT NOT NULL DEFAULT '{}',
    last_error TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    finished_at INTEGER
);
CREATE INDEX index_import_jobs_on_state ON import_jobs (state);

-- One row per imported source row: which target row it became and the digest of the source
-- columns it was written from (same digest on a later run: nothing to write).
CREATE TABLE import_rows (
    job_id INTEGER NOT NULL,
    source_table TEXT NOT NULL,
    source_id INTEGER NOT NULL,
    target_id INTEGER NOT NULL,
    digest TEXT NOT NULL,
    run INTEGER NOT NULL,
    PRIMARY KEY (source_table, source_id)
);

-- `barongctl keys rotate-master` (issue 12): one row per master-key rotation. The keys are named
-- by their ids (an HMAC of the key, never the key). `table_name` and `last_key` say how far the
-- re-seal got, committed with each batch, so a daemon killed halfway continues from there;
-- `finished_at` is set once every sealed value opens under the new key.
CREATE TABLE master_key_rotations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    old_key_id TEXT NOT NULL,
    new_key_id TEXT NOT NULL,
    table_name TEXT NOT NULL,
    last_key TEXT NOT NULL DEFAULT '',
    resealed INTEGER NOT NULL DEFAULT 0,
    started_at INTEGER NOT NULL,
    finished_at INTEGER
);

-- Throttle buckets keep the end of their window, so expired buckets can be purged whatever their
-- window length (login attempts, mails per minute and per hour), and count attempts reserved
-- before the work instead of failures recorded after it. The old counters are dropped: at worst a
-- lockout in progress at the upgrade starts over.
DROP TABLE throttles;

CREATE TABLE throttles (
    bucket TEXT PRIMARY KEY,
    hits INTEGER NOT NULL,
    window_ends_at INTEGER NOT NULL
);

CREATE INDEX throttles_window_ends_at ON throttles (window_ends_at);

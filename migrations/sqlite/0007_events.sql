-- Event API outbox: an event is stored with the change that caused it and published to RabbitMQ
-- by a worker, so a broker outage delays events instead of failing requests or losing them
-- (Barong published synchronously and answered 500 while RabbitMQ was down). Records are sealed: some carry
-- confirmation and reset tokens.
CREATE TABLE event_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    jti TEXT NOT NULL,
    name TEXT NOT NULL,
    record_sealed TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX index_event_outbox_on_next_attempt_at ON event_outbox (next_attempt_at, id);

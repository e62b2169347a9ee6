-- The id of the master key this database's values are sealed under (issue 14): an HMAC of a fixed
-- label under the key (the id `keys master-status` shows), never the key. barongd records it at
-- the first start and compares it at every start, so a wrong key is named as such before anything
-- is opened; a finished master-key rotation moves it to the new key in the same transaction.
CREATE TABLE master_key_fingerprint (
    id SMALLINT PRIMARY KEY CHECK (id = 1),
    key_id TEXT NOT NULL,
    recorded_at BIGINT NOT NULL
);

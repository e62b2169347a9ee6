-- API-key nonces, partitioned by the minute of the nonce (a millisecond timestamp) in a ring of
-- six: at 20,000 signed requests a second a per-row DELETE of expired nonces would rewrite a
-- million rows a minute, while a partition whose minutes are all past is emptied by TRUNCATE.
-- `bucket` is a function of `nonce`, so the key (kid, nonce, bucket) is as unique as (kid, nonce).
ALTER TABLE api_key_nonces RENAME TO api_key_nonces_unpartitioned;
ALTER INDEX api_key_nonces_pkey RENAME TO api_key_nonces_unpartitioned_pkey;

CREATE TABLE api_key_nonces (
    kid TEXT NOT NULL,
    nonce BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    bucket SMALLINT NOT NULL,
    PRIMARY KEY (kid, nonce, bucket)
) PARTITION BY LIST (bucket);

CREATE TABLE api_key_nonces_0 PARTITION OF api_key_nonces FOR VALUES IN (0);
CREATE TABLE api_key_nonces_1 PARTITION OF api_key_nonces FOR VALUES IN (1);
CREATE TABLE api_key_nonces_2 PARTITION OF api_key_nonces FOR VALUES IN (2);
CREATE TABLE api_key_nonces_3 PARTITION OF api_key_nonces FOR VALUES IN (3);
CREATE TABLE api_key_nonces_4 PARTITION OF api_key_nonces FOR VALUES IN (4);
CREATE TABLE api_key_nonces_5 PARTITION OF api_key_nonces FOR VALUES IN (5);

INSERT INTO api_key_nonces (kid, nonce, expires_at, bucket)
SELECT kid, nonce, expires_at, ((nonce / 60000) % 6 + 6) % 6 FROM api_key_nonces_unpartitioned;

DROP TABLE api_key_nonces_unpartitioned;

-- A rotated signing key is published (JWKS, state `next`) before it signs, so consumers that cache
-- the JWKS know it first (issue 14). `takes_over_at` is when a key became, or becomes, the signing
-- key: retirement counts from it (a previous key's tokens live until its successor took over plus
-- their lifetime), which `created_at` only approximated.
ALTER TABLE signing_keys ADD COLUMN takes_over_at BIGINT NOT NULL DEFAULT 0;
UPDATE signing_keys SET takes_over_at = created_at;

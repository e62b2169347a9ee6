-- API keys imported from Barong whose secret could not be carried (migration spec §2.8.5): the
-- row stays, so its owner sees why a bot stopped and the kid stays reserved, but no HMAC can be
-- checked against it. Such a key has no secret (`secret_sealed = ''`) and can never be active.
ALTER TABLE api_keys ADD COLUMN secret_unavailable BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE api_keys ADD CONSTRAINT api_keys_unavailable_never_active
    CHECK (NOT secret_unavailable OR state <> 'active');

-- WebAuthn (passkeys, security keys) as a second factor (issue 16).
-- A credential is sealed under the master key like a TOTP seed; `credential_id` (base64url) is
-- unique across every account, as the WebAuthn spec requires; `sign_count` is the authoritative
-- signature counter, raised by a compare-and-set so two daemons cannot both accept one value.
CREATE TABLE webauthn_credentials (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    credential_id TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    credential_sealed TEXT NOT NULL,
    sign_count INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    last_used_at INTEGER
);
CREATE INDEX index_webauthn_credentials_on_user_id ON webauthn_credentials (user_id, id);
-- A ceremony begun on one daemon and finished on any: the library's state, sealed, deleted by the
-- statement that reads it (a replayed finish finds nothing), with an expiry the janitor enforces.
CREATE TABLE webauthn_challenges (
    handle TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    purpose TEXT NOT NULL,
    state_sealed TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX index_webauthn_challenges_on_expires_at ON webauthn_challenges (expires_at);
-- How the session's login was proven (RFC 8176 values, comma-separated): the `amr` claim.
ALTER TABLE sessions ADD COLUMN amr TEXT NOT NULL DEFAULT 'pwd';

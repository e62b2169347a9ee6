-- The change feed is written by triggers, so every write path (HTTP, admin socket, another
-- daemon, an operator's SQL) reaches the authz caches of every daemon without each caller
-- remembering to announce it. Kinds: session (subject = id_hash), user (id), api_key (kid),
-- service_account (id), permissions (''), signing_keys ('').
CREATE TRIGGER changes_session_delete AFTER DELETE ON sessions BEGIN
    INSERT INTO changes (kind, subject, created_at)
    VALUES ('session', OLD.id_hash, CAST(strftime('%s', 'now') AS INTEGER));
END;

CREATE TRIGGER changes_user_update AFTER UPDATE OF state, role, level, otp, email ON users BEGIN
    INSERT INTO changes (kind, subject, created_at)
    VALUES ('user', CAST(NEW.id AS TEXT), CAST(strftime('%s', 'now') AS INTEGER));
END;

CREATE TRIGGER changes_user_delete AFTER DELETE ON users BEGIN
    INSERT INTO changes (kind, subject, created_at)
    VALUES ('user', CAST(OLD.id AS TEXT), CAST(strftime('%s', 'now') AS INTEGER));
END;

CREATE TRIGGER changes_api_key_update AFTER UPDATE ON api_keys BEGIN
    INSERT INTO changes (kind, subject, created_at)
    VALUES ('api_key', OLD.kid, CAST(strftime('%s', 'now') AS INTEGER));
END;

CREATE TRIGGER changes_api_key_delete AFTER DELETE ON api_keys BEGIN
    INSERT INTO changes (kind, subject, created_at)
    VALUES ('api_key', OLD.kid, CAST(strftime('%s', 'now') AS INTEGER));
END;

CREATE TRIGGER changes_service_account_update AFTER UPDATE OF state, role, level ON service_accounts BEGIN
    INSERT INTO changes (kind, subject, created_at)
    VALUES ('service_account', CAST(NEW.id AS TEXT), CAST(strftime('%s', 'now') AS INTEGER));
END;

CREATE TRIGGER changes_permission_insert AFTER INSERT ON permissions BEGIN
    INSERT INTO changes (kind, subject, created_at) VALUES ('permissions', '', CAST(strftime('%s', 'now') AS INTEGER));
END;

CREATE TRIGGER changes_permission_update AFTER UPDATE ON permissions BEGIN
    INSERT INTO changes (kind, subject, created_at) VALUES ('permissions', '', CAST(strftime('%s', 'now') AS INTEGER));
END;

CREATE TRIGGER changes_permission_delete AFTER DELETE ON permissions BEGIN
    INSERT INTO changes (kind, subject, created_at) VALUES ('permissions', '', CAST(strftime('%s', 'now') AS INTEGER));
END;

CREATE TRIGGER changes_signing_key_insert AFTER INSERT ON signing_keys BEGIN
    INSERT INTO changes (kind, subject, created_at) VALUES ('signing_keys', '', CAST(strftime('%s', 'now') AS INTEGER));
END;

CREATE TRIGGER changes_signing_key_update AFTER UPDATE ON signing_keys BEGIN
    INSERT INTO changes (kind, subject, created_at) VALUES ('signing_keys', '', CAST(strftime('%s', 'now') AS INTEGER));
END;

CREATE INDEX index_changes_on_created_at ON changes (created_at);

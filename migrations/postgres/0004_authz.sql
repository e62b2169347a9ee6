-- The change feed is written by triggers, so every write path (HTTP, admin socket, another
-- daemon, an operator's SQL) reaches the authz caches of every daemon without each caller
-- remembering to announce it. Kinds: session (subject = id_hash), user (id), api_key (kid),
-- service_account (id), permissions (''), signing_keys ('').
-- barong_change(kind, column): the subject is that column of the old (DELETE) or new row, or ''.
CREATE FUNCTION barong_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    subject TEXT := '';
BEGIN
    IF TG_ARGV[1] <> '' THEN
        IF TG_OP = 'DELETE' THEN
            subject := to_jsonb(OLD) ->> TG_ARGV[1];
        ELSE
            subject := to_jsonb(NEW) ->> TG_ARGV[1];
        END IF;
    END IF;
    INSERT INTO changes (kind, subject, created_at)
    VALUES (TG_ARGV[0], COALESCE(subject, ''), EXTRACT(EPOCH FROM now())::BIGINT);
    RETURN NULL;
END
$$;

CREATE TRIGGER changes_session_delete AFTER DELETE ON sessions
    FOR EACH ROW EXECUTE FUNCTION barong_change('session', 'id_hash');
CREATE TRIGGER changes_user_update AFTER UPDATE OF state, role, level, otp, email ON users
    FOR EACH ROW EXECUTE FUNCTION barong_change('user', 'id');
CREATE TRIGGER changes_user_delete AFTER DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION barong_change('user', 'id');
CREATE TRIGGER changes_api_key_update AFTER UPDATE OR DELETE ON api_keys
    FOR EACH ROW EXECUTE FUNCTION barong_change('api_key', 'kid');
CREATE TRIGGER changes_service_account_update AFTER UPDATE OF state, role, level ON service_accounts
    FOR EACH ROW EXECUTE FUNCTION barong_change('service_account', 'id');
CREATE TRIGGER changes_permission AFTER INSERT OR UPDATE OR DELETE ON permissions
    FOR EACH ROW EXECUTE FUNCTION barong_change('permissions', '');
CREATE TRIGGER changes_signing_key AFTER INSERT OR UPDATE ON signing_keys
    FOR EACH ROW EXECUTE FUNCTION barong_change('signing_keys', '');

CREATE INDEX index_changes_on_created_at ON changes (created_at);

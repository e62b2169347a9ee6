-- users/me is served from a rendered copy per user (issue 12), so everything it shows announces
-- itself on the change feed: the user row (data, username, updated_at, besides the
-- columns 0004 announces as `user`) and to the user's labels, phones, profiles and data storages.
-- Kind `user_info`, subject = the user's id; it drops only the rendered copy, not the gateway's
-- cached user or JWT. On users only the columns users/me shows: a TOTP step or a re-sealed seed
-- must not flood the feed.
CREATE TRIGGER changes_user_info_users AFTER UPDATE OF uid, username, email, role, data, level, otp, state, referral_id,
    created_at, updated_at ON users BEGIN
    INSERT INTO changes (kind, subject, created_at)
    VALUES ('user_info', CAST(NEW.id AS TEXT), CAST(strftime('%s', 'now') AS INTEGER));
END;

CREATE TRIGGER changes_user_info_labels_insert AFTER INSERT ON labels BEGIN
    INSERT INTO changes (kind, subject, created_at)
    VALUES ('user_info', CAST(NEW.user_id AS TEXT), CAST(strftime('%s', 'now') AS INTEGER));
END;

CREATE TRIGGER changes_user_info_labels_update AFTER UPDATE ON labels BEGIN
    INSERT INTO changes (kind, subject, created_at)
    VALUES ('user_info', CAST(NEW.user_id AS TEXT), CAST(strftime('%s', 'now') AS INTEGER));
END;

CREATE TRIGGER changes_user_info_labels_delete AFTER DELETE ON labels BEGIN
    INSERT INTO changes (kind, subject, created_at)
    VALUES ('user_info', CAST(OLD.user_id AS TEXT), CAST(strftime('%s', 'now') AS INTEGER));
END;

CREATE TRIGGER changes_user_info_phones_insert AFTER INSERT ON phones BEGIN
    INSERT INTO changes (kind, subject, created_at)
    VALUES ('user_info', CAST(NEW.user_id AS TEXT), CAST(strftime('%s', 'now') AS INTEGER));
END;

CREATE TRIGGER changes_user_info_phones_update AFTER UPDATE ON phones BEGIN
    INSERT INTO changes (kind, subject, created_at)
    VALUES ('user_info', CAST(NEW.user_id AS TEXT), CAST(strftime('%s', 'now') AS INTEGER));
END;

CREATE TRIGGER changes_user_info_phones_delete AFTER DELETE ON phones BEGIN
    INSERT INTO changes (kind, subject, created_at)
    VALUES ('user_info', CAST(OLD.user_id AS TEXT), CAST(strftime('%s', 'now') AS INTEGER));
END;

CREATE TRIGGER changes_user_info_profiles_insert AFTER INSERT ON profiles BEGIN
    INSERT INTO changes (kind, subject, created_at)
    VALUES ('user_info', CAST(NEW.user_id AS TEXT), CAST(strftime('%s', 'now') AS INTEGER));
END;

CREATE TRIGGER changes_user_info_profiles_update AFTER UPDATE ON profiles BEGIN
    INSERT INTO changes (kind, subject, created_at)
    VALUES ('user_info', CAST(NEW.user_id AS TEXT), CAST(strftime('%s', 'now') AS INTEGER));
END;

CREATE TRIGGER changes_user_info_profiles_delete AFTER DELETE ON profiles BEGIN
    INSERT INTO changes (kind, subject, created_at)
    VALUES ('user_info', CAST(OLD.user_id AS TEXT), CAST(strftime('%s', 'now') AS INTEGER));
END;

CREATE TRIGGER changes_user_info_data_storages_insert AFTER INSERT ON data_storages BEGIN
    INSERT INTO changes (kind, subject, created_at)
    VALUES ('user_info', CAST(NEW.user_id AS TEXT), CAST(strftime('%s', 'now') AS INTEGER));
END;

CREATE TRIGGER changes_user_info_data_storages_update AFTER UPDATE ON data_storages BEGIN
    INSERT INTO changes (kind, subject, created_at)
    VALUES ('user_info', CAST(NEW.user_id AS TEXT), CAST(strftime('%s', 'now') AS INTEGER));
END;

CREATE TRIGGER changes_user_info_data_storages_delete AFTER DELETE ON data_storages BEGIN
    INSERT INTO changes (kind, subject, created_at)
    VALUES ('user_info', CAST(OLD.user_id AS TEXT), CAST(strftime('%s', 'now') AS INTEGER));
END;

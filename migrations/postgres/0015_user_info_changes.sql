-- users/me is served from a rendered copy per user (issue 12), so everything it shows announces
-- itself on the change feed: the user row (data, username, updated_at, besides the
-- columns 0004 announces as `user`) and to the user's labels, phones, profiles and data storages.
-- Kind `user_info`, subject = the user's id; it drops only the rendered copy, not the gateway's
-- cached user or JWT. On users only the columns users/me shows: a TOTP step or a re-sealed seed
-- must not flood the feed.
CREATE TRIGGER changes_user_info_users AFTER UPDATE OF uid, username, email, role, data, level, otp, state, referral_id,
    created_at, updated_at ON users
    FOR EACH ROW EXECUTE FUNCTION barong_change('user_info', 'id');
CREATE TRIGGER changes_user_info_labels AFTER INSERT OR UPDATE OR DELETE ON labels
    FOR EACH ROW EXECUTE FUNCTION barong_change('user_info', 'user_id');
CREATE TRIGGER changes_user_info_phones AFTER INSERT OR UPDATE OR DELETE ON phones
    FOR EACH ROW EXECUTE FUNCTION barong_change('user_info', 'user_id');
CREATE TRIGGER changes_user_info_profiles AFTER INSERT OR UPDATE OR DELETE ON profiles
    FOR EACH ROW EXECUTE FUNCTION barong_change('user_info', 'user_id');
CREATE TRIGGER changes_user_info_data_storages AFTER INSERT OR UPDATE OR DELETE ON data_storages
    FOR EACH ROW EXECUTE FUNCTION barong_change('user_info', 'user_id');

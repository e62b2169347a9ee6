-- The Admin API's user list (GET admin/users, spec admin-and-management §2.1, W16) filters by
-- state, role, level, profile country and a created/updated range, and orders by any column;
-- with 100,000 users each of these scanned the whole table. Tower uses the filters and the
-- default id order; the time indexes also serve `ordering` by created_at/updated_at.
CREATE INDEX index_users_on_state ON users (state);
CREATE INDEX index_users_on_role ON users (role);
CREATE INDEX index_users_on_level ON users (level);
CREATE INDEX index_users_on_created_at ON users (created_at, id);
CREATE INDEX index_users_on_updated_at ON users (updated_at, id);
CREATE INDEX index_profiles_on_country ON profiles (country, user_id);

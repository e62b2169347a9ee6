-- Barong validates data-storage titles as unique per user case-insensitively; the index is what
-- enforces it, so two concurrent requests cannot both record `Personal` and `personal`.
CREATE UNIQUE INDEX index_data_storages_on_user_id_and_lower_title ON data_storages (user_id, lower(title));

-- Service accounts are listed by their owner, and the owner's cascades (2FA off, state change)
-- reach their keys through this column.
CREATE INDEX index_service_accounts_on_owner_id ON service_accounts (owner_id);

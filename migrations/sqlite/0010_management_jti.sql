-- Management API tokens accepted once (spec admin-and-management §4.6, W4): the primary key
-- refuses a replayed jti on every daemon sharing the database; rows are purged after expires_at.
CREATE TABLE management_jtis (
    jti TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL
);

CREATE INDEX management_jtis_expires_at ON management_jtis (expires_at);

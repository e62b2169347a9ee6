//! User data storages (§2.10).

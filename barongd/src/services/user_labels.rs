//! Labels a user reads (all scopes) and writes (public only) (§2.5).

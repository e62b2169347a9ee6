//! Operability: Prometheus metrics (defined in `families`, counted through `record`, rendered
//! by `scrape`), the readiness checks behind `/health/ready`, and what `access` adds to a
//! request's log lines.

pub mod access;
pub mod families;
pub mod health;
pub mod record;
pub mod scrape;

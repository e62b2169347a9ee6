//! Operability: Prometheus metrics (defined in `families`, counted through `record`, rendered
//! by `scrape`) and the readiness checks behind `/health/ready`.

pub mod families;
pub mod health;
pub mod record;
pub mod scrape;

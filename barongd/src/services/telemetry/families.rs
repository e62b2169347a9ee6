//! Every metric barongd exports, defined once. Names start with `barong_`; a counter's
//! `_total` suffix is added by the encoder. Labels are closed sets (route templates, outcomes,
//! Barong error keys), never raw paths, ids or addresses, so the series count stays bounded.

use std::sync::LazyLock;
use std::sync::atomic::{AtomicI64, AtomicU64};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    pub route: String,
    pub method: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub route: String,
    pub method: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DecisionLabels {
    pub flow: &'static str,
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabels {
    pub reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CacheLabels {
    pub cache: &'static str,
    pub result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct QueueLabels {
    pub queue: &'static str,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

/// Seconds from 0.5 ms to ~16 s: a gateway decision is well under a millisecond, a login waits
/// for argon2 (tens to hundreds of ms), a slow upload takes seconds.
fn latency_buckets() -> Histogram {
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

pub struct Metrics {
    pub registry: Registry,
    pub http_requests: Family<HttpLabels, Counter>,
    pub http_duration: Histograms<RouteLabels>,
    pub logins: Family<OutcomeLabels, Counter>,
    pub registrations: Family<OutcomeLabels, Counter>,
    pub gateway_decisions: Family<DecisionLabels, Counter>,
    pub throttled: Family<ReasonLabels, Counter>,
    pub argon2_queue_depth: Gauge,
    pub argon2_wait: Histogram,
    /// API-key nonces per statement written to a shared (PostgreSQL) database.
    pub nonce_batch_size: Histogram,
    pub cache_lookups: Family<CacheLabels, Counter>,
    pub change_feed_lag: Gauge<f64, AtomicU64>,
    pub change_feed_errors: Counter,
    /// Unix milliseconds of the last change-feed read that succeeded (0: none yet); the lag
    /// gauge is computed from it at scrape time.
    pub change_feed_read_at: AtomicI64,
    pub outbox_depth: Family<QueueLabels, Gauge>,
    pub outbox_oldest_age: Family<QueueLabels, Gauge<f64, AtomicU64>>,
    pub outbox_failures: Family<QueueLabels, Counter>,
    pub db_pool_size: Gauge,
    pub db_pool_idle: Gauge,
}

/// Process-wide, like the allocator: counters are bumped from deep inside services that have no
/// handle on the App (the argon2 pool, the cache lookups), and one daemon exports one registry.
pub static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

impl Metrics {
    fn new() -> Metrics {
        let m = Metrics {
            registry: Registry::default(),
            http_requests: Family::default(),
            http_duration: Family::new_with_constructor(latency_buckets),
            logins: Family::default(),
            registrations: Family::default(),
            gateway_decisions: Family::default(),
            throttled: Family::default(),
            argon2_queue_depth: Gauge::default(),
            argon2_wait: Histogram::new(exponential_buckets(0.0005, 2.0, 16)),
            nonce_batch_size: Histogram::new(exponential_buckets(1.0, 2.0, 11)),
            cache_lookups: Family::default(),
            change_feed_lag: Gauge::default(),
            change_feed_errors: Counter::default(),
            change_feed_read_at: AtomicI64::new(0),
            outbox_depth: Family::default(),
            outbox_oldest_age: Family::default(),
            outbox_failures: Family::default(),
            db_pool_size: Gauge::default(),
            db_pool_idle: Gauge::default(),
        };
        m.register()
    }

    fn register(mut self) -> Metrics {
        let r = &mut self.registry;
        r.register(
            "barong_http_requests",
            "HTTP requests by route template, method and status",
            self.http_requests.clone(),
        );
        r.register(
            "barong_http_request_duration_seconds",
            "HTTP request latency by route template and method",
            self.http_duration.clone(),
        );
        r.register("barong_logins", "Sign-in attempts by outcome (success or Barong's error key)", self.logins.clone());
        r.register(
            "barong_registrations",
            "Registrations by outcome (success or Barong's error key)",
            self.registrations.clone(),
        );
        r.register(
            "barong_gateway_decisions",
            "Gateway (authz) decisions by flow (session, api_key, public) and outcome",
            self.gateway_decisions.clone(),
        );
        r.register(
            "barong_throttled",
            "Requests refused with 429 by a throttle, by Barong's error key",
            self.throttled.clone(),
        );
        r.register(
            "barong_argon2_queue_depth",
            "Password hashes waiting for or running on the argon2 pool",
            self.argon2_queue_depth.clone(),
        );
        r.register(
            "barong_argon2_wait_seconds",
            "Time a password hash waited for an argon2 worker",
            self.argon2_wait.clone(),
        );
        r.register(
            "barong_nonce_batch_size",
            "API-key nonces per statement written to the shared database (PostgreSQL)",
            self.nonce_batch_size.clone(),
        );
        r.register(
            "barong_gateway_cache_lookups",
            "Gateway cache lookups by cache and result (hit or miss)",
            self.cache_lookups.clone(),
        );
        r.register(
            "barong_change_feed_lag_seconds",
            "Seconds since this daemon last read the change feed successfully",
            self.change_feed_lag.clone(),
        );
        r.register(
            "barong_change_feed_errors",
            "Change-feed reads that failed (the caches were dropped)",
            self.change_feed_errors.clone(),
        );
        r.register(
            "barong_outbox_depth",
            "Messages waiting in an outbox (mail, sms, events)",
            self.outbox_depth.clone(),
        );
        r.register(
            "barong_outbox_oldest_age_seconds",
            "Age of the oldest message waiting in an outbox (0 when empty)",
            self.outbox_oldest_age.clone(),
        );
        r.register("barong_outbox_failures", "Failed delivery attempts by outbox", self.outbox_failures.clone());
        r.register("barong_db_pool_size", "Database connections open in this daemon's pool", self.db_pool_size.clone());
        r.register("barong_db_pool_idle", "Idle database connections in this daemon's pool", self.db_pool_idle.clone());
        // Exported at 0 from the start: `rate()` and alerts need the series before the first failure.
        for queue in ["mail", "sms", "events"] {
            let _ = self.outbox_failures.get_or_create(&QueueLabels { queue });
        }
        self
    }
}

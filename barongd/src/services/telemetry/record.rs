//! The small functions handlers and services count through, so no caller touches a metric
//! family or builds a label set itself.

use std::sync::atomic::Ordering;
use std::time::Duration;

use super::families::{
    CacheLabels, DecisionLabels, HttpLabels, METRICS, OutcomeLabels, QueueLabels, ReasonLabels, RouteLabels,
};
use crate::services::error::ServiceResult;

/// One answered HTTP request. `route` is a template (`/api/v2/barong/admin/users/:uid`).
pub fn http_request(route: &str, method: &str, status: u16, took: Duration) {
    let (route, method) = (route.to_string(), method.to_string());
    METRICS
        .http_duration
        .get_or_create(&RouteLabels { route: route.clone(), method: method.clone() })
        .observe(took.as_secs_f64());
    METRICS.http_requests.get_or_create(&HttpLabels { route, method, status }).inc();
}

/// `success`, or the first Barong error key of the refusal.
fn outcome<T>(result: &ServiceResult<T>) -> String {
    match result {
        Ok(_) => "success".into(),
        Err(e) => e.key().to_string(),
    }
}

pub fn login<T>(result: &ServiceResult<T>) {
    METRICS.logins.get_or_create(&OutcomeLabels { outcome: outcome(result) }).inc();
}

pub fn registration<T>(result: &ServiceResult<T>) {
    METRICS.registrations.get_or_create(&OutcomeLabels { outcome: outcome(result) }).inc();
}

/// How a gateway request was authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Session,
    ApiKey,
    /// A block or pass rule answered before any credentials were looked at.
    Public,
}

impl Flow {
    fn as_str(self) -> &'static str {
        match self {
            Flow::Session => "session",
            Flow::ApiKey => "api_key",
            Flow::Public => "public",
        }
    }
}

/// One gateway decision: outcome `allowed`, or the Barong error key of the denial.
pub fn gateway_decision<T>(flow: Flow, result: &ServiceResult<T>) {
    let outcome = match result {
        Ok(_) => "allowed".into(),
        Err(e) => e.key().to_string(),
    };
    METRICS.gateway_decisions.get_or_create(&DecisionLabels { flow: flow.as_str(), outcome }).inc();
}

/// A request refused by a throttle (answered 429), by its error key.
pub fn throttled(reason: &str) {
    METRICS.throttled.get_or_create(&ReasonLabels { reason: reason.to_string() }).inc();
}

/// Held while a hash waits for or runs on the argon2 pool: the queue depth gauge counts it.
pub struct Argon2Queued(());

pub fn argon2_queued() -> Argon2Queued {
    METRICS.argon2_queue_depth.inc();
    Argon2Queued(())
}

impl Drop for Argon2Queued {
    fn drop(&mut self) {
        METRICS.argon2_queue_depth.dec();
    }
}

/// How long a hash waited before a worker took it.
pub fn argon2_waited(waited: Duration) {
    METRICS.argon2_wait.observe(waited.as_secs_f64());
}

/// How many nonces one shared-nonce statement carried.
pub fn nonce_batch(size: usize) {
    METRICS.nonce_batch_size.observe(size as f64);
}

/// A gateway cache lookup (`sessions`, `users`, `service_accounts`, `api_keys`, `permissions`,
/// `jwts`).
pub fn cache_lookup(cache: &'static str, hit: bool) {
    let result = if hit { "hit" } else { "miss" };
    METRICS.cache_lookups.get_or_create(&CacheLabels { cache, result }).inc();
}

/// Wall-clock unix milliseconds: the feed's lag is real time, whatever clock the services use.
pub fn unix_ms() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

/// A change-feed read finished.
pub fn change_feed_read(ok: bool) {
    if ok {
        METRICS.change_feed_read_at.store(unix_ms(), Ordering::Relaxed);
    } else {
        METRICS.change_feed_errors.inc();
    }
}

/// Outboxes: `mail`, `sms`, `events`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queue {
    Mail,
    Sms,
    Events,
}

impl Queue {
    pub fn as_str(self) -> &'static str {
        match self {
            Queue::Mail => "mail",
            Queue::Sms => "sms",
            Queue::Events => "events",
        }
    }
}

/// A delivery attempt that failed (it will be retried, or was given up).
pub fn outbox_failure(queue: Queue) {
    METRICS.outbox_failures.get_or_create(&QueueLabels { queue: queue.as_str() }).inc();
}

//! Time as a parameter, so expiry logic is testable without sleeping.

use std::sync::atomic::{AtomicI64, Ordering};

pub trait Clock: Send + Sync + 'static {
    /// Unix time in milliseconds.
    fn now_ms(&self) -> i64;
    /// Unix time in seconds.
    fn now(&self) -> i64 {
        self.now_ms().div_euclid(1000)
    }
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        chrono::Utc::now().timestamp_millis()
    }
}

/// A clock the test moves by hand.
#[allow(dead_code)]
pub struct ManualClock(pub AtomicI64);

#[allow(dead_code)]
impl ManualClock {
    pub fn at(seconds: i64) -> Self {
        ManualClock(AtomicI64::new(seconds * 1000))
    }
    pub fn advance(&self, seconds: i64) {
        self.0.fetch_add(seconds * 1000, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// ISO-8601 UTC seconds, as Barong's entities render times (`2020-06-01T07:01:20Z`).
pub fn iso8601(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0).map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso8601_matches_barong() {
        assert_eq!(iso8601(1_590_994_880), "2020-06-01T07:01:20Z");
    }

    #[test]
    fn manual_clock_moves() {
        let c = ManualClock::at(100);
        c.advance(5);
        assert_eq!(c.now(), 105);
    }
}

//! Barong's bcrypt digests, kept as legacy credentials after an import (migration spec §2.7):
//! which digests are accepted, what bcrypt-ruby actually hashed, and the sign-in time floor that
//! hides which accounts still have one.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use crate::store::{DynStore, StoreResult};

/// bcrypt reads at most this many bytes of a password; bcrypt-ruby silently dropped the rest.
pub const BCRYPT_MAX_BYTES: usize = 72;

/// The most a measured floor may reach: a digest of absurd cost (Barong accepted up to 31) must
/// not make every sign-in wait for hours.
const MAX_MEASURED_FLOOR: Duration = Duration::from_secs(60);

/// How often the count of remaining digests is re-read, so digests imported after start (the
/// Management API's import) bring the floor back even before one of them is used.
const RECOUNT_EVERY: Duration = Duration::from_secs(60);

/// Whether a stored digest is a legacy one (any `$2…`): it is never handed to argon2, and a
/// refused variant fails like a wrong password.
pub fn is_legacy(digest: &str) -> bool {
    digest.starts_with("$2")
}

/// The cost of a digest (or its 7-character prefix, `$2b$12$`) barong-rs verifies: `$2a$`, `$2b$`
/// or `$2y$`, cost 04–31. `$2x$` (crypt_blowfish's buggy 8-bit variant) and anything else: `None`.
pub fn accepted_cost(digest: &str) -> Option<u32> {
    let b = digest.as_bytes();
    if b.len() < 7 || !matches!(&b[..4], b"$2a$" | b"$2b$" | b"$2y$") || b[6] != b'$' {
        return None;
    }
    let cost = std::str::from_utf8(&b[4..6]).ok().filter(|c| c.bytes().all(|d| d.is_ascii_digit()))?;
    cost.parse::<u32>().ok().filter(|c| (4..=31).contains(c))
}

/// A whole digest barong-rs verifies: an accepted prefix and cost, then 53 characters of bcrypt's
/// base64 (22 of salt, 31 of hash).
pub fn accepted(digest: &str) -> bool {
    digest.len() == 60
        && accepted_cost(digest).is_some()
        && digest.bytes().skip(7).all(|c| c.is_ascii_alphanumeric() || c == b'.' || c == b'/')
}

/// What bcrypt-ruby hashed of a password: its first 72 bytes (and, as it handed the string to C's
/// crypt as a C string, nothing from a NUL byte on).
pub fn bcrypt_input(password: &[u8]) -> &[u8] {
    let end = password.iter().position(|&b| b == 0).unwrap_or(password.len());
    &password[..end.min(BCRYPT_MAX_BYTES)]
}

/// Whether a password that matched a bcrypt digest may replace it: not when it matched only by
/// truncation (the longer password would then become the real one).
pub fn rehashable(password: &str) -> bool {
    bcrypt_input(password.as_bytes()).len() == password.len()
}

#[derive(Default)]
struct Measured {
    /// The highest cost a floor was measured for, and that floor.
    cost: u32,
    floor: Duration,
}

/// How many legacy digests remain, and how long the password step of a sign-in takes at least
/// while any do.
pub struct LegacyPasswords {
    /// `legacy_password_time_floor_ms`, when set.
    configured: Option<Duration>,
    remaining: AtomicI64,
    measured: Mutex<Measured>,
}

impl LegacyPasswords {
    /// Counts the stored digests (and measures the floor when it is not configured).
    pub async fn load(configured_ms: Option<u64>, store: &DynStore) -> Result<Self, String> {
        let legacy = LegacyPasswords {
            configured: configured_ms.map(Duration::from_millis),
            remaining: AtomicI64::new(0),
            measured: Mutex::new(Measured::default()),
        };
        legacy.refresh(store).await.map_err(|e| format!("counting bcrypt digests: {e}"))?;
        Ok(legacy)
    }

    /// Re-reads the count; measures the floor again when a higher cost than measured appeared.
    pub async fn refresh(&self, store: &DynStore) -> StoreResult<()> {
        let counts = store.legacy_password_counts().await?;
        let usable = counts.iter().filter_map(|(prefix, n)| accepted_cost(prefix).map(|c| (c, *n)));
        let (remaining, max_cost) = usable.fold((0, 0), |(n, cost), (c, k)| (n + k, cost.max(c)));
        if self.configured.is_none() && max_cost > self.measured_cost() {
            let floor = measure(max_cost).await;
            tracing::info!(cost = max_cost, floor_ms = floor.as_millis() as u64, "legacy password time floor measured");
            let mut m = self.measured.lock().unwrap_or_else(|e| e.into_inner());
            if max_cost > m.cost {
                *m = Measured { cost: max_cost, floor };
            }
        }
        let before = self.remaining.swap(remaining, Ordering::Relaxed);
        if before != remaining {
            tracing::info!(remaining, "bcrypt credentials left to migrate");
        }
        Ok(())
    }

    fn measured_cost(&self) -> u32 {
        self.measured.lock().unwrap_or_else(|e| e.into_inner()).cost
    }

    /// Digests that still need a sign-in to migrate.
    pub fn remaining(&self) -> i64 {
        self.remaining.load(Ordering::Relaxed)
    }

    /// The floor in force now: none once the last legacy digest is gone.
    pub fn floor(&self) -> Option<Duration> {
        if self.remaining() <= 0 {
            return None;
        }
        let floor = self.configured.unwrap_or_else(|| self.measured.lock().unwrap_or_else(|e| e.into_inner()).floor);
        Some(floor).filter(|f| !f.is_zero())
    }

    /// Waits (asleep, no CPU) until the floor has passed since `started`.
    pub async fn hold(&self, started: Instant) {
        if let Some(floor) = self.floor() {
            tokio::time::sleep_until((started + floor).into()).await;
        }
    }
}

/// 1.5 × the slowest of five bcrypt hashes at `cost` (the work of one verify). Costs above 8
/// are timed at 8 and scaled (each step doubles the work), so start-up stays well under a second.
async fn measure(cost: u32) -> Duration {
    let sample = cost.min(8);
    let slowest = tokio::task::spawn_blocking(move || {
        (0..5)
            .map(|i| {
                let t = Instant::now();
                let _ = bcrypt::hash_with_salt(b"legacy floor probe", sample, [i as u8; 16]);
                t.elapsed()
            })
            .max()
            .unwrap_or_default()
    })
    .await
    .unwrap_or_default();
    let scaled = slowest.saturating_mul(1u32 << (cost - sample).min(30));
    (scaled.saturating_mul(3) / 2).min(MAX_MEASURED_FLOOR)
}

/// Re-reads the count now and then (see [`RECOUNT_EVERY`]).
pub async fn recount_loop(legacy: Arc<LegacyPasswords>, store: DynStore, mut stop: tokio::sync::watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(RECOUNT_EVERY) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        if let Err(e) = legacy.refresh(&store).await {
            tracing::warn!(error = %e, "counting bcrypt digests failed; keeping the previous count");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_and_costs() {
        assert_eq!(accepted_cost("$2a$04$"), Some(4));
        assert_eq!(accepted_cost("$2b$12$abc"), Some(12));
        assert_eq!(accepted_cost("$2y$31$"), Some(31));
        for refused in ["$2x$12$", "$2$12$xx", "$2a$03$", "$2a$32$", "$2a$1a$", "$2a$12x", "$2a$12", "$argon2id$", ""] {
            assert_eq!(accepted_cost(refused), None, "{refused}");
        }
        let real = "$2y$12$L6Bc/AlTQHyd9liGgGEZyOFLPHNgyxeEPfgYfBCVxJ7JIlwxyVU3u";
        assert!(accepted(real));
        assert!(!accepted(&real.replacen("$2y$", "$2x$", 1)));
        assert!(!accepted(&real[..59]), "truncated");
        assert!(!accepted(&format!("{}!", &real[..59])), "not bcrypt's base64");
        assert!(is_legacy("$2x$12$") && !is_legacy("$argon2id$v=19$"));
    }

    #[test]
    fn only_the_first_72_bytes_count() {
        let pw = "é".repeat(40); // 80 bytes, cut inside a character as bcrypt-ruby did
        assert_eq!(bcrypt_input(pw.as_bytes()).len(), 72);
        assert_eq!(bcrypt_input(b"short"), b"short");
        let digest = bcrypt::hash(bcrypt_input(pw.as_bytes()), 4).expect("hash");
        let longer = format!("{pw}tail");
        assert!(bcrypt::verify(bcrypt_input(longer.as_bytes()), &digest).expect("verify"));
        assert!(rehashable(&"a".repeat(72)));
        assert!(!rehashable(&"a".repeat(73)));
        assert!(!rehashable(&pw));
        assert_eq!(bcrypt_input(b"abc\0def"), b"abc", "C strings end at NUL");
        assert!(!rehashable("abc\0def"));
    }

    #[tokio::test]
    async fn a_measured_floor_grows_with_cost_and_is_capped() {
        let low = measure(4).await;
        assert!(low > Duration::ZERO);
        assert!(measure(12).await > low);
        assert_eq!(measure(31).await, MAX_MEASURED_FLOOR);
    }
}

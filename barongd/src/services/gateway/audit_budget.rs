//! How many denied gateway requests become audit rows: a fixed budget per client IP and in
//! total for each minute, so a flood of denials costs no more than that many rows.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::config::DeniedAuditSettings;

struct Minute {
    /// Unix time divided by 60.
    index: i64,
    total: u32,
    by_ip: HashMap<String, u32>,
}

pub struct AuditBudget {
    per_ip: u32,
    per_minute: u32,
    minute: Mutex<Minute>,
}

impl AuditBudget {
    pub fn new(s: &DeniedAuditSettings) -> Self {
        AuditBudget {
            per_ip: s.max_per_ip_per_minute,
            per_minute: s.max_per_minute,
            minute: Mutex::new(Minute { index: i64::MIN, total: 0, by_ip: HashMap::new() }),
        }
    }

    /// Whether a denial from `ip` at `now` (unix seconds) is still recorded, counting it if so.
    /// The table of addresses holds at most `max_per_minute` entries and starts afresh each minute.
    pub fn take(&self, ip: &str, now: i64) -> bool {
        let mut m = self.minute.lock().unwrap_or_else(|p| p.into_inner());
        let index = now.div_euclid(60);
        if m.index != index {
            m.index = index;
            m.total = 0;
            m.by_ip = HashMap::new();
        }
        let of_ip = m.by_ip.get(ip).copied().unwrap_or(0);
        if m.total >= self.per_minute || of_ip >= self.per_ip {
            return false;
        }
        m.total += 1;
        m.by_ip.insert(ip.to_string(), of_ip + 1);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn denials_are_recorded_within_the_budget_of_each_minute() {
        let b =
            AuditBudget::new(&DeniedAuditSettings { max_per_ip_per_minute: 2, max_per_minute: 3, max_field_chars: 64 });
        let t = 6_000;
        assert!(b.take("a", t) && b.take("a", t + 1));
        assert!(!b.take("a", t + 2), "per address");
        assert!(b.take("b", t + 3));
        assert!(!b.take("c", t + 4), "in total");
        assert!(b.take("a", t + 60), "a new minute");
    }
}

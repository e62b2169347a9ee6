//! Password checks in flight per client: the argon2 queue is shared by everyone, so one client
//! (an IP, or whoever targets one account) may only have a few checks waiting or running at once.
//! More are refused at once instead of queueing, and a flood from one place delays others by a
//! few hashes at most.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::config::ThrottleSettings;

/// Distinct clients tracked at once. Each entry stands for at least one request in flight, so
/// the cap is only reached under a flood from very many places; past it new clients wait their
/// turn by being refused.
const MAX_CLIENTS: usize = 10_000;

pub struct HashSlots {
    in_flight: Mutex<HashMap<String, usize>>,
    per_account: usize,
    per_ip: usize,
}

/// Slots held by one request; given back when dropped (a request that ends early, on an error or
/// a dropped connection, gives them back too).
pub struct Slot<'a> {
    slots: &'a HashSlots,
    keys: [String; 2],
}

impl HashSlots {
    pub fn new(t: &ThrottleSettings) -> Self {
        HashSlots {
            in_flight: Mutex::new(HashMap::new()),
            per_account: t.max_hashing_per_account,
            per_ip: t.max_hashing_per_ip,
        }
    }

    /// A slot for a check of `account` from `net`, or `None` when either already has its
    /// limit in flight. Both are taken or neither.
    pub fn claim(&self, account: &str, net: &str) -> Option<Slot<'_>> {
        let keys = [format!("a:{account}"), format!("n:{net}")];
        let mut map = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
        let held = |k: &str| map.get(k).copied().unwrap_or(0);
        if held(&keys[0]) >= self.per_account || held(&keys[1]) >= self.per_ip {
            return None;
        }
        let new_entries = keys.iter().filter(|k| !map.contains_key(k.as_str())).count();
        if map.len() + new_entries > MAX_CLIENTS {
            return None;
        }
        for k in &keys {
            *map.entry(k.clone()).or_insert(0) += 1;
        }
        Some(Slot { slots: self, keys })
    }

    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.in_flight.lock().map(|m| m.len()).unwrap_or(0)
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let mut map = self.slots.in_flight.lock().unwrap_or_else(|e| e.into_inner());
        for k in &self.keys {
            if let Some(n) = map.get_mut(k) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    map.remove(k);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slots(per_account: usize, per_ip: usize) -> HashSlots {
        let t =
            ThrottleSettings { max_hashing_per_account: per_account, max_hashing_per_ip: per_ip, ..Default::default() };
        HashSlots::new(&t)
    }

    #[test]
    fn limits_per_account_and_per_ip() {
        let s = slots(2, 3);
        let a1 = s.claim("a", "10.0.0.1").expect("1st");
        let _a2 = s.claim("a", "10.0.0.2").expect("2nd of a");
        assert!(s.claim("a", "10.0.0.3").is_none(), "a has 2 in flight");
        let _b = s.claim("b", "10.0.0.1").expect("b");
        let _c = s.claim("c", "10.0.0.1").expect("3rd of the IP");
        assert!(s.claim("d", "10.0.0.1").is_none(), "the IP has 3 in flight");
        drop(a1);
        assert!(s.claim("d", "10.0.0.1").is_some(), "a slot came back");
    }

    #[test]
    fn refused_claims_take_nothing_and_entries_go_away() {
        let s = slots(1, 1);
        let held = s.claim("a", "n1").expect("first");
        assert!(s.claim("a", "n2").is_none());
        assert!(s.claim("b", "n1").is_none());
        // The refused claims left no count behind for `n2` or `b`.
        assert!(s.claim("b", "n2").is_some());
        drop(held);
        assert_eq!(s.tracked(), 0, "no entry outlives its last slot");
    }
}

//! Guessing limits for passwords and TOTP codes (docs/barong-weaknesses-fixed.md#w-brute-force).
//!
//! Every check is reserved before it runs: one statement counts the attempt in the account's
//! bucket and in the client network's bucket and returns the counts, and past a limit the check
//! never runs. Concurrent guesses each get their own count, so at most the limit of wrong guesses
//! is ever checked in a window however many arrive at once, on however many daemons. Login,
//! password change, account deletion and every TOTP check share the account's bucket.

use std::net::IpAddr;

use crate::services::App;
use crate::services::error::{ServiceError, ServiceResult};
use crate::services::identity::email_address::email_key;
use crate::services::identity::hash_slots::Slot;
use crate::store::throttle::Hit;

/// The bucket of an IP: IPv4 clients are counted per address; IPv6 clients per /64, the
/// smallest network one subscriber is handed, so rotating addresses inside it gains nothing.
pub fn client_net(ip: &str) -> String {
    match ip.parse::<IpAddr>() {
        Ok(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                let net = std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
                format!("{net}/64")
            }
        },
        Ok(IpAddr::V4(v4)) => v4.to_string(),
        Err(_) => ip.to_string(),
    }
}

/// A reserved attempt at an account's secrets; dropping it keeps the attempt counted (a guess).
pub struct Attempt<'a> {
    account: String,
    net: String,
    /// Held until the attempt ends, so the client's checks in flight stay bounded.
    _slot: Slot<'a>,
}

/// Reserves a check of a secret of the account `email` from the client `ip`; refused with 429
/// `refusal` when the client already has its checks in flight, or when the account or the network
/// is past its limit in the window (the right secret is refused too: that is the lockout).
pub async fn reserve<'a>(app: &'a App, email: &str, ip: &str, refusal: &'static str) -> ServiceResult<Attempt<'a>> {
    let t = &app.config.login_throttle;
    let account = format!("login:account:{}", email_key(email));
    let net = format!("login:ip:{}", client_net(ip));
    let slot = app.hash_slots.claim(&account, &net).ok_or_else(|| ServiceError::throttled(refusal))?;
    let window = t.window_seconds;
    let hits = [Hit { bucket: &account, window }, Hit { bucket: &net, window }];
    let counts = app.store.hit(&hits, app.clock.now()).await?;
    let over = |i: usize, max: i64| counts.get(i).is_none_or(|n| *n > max);
    if over(0, t.max_failures_per_account) || over(1, t.max_failures_per_ip) {
        return Err(ServiceError::throttled(refusal));
    }
    Ok(Attempt { account, net, _slot: slot })
}

impl Attempt<'_> {
    /// The secret was right: the attempt was no guess and its reservation is given back. Only
    /// this attempt's own: wrong guesses made alongside it stay counted, so a success (say, a
    /// password change by someone who knows the password) never buys more TOTP guesses.
    pub async fn succeeded(self, app: &App) -> ServiceResult<()> {
        app.store.release(&[&self.account, &self.net]).await?;
        Ok(())
    }

    /// The secret was right but the attempt still failed for the account's own reason (its 2FA
    /// seed was not migrated): it stays counted against the account, whose window it may
    /// exhaust, while the client's network gets its reservation back.
    pub async fn counted_for_account(self, app: &App) -> ServiceResult<()> {
        app.store.release(&[&self.net]).await?;
        Ok(())
    }

    /// A whole login succeeded (password, and the code when 2FA is on): the account's window is
    /// cleared, so the owner's own earlier typos no longer count against them. Only a full login
    /// clears it; it proves every secret the bucket guards. The network's bucket keeps its other
    /// guesses: one account an attacker owns must not reset the count of a network's guesses.
    pub async fn login_succeeded(self, app: &App) -> ServiceResult<()> {
        app.store.clear(&self.account).await?;
        app.store.release(&[&self.net]).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::client_net;

    #[test]
    fn ipv4_per_address_ipv6_per_64() {
        assert_eq!(client_net("203.0.113.7"), "203.0.113.7");
        assert_eq!(client_net("2001:db8:1:2:3:4:5:6"), "2001:db8:1:2::/64");
        assert_eq!(client_net("2001:db8:1:2:ffff::1"), "2001:db8:1:2::/64", "same /64, same bucket");
        assert_ne!(client_net("2001:db8:1:3::1"), client_net("2001:db8:1:2::1"), "another /64");
        assert_eq!(client_net("::1"), "::/64");
        assert_eq!(client_net("::ffff:198.51.100.4"), "198.51.100.4", "IPv4-mapped is IPv4");
        assert_eq!(client_net("not an ip"), "not an ip");
    }
}

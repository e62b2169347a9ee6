//! `trusted_proxies`: the networks whose forwarding headers are believed, parsed once.

use std::net::IpAddr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

/// Trusted proxy networks (CIDRs; a bare address is a /32 or /128).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<String>", into = "Vec<String>")]
pub struct Proxies(Vec<IpNet>);

impl Proxies {
    pub fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|n| n.contains(&ip))
    }
}

impl TryFrom<Vec<String>> for Proxies {
    type Error = String;
    fn try_from(list: Vec<String>) -> Result<Self, String> {
        list.iter()
            .map(|s| {
                s.parse::<IpNet>()
                    .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("trusted_proxies: `{s}` is not an IP address or CIDR"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Proxies)
    }
}

impl From<Proxies> for Vec<String> {
    fn from(p: Proxies) -> Vec<String> {
        p.0.iter().map(IpNet::to_string).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_and_networks_parse_and_garbage_is_named() {
        let p = Proxies::try_from(vec!["127.0.0.1".to_string(), "10.0.0.0/8".into(), "::1".into()]).expect("parses");
        assert!(p.trusts("10.9.8.7".parse().expect("ip")) && p.trusts("::1".parse().expect("ip")));
        assert!(!p.trusts("127.0.0.2".parse().expect("ip")));
        let e = Proxies::try_from(vec!["nope".to_string()]).expect_err("refused");
        assert!(e.contains("trusted_proxies") && e.contains("nope"), "{e}");
    }
}

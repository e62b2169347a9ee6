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

    /// Adds the networks of Barong's `config/cloudflare_ips.yml` (one CIDR per line, not YAML),
    /// when the file exists, as Barong's trusted_proxies initializer did; returns how many.
    pub fn add_cloudflare_file(&mut self, path: &std::path::Path) -> Result<usize, String> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(format!("{}: {e}", path.display())),
        };
        let lines: Vec<String> = text.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string).collect();
        let added = Proxies::try_from(lines).map_err(|e| format!("{}: {e}", path.display()))?;
        let n = added.0.len();
        self.0.extend(added.0);
        Ok(n)
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

    #[test]
    fn barongs_cloudflare_list_adds_networks_when_present() {
        let dir = tempfile::tempdir().expect("tmp");
        let file = dir.path().join("cloudflare_ips.yml");
        let mut p = Proxies::default();
        assert_eq!(p.add_cloudflare_file(&file), Ok(0), "absent: nothing");
        std::fs::write(&file, "173.245.48.0/20\n103.21.244.0/22\n\n2400:cb00::/32\n").expect("write");
        assert_eq!(p.add_cloudflare_file(&file), Ok(3));
        assert!(p.trusts("173.245.48.7".parse().expect("ip")) && p.trusts("2400:cb00::1".parse().expect("ip")));
        std::fs::write(&file, "173.245.48.0/20\nnot-a-network\n").expect("write");
        let e = p.add_cloudflare_file(&file).expect_err("bad line");
        assert!(e.contains("cloudflare_ips.yml") && e.contains("not-a-network"), "{e}");
    }
}

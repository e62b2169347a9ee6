//! `management_api:` settings: where Barong's `management_api.yml` is, which networks may call
//! the Management API, and the hardening of its tokens (spec admin-and-management §7, W4, W7).

use std::net::IpAddr;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::config::yaml::{Mapping, Value};

/// The Management API (`management_api:`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ManagementApiSettings {
    /// Barong's `management_api.yml` (keychain, jwt options, scopes). Empty: the Management API
    /// is disabled and every request that passes the transport checks gets 401.
    pub file: String,
    /// Peers (TCP address, not forwarding headers) allowed to call the Management API; an empty
    /// list allows any. Barong had no such boundary: its signatures were forgeable (W2, W7).
    pub allowed_networks: Networks,
    /// The payload must carry a numeric `exp`, so a captured request cannot work forever.
    pub require_exp: bool,
    /// Longest accepted `exp - now` and `exp - iat`, seconds; 0 = no bound.
    pub max_token_lifetime: i64,
    /// `jti` required and accepted once across every daemon sharing the database.
    pub jti_single_use: bool,
}

impl Default for ManagementApiSettings {
    fn default() -> Self {
        let private = ["127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"];
        ManagementApiSettings {
            file: String::new(),
            allowed_networks: Networks(private.iter().filter_map(|n| n.parse().ok()).collect()),
            require_exp: true,
            max_token_lifetime: 300,
            jti_single_use: true,
        }
    }
}

/// A list of CIDRs (a bare address is a /32 or /128).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<String>", into = "Vec<String>")]
pub struct Networks(pub Vec<IpNet>);

impl Networks {
    /// Whether `ip` may call; an empty list allows everyone. IPv4-mapped IPv6 peers count as IPv4.
    pub fn allows(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        self.0.is_empty() || self.0.iter().any(|n| n.contains(&ip))
    }
}

impl TryFrom<Vec<String>> for Networks {
    type Error = String;
    fn try_from(list: Vec<String>) -> Result<Self, String> {
        list.iter()
            .map(|s| {
                let s = s.trim();
                s.parse::<IpNet>()
                    .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| format!("management_api.allowed_networks: `{s}` is not an IP address or CIDR"))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Networks)
    }
}

impl From<Networks> for Vec<String> {
    fn from(n: Networks) -> Vec<String> {
        n.0.iter().map(IpNet::to_string).collect()
    }
}

/// `BARONG_MANAGEMENT_API_<KEY>` into the `management_api:` section of `map` (nested settings
/// have no generic variables; these are the spec's names). Lists are comma-separated, an empty
/// string is `[]`.
pub fn apply_env(map: &mut Mapping, env: &dyn Fn(&str) -> Option<String>) -> Result<(), String> {
    let mut section = match map.get("management_api") {
        Some(Value::Mapping(m)) => m.clone(),
        _ => Mapping::new(),
    };
    let mut touched = false;
    for key in ["file", "allowed_networks", "require_exp", "max_token_lifetime", "jti_single_use"] {
        let var = format!("BARONG_MANAGEMENT_API_{}", key.to_ascii_uppercase());
        let Some(raw) = env(&var) else { continue };
        let value = match key {
            "file" => Value::String(raw),
            "allowed_networks" => Value::Sequence(
                raw.split(',').map(str::trim).filter(|s| !s.is_empty()).map(|s| Value::String(s.into())).collect(),
            ),
            // A duration (`300`, `5m`), read with the file's durations.
            "max_token_lifetime" => Value::String(raw),
            _ => match raw.as_str() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                _ => return Err(format!("{var}: expected true or false, got `{raw}`")),
            },
        };
        section.insert(Value::String(key.into()), value);
        touched = true;
    }
    if touched {
        map.insert(Value::String("management_api".into()), Value::Mapping(section));
    }
    Ok(())
}

/// The checks of these settings, added to `errors`.
pub fn management_errors(m: &ManagementApiSettings, errors: &mut Vec<String>) {
    if m.max_token_lifetime < 0 {
        errors.push("management_api.max_token_lifetime: must be 0 (no bound) or positive".into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_networks_are_loopback_and_private() {
        let n = ManagementApiSettings::default().allowed_networks;
        for ok in ["127.0.0.1", "::1", "10.1.2.3", "172.31.0.1", "192.168.1.1", "fd00::1", "::ffff:10.0.0.1"] {
            assert!(n.allows(ok.parse().expect("ip")), "{ok}");
        }
        for no in ["8.8.8.8", "172.32.0.1", "2001:db8::1"] {
            assert!(!n.allows(no.parse().expect("ip")), "{no}");
        }
        assert!(Networks::default().allows("8.8.8.8".parse().expect("ip")), "empty allows all");
    }

    #[test]
    fn settings_come_from_the_file_and_the_environment() {
        use crate::config::load::{Overrides, from_mapping};
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
        };
        let file = crate::config::yaml::mapping("management_api:\n  file: /etc/m.yml\n  max_token_lifetime: 60\n")
            .expect("yaml");
        let c = from_mapping(file.clone(), &Overrides::default(), &env(&[])).expect("loads");
        assert_eq!((c.management_api.file.as_str(), c.management_api.max_token_lifetime), ("/etc/m.yml", 60));
        assert!(c.management_api.require_exp && c.management_api.jti_single_use && !c.mgn_api_keys_user);
        let vars: &[(&str, &str)] = &[
            ("BARONG_MANAGEMENT_API_ALLOWED_NETWORKS", "10.0.0.0/8, 192.0.2.7"),
            ("BARONG_MANAGEMENT_API_JTI_SINGLE_USE", "false"),
            ("BARONG_MGN_API_KEYS_SA", "true"),
        ];
        let c = from_mapping(file.clone(), &Overrides::default(), &env(vars)).expect("env");
        assert_eq!(Vec::<String>::from(c.management_api.allowed_networks), ["10.0.0.0/8", "192.0.2.7/32"]);
        assert!(!c.management_api.jti_single_use && c.mgn_api_keys_sa);
        assert_eq!(c.management_api.file, "/etc/m.yml", "the file's other keys stay");
        let c =
            from_mapping(file.clone(), &Overrides::default(), &env(&[("BARONG_MANAGEMENT_API_ALLOWED_NETWORKS", "")]))
                .expect("empty");
        assert!(c.management_api.allowed_networks.0.is_empty(), "empty string = any");
        let e =
            from_mapping(file.clone(), &Overrides::default(), &env(&[("BARONG_MANAGEMENT_API_REQUIRE_EXP", "yes")]))
                .expect_err("bool");
        assert!(e.contains("BARONG_MANAGEMENT_API_REQUIRE_EXP"), "{e}");
        let e = from_mapping(file, &Overrides::default(), &env(&[("BARONG_MANAGEMENT_API_ALLOWED_NETWORKS", "nope")]))
            .expect_err("cidr");
        assert!(e.contains("allowed_networks") && e.contains("nope"), "{e}");
    }
}

//! Settings for running in production: where Prometheus scrapes (`metrics_listen`) and how log
//! lines are written (`log_format`).

use std::fmt;
use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

/// The metrics and health listener (`metrics_listen`, `BARONG_METRICS_LISTEN`): `host:port`, or
/// empty for none. Plain HTTP on purpose: it belongs on a private interface, and a second TLS
/// stack would be one more thing to keep patched.
#[derive(Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct MetricsListen(pub Option<SocketAddr>);

impl TryFrom<String> for MetricsListen {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        let s = s.trim();
        if s.is_empty() {
            return Ok(MetricsListen(None));
        }
        s.parse()
            .map(|a| MetricsListen(Some(a)))
            .map_err(|_| format!("metrics_listen: `{s}` is not an address like 127.0.0.1:9100 (or empty for none)"))
    }
}

impl From<MetricsListen> for String {
    fn from(m: MetricsListen) -> String {
        m.0.map(|a| a.to_string()).unwrap_or_default()
    }
}

impl fmt::Debug for MetricsListen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(a) => fmt::Display::fmt(&a, f),
            None => f.write_str("off"),
        }
    }
}

/// How log lines are written (`log_format`): `text` for people, `json` (one object a line, with
/// the request span's fields) for log shippers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

impl TryFrom<String> for LogFormat {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        match s.trim() {
            "text" => Ok(LogFormat::Text),
            "json" => Ok(LogFormat::Json),
            _ => Err(format!("log_format: `{s}` must be text or json")),
        }
    }
}

impl From<LogFormat> for String {
    fn from(f: LogFormat) -> String {
        match f {
            LogFormat::Text => "text".into(),
            LogFormat::Json => "json".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_listen_is_off_when_empty_and_refuses_a_bad_address() {
        assert_eq!(MetricsListen::try_from(String::new()).expect("empty"), MetricsListen(None));
        let on = MetricsListen::try_from("127.0.0.1:9100".to_string()).expect("address");
        assert_eq!(String::from(on), "127.0.0.1:9100");
        let err = MetricsListen::try_from("localhost".to_string()).expect_err("no port");
        assert!(err.contains("metrics_listen"), "{err}");
    }

    #[test]
    fn both_settings_come_from_the_environment_like_every_other_key() {
        use crate::config::load::{Overrides, load};
        let env = |k: &str| match k {
            "BARONG_METRICS_LISTEN" => Some("127.0.0.1:9100".to_string()),
            "BARONG_LOG_FORMAT" => Some("json".to_string()),
            _ => None,
        };
        let c = load(&Overrides::default(), &env).expect("loads");
        assert_eq!(c.metrics_listen.0, Some("127.0.0.1:9100".parse().expect("addr")));
        assert_eq!(c.log_format, LogFormat::Json);
        let defaults = load(&Overrides::default(), &|_: &str| None).expect("loads");
        assert_eq!((defaults.metrics_listen.0, defaults.log_format), (None, LogFormat::Text));
        let bad = |k: &str| (k == "BARONG_LOG_FORMAT").then(|| "yaml".to_string());
        assert!(load(&Overrides::default(), &bad).expect_err("refused").contains("log_format"));
    }

    #[test]
    fn log_format_is_text_or_json() {
        assert_eq!(LogFormat::try_from("json".to_string()).expect("json"), LogFormat::Json);
        assert!(LogFormat::try_from("xml".to_string()).is_err());
    }
}

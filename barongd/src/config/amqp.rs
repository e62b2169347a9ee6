//! The Event API's AMQP URL, parsed once when the configuration loads: percent-decoded here
//! (amqprs's parser kept `%2f` as a vhost name), with its password kept out of anything logged.

use std::fmt;

use crate::redact::redact_url;

/// Where the Event API publishes: the parsed target, the URL as it may be shown, and the forms of
/// its password that must never reach a log line.
#[derive(Clone, PartialEq)]
pub struct EventApi {
    pub target: AmqpTarget,
    /// The URL without its password.
    pub shown_url: String,
    pub secrets: Vec<String>,
}

impl EventApi {
    /// Checks an Event API URL as the publisher reads it: `amqp://` only (this build has no TLS), a
    /// host, a port in 1..=65535, UTF-8 once percent-decoded. The error never repeats the URL.
    pub fn parse(url: &str) -> Result<EventApi, String> {
        Ok(EventApi { target: AmqpTarget::parse(url)?, shown_url: redact_url(url), secrets: password_forms(url) })
    }
}

impl fmt::Debug for EventApi {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown_url)
    }
}

/// Where to connect, from an AMQP URL (RabbitMQ's URI spec: user info, host, port and vhost
/// percent-decoded; an empty path is the vhost `/`, so `/%2f` is `/` too).
#[derive(Clone, PartialEq)]
pub struct AmqpTarget {
    pub host: String,
    pub port: u16,
    pub username: String,
    pub password: String,
    pub vhost: String,
    pub heartbeat: Option<u16>,
}

impl fmt::Debug for AmqpTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AmqpTarget")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("username", &self.username)
            .field("vhost", &self.vhost)
            .field("heartbeat", &self.heartbeat)
            .finish_non_exhaustive()
    }
}

impl AmqpTarget {
    pub fn parse(url: &str) -> Result<AmqpTarget, String> {
        let rest = if let Some(r) = url.strip_prefix("amqp://") {
            r
        } else if url.starts_with("amqps://") {
            return Err("amqps:// (TLS) is not supported by this build; use amqp://".into());
        } else {
            return Err("must start with amqp://".into());
        };
        let (authority, tail) = match rest.find(['/', '?']) {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        let (path, query) = match tail.split_once('?') {
            Some((p, q)) => (p, q),
            None => (tail, ""),
        };
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        let (username, password) = match userinfo {
            Some(u) => match u.split_once(':') {
                Some((user, pass)) => (decode(user)?, decode(pass)?),
                None => (decode(u)?, String::new()),
            },
            None => ("guest".to_string(), "guest".to_string()),
        };
        let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
            let (h, after) = v6.split_once(']').ok_or("unclosed [ in the host")?;
            let port = match after.strip_prefix(':') {
                Some(p) => Some(p),
                None if after.is_empty() => None,
                None => return Err("bad host".into()),
            };
            (h.to_string(), port)
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (decode(h)?, Some(p)),
                None => (decode(hostport)?, None),
            }
        };
        if host.is_empty() {
            return Err("no host".into());
        }
        let port = match port {
            Some(p) => p.parse::<u16>().ok().filter(|p| *p > 0).ok_or("bad port")?,
            None => 5672,
        };
        let vhost = match path.strip_prefix('/') {
            Some(v) if !v.is_empty() => decode(v)?,
            _ => "/".to_string(),
        };
        let mut heartbeat = None;
        for pair in query.split('&') {
            if let Some(v) = pair.strip_prefix("heartbeat=") {
                heartbeat = Some(v.parse::<u16>().map_err(|_| "bad heartbeat")?);
            }
        }
        Ok(AmqpTarget { host, port, username, password, vhost, heartbeat })
    }
}

fn decode(s: &str) -> Result<String, String> {
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| "not UTF-8 once percent-decoded".to_string())
}

/// The password of an AMQP URL as written and decoded (empty strings left out).
fn password_forms(url: &str) -> Vec<String> {
    let mut forms = Vec::new();
    if let Some(rest) = url.split_once("://").map(|(_, r)| r) {
        let authority = rest.split(['/', '?']).next().unwrap_or_default();
        if let Some((userinfo, _)) = authority.rsplit_once('@')
            && let Some((_, pass)) = userinfo.split_once(':')
            && !pass.is_empty()
        {
            forms.push(pass.to_string());
            if let Ok(d) = decode(pass)
                && d != pass
                && !d.is_empty()
            {
                forms.push(d);
            }
        }
    }
    forms
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::redact::mask;

    fn target(host: &str, port: u16, user: &str, pass: &str, vhost: &str) -> AmqpTarget {
        AmqpTarget {
            host: host.into(),
            port,
            username: user.into(),
            password: pass.into(),
            vhost: vhost.into(),
            heartbeat: None,
        }
    }

    #[test]
    fn amqp_urls_are_parsed_and_decoded() {
        assert_eq!(
            AmqpTarget::parse("amqp://guest:guest@127.0.0.1:5672/%2f"),
            Ok(target("127.0.0.1", 5672, "guest", "guest", "/"))
        );
        assert_eq!(AmqpTarget::parse("amqp://rabbit"), Ok(target("rabbit", 5672, "guest", "guest", "/")));
        assert_eq!(AmqpTarget::parse("amqp://u:p%40ss@h/"), Ok(target("h", 5672, "u", "p@ss", "/")));
        assert_eq!(AmqpTarget::parse("amqp://u:p@h:5673/prod%2Fx"), Ok(target("h", 5673, "u", "p", "prod/x")));
        assert_eq!(AmqpTarget::parse("amqp://u:p@[::1]:5673/v"), Ok(target("::1", 5673, "u", "p", "v")));
        let t = AmqpTarget::parse("amqp://h?heartbeat=10&x").expect("parse");
        assert_eq!(t.heartbeat, Some(10));
        for bad in ["amqps://h", "http://h", "amqp://", "amqp://u:p@", "amqp://h:0", "amqp://h:x", "amqp://h:70000"] {
            assert!(EventApi::parse(bad).is_err(), "{bad}");
        }
        // Errors never repeat the URL (it may hold a password).
        let err = AmqpTarget::parse("amqp://u:hunter2@h:bad").expect_err("must fail");
        assert!(!err.contains("hunter2"), "{err}");
    }

    #[test]
    fn passwords_are_masked() {
        let forms = password_forms("amqp://me:p%40ss@h:5672/%2f");
        assert_eq!(forms, vec!["p%40ss".to_string(), "p@ss".to_string()]);
        assert_eq!(mask("ACCESS_REFUSED p@ss", &forms), "ACCESS_REFUSED ***");
        assert!(password_forms("amqp://h/%2f").is_empty());
        assert!(password_forms("amqp://me@h").is_empty());
    }
}

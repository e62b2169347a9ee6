//! The Event API's AMQP URL, parsed once when the configuration loads: percent-decoded here
//! (amqprs's parser kept `%2f` as a vhost name), with its password kept out of anything logged.
//! `amqps://` is TLS (rustls, ring), trusting the CAs of `event_api_rabbitmq_ca_file` or, when
//! none is set, the Mozilla roots built into barongd.

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
    /// The CA certificates (DER) an `amqps://` server must chain to; empty means the built-in
    /// Mozilla roots.
    pub tls_roots: Vec<Vec<u8>>,
}

impl EventApi {
    /// Checks an Event API URL as the publisher reads it: `amqp://` or `amqps://`, a host, a port
    /// in 1..=65535, UTF-8 once percent-decoded. The error never repeats the URL.
    pub fn parse(url: &str) -> Result<EventApi, String> {
        Ok(EventApi {
            target: AmqpTarget::parse(url)?,
            shown_url: redact_url(url),
            secrets: password_forms(url),
            tls_roots: Vec::new(),
        })
    }

    /// Trusts the CA certificates of the PEM file `path` (`event_api_rabbitmq_ca_file`) for an
    /// `amqps://` URL. Refused when the URL is plain `amqp://` (the file would silently do
    /// nothing), or when the file cannot be read or holds no certificate.
    pub fn with_ca_file(mut self, path: &str) -> Result<EventApi, String> {
        use rustls::pki_types::CertificateDer;
        use rustls::pki_types::pem::PemObject;
        if !self.target.tls {
            return Err("set, but the Event API URL is amqp://, not amqps://".into());
        }
        let bytes = std::fs::read(path).map_err(|e| format!("cannot read {path}: {e}"))?;
        let mut roots = Vec::new();
        for cert in CertificateDer::pem_slice_iter(&bytes) {
            let cert = cert.map_err(|e| format!("{path} is not a PEM certificate file: {e}"))?;
            // The anchor is taken as the publisher will take it, so a bad one fails here.
            rustls::RootCertStore::empty()
                .add(cert.clone())
                .map_err(|e| format!("{path}: unusable CA certificate: {e}"))?;
            roots.push(cert.as_ref().to_vec());
        }
        if roots.is_empty() {
            return Err(format!("{path} holds no PEM certificate"));
        }
        self.tls_roots = roots;
        Ok(self)
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
    /// `amqps://`: TLS, the server's certificate checked against `host`.
    pub tls: bool,
}

impl fmt::Debug for AmqpTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AmqpTarget")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("username", &self.username)
            .field("vhost", &self.vhost)
            .field("heartbeat", &self.heartbeat)
            .field("tls", &self.tls)
            .finish_non_exhaustive()
    }
}

impl AmqpTarget {
    pub fn parse(url: &str) -> Result<AmqpTarget, String> {
        let (rest, tls) = if let Some(r) = url.strip_prefix("amqp://") {
            (r, false)
        } else if let Some(r) = url.strip_prefix("amqps://") {
            (r, true)
        } else {
            return Err("must start with amqp:// or amqps://".into());
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
            None if tls => 5671,
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
        Ok(AmqpTarget { host, port, username, password, vhost, heartbeat, tls })
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
            tls: false,
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
        let t = AmqpTarget::parse("amqps://u:p@mq.example/v").expect("amqps");
        assert_eq!((t.tls, t.port, t.host.as_str()), (true, 5671, "mq.example"));
        assert_eq!(AmqpTarget::parse("amqps://h:6000").map(|t| (t.tls, t.port)), Ok((true, 6000)));
        for bad in ["amqps://", "http://h", "amqp://", "amqp://u:p@", "amqp://h:0", "amqp://h:x", "amqp://h:70000"] {
            assert!(EventApi::parse(bad).is_err(), "{bad}");
        }
        // Errors never repeat the URL (it may hold a password).
        let err = AmqpTarget::parse("amqp://u:hunter2@h:bad").expect_err("must fail");
        assert!(!err.contains("hunter2"), "{err}");
    }

    #[test]
    fn a_ca_file_needs_amqps_and_a_certificate() {
        let dir = tempfile::tempdir().expect("tempdir");
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "no certificate here\n").expect("write");
        let empty = empty.display().to_string();
        let tls = || EventApi::parse("amqps://u:p@h/").expect("url");
        let e = EventApi::parse("amqp://u:p@h/").expect("url").with_ca_file(&empty).expect_err("plain");
        assert!(e.contains("amqps://"), "{e}");
        assert!(tls().with_ca_file(&empty).expect_err("empty").contains("no PEM certificate"));
        let missing = dir.path().join("missing.pem").display().to_string();
        assert!(tls().with_ca_file(&missing).expect_err("missing").contains("cannot read"));
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

//! AMQP URLs: parsed and percent-decoded here (amqprs's parser kept `%2f` as a vhost name), and
//! their passwords masked out of any text that may be logged.

use amqprs::connection::OpenConnectionArguments;

/// Where to connect, from an AMQP URL (RabbitMQ's URI spec: user info, host, port and vhost
/// percent-decoded; an empty path is the vhost `/`, so `/%2f` is `/` too).
#[derive(Debug, PartialEq)]
pub(super) struct Target {
    pub(super) host: String,
    pub(super) port: u16,
    pub(super) username: String,
    pub(super) password: String,
    pub(super) vhost: String,
    pub(super) heartbeat: Option<u16>,
}

impl Target {
    pub(super) fn parse(url: &str) -> Result<Target, String> {
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
        Ok(Target { host, port, username, password, vhost, heartbeat })
    }

    pub(super) fn arguments(&self) -> OpenConnectionArguments {
        let mut args = OpenConnectionArguments::new(&self.host, self.port, &self.username, &self.password);
        args.virtual_host(&self.vhost).connection_name("barongd event publisher");
        if let Some(h) = self.heartbeat {
            args.heartbeat(h);
        }
        args
    }
}

pub(super) fn decode(s: &str) -> Result<String, String> {
    percent_encoding::percent_decode_str(s)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| "not UTF-8 once percent-decoded".to_string())
}

/// The password of an AMQP URL as written and decoded (empty strings left out).
pub(super) fn password_forms(url: &str) -> Vec<String> {
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

pub(super) use crate::services::outbox_files::mask;

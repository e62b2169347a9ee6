//! A session as the gateway caches it: only what the cookie flow checks, inline where it can be,
//! since the gateway keeps every session it has seen (bench/authz: 100,000 of them).

use std::sync::atomic::AtomicI64;

use crate::services::gateway::amr::Amr;
use crate::services::identity::sessions::same_network_addr;
use crate::store::SessionRow;

/// A session id's SHA-256 (`sessions.id_hash`, hex there) as a cache key, held inline.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionKey([u8; 32]);

impl SessionKey {
    pub(crate) fn from_hex(id_hash: &str) -> Option<Self> {
        let mut key = [0u8; 32];
        hex::decode_to_slice(id_hash, &mut key).ok()?;
        Some(SessionKey(key))
    }
}

/// What the cookie flow checks of a session and nothing else, inline where it can be: the
/// gateway keeps every session it has seen, and 100,000 of them must fit in tens of megabytes.
pub struct CachedSession {
    pub user_id: i64,
    /// The sliding expiry as last written to the database.
    pub expires_at: AtomicI64,
    pub absolute_expires_at: i64,
    pub csrf_token: Box<str>,
    /// The login's User-Agent as a digest (only ever compared).
    user_agent: [u8; 16],
    login_address: LoginAddress,
    /// How the login was proven: the upstream JWT's `amr`.
    pub amr: Amr,
}

enum LoginAddress {
    Ip(std::net::IpAddr),
    /// Not an IP address (a proxy's odd header): compared as text, as `same_network` does.
    Text(Box<str>),
}

fn user_agent_digest(user_agent: &str) -> [u8; 16] {
    use sha2::Digest;
    let full = sha2::Sha256::digest(user_agent.as_bytes());
    let mut short = [0u8; 16];
    short.copy_from_slice(&full[..16]);
    short
}

impl CachedSession {
    pub(crate) fn new(row: &SessionRow) -> Self {
        let login_address = match row.user_ip.parse() {
            Ok(ip) => LoginAddress::Ip(ip),
            Err(_) => LoginAddress::Text(row.user_ip.as_str().into()),
        };
        CachedSession {
            user_id: row.user_id,
            expires_at: AtomicI64::new(row.expires_at),
            absolute_expires_at: row.absolute_expires_at,
            csrf_token: row.csrf_token.as_str().into(),
            user_agent: user_agent_digest(&row.user_agent),
            login_address,
            amr: Amr::parse(&row.amr),
        }
    }

    /// Whether a request comes from the browser and network that logged in (the session's
    /// binding, as `identity::sessions::same_network` defines the network).
    pub(crate) fn bound_to(&self, user_agent: &str, ip: &str) -> bool {
        let same_network = match &self.login_address {
            LoginAddress::Ip(login) => ip.parse().is_ok_and(|ip| same_network_addr(*login, ip)),
            LoginAddress::Text(login) => **login == *ip,
        };
        same_network && user_agent_digest(user_agent) == self.user_agent
    }
}

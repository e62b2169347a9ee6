//! The signature algorithms of the JWTs barongd issues: a daemon setting (`jwt_algorithm`) that
//! barongctl also names (`keys rotate --algorithm`).

use std::fmt;

use serde::{Deserialize, Serialize};

/// Signature algorithm of the JWTs barongd issues (`jwt_algorithm`). A token never chooses its own
/// algorithm: each signing key has one, and a token is checked only with its key's algorithm.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq, Hash)]
#[serde(try_from = "String", into = "String")]
pub enum JwtAlgorithm {
    /// RSA 2048, PKCS#1 v1.5 with SHA-256: Barong's algorithm, what every Peatio understands.
    #[default]
    Rs256,
    /// ECDSA on P-256 with SHA-256: short keys and signatures.
    Es256,
    /// Ed25519 (RFC 8037): short keys and signatures, deterministic.
    EdDsa,
}

impl JwtAlgorithm {
    pub const ALL: [JwtAlgorithm; 3] = [JwtAlgorithm::Rs256, JwtAlgorithm::Es256, JwtAlgorithm::EdDsa];

    /// The JOSE name (`alg` of the JWT header and of the JWK).
    pub fn as_str(self) -> &'static str {
        match self {
            JwtAlgorithm::Rs256 => "RS256",
            JwtAlgorithm::Es256 => "ES256",
            JwtAlgorithm::EdDsa => "EdDSA",
        }
    }
}

impl fmt::Display for JwtAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for JwtAlgorithm {
    type Err = String;
    /// Exactly the JOSE names: `HS256` or `rs256` are refused, so a typo cannot weaken the tokens.
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|a| a.as_str() == s)
            .ok_or_else(|| format!("jwt_algorithm: unknown algorithm `{s}` (use RS256, ES256 or EdDSA)"))
    }
}

impl TryFrom<String> for JwtAlgorithm {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<JwtAlgorithm> for String {
    fn from(a: JwtAlgorithm) -> String {
        a.as_str().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jwt_algorithm_takes_exactly_the_jose_names() {
        for a in JwtAlgorithm::ALL {
            assert_eq!(a.as_str().parse::<JwtAlgorithm>(), Ok(a));
            assert_eq!(serde_json::to_value(a).ok(), Some(serde_json::Value::from(a.as_str())));
        }
        for bad in ["HS256", "none", "rs256", "EDDSA", ""] {
            let e = bad.parse::<JwtAlgorithm>().expect_err("refused");
            assert!(e.contains("RS256, ES256 or EdDSA"), "{e}");
            assert!(serde_json::from_value::<JwtAlgorithm>(bad.into()).is_err());
        }
    }
}

//! Random identifiers and tokens from the OS CSPRNG.

use rand::RngCore;

/// `n` random bytes as lower-case hex (`2n` characters): Barong's jti, CSRF and reset tokens.
pub fn random_hex(n: usize) -> String {
    let mut b = vec![0u8; n];
    rand::rngs::OsRng.fill_bytes(&mut b);
    hex::encode(b)
}

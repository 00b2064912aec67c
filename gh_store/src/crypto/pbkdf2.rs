//! PBKDF2-HMAC-SHA256 (RFC 8018 section 5.2): the slow salted hash stored
//! for each user's password.

use super::hmac::HmacKey;
use super::sha256::DIGEST_LEN;

/// Why a derivation was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pbkdf2Error {
    /// Zero iterations.
    NoIterations,
    /// The output is longer than the standard allows.
    OutputTooLong,
}

/// Fills `out` with the key derived from `password` and `salt`.
pub fn pbkdf2_hmac_sha256(
    password: &[u8],
    salt: &[u8],
    iterations: u32,
    out: &mut [u8],
) -> Result<(), Pbkdf2Error> {
    if iterations == 0 {
        return Err(Pbkdf2Error::NoIterations);
    }
    let key = HmacKey::new(password);
    for (block_index, chunk) in out.chunks_mut(DIGEST_LEN).enumerate() {
        let counter = u32::try_from(block_index)
            .ok()
            .and_then(|i| i.checked_add(1))
            .ok_or(Pbkdf2Error::OutputTooLong)?;
        let mut u = key.mac(&[salt, &counter.to_be_bytes()]);
        let mut t = u;
        for _ in 1..iterations {
            u = key.mac(&[&u]);
            for (acc, byte) in t.iter_mut().zip(u) {
                *acc ^= byte;
            }
        }
        let take = chunk.len();
        if let Some(src) = t.get(..take) {
            chunk.copy_from_slice(src);
        }
    }
    Ok(())
}

/// Compares two byte strings in time independent of where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::sha256::tests::assert_hex;
    use super::*;

    /// RFC 7914 section 11 (PBKDF2-HMAC-SHA256 vectors).
    #[test]
    fn rfc7914_vectors() {
        let mut out = [0u8; 64];
        pbkdf2_hmac_sha256(b"passwd", b"salt", 1, &mut out).unwrap();
        assert_hex(
            &out,
            "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc\
             49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783",
        );
        pbkdf2_hmac_sha256(b"Password", b"NaCl", 80_000, &mut out).unwrap();
        assert_hex(
            &out,
            "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56\
             a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d",
        );
    }

    #[test]
    fn widely_used_4096_round_vector() {
        let mut out = [0u8; 32];
        pbkdf2_hmac_sha256(b"password", b"salt", 4096, &mut out).unwrap();
        assert_hex(
            &out,
            "c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a",
        );
    }

    #[test]
    fn refuses_zero_iterations_and_compares_evenly() {
        let mut out = [0u8; 32];
        assert_eq!(
            pbkdf2_hmac_sha256(b"p", b"s", 0, &mut out),
            Err(Pbkdf2Error::NoIterations)
        );
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
    }
}

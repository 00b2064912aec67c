//! HMAC-SHA256 (RFC 2104).

use super::sha256::{sha256, Sha256, BLOCK_LEN, DIGEST_LEN};

/// A keyed HMAC-SHA256, reusable for many messages (PBKDF2 runs it in a loop).
#[derive(Clone)]
pub struct HmacKey {
    inner: Sha256,
    outer: Sha256,
}

impl HmacKey {
    /// Prepares the inner and outer hashes for `key`.
    pub fn new(key: &[u8]) -> Self {
        let mut block = [0u8; BLOCK_LEN];
        if key.len() > BLOCK_LEN {
            let digest = sha256(key);
            if let Some(dst) = block.get_mut(..DIGEST_LEN) {
                dst.copy_from_slice(&digest);
            }
        } else if let Some(dst) = block.get_mut(..key.len()) {
            dst.copy_from_slice(key);
        }
        let mut inner_pad = [0x36u8; BLOCK_LEN];
        let mut outer_pad = [0x5cu8; BLOCK_LEN];
        for ((i, o), k) in inner_pad.iter_mut().zip(outer_pad.iter_mut()).zip(block) {
            *i ^= k;
            *o ^= k;
        }
        let mut inner = Sha256::new();
        inner.update(&inner_pad);
        let mut outer = Sha256::new();
        outer.update(&outer_pad);
        Self { inner, outer }
    }

    /// The MAC of the concatenation of `parts`.
    pub fn mac(&self, parts: &[&[u8]]) -> [u8; DIGEST_LEN] {
        let mut inner = self.inner.clone();
        for part in parts {
            inner.update(part);
        }
        let mut outer = self.outer.clone();
        outer.update(&inner.finish());
        outer.finish()
    }
}

/// HMAC-SHA256 of `message` under `key`.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; DIGEST_LEN] {
    HmacKey::new(key).mac(&[message])
}

#[cfg(test)]
mod tests {
    use super::super::sha256::tests::assert_hex;
    use super::*;

    /// RFC 4231 test cases 1, 2 and 6.
    #[test]
    fn rfc4231_vectors() {
        assert_hex(
            &hmac_sha256(&[0x0b; 20], b"Hi There"),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
        );
        assert_hex(
            &hmac_sha256(b"Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
        );
        assert_hex(
            &hmac_sha256(
                &[0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First",
            ),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
        );
    }

    #[test]
    fn split_message_matches_whole() {
        let key = HmacKey::new(b"k");
        assert_eq!(key.mac(&[b"ab", b"cd"]), hmac_sha256(b"k", b"abcd"));
    }
}

//! SipHash-2-4, the keyed hash behind initial sequence numbers and SYN cookies: an attacker
//! who does not know the per-core key can neither predict nor forge them.

use super::super::bytes::copy;

/// A 128-bit SipHash key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Key(pub [u64; 2]);

struct State([u64; 4]);

impl State {
    fn round(&mut self) {
        let [v0, v1, v2, v3] = &mut self.0;
        *v0 = v0.wrapping_add(*v1);
        *v1 = v1.rotate_left(13) ^ *v0;
        *v0 = v0.rotate_left(32);
        *v2 = v2.wrapping_add(*v3);
        *v3 = v3.rotate_left(16) ^ *v2;
        *v0 = v0.wrapping_add(*v3);
        *v3 = v3.rotate_left(21) ^ *v0;
        *v2 = v2.wrapping_add(*v1);
        *v1 = v1.rotate_left(17) ^ *v2;
        *v2 = v2.rotate_left(32);
    }

    fn compress(&mut self, m: u64) {
        self.0[3] ^= m;
        self.round();
        self.round();
        self.0[0] ^= m;
    }
}

impl State {
    /// The state after the key.
    fn new(key: &Key) -> State {
        let [k0, k1] = key.0;
        State([
            k0 ^ 0x736f_6d65_7073_6575,
            k1 ^ 0x646f_7261_6e64_6f6d,
            k0 ^ 0x6c79_6765_6e65_7261,
            k1 ^ 0x7465_6462_7974_6573,
        ])
    }

    /// The hash, after the last word (the one holding the length).
    fn finish(mut self) -> u64 {
        self.0[2] ^= 0xff;
        for _ in 0..4 {
            self.round();
        }
        self.0[0] ^ self.0[1] ^ self.0[2] ^ self.0[3]
    }
}

/// SipHash-2-4 of `data` under `key`.
pub fn hash(key: &Key, data: &[u8]) -> u64 {
    let mut s = State::new(key);
    let mut words = data.chunks_exact(8);
    for w in &mut words {
        let mut b = [0u8; 8];
        copy(&mut b, w);
        s.compress(u64::from_le_bytes(b));
    }
    let mut last = [0u8; 8];
    let rest = words.remainder();
    if let Some(dst) = last.get_mut(..rest.len()) {
        copy(dst, rest);
    }
    last[7] = data.len() as u8;
    s.compress(u64::from_le_bytes(last));
    s.finish()
}

/// [`hash`] of twelve bytes (a flow, for initial sequence numbers), in two words read
/// straight from the array: no loop, no copy of the tail.
pub fn hash12(key: &Key, data: &[u8; 12]) -> u64 {
    let [a, b, c, d, e, f, g, h, i, j, k, l] = *data;
    let mut s = State::new(key);
    s.compress(u64::from_le_bytes([a, b, c, d, e, f, g, h]));
    s.compress(u64::from_le_bytes([i, j, k, l, 0, 0, 0, 12]));
    s.finish()
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn reference_key() -> Key {
        let mut k = [0u8; 16];
        for (i, b) in k.iter_mut().enumerate() {
            *b = i as u8;
        }
        let mut lo = [0u8; 8];
        let mut hi = [0u8; 8];
        lo.copy_from_slice(&k[..8]);
        hi.copy_from_slice(&k[8..]);
        Key([u64::from_le_bytes(lo), u64::from_le_bytes(hi)])
    }

    #[test]
    fn reference_vectors() {
        // Test vectors of the SipHash paper: key 00..0f, messages 00..(n-1).
        let mut msg = [0u8; 15];
        for (i, b) in msg.iter_mut().enumerate() {
            *b = i as u8;
        }
        assert_eq!(hash(&reference_key(), &[]), 0x726f_db47_dd0e_0e31);
        assert_eq!(hash(&reference_key(), &msg), 0xa129_ca61_49be_45e5);
    }

    #[test]
    fn twelve_bytes_hash_as_any_slice_does() {
        let mut x = 0x0123_4567_89ab_cdefu64;
        for _ in 0..1000 {
            let mut data = [0u8; 12];
            for b in &mut data {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                *b = x as u8;
            }
            let key = Key([x, x.rotate_left(29)]);
            assert_eq!(hash12(&key, &data), hash(&key, &data));
        }
        let mut msg = [0u8; 12];
        for (i, b) in msg.iter_mut().enumerate() {
            *b = i as u8;
        }
        // The SipHash paper's vector for the 12-byte message 00..0b.
        assert_eq!(hash12(&reference_key(), &msg), 0x751e_8fbc_860e_e5fb);
    }

    #[test]
    fn key_matters() {
        assert_ne!(hash(&Key([1, 2]), b"abc"), hash(&Key([1, 3]), b"abc"));
    }
}

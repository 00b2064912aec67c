//! CRC32C (Castagnoli), the checksum on every on-disk record.
//!
//! Chosen because storage protocols (iSCSI, ext4 metadata) use it and it
//! catches torn sectors and bit flips; the table is built at compile time.

const POLY_REFLECTED: u32 = 0x82f6_3b78;

// Only evaluated at compile time: an out-of-bounds index would fail the build.
#[allow(clippy::indexing_slicing)]
const fn build_table() -> [u32; 256] {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u32;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ POLY_REFLECTED
            } else {
                crc >> 1
            };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
}

static TABLE: [u32; 256] = build_table();

/// Running CRC32C over several byte slices.
#[derive(Debug, Clone, Copy)]
pub struct Crc32c(u32);

impl Default for Crc32c {
    fn default() -> Self {
        Self::new()
    }
}

impl Crc32c {
    /// An empty running checksum.
    pub const fn new() -> Self {
        Self(!0)
    }

    /// Feeds `bytes`.
    pub fn update(&mut self, bytes: &[u8]) {
        let mut crc = self.0;
        for &byte in bytes {
            let slot = ((crc ^ u32::from(byte)) & 0xff) as usize;
            // `slot` < 256 by the mask, so the fallback never happens.
            crc = (crc >> 8) ^ TABLE.get(slot).copied().unwrap_or(0);
        }
        self.0 = crc;
    }

    /// The checksum of everything fed so far.
    pub fn finish(self) -> u32 {
        !self.0
    }
}

/// CRC32C of `bytes`.
pub fn crc32c(bytes: &[u8]) -> u32 {
    let mut crc = Crc32c::new();
    crc.update(bytes);
    crc.finish()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn check_value() {
        assert_eq!(crc32c(b"123456789"), 0xe306_9283);
        assert_eq!(crc32c(b""), 0);
    }

    /// Test patterns from RFC 3720 (iSCSI), appendix B.4.
    #[test]
    fn iscsi_vectors() {
        assert_eq!(crc32c(&[0u8; 32]), 0x8a91_36aa);
        assert_eq!(crc32c(&[0xffu8; 32]), 0x62a8_ab43);
        let mut inc = [0u8; 32];
        let mut dec = [0u8; 32];
        for i in 0..32u8 {
            inc[usize::from(i)] = i;
            dec[usize::from(i)] = 31 - i;
        }
        assert_eq!(crc32c(&inc), 0x46dd_794e);
        assert_eq!(crc32c(&dec), 0x113f_db5c);
    }

    #[test]
    fn split_updates_match_one_shot() {
        let data: [u8; 200] = core::array::from_fn(|i| (i * 7 + 3) as u8);
        for cut in [0, 1, 63, 100, 199, 200] {
            let mut crc = Crc32c::new();
            crc.update(&data[..cut]);
            crc.update(&data[cut..]);
            assert_eq!(crc.finish(), crc32c(&data));
        }
    }

    #[test]
    fn single_bit_flips_change_it() {
        let mut data = [0x5au8; 128];
        let good = crc32c(&data);
        for i in 0..data.len() * 8 {
            data[i / 8] ^= 1 << (i % 8);
            assert_ne!(crc32c(&data), good);
            data[i / 8] ^= 1 << (i % 8);
        }
    }
}

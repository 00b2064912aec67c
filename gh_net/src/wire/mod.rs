//! Zero-copy typed views over packet bytes, and builders that write packets into caller memory.
//!
//! Every view has `new_unchecked` (no checks; accessors then return 0 for missing bytes
//! instead of panicking) and `new_checked` (rejects truncated or inconsistent input), and a
//! `Repr` that is the parsed, validated meaning of a packet and can `emit` it again.

pub mod arp;
pub mod ethernet;
pub mod frame;
pub mod icmp;
pub mod ipv4;
pub mod tcp;

/// Why a packet was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// Shorter than its headers or its own length fields say.
    Truncated,
    /// Length or other fields contradict each other, or a value is invalid.
    Malformed,
    /// Checksum does not verify.
    Checksum,
    /// Well formed, but of a kind GigaHttpd does not handle (other hardware, protocol, ...).
    Unsupported,
    /// An IPv4 fragment: GigaHttpd does not reassemble, the caller drops and counts it.
    Fragment,
    /// The output buffer is too small for the packet being built.
    BufferTooSmall,
}

/// Result of parsing or building a packet.
pub type Result<T> = core::result::Result<T, Error>;

/// Big-endian field access that never panics: missing bytes read as zero and writes past
/// the end are ignored. Views check lengths up front, so these paths are not taken on
/// validated packets; they only keep out-of-range access from ever being a panic.
pub(crate) mod field {
    /// Reads the byte at `at`.
    pub fn u8_at(b: &[u8], at: usize) -> u8 {
        b.get(at).copied().unwrap_or(0)
    }

    /// Reads a big-endian `u16` at `at`.
    pub fn u16_at(b: &[u8], at: usize) -> u16 {
        match b.get(at..at.saturating_add(2)) {
            Some(&[x, y]) => u16::from_be_bytes([x, y]),
            _ => 0,
        }
    }

    /// Reads a big-endian `u32` at `at`.
    pub fn u32_at(b: &[u8], at: usize) -> u32 {
        match b.get(at..at.saturating_add(4)) {
            Some(&[w, x, y, z]) => u32::from_be_bytes([w, x, y, z]),
            _ => 0,
        }
    }

    /// Reads `N` bytes at `at`.
    pub fn array_at<const N: usize>(b: &[u8], at: usize) -> [u8; N] {
        let mut out = [0u8; N];
        if let Some(src) = b.get(at..at.saturating_add(N)) {
            super::super::bytes::copy(&mut out, src);
        }
        out
    }

    /// Writes the byte at `at`.
    pub fn set_u8(b: &mut [u8], at: usize, v: u8) {
        if let Some(x) = b.get_mut(at) {
            *x = v;
        }
    }

    /// Writes `bytes` at `at`.
    pub fn set_bytes(b: &mut [u8], at: usize, bytes: &[u8]) {
        if let Some(dst) = b.get_mut(at..at.saturating_add(bytes.len())) {
            super::super::bytes::copy(dst, bytes);
        }
    }

    /// Writes a big-endian `u16` at `at`.
    pub fn set_u16(b: &mut [u8], at: usize, v: u16) {
        set_bytes(b, at, &v.to_be_bytes());
    }

    /// Writes a big-endian `u32` at `at`.
    pub fn set_u32(b: &mut [u8], at: usize, v: u32) {
        set_bytes(b, at, &v.to_be_bytes());
    }
}

//! GigaHttpd data addresses.
//!
//! A data address is 56 bits: a 14-bit CPU number, a 20-bit block index and a 22-bit
//! offset. Blocks are 4 MiB-aligned, so dropping the offset leaves a 34-bit block
//! address, written as 9 hex digits (`00c00001f`) or in short form `cpu:index` (`3:1f`,
//! both hex). Each CPU owns a 4 TiB window; CPU number 0's window belongs to the system.
//!
//! Parsing is strict and tells a malformed address (HTTP 400) from one that is well
//! formed but outside the address space (HTTP 404).

use core::fmt;

/// Bits of the CPU number.
pub const CPU_BITS: u32 = 14;
/// Bits of the block index within a CPU's window.
pub const INDEX_BITS: u32 = 20;
/// Bits of the offset within a block: blocks are 4 MiB.
pub const OFFSET_BITS: u32 = 22;
/// Size of a block's address range.
pub const BLOCK_SIZE: u64 = 1 << OFFSET_BITS;

const CPU_LIMIT: u32 = 1 << CPU_BITS;
const INDEX_LIMIT: u32 = 1 << INDEX_BITS;
/// Hex digits of the long block form: 34 bits need 9.
const BLOCK_DIGITS: usize = 9;

/// Why text is not an address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddrError {
    /// Not of the address syntax (answer 400).
    Malformed,
    /// Of the syntax, but outside the address space (answer 404).
    OutOfRange,
}

/// A 34-bit block address: CPU number and block index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BlockAddr(u64);

impl BlockAddr {
    /// The block `index` of `cpu`'s window.
    pub fn new(cpu: u32, index: u32) -> Result<Self, AddrError> {
        if cpu >= CPU_LIMIT || index >= INDEX_LIMIT {
            return Err(AddrError::OutOfRange);
        }
        Ok(Self(u64::from(cpu) << INDEX_BITS | u64::from(index)))
    }

    /// The block address whose 34-bit value is `raw`.
    pub fn from_raw(raw: u64) -> Result<Self, AddrError> {
        if raw >> (CPU_BITS + INDEX_BITS) != 0 {
            return Err(AddrError::OutOfRange);
        }
        Ok(Self(raw))
    }

    /// The 34-bit value.
    pub fn raw(self) -> u64 {
        self.0
    }

    /// The CPU whose window holds the block.
    pub fn cpu(self) -> u32 {
        (self.0 >> INDEX_BITS) as u32
    }

    /// The block's index in its CPU's window.
    pub fn index(self) -> u32 {
        (self.0 & u64::from(INDEX_LIMIT - 1)) as u32
    }

    /// Whether the block is in CPU number 0's window, which belongs to the system.
    pub fn is_system(self) -> bool {
        self.cpu() == 0
    }

    /// The data address `offset` bytes into the block.
    pub fn at(self, offset: u32) -> Result<DataAddr, AddrError> {
        if u64::from(offset) >= BLOCK_SIZE {
            return Err(AddrError::OutOfRange);
        }
        Ok(DataAddr(self.0 << OFFSET_BITS | u64::from(offset)))
    }

    /// Parses the long form, exactly 9 hex digits (`00c00001f`).
    pub fn parse_long(text: &str) -> Result<Self, AddrError> {
        if text.len() != BLOCK_DIGITS {
            return Err(AddrError::Malformed);
        }
        Self::from_raw(hex(text, BLOCK_DIGITS)?)
    }

    /// Parses the short form `cpu:index`, both in hex without leading zeros (`3:1f`).
    pub fn parse_short(text: &str) -> Result<Self, AddrError> {
        let (cpu, index) = text.split_once(':').ok_or(AddrError::Malformed)?;
        let (cpu, index) = (short_hex(cpu)?, short_hex(index)?);
        match (u32::try_from(cpu), u32::try_from(index)) {
            (Ok(cpu), Ok(index)) => Self::new(cpu, index),
            _ => Err(AddrError::OutOfRange),
        }
    }

    /// Parses either form.
    pub fn parse(text: &str) -> Result<Self, AddrError> {
        if text.contains(':') {
            Self::parse_short(text)
        } else {
            Self::parse_long(text)
        }
    }

    /// Displays as the short form.
    pub fn short(self) -> impl fmt::Display {
        Short(self)
    }
}

/// Writes the long form: 9 lowercase hex digits.
impl fmt::Display for BlockAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:09x}", self.0)
    }
}

struct Short(BlockAddr);

impl fmt::Display for Short {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:x}:{:x}", self.0.cpu(), self.0.index())
    }
}

/// A 56-bit data address: a block and an offset in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DataAddr(u64);

impl DataAddr {
    /// The block the address is in.
    pub fn block(self) -> BlockAddr {
        BlockAddr(self.0 >> OFFSET_BITS)
    }

    /// The offset in the block.
    pub fn offset(self) -> u32 {
        (self.0 & (BLOCK_SIZE - 1)) as u32
    }

    /// The 56-bit value.
    pub fn raw(self) -> u64 {
        self.0
    }
}

/// Reads exactly `text` as hex of at most `max_digits` digits.
fn hex(text: &str, max_digits: usize) -> Result<u64, AddrError> {
    if text.is_empty() || text.len() > max_digits || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AddrError::Malformed);
    }
    u64::from_str_radix(text, 16).map_err(|_| AddrError::Malformed)
}

/// Hex without leading zeros (`0` itself is fine); long numbers are out of range.
fn short_hex(text: &str) -> Result<u64, AddrError> {
    if text.len() > 1 && text.starts_with('0') {
        return Err(AddrError::Malformed);
    }
    if text.len() > 8 {
        return if text.bytes().all(|b| b.is_ascii_hexdigit()) {
            Err(AddrError::OutOfRange)
        } else {
            Err(AddrError::Malformed)
        };
    }
    hex(text, 8)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    extern crate std;
    use super::*;
    use std::string::ToString;

    #[test]
    fn forms_of_one_block() {
        let b = BlockAddr::new(3, 0x1f).unwrap();
        assert_eq!(b.to_string(), "00030001f");
        assert_eq!(b.short().to_string(), "3:1f");
        assert_eq!(BlockAddr::parse("3:1f"), Ok(b));
        assert_eq!(BlockAddr::parse("00030001f"), Ok(b));
        assert_eq!(BlockAddr::parse("00030001F"), Ok(b));
        assert!(!b.is_system());
        assert!(BlockAddr::parse("0:5").unwrap().is_system());
    }

    #[test]
    fn the_edges_of_the_space() {
        let top = BlockAddr::new(CPU_LIMIT - 1, INDEX_LIMIT - 1).unwrap();
        assert_eq!(top.to_string(), "3ffffffff");
        assert_eq!(top.short().to_string(), "3fff:fffff");
        assert_eq!(BlockAddr::parse("3ffffffff"), Ok(top));
        assert_eq!(BlockAddr::parse("400000000"), Err(AddrError::OutOfRange));
        assert_eq!(BlockAddr::parse("4000:0"), Err(AddrError::OutOfRange));
        assert_eq!(BlockAddr::parse("0:100000"), Err(AddrError::OutOfRange));
        assert_eq!(BlockAddr::parse("0:fffffffff"), Err(AddrError::OutOfRange));
        assert_eq!(BlockAddr::new(CPU_LIMIT, 0), Err(AddrError::OutOfRange));
        let data = top.at((BLOCK_SIZE - 1) as u32).unwrap();
        assert_eq!(data.raw(), (1 << 56) - 1);
        assert_eq!(top.at(BLOCK_SIZE as u32), Err(AddrError::OutOfRange));
    }

    #[test]
    fn malformed_text() {
        for bad in [
            "",
            ":",
            "3:",
            ":1f",
            "3:1f:0",
            "03:1f",
            "3:01f",
            "x:1",
            "3:g",
            "+3:1",
            "3 :1",
            "0003001f",
            "00030001f0",
            "0003 001f",
            "-00030001",
            "00030001g",
        ] {
            assert_eq!(BlockAddr::parse(bad), Err(AddrError::Malformed), "{bad:?}");
        }
    }

    #[test]
    fn round_trips() {
        // A small deterministic generator covers the whole space evenly.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let cpu = (x % u64::from(CPU_LIMIT)) as u32;
            let index = ((x >> 20) % u64::from(INDEX_LIMIT)) as u32;
            let offset = ((x >> 40) % BLOCK_SIZE) as u32;
            let b = BlockAddr::new(cpu, index).unwrap();
            assert_eq!((b.cpu(), b.index()), (cpu, index));
            assert_eq!(BlockAddr::parse(&b.to_string()), Ok(b));
            assert_eq!(BlockAddr::parse(&b.short().to_string()), Ok(b));
            let d = b.at(offset).unwrap();
            assert_eq!((d.block(), d.offset()), (b, offset));
        }
    }
}

//! The 128-byte record frame shared by every on-disk record.
//!
//! Bytes 0..4 hold the CRC32C of bytes 4..128, 4..8 the record kind, 8..16
//! the sequence number (little endian), and 16..128 the kind's payload.

use super::super::checksum::crc32c;

/// Size of every record.
pub const RECORD_LEN: usize = 128;
/// Where the payload starts.
pub const PAYLOAD_START: usize = 16;

const CRC: core::ops::Range<usize> = 0..4;
const KIND: core::ops::Range<usize> = 4..8;
const SEQUENCE: core::ops::Range<usize> = 8..16;

/// What a record describes, stored as four ASCII bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordKind {
    /// A block-info record (`GHBI`).
    BlockInfo,
    /// A cluster-info record (`GHCI`).
    ClusterInfo,
    /// The region header (`GHRH`).
    RegionHeader,
    /// A system users' audit-log entry (`GHAU`).
    Audit,
}

impl RecordKind {
    const fn tag(self) -> [u8; 4] {
        match self {
            Self::BlockInfo => *b"GHBI",
            Self::ClusterInfo => *b"GHCI",
            Self::RegionHeader => *b"GHRH",
            Self::Audit => *b"GHAU",
        }
    }

    fn from_tag(tag: [u8; 4]) -> Option<Self> {
        match &tag {
            b"GHBI" => Some(Self::BlockInfo),
            b"GHCI" => Some(Self::ClusterInfo),
            b"GHRH" => Some(Self::RegionHeader),
            b"GHAU" => Some(Self::Audit),
            _ => None,
        }
    }
}

/// Why a record cannot be trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordError {
    /// The buffer is shorter than a record.
    Truncated,
    /// The checksum does not match: torn write or corruption.
    BadChecksum,
    /// The checksum matches but the kind is unknown or not the expected one.
    WrongKind,
    /// Every byte is zero: a slot never written.
    Empty,
    /// A payload field holds a value that cannot be valid.
    BadField,
}

/// A typed view of one record over a byte buffer.
#[derive(Debug, Clone, Copy)]
pub struct Record<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Record<T> {
    /// Wraps `buffer` after checking it is long enough; contents unchecked.
    pub fn new_unchecked_contents(buffer: T) -> Result<Self, RecordError> {
        if buffer.as_ref().len() < RECORD_LEN {
            return Err(RecordError::Truncated);
        }
        Ok(Self { buffer })
    }

    /// Wraps `buffer` only if it holds a sealed record of `kind`.
    pub fn new_checked(buffer: T, kind: RecordKind) -> Result<Self, RecordError> {
        let record = Self::new_unchecked_contents(buffer)?;
        record.verify(kind)?;
        Ok(record)
    }

    fn bytes(&self) -> &[u8] {
        self.buffer.as_ref().get(..RECORD_LEN).unwrap_or(&[])
    }

    fn field<const N: usize>(&self, range: core::ops::Range<usize>) -> [u8; N] {
        let mut out = [0u8; N];
        if let Some(src) = self.bytes().get(range) {
            if src.len() == N {
                out.copy_from_slice(src);
            }
        }
        out
    }

    /// Checks the checksum and the kind.
    pub fn verify(&self, kind: RecordKind) -> Result<(), RecordError> {
        let bytes = self.bytes();
        if bytes.iter().all(|&b| b == 0) {
            return Err(RecordError::Empty);
        }
        let stored = u32::from_le_bytes(self.field(CRC));
        let covered = bytes.get(CRC.end..).ok_or(RecordError::Truncated)?;
        if crc32c(covered) != stored {
            return Err(RecordError::BadChecksum);
        }
        match RecordKind::from_tag(self.field(KIND)) {
            Some(found) if found == kind => Ok(()),
            _ => Err(RecordError::WrongKind),
        }
    }

    /// The sequence number the record was sealed with.
    pub fn sequence(&self) -> u64 {
        u64::from_le_bytes(self.field(SEQUENCE))
    }

    /// Reads the little-endian u64 at payload-relative `offset`.
    pub fn payload_u64(&self, offset: usize) -> u64 {
        let start = PAYLOAD_START.saturating_add(offset);
        u64::from_le_bytes(self.field(start..start.saturating_add(8)))
    }

    /// Copies the `N` bytes at payload-relative `offset` (zeros past the
    /// record).
    pub fn payload_bytes<const N: usize>(&self, offset: usize) -> [u8; N] {
        let start = PAYLOAD_START.saturating_add(offset);
        self.field(start..start.saturating_add(N))
    }

    /// Reads the little-endian u16 at payload-relative `offset`.
    pub fn payload_u16(&self, offset: usize) -> u16 {
        let start = PAYLOAD_START.saturating_add(offset);
        u16::from_le_bytes(self.field(start..start.saturating_add(2)))
    }

    /// Reads the little-endian u32 at payload-relative `offset`.
    pub fn payload_u32(&self, offset: usize) -> u32 {
        let start = PAYLOAD_START.saturating_add(offset);
        u32::from_le_bytes(self.field(start..start.saturating_add(4)))
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Record<T> {
    fn bytes_mut(&mut self) -> &mut [u8] {
        self.buffer
            .as_mut()
            .get_mut(..RECORD_LEN)
            .unwrap_or(&mut [])
    }

    fn put(&mut self, range: core::ops::Range<usize>, value: &[u8]) {
        if let Some(dst) = self.bytes_mut().get_mut(range) {
            if dst.len() == value.len() {
                dst.copy_from_slice(value);
            }
        }
    }

    /// Zeroes the whole record.
    pub fn clear(&mut self) {
        self.bytes_mut().fill(0);
    }

    /// Writes the little-endian u64 at payload-relative `offset`.
    pub fn set_payload_u64(&mut self, offset: usize, value: u64) {
        let start = PAYLOAD_START.saturating_add(offset);
        self.put(start..start.saturating_add(8), &value.to_le_bytes());
    }

    /// Writes `value` at payload-relative `offset`; nothing if it would
    /// pass the record's end.
    pub fn set_payload_bytes(&mut self, offset: usize, value: &[u8]) {
        let start = PAYLOAD_START.saturating_add(offset);
        self.put(start..start.saturating_add(value.len()), value);
    }

    /// Writes the little-endian u16 at payload-relative `offset`.
    pub fn set_payload_u16(&mut self, offset: usize, value: u16) {
        let start = PAYLOAD_START.saturating_add(offset);
        self.put(start..start.saturating_add(2), &value.to_le_bytes());
    }

    /// Writes the little-endian u32 at payload-relative `offset`.
    pub fn set_payload_u32(&mut self, offset: usize, value: u32) {
        let start = PAYLOAD_START.saturating_add(offset);
        self.put(start..start.saturating_add(4), &value.to_le_bytes());
    }

    /// Stamps kind and sequence, then the checksum over everything after it.
    pub fn seal(&mut self, kind: RecordKind, sequence: u64) {
        self.put(KIND, &kind.tag());
        self.put(SEQUENCE, &sequence.to_le_bytes());
        let crc = crc32c(self.bytes().get(CRC.end..).unwrap_or(&[]));
        self.put(CRC, &crc.to_le_bytes());
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn sealed() -> [u8; RECORD_LEN] {
        let mut buf = [0u8; RECORD_LEN];
        let mut r = Record::new_unchecked_contents(&mut buf[..]).unwrap();
        r.set_payload_u64(0, 0x0123_4567_89ab_cdef);
        r.set_payload_u32(108, 0xdead_beef);
        r.seal(RecordKind::BlockInfo, 77);
        buf
    }

    #[test]
    fn seal_then_verify() {
        let buf = sealed();
        let r = Record::new_checked(&buf[..], RecordKind::BlockInfo).unwrap();
        assert_eq!(r.sequence(), 77);
        assert_eq!(r.payload_u64(0), 0x0123_4567_89ab_cdef);
        assert_eq!(r.payload_u32(108), 0xdead_beef);
        assert_eq!(&buf[4..8], b"GHBI");
    }

    #[test]
    fn wrong_kind_and_short_buffers_refused() {
        let buf = sealed();
        assert_eq!(
            Record::new_checked(&buf[..], RecordKind::ClusterInfo).err(),
            Some(RecordError::WrongKind)
        );
        assert_eq!(
            Record::new_checked(&buf[..127], RecordKind::BlockInfo).err(),
            Some(RecordError::Truncated)
        );
        let zero = [0u8; RECORD_LEN];
        assert_eq!(
            Record::new_checked(&zero[..], RecordKind::BlockInfo).err(),
            Some(RecordError::Empty)
        );
    }

    #[test]
    fn every_bit_flip_detected() {
        let mut buf = sealed();
        for bit in 0..RECORD_LEN * 8 {
            buf[bit / 8] ^= 1 << (bit % 8);
            let err = Record::new_checked(&buf[..], RecordKind::BlockInfo).err();
            assert!(err.is_some(), "bit {bit}");
            buf[bit / 8] ^= 1 << (bit % 8);
        }
    }

    #[test]
    fn out_of_frame_offsets_read_zero_and_write_nothing() {
        let mut buf = sealed();
        let before = buf;
        let mut r = Record::new_unchecked_contents(&mut buf[..]).unwrap();
        r.set_payload_u64(110, 5);
        r.set_payload_u32(usize::MAX, 5);
        assert_eq!(r.payload_u64(110), 0);
        assert_eq!(r.payload_u32(usize::MAX), 0);
        assert_eq!(buf, before);
    }
}

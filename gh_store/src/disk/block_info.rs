//! The block-info record: where one block's data lives in the region and the
//! header fields that must survive a restart.

use super::super::addr::BlockAddr;
use super::super::block_kind::BlockKind;
use super::record::{Record, RecordError, RecordKind, RECORD_LEN};

/// Payload offsets (relative to the payload start, byte 16 of the record).
const ADDR: usize = 0;
const LENGTH: usize = 8;
const FIRST_CLUSTER: usize = 16;
const FLAGS: usize = 20;
const CREATED: usize = 24;
const PERMISSIONS: usize = 32;
const OWNER: usize = 40;
const NEXT_BLOCK: usize = 48;
const DATA_CRC: usize = 56;
const KIND: usize = 60;
const SOURCE_MACHINE: usize = 62;

/// Flag bit: the block is live (clear once deleted).
pub const FLAG_VALID: u32 = 1;
/// Stored in `NEXT_BLOCK` when there is no continuation block.
const NO_NEXT: u64 = u64::MAX;
/// Most bytes one block can hold (its 4 MiB address unit).
const MAX_LENGTH: u64 = super::super::addr::BLOCK_SIZE;

/// The decoded contents of a block-info record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BlockInfo {
    /// The block described.
    pub addr: BlockAddr,
    /// Bytes of data, at most 4 MiB.
    pub length: u64,
    /// Index of the first cluster holding the data.
    pub first_cluster: u32,
    /// `FLAG_*` bits.
    pub flags: u32,
    /// Creation time, in the platform clock's seconds.
    pub created: u64,
    /// The permission word.
    pub permissions: u64,
    /// Data address of the owning user's block (0: the system).
    pub owner: u64,
    /// Continuation block for data over 4 MiB.
    pub next_block: Option<BlockAddr>,
    /// CRC32C of the data bytes.
    pub data_crc: u32,
    /// What the block holds.
    pub kind: BlockKind,
    /// Machine the block was copied from (0: made here).
    pub source_machine: u16,
}

impl BlockInfo {
    /// Whether the block is live.
    pub fn is_valid(&self) -> bool {
        self.flags & FLAG_VALID != 0
    }

    /// Writes this info into `buf` and seals it with `sequence`.
    pub fn encode(&self, buf: &mut [u8], sequence: u64) -> Result<(), RecordError> {
        let mut record = Record::new_unchecked_contents(buf)?;
        record.clear();
        record.set_payload_u64(ADDR, self.addr.raw());
        record.set_payload_u64(LENGTH, self.length);
        record.set_payload_u32(FIRST_CLUSTER, self.first_cluster);
        record.set_payload_u32(FLAGS, self.flags);
        record.set_payload_u64(CREATED, self.created);
        record.set_payload_u64(PERMISSIONS, self.permissions);
        record.set_payload_u64(OWNER, self.owner);
        let next = self.next_block.map_or(NO_NEXT, BlockAddr::raw);
        record.set_payload_u64(NEXT_BLOCK, next);
        record.set_payload_u32(DATA_CRC, self.data_crc);
        record.set_payload_u16(KIND, self.kind.raw());
        record.set_payload_u16(SOURCE_MACHINE, self.source_machine);
        record.seal(RecordKind::BlockInfo, sequence);
        Ok(())
    }

    /// Reads a sealed record; returns the info and its sequence number.
    pub fn decode(buf: &[u8]) -> Result<(Self, u64), RecordError> {
        let record = Record::new_checked(buf, RecordKind::BlockInfo)?;
        let addr =
            BlockAddr::from_raw(record.payload_u64(ADDR)).map_err(|_| RecordError::BadField)?;
        let length = record.payload_u64(LENGTH);
        if length > MAX_LENGTH {
            return Err(RecordError::BadField);
        }
        let next_raw = record.payload_u64(NEXT_BLOCK);
        let next_block = if next_raw == NO_NEXT {
            None
        } else {
            Some(BlockAddr::from_raw(next_raw).map_err(|_| RecordError::BadField)?)
        };
        let kind = BlockKind::from_raw(record.payload_u16(KIND)).ok_or(RecordError::BadField)?;
        let info = Self {
            addr,
            length,
            first_cluster: record.payload_u32(FIRST_CLUSTER),
            flags: record.payload_u32(FLAGS),
            created: record.payload_u64(CREATED),
            permissions: record.payload_u64(PERMISSIONS),
            owner: record.payload_u64(OWNER),
            next_block,
            data_crc: record.payload_u32(DATA_CRC),
            kind,
            source_machine: record.payload_u16(SOURCE_MACHINE),
        };
        Ok((info, record.sequence()))
    }
}

/// Size of one block-info record on disk.
pub const BLOCK_INFO_LEN: usize = RECORD_LEN;

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    pub(crate) fn sample(index: u32) -> BlockInfo {
        BlockInfo {
            addr: BlockAddr::new(3, index).unwrap(),
            length: 10_000,
            first_cluster: 7,
            flags: FLAG_VALID,
            created: 1_700_000_000,
            permissions: 0b10,
            owner: 0x42,
            next_block: Some(BlockAddr::new(3, index + 1).unwrap()),
            data_crc: 0x1234_5678,
            kind: BlockKind::PACKAGE,
            source_machine: 0x0203,
        }
    }

    #[test]
    fn round_trip() {
        let mut buf = [0u8; BLOCK_INFO_LEN];
        let info = sample(9);
        info.encode(&mut buf, 5).unwrap();
        assert_eq!(BlockInfo::decode(&buf), Ok((info, 5)));
        let last = BlockInfo {
            next_block: None,
            ..info
        };
        last.encode(&mut buf, 6).unwrap();
        assert_eq!(BlockInfo::decode(&buf), Ok((last, 6)));
        assert!(last.is_valid());
    }

    #[test]
    fn impossible_fields_refused_even_with_good_checksum() {
        let mut buf = [0u8; BLOCK_INFO_LEN];
        let mut record = Record::new_unchecked_contents(&mut buf[..]).unwrap();
        record.set_payload_u64(ADDR, 1 << 34);
        record.set_payload_u64(NEXT_BLOCK, NO_NEXT);
        record.seal(RecordKind::BlockInfo, 1);
        assert_eq!(BlockInfo::decode(&buf), Err(RecordError::BadField));

        sample(1).encode(&mut buf, 1).unwrap();
        let mut record = Record::new_unchecked_contents(&mut buf[..]).unwrap();
        record.set_payload_u64(LENGTH, MAX_LENGTH + 1);
        record.seal(RecordKind::BlockInfo, 1);
        assert_eq!(BlockInfo::decode(&buf), Err(RecordError::BadField));

        // A kind number GH reserves but does not define.
        sample(1).encode(&mut buf, 1).unwrap();
        let mut record = Record::new_unchecked_contents(&mut buf[..]).unwrap();
        record.set_payload_u16(KIND, 0x80);
        record.seal(RecordKind::BlockInfo, 1);
        assert_eq!(BlockInfo::decode(&buf), Err(RecordError::BadField));
    }

    #[test]
    fn kind_and_source_machine_sit_at_bytes_76_to_80() {
        let mut buf = [0u8; BLOCK_INFO_LEN];
        sample(2).encode(&mut buf, 1).unwrap();
        assert_eq!(&buf[76..80], &[0x01, 0x00, 0x03, 0x02]);
        assert!(buf[80..].iter().all(|&b| b == 0));
    }

    #[test]
    fn short_buffer_refused() {
        let mut buf = [0u8; 100];
        assert_eq!(sample(1).encode(&mut buf, 1), Err(RecordError::Truncated));
        assert_eq!(BlockInfo::decode(&buf), Err(RecordError::Truncated));
    }
}

//! The cluster-info record: which block a 10 KiB cluster belongs to and the
//! next cluster of that block's chain.

use super::super::addr::BlockAddr;
use super::record::{Record, RecordError, RecordKind};

const OWNER: usize = 0;
const NEXT: usize = 8;
const USED_BYTES: usize = 12;

/// Stored as `next` at the end of a chain.
pub const END_OF_CHAIN: u32 = u32::MAX;

/// The decoded contents of a cluster-info record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClusterInfo {
    /// The block whose data the cluster holds.
    pub owner: BlockAddr,
    /// Next cluster of the chain, or `END_OF_CHAIN`.
    pub next: u32,
    /// Bytes of the block's data in this cluster.
    pub used_bytes: u32,
}

impl ClusterInfo {
    /// Writes this info into `buf` and seals it with `sequence`.
    pub fn encode(&self, buf: &mut [u8], sequence: u64) -> Result<(), RecordError> {
        let mut record = Record::new_unchecked_contents(buf)?;
        record.clear();
        record.set_payload_u64(OWNER, self.owner.raw());
        record.set_payload_u32(NEXT, self.next);
        record.set_payload_u32(USED_BYTES, self.used_bytes);
        record.seal(RecordKind::ClusterInfo, sequence);
        Ok(())
    }

    /// Reads a sealed record; returns the info and its sequence number.
    pub fn decode(buf: &[u8]) -> Result<(Self, u64), RecordError> {
        let record = Record::new_checked(buf, RecordKind::ClusterInfo)?;
        let owner =
            BlockAddr::from_raw(record.payload_u64(OWNER)).map_err(|_| RecordError::BadField)?;
        let info = Self {
            owner,
            next: record.payload_u32(NEXT),
            used_bytes: record.payload_u32(USED_BYTES),
        };
        Ok((info, record.sequence()))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::super::record::RECORD_LEN;
    use super::*;

    #[test]
    fn round_trip_and_corruption() {
        let mut buf = [0u8; RECORD_LEN];
        let info = ClusterInfo {
            owner: BlockAddr::new(2, 9).unwrap(),
            next: END_OF_CHAIN,
            used_bytes: 10_240,
        };
        info.encode(&mut buf, 3).unwrap();
        assert_eq!(ClusterInfo::decode(&buf), Ok((info, 3)));
        buf[30] ^= 1;
        assert_eq!(ClusterInfo::decode(&buf), Err(RecordError::BadChecksum));
    }
}

//! The region header: geometry and counters, kept in two sectors written
//! alternately so a torn header write always leaves the other copy intact.

use super::record::{Record, RecordError, RecordKind};

const VERSION: usize = 0;
const BLOCK_INFO_SECTORS: usize = 4;
const CLUSTERS: usize = 8;
const CLUSTER_TOP: usize = 12;
const FREE_CLUSTERS: usize = 16;
const BLOCK_INFO_TOP: usize = 20;

/// Format version written by this code.
pub const FORMAT_VERSION: u32 = 1;

/// The decoded region header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegionHeader {
    /// Sectors of the block-info area (4 records each).
    pub block_info_sectors: u32,
    /// Clusters in the data ring.
    pub clusters: u32,
    /// Next cluster the ring writes to.
    pub cluster_top: u32,
    /// Clusters not owned by a live block.
    pub free_clusters: u32,
    /// Block-info slots in use (the area's top).
    pub block_info_top: u32,
}

impl RegionHeader {
    /// Writes the header into `buf` and seals it with `sequence`.
    pub fn encode(&self, buf: &mut [u8], sequence: u64) -> Result<(), RecordError> {
        let mut record = Record::new_unchecked_contents(buf)?;
        record.clear();
        record.set_payload_u32(VERSION, FORMAT_VERSION);
        record.set_payload_u32(BLOCK_INFO_SECTORS, self.block_info_sectors);
        record.set_payload_u32(CLUSTERS, self.clusters);
        record.set_payload_u32(CLUSTER_TOP, self.cluster_top);
        record.set_payload_u32(FREE_CLUSTERS, self.free_clusters);
        record.set_payload_u32(BLOCK_INFO_TOP, self.block_info_top);
        record.seal(RecordKind::RegionHeader, sequence);
        Ok(())
    }

    /// Reads a sealed header; returns it and its sequence number.
    pub fn decode(buf: &[u8]) -> Result<(Self, u64), RecordError> {
        let record = Record::new_checked(buf, RecordKind::RegionHeader)?;
        if record.payload_u32(VERSION) != FORMAT_VERSION {
            return Err(RecordError::BadField);
        }
        let header = Self {
            block_info_sectors: record.payload_u32(BLOCK_INFO_SECTORS),
            clusters: record.payload_u32(CLUSTERS),
            cluster_top: record.payload_u32(CLUSTER_TOP),
            free_clusters: record.payload_u32(FREE_CLUSTERS),
            block_info_top: record.payload_u32(BLOCK_INFO_TOP),
        };
        if header.cluster_top >= header.clusters.max(1)
            || header.free_clusters > header.clusters
            || u64::from(header.block_info_top) > u64::from(header.block_info_sectors) * 4
        {
            return Err(RecordError::BadField);
        }
        Ok((header, record.sequence()))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::super::record::RECORD_LEN;
    use super::*;

    #[test]
    fn round_trip_and_bounds() {
        let h = RegionHeader {
            block_info_sectors: 2,
            clusters: 10,
            cluster_top: 9,
            free_clusters: 10,
            block_info_top: 8,
        };
        let mut buf = [0u8; RECORD_LEN];
        h.encode(&mut buf, 11).unwrap();
        assert_eq!(RegionHeader::decode(&buf), Ok((h, 11)));
        for bad in [
            RegionHeader {
                cluster_top: 10,
                ..h
            },
            RegionHeader {
                free_clusters: 11,
                ..h
            },
            RegionHeader {
                block_info_top: 9,
                ..h
            },
        ] {
            bad.encode(&mut buf, 1).unwrap();
            assert_eq!(RegionHeader::decode(&buf), Err(RecordError::BadField));
        }
    }
}

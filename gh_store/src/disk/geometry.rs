//! Where each part of a core's disk region lies, in 512-byte sectors.
//!
//! Sectors 0 and 1: the two header copies. Then the block-info area, then
//! the cluster-info area (one record per cluster), then the cluster ring.

use super::device::SECTOR_SIZE;
use super::record::RECORD_LEN;

/// Bytes in one data cluster.
pub const CLUSTER_SIZE: usize = 10 * 1024;
/// Sectors in one data cluster.
pub const SECTORS_PER_CLUSTER: u64 = (CLUSTER_SIZE / SECTOR_SIZE) as u64;
/// 128-byte records per sector.
pub const RECORDS_PER_SECTOR: usize = SECTOR_SIZE / RECORD_LEN;
/// First sector of the block-info area.
const BLOCK_INFO_START: u64 = 2;

/// The sizes a region is formatted with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Geometry {
    /// Sectors of the block-info area.
    pub block_info_sectors: u32,
    /// Clusters in the data ring.
    pub clusters: u32,
}

impl Geometry {
    /// Block-info records the area holds.
    pub fn block_info_capacity(&self) -> usize {
        (self.block_info_sectors as usize).saturating_mul(RECORDS_PER_SECTOR)
    }

    /// Sector holding block-info slot `slot`.
    pub fn block_info_sector(&self, slot: usize) -> u64 {
        BLOCK_INFO_START + (slot / RECORDS_PER_SECTOR) as u64
    }

    fn cluster_info_start(&self) -> u64 {
        BLOCK_INFO_START + u64::from(self.block_info_sectors)
    }

    fn cluster_info_sectors(&self) -> u64 {
        u64::from(self.clusters).div_ceil(RECORDS_PER_SECTOR as u64)
    }

    /// Sector holding cluster `cluster`'s info record, and the record's slot
    /// inside that sector.
    pub fn cluster_info_location(&self, cluster: u32) -> (u64, usize) {
        let per = RECORDS_PER_SECTOR as u32;
        (
            self.cluster_info_start() + u64::from(cluster / per),
            (cluster % per) as usize,
        )
    }

    /// First sector of cluster `cluster`'s data.
    pub fn cluster_sector(&self, cluster: u32) -> u64 {
        self.cluster_info_start()
            + self.cluster_info_sectors()
            + u64::from(cluster) * SECTORS_PER_CLUSTER
    }

    /// Sectors the whole region spans.
    pub fn total_sectors(&self) -> u64 {
        self.cluster_sector(self.clusters)
    }

    /// Bytes of memory the block-info image needs.
    pub fn block_info_image_len(&self) -> usize {
        self.block_info_capacity().saturating_mul(RECORD_LEN)
    }

    /// Bytes of memory the cluster bitmap needs.
    pub fn cluster_map_len(&self) -> usize {
        (self.clusters as usize).div_ceil(8)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn areas_follow_each_other() {
        let g = Geometry {
            block_info_sectors: 3,
            clusters: 9,
        };
        assert_eq!(g.block_info_capacity(), 12);
        assert_eq!(g.block_info_sector(0), 2);
        assert_eq!(g.block_info_sector(11), 4);
        assert_eq!(g.cluster_info_location(0), (5, 0));
        assert_eq!(g.cluster_info_location(8), (7, 0));
        assert_eq!(g.cluster_sector(0), 8);
        assert_eq!(g.cluster_sector(1), 28);
        assert_eq!(g.total_sectors(), 8 + 9 * 20);
        assert_eq!(g.cluster_map_len(), 2);
        assert_eq!(g.block_info_image_len(), 12 * 128);
    }
}

//! Chains of blocks (data over 4 MiB) in the disk log: stored block by
//! block, kept by recovery only when whole.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

extern crate std;

use super::super::addr::BlockAddr;
use super::block_info::BlockInfo;
use super::device::SECTOR_SIZE;
use super::geometry::{Geometry, RECORDS_PER_SECTOR};
use super::log::{BlockMeta, DiskLog, LogError};
use super::record::RECORD_LEN;
use super::test_device::FaultDevice;
use std::vec;
use std::vec::Vec;

const GEO: Geometry = Geometry {
    block_info_sectors: 2,
    clusters: 12,
};

fn addr(index: u32) -> BlockAddr {
    BlockAddr::new(6, index).unwrap()
}

fn data(index: u32) -> Vec<u8> {
    vec![index as u8 + 1; 3_000 + index as usize]
}

fn linked(next: Option<u32>) -> BlockMeta {
    BlockMeta {
        next_block: next.map(addr),
        ..BlockMeta::default()
    }
}

/// A region holding the chain 1 → 2 → 3 and the lone block 5, with
/// `skip` left out of the puts.
fn region(skip: Option<u32>) -> FaultDevice {
    let mut dev = FaultDevice::new(GEO.total_sectors());
    let (mut image, mut map) = (vec![0u8; 1_024], vec![0u8; 2]);
    let mut log = DiskLog::format(&mut dev, GEO, &mut image, &mut map).unwrap();
    for (index, next) in [(1, Some(2)), (2, Some(3)), (3, None), (5, None)] {
        if skip != Some(index) {
            log.put(addr(index), &data(index), linked(next)).unwrap();
        }
    }
    dev
}

/// Recovers `dev`; returns the report, which blocks read back (checked
/// against their data) and the free clusters.
fn recovered(dev: &mut FaultDevice) -> (super::log::RecoveryReport, Vec<u32>, u32) {
    let (mut image, mut map) = (vec![0u8; 1_024], vec![0u8; 2]);
    let (mut log, report) = DiskLog::recover(&mut *dev, GEO, &mut image, &mut map).unwrap();
    let mut live = Vec::new();
    let mut out = vec![0u8; 4_000];
    for index in 0..6 {
        match log.get(addr(index), &mut out) {
            Ok(n) => {
                assert_eq!(&out[..n], &data(index)[..]);
                live.push(index);
            }
            Err(e) => assert_eq!(e, LogError::NotFound, "block {index}"),
        }
    }
    (report, live, log.free_clusters())
}

/// Rewrites the record of the block in area slot `slot` with `edit`.
fn edit_record(dev: &mut FaultDevice, slot: usize, edit: impl FnOnce(&mut BlockInfo)) {
    let at = GEO.block_info_sector(slot) as usize * SECTOR_SIZE
        + (slot % RECORDS_PER_SECTOR) * RECORD_LEN;
    let bytes = &mut dev.bytes[at..at + RECORD_LEN];
    let (mut info, sequence) = BlockInfo::decode(bytes).unwrap();
    edit(&mut info);
    info.encode(bytes, sequence).unwrap();
}

#[test]
fn a_whole_chain_survives_recovery() {
    let mut dev = region(None);
    let (report, live, free) = recovered(&mut dev);
    assert_eq!((report.live_blocks, report.broken_chains), (4, 0));
    assert_eq!(live, [1, 2, 3, 5]);
    assert_eq!(free, 12 - 4);
}

#[test]
fn a_chain_missing_its_continuation_is_dropped_whole() {
    // Power was cut before block 3 was stored: 1 → 2 → (nothing).
    let mut dev = region(Some(3));
    let (report, live, free) = recovered(&mut dev);
    assert_eq!(report.broken_chains, 2);
    assert_eq!(report.live_blocks, 1);
    assert_eq!(live, [5]);
    assert_eq!(free, 12 - 1, "the dropped blocks' clusters are free");
    // The drop is on disk: a second recovery finds nothing to drop.
    let (again, live, _) = recovered(&mut dev);
    assert_eq!((again.broken_chains, again.corrupt_records), (0, 0));
    assert_eq!(live, [5]);
}

#[test]
fn a_chain_that_loops_or_links_backwards_is_dropped_whole() {
    // Block 3 (area slot 2) made to link back to the head: 1 → 2 → 3 → 1.
    let mut dev = region(None);
    edit_record(&mut dev, 2, |info| info.next_block = Some(addr(1)));
    let (report, live, free) = recovered(&mut dev);
    assert_eq!(report.broken_chains, 3);
    assert_eq!(live, [5]);
    assert_eq!(free, 12 - 1);
    // A block naming itself as its continuation.
    let mut dev = region(None);
    edit_record(&mut dev, 3, |info| info.next_block = Some(addr(5)));
    let (report, live, _) = recovered(&mut dev);
    assert_eq!(report.broken_chains, 1);
    assert_eq!(live, [1, 2, 3]);
}

#[test]
fn continuations_of_a_deleted_or_dropped_head_go_too() {
    // Power cut while deleting the chain: only the head's delete landed.
    let mut dev = region(None);
    {
        let (mut image, mut map) = (vec![0u8; 1_024], vec![0u8; 2]);
        let (mut log, _) = DiskLog::recover(&mut dev, GEO, &mut image, &mut map).unwrap();
        assert_eq!(log.delete(addr(1)), Ok(true));
    }
    let (report, live, free) = recovered(&mut dev);
    assert_eq!(report.broken_chains, 2);
    assert_eq!(live, [5]);
    assert_eq!(free, 12 - 1);
    // The head's cluster-info record corrupt: the head is dropped, and its
    // continuations are not served alone.
    let mut dev = region(None);
    let (sector, index) = GEO.cluster_info_location(0);
    dev.bytes[sector as usize * SECTOR_SIZE + index * RECORD_LEN + 20] ^= 1;
    let (report, live, free) = recovered(&mut dev);
    assert_eq!((report.dropped_blocks, report.broken_chains), (1, 2));
    assert_eq!(live, [5]);
    assert_eq!(free, 12 - 1);
}

#[test]
fn delete_chain_removes_every_block_and_put_refuses_backward_links() {
    let mut dev = region(None);
    {
        let (mut image, mut map) = (vec![0u8; 1_024], vec![0u8; 2]);
        let (mut log, _) = DiskLog::recover(&mut dev, GEO, &mut image, &mut map).unwrap();
        assert_eq!(
            log.put(addr(6), b"x", linked(Some(6))),
            Err(LogError::OutOfOrder)
        );
        assert_eq!(
            log.put(addr(6), b"x", linked(Some(2))),
            Err(LogError::OutOfOrder)
        );
        assert_eq!(log.delete_chain(addr(1)), Ok(3));
        assert_eq!(log.delete_chain(addr(1)), Ok(0));
        assert_eq!(log.free_clusters(), 12 - 1);
    }
    let (report, live, _) = recovered(&mut dev);
    assert_eq!(report.broken_chains, 0);
    assert_eq!(live, [5]);
}

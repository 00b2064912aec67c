//! An arbitrary byte image as a core's disk region, recovered by `DiskLog::recover` and
//! read back: what a restart after a power cut, a bad sector or a hostile disk image
//! does. A corrupted region must be refused with an error or recovered partially, never
//! panic, and what recovery keeps must be sound:
//! - every block it indexes is valid, at its own address, and either reads back with data
//!   matching the block's own checksum or is refused as `Corrupt`;
//! - the free-cluster count agrees with the cluster map it rebuilt;
//! - a block stored after recovery reads back, and does not disturb any block that read
//!   back before it;
//! - recovering the region again (recovery rewrote its metadata) finds no corrupt record,
//!   drops no block, and serves every block as before.
//!
//! The same bytes, taken whole as a system users' audit-log region, go through
//! `AuditLog::recover`: refused as corrupt, or every entry it counts reads back, and an
//! append after it is found by the next recovery.
//!
//! Input: see `gh_store_fuzz::region`; bits 2-3 of the control byte choose the size of
//! the block stored after recovery (0 bytes, 700, exactly one cluster, two clusters).

#![no_main]

use gh_store::addr::{BlockAddr, BLOCK_SIZE};
use gh_store::checksum::crc32c;
use gh_store::disk::audit_log::{AuditAction, AuditEntry, AuditError, AuditLog, AuditName};
use gh_store::disk::block_info::BlockInfo;
use gh_store::disk::device::MemDevice;
use gh_store::disk::device::SECTOR_SIZE;
use gh_store::disk::geometry::CLUSTER_SIZE;
use gh_store::disk::log::{BlockMeta, DiskLog, LogError};
use gh_store::disk::record::RECORD_LEN;
use gh_store_fuzz::{block_info_area, region};
use libfuzzer_sys::fuzz_target;
use std::collections::{BTreeMap, BTreeSet};

/// Sizes of the block stored after recovery.
const PUT_SIZES: [usize; 4] = [0, 700, CLUSTER_SIZE, CLUSTER_SIZE + 1800];

/// Every block that `log` indexes among `candidates`, checked; returns those whose data
/// reads back, with their data, and how many it indexes.
fn read_all(
    log: &mut DiskLog<'_, MemDevice<'_>>,
    candidates: &BTreeSet<BlockAddr>,
) -> (BTreeMap<BlockAddr, Vec<u8>>, usize) {
    let mut readable = BTreeMap::new();
    let mut indexed = 0;
    for &addr in candidates {
        let info = match log.lookup(addr) {
            Ok(Some(info)) => info,
            Ok(None) => continue,
            Err(e) => panic!("lookup of {addr:?} failed after recovery: {e:?}"),
        };
        indexed += 1;
        assert_eq!(info.addr, addr, "lookup returned another block");
        assert!(info.is_valid(), "a deleted block is indexed as live");
        assert!(info.length <= BLOCK_SIZE, "block longer than 4 MiB");
        let mut out = vec![0u8; info.length as usize];
        match log.get(addr, &mut out) {
            Ok(n) => {
                assert_eq!(n as u64, info.length, "read length differs from the record");
                assert_eq!(
                    crc32c(&out),
                    info.data_crc,
                    "data served with a bad checksum"
                );
                readable.insert(addr, out);
            }
            Err(LogError::Corrupt) => {}
            Err(e) => panic!("reading recovered block {addr:?} failed with {e:?}"),
        }
    }
    (readable, indexed)
}

/// Asserts that every block of `expected` reads back from `log` unchanged.
fn assert_still_readable(
    log: &mut DiskLog<'_, MemDevice<'_>>,
    expected: &BTreeMap<BlockAddr, Vec<u8>>,
    when: &str,
) {
    for (&addr, data) in expected {
        let mut out = vec![0u8; data.len()];
        assert_eq!(
            log.get(addr, &mut out),
            Ok(data.len()),
            "block {addr:?} no longer reads back {when}"
        );
        assert!(out == *data, "block {addr:?} changed {when}");
    }
}

/// The input as an audit-log region: never trusted past what checks out.
fn check_audit_region(data: &[u8]) {
    let mut region = data[..data.len() - data.len() % SECTOR_SIZE].to_vec();
    let (mut log, report) = match AuditLog::recover(MemDevice::new(&mut region)) {
        Ok(found) => found,
        Err(AuditError::Corrupt { .. }) => return,
        Err(e) => panic!("audit recovery failed with {e:?}"),
    };
    assert_eq!(report.entries, log.len(), "audit report miscounts");
    for n in 0..log.len() {
        if let Err(e) = log.get(n) {
            panic!("audit entry {n} counted but unreadable: {e:?}");
        }
    }
    let (Some(root), Some(target)) = (AuditName::new(b"root"), AuditName::new(b"ops")) else {
        return;
    };
    let entry = AuditEntry {
        time: 7,
        actor: 0,
        actor_name: root,
        action: AuditAction::Add,
        target: 1,
        target_name: target,
    };
    match log.append(&entry) {
        Ok(position) => {
            let (mut again, _) = AuditLog::recover(MemDevice::new(&mut region))
                .unwrap_or_else(|e| panic!("audit log does not recover after an append: {e:?}"));
            assert_eq!(again.len(), position + 1, "appended entry not found again");
            assert_eq!(again.get(position), Ok(entry), "appended entry changed");
        }
        Err(AuditError::Full) => {}
        Err(e) => panic!("audit append after recovery failed with {e:?}"),
    }
}

fuzz_target!(|data: &[u8]| {
    check_audit_region(data);
    let Some((geometry, mut disk)) = region(data) else {
        return;
    };
    let put_size = PUT_SIZES[usize::from((data[0] >> 2) & 3)];
    // Recovery only ever keeps blocks whose records are in the image: their addresses
    // are the only ones worth asking for.
    let candidates: BTreeSet<BlockAddr> = disk[block_info_area(&geometry)]
        .chunks_exact(RECORD_LEN)
        .filter_map(|r| BlockInfo::decode(r).ok())
        .map(|(info, _)| info.addr)
        .collect();
    let mut image = vec![0u8; geometry.block_info_image_len()];
    let mut map = vec![0u8; geometry.cluster_map_len()];

    let (expected, live, free) = {
        let Ok((mut log, report)) =
            DiskLog::recover(MemDevice::new(&mut disk), geometry, &mut image, &mut map)
        else {
            return;
        };
        assert_eq!(report.live_blocks, log.live_blocks(), "report miscounts");
        let (mut readable, indexed) = read_all(&mut log, &candidates);
        assert_eq!(
            indexed,
            log.live_blocks(),
            "live blocks not found by address"
        );
        if let Some(last) = log.last_addr() {
            assert!(
                candidates.contains(&last),
                "last address not from the image"
            );
        }

        // A new block after the last one, like the next `put` after a restart.
        let next = match log.last_addr() {
            Some(last) => BlockAddr::from_raw(last.raw() + 1).ok(),
            None => BlockAddr::new(1, 0).ok(),
        };
        let mut live = log.live_blocks();
        if let Some(addr) = next {
            let block: Vec<u8> = (0..put_size).map(|i| (i * 7 + 3) as u8).collect();
            match log.put(addr, &block, BlockMeta::default()) {
                Ok(()) => {
                    live += 1;
                    readable.insert(addr, block);
                }
                Err(LogError::Full) => {}
                Err(e) => panic!("storing a block after recovery failed with {e:?}"),
            }
        }
        assert_still_readable(&mut log, &readable, "after storing a new block");
        (readable, live, log.free_clusters())
    };
    let marked: u32 = (0..geometry.clusters)
        .map(|c| u32::from(map[(c / 8) as usize] >> (c % 8) & 1))
        .sum();
    assert_eq!(
        free,
        geometry.clusters - marked,
        "free-cluster count disagrees with the cluster map"
    );

    let (mut log, report) =
        DiskLog::recover(MemDevice::new(&mut disk), geometry, &mut image, &mut map)
            .unwrap_or_else(|e| panic!("a recovered region does not recover again: {e:?}"));
    assert_eq!(
        (report.corrupt_records, report.dropped_blocks),
        (0, 0),
        "the second recovery found damage the first one left"
    );
    assert_eq!(
        log.live_blocks(),
        live,
        "live blocks changed across a restart"
    );
    assert_still_readable(&mut log, &expected, "after a second recovery");
});

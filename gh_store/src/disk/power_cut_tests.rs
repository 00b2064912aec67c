//! Power cut at every write of a scripted workload, torn at every sector
//! boundary: recovery must return every acknowledged block intact, serve
//! nothing unacknowledged, and keep working. Recovery itself is cut too.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

extern crate std;

use super::super::addr::BlockAddr;
use super::geometry::Geometry;
use super::log::{BlockMeta, DiskLog, LogError};
use super::test_device::{FaultDevice, PowerCut};
use std::collections::BTreeMap;
use std::vec;
use std::vec::Vec;

const GEO: Geometry = Geometry {
    block_info_sectors: 2,
    clusters: 12,
};

#[derive(Clone, Copy, Debug)]
enum Op {
    Put(u32, usize),
    Delete(u32),
}

/// Crosses cluster and sector edges, wraps the ring and fills the 8-slot
/// block-info area so it compacts.
const SCRIPT: &[Op] = &[
    Op::Put(0, 0),
    Op::Put(1, 1),
    Op::Put(2, 10_240),
    Op::Put(3, 10_241),
    Op::Put(4, 25_000),
    Op::Delete(1),
    Op::Put(5, 3_000),
    Op::Delete(3),
    Op::Put(6, 20_000),
    Op::Delete(0),
    Op::Put(7, 512),
    Op::Put(8, 700),
    Op::Delete(2),
    Op::Put(9, 15_000),
    Op::Delete(4),
    Op::Put(10, 9_000),
    Op::Put(11, 20_500),
    Op::Put(12, 100),
];
const FRESH: u32 = 1_000;

fn addr(index: u32) -> BlockAddr {
    BlockAddr::new(9, index).unwrap()
}

fn pattern(seed: u32, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u32).wrapping_mul(13).wrapping_add(seed * 101 + 1) as u8)
        .collect()
}

fn memory() -> (Vec<u8>, Vec<u8>) {
    (
        vec![0u8; GEO.block_info_image_len()],
        vec![0u8; GEO.cluster_map_len()],
    )
}

/// What the workload was told: acknowledged live blocks and the one
/// operation that got no answer.
struct Outcome {
    live: BTreeMap<u32, Vec<u8>>,
    pending: Option<Op>,
}

fn formatted() -> Vec<u8> {
    let mut dev = FaultDevice::new(GEO.total_sectors());
    let (mut image, mut map) = memory();
    DiskLog::format(&mut dev, GEO, &mut image, &mut map).unwrap();
    dev.bytes
}

fn run_script(dev: &mut FaultDevice) -> Outcome {
    let (mut image, mut map) = memory();
    let (mut log, _) = DiskLog::recover(&mut *dev, GEO, &mut image, &mut map).unwrap();
    let mut live = BTreeMap::new();
    for &op in SCRIPT {
        let result = match op {
            Op::Put(i, len) => log.put(addr(i), &pattern(i, len), BlockMeta::default()),
            Op::Delete(i) => log.delete(addr(i)).map(|_| ()),
        };
        if result.is_err() {
            return Outcome {
                live,
                pending: Some(op),
            };
        }
        match op {
            Op::Put(i, len) => {
                live.insert(i, pattern(i, len));
            }
            Op::Delete(i) => {
                live.remove(&i);
            }
        }
    }
    Outcome {
        live,
        pending: None,
    }
}

fn verify(log: &mut DiskLog<'_, &mut FaultDevice>, outcome: &Outcome, extra: Option<u32>) {
    let mut out = vec![0u8; 40_000];
    for index in 0..13u32 {
        let got = log.get(addr(index), &mut out);
        let expected = outcome.live.get(&index);
        match (outcome.pending, expected) {
            // An unanswered delete may or may not have happened.
            (Some(Op::Delete(d)), Some(data)) if d == index => match got {
                Ok(len) => assert_eq!(&out[..len], &data[..]),
                Err(e) => assert_eq!(e, LogError::NotFound),
            },
            (_, Some(data)) => {
                assert_eq!(got, Ok(data.len()), "block {index}");
                assert_eq!(&out[..data.len()], &data[..]);
            }
            (_, None) => assert_eq!(got, Err(LogError::NotFound), "block {index}"),
        }
    }
    if let Some(fresh) = extra {
        assert_eq!(log.get(addr(fresh), &mut out), Ok(777));
        assert_eq!(&out[..777], &pattern(fresh, 777)[..]);
    }
}

/// Recovers, checks, stores one more block, recovers again and checks.
fn recover_and_check(bytes: Vec<u8>, outcome: &Outcome) {
    let mut dev = FaultDevice::from_bytes(bytes);
    let (mut image, mut map) = memory();
    {
        let (mut log, _) = DiskLog::recover(&mut dev, GEO, &mut image, &mut map).unwrap();
        verify(&mut log, outcome, None);
        log.put(addr(FRESH), &pattern(FRESH, 777), BlockMeta::default())
            .unwrap();
        verify(&mut log, outcome, Some(FRESH));
    }
    let (mut log, report) = DiskLog::recover(&mut dev, GEO, &mut image, &mut map).unwrap();
    assert_eq!(report.corrupt_records, 0);
    verify(&mut log, outcome, Some(FRESH));
}

#[test]
fn every_cut_point_recovers_every_acknowledged_block() {
    let clean = formatted();
    let mut baseline = FaultDevice::from_bytes(clean.clone());
    let full = run_script(&mut baseline);
    assert!(full.pending.is_none(), "workload must fit the region");
    // The first writes belong to the opening recovery; they are cut too.
    let sizes = baseline.write_sizes.clone();
    let mut cut_points = 0usize;
    let mut recovery_cut_points = 0usize;
    for (at_write, &size) in sizes.iter().enumerate() {
        for landed_sectors in 0..size {
            let mut dev = FaultDevice::from_bytes(clean.clone());
            dev.cut = Some(PowerCut {
                at_write,
                landed_sectors,
            });
            let outcome = if at_write < recovery_writes(&clean) {
                // Cut in the opening recovery: nothing acknowledged yet.
                let (mut image, mut map) = memory();
                assert!(DiskLog::recover(&mut dev, GEO, &mut image, &mut map).is_err());
                Outcome {
                    live: BTreeMap::new(),
                    pending: None,
                }
            } else {
                run_script(&mut dev)
            };
            assert!(dev.dead, "cut at {at_write} must have happened");
            cut_points += 1;
            recover_and_check(dev.bytes.clone(), &outcome);

            // Cut the recovery that follows, at each of its writes.
            let writes = recovery_writes(&dev.bytes);
            for recovery_write in 0..writes {
                let mut again = FaultDevice::from_bytes(dev.bytes.clone());
                again.cut = Some(PowerCut {
                    at_write: recovery_write,
                    landed_sectors: 0,
                });
                let (mut image, mut map) = memory();
                assert!(DiskLog::recover(&mut again, GEO, &mut image, &mut map).is_err());
                recovery_cut_points += 1;
                recover_and_check(again.bytes, &outcome);
            }
        }
    }
    std::println!(
        "power cuts tried: {cut_points} during the workload, \
         {recovery_cut_points} during the recovery after it"
    );
    assert!(cut_points > 100);
}

/// Number of writes a clean recovery of `bytes` performs.
fn recovery_writes(bytes: &[u8]) -> usize {
    let mut dev = FaultDevice::from_bytes(bytes.to_vec());
    let (mut image, mut map) = memory();
    DiskLog::recover(&mut dev, GEO, &mut image, &mut map).unwrap();
    dev.writes
}

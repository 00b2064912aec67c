//! Power cut at every write (torn at every sector) of a workload mixing
//! waited and queued writes, a chain and deletes: after recovery every
//! waited block and every queued block reported done comes back intact, a
//! chain only once its last block was done, and nothing else is served.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

extern crate std;

use super::super::addr::BlockAddr;
use super::geometry::Geometry;
use super::log::{BlockMeta, DiskLog, LogError};
use super::test_device::{FaultDevice, PowerCut};
use super::write_queue::{BlockSource, Durability, QueuedWrite, WriteQueue};
use std::collections::{BTreeMap, BTreeSet};
use std::vec;
use std::vec::Vec;

const GEO: Geometry = Geometry {
    block_info_sectors: 2,
    clusters: 16,
};

#[derive(Clone, Copy, Debug)]
enum Step {
    /// Write block `.0` of `.1` bytes (continued by `.2`) and wait.
    Wait(u32, usize, Option<u32>),
    /// Queue the same.
    Queue(u32, usize, Option<u32>),
    /// Carry out up to `.0` queued writes.
    Pump(usize),
    /// Delete a block.
    Delete(u32),
}

/// Crosses cluster edges, fills the 8-slot area so it compacts, and ends
/// with queued writes never pumped.
const SCRIPT: &[Step] = &[
    Step::Wait(0, 700, None),
    Step::Queue(1, 10_241, None),
    Step::Queue(2, 0, None),
    Step::Pump(1),
    Step::Queue(3, 5_000, None),
    Step::Wait(4, 12_000, None),
    Step::Queue(5, 20_000, Some(6)),
    Step::Queue(6, 3_000, None),
    Step::Delete(0),
    Step::Pump(1),
    Step::Wait(7, 512, None),
    Step::Queue(8, 9_000, None),
    Step::Delete(3),
    Step::Pump(4),
    Step::Queue(9, 1_000, None),
    Step::Queue(10, 15_000, None),
];
const BLOCKS: u32 = 11;
const FRESH: u32 = 100;

fn addr(index: u32) -> BlockAddr {
    BlockAddr::new(5, index).unwrap()
}

fn pattern(index: u32, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u32).wrapping_mul(7).wrapping_add(index * 37 + 3) as u8)
        .collect()
}

/// The application's blocks in memory.
struct Memory(BTreeMap<BlockAddr, Vec<u8>>);

impl BlockSource for Memory {
    fn block_data(&mut self, addr: BlockAddr) -> Result<&[u8], LogError> {
        self.0
            .get(&addr)
            .map(Vec::as_slice)
            .ok_or(LogError::NotFound)
    }
}

/// What the application was told.
#[derive(Default)]
struct Outcome {
    /// Blocks reported on disk (not yet deleted), with their continuation.
    done: BTreeMap<u32, Option<u32>>,
    /// A delete that got no answer: it may or may not have happened.
    unanswered_delete: Option<u32>,
}

impl Outcome {
    /// Whether block `index` must be served: done, and so is the rest of
    /// its chain.
    fn acknowledged(&self, index: u32) -> bool {
        let mut at = Some(index);
        for _ in 0..BLOCKS {
            match at {
                None => return true,
                Some(i) => match self.done.get(&i) {
                    Some(next) => at = *next,
                    None => return false,
                },
            }
        }
        false
    }
}

fn memory() -> (Vec<u8>, Vec<u8>) {
    (
        vec![0u8; GEO.block_info_image_len()],
        vec![0u8; GEO.cluster_map_len()],
    )
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
    let mut entries: [Option<QueuedWrite>; 4] = [None; 4];
    let mut queue = WriteQueue::new(&mut entries);
    let mut source = Memory(BTreeMap::new());
    let mut outcome = Outcome::default();
    let mut links = BTreeMap::new();
    let mut reported = Vec::new();
    for &step in SCRIPT {
        let mut report = |done: super::write_queue::WriteDone| reported.push(done);
        match step {
            Step::Wait(i, len, next) | Step::Queue(i, len, next) => {
                source.0.insert(addr(i), pattern(i, len));
                links.insert(addr(i), next);
                let meta = BlockMeta {
                    next_block: next.map(addr),
                    ..BlockMeta::default()
                };
                let durability = match step {
                    Step::Wait(..) => Durability::Wait,
                    _ => Durability::Queue,
                };
                let result = queue.submit(
                    &mut log,
                    &mut source,
                    addr(i),
                    meta,
                    durability,
                    &mut report,
                );
                if durability == Durability::Wait && result.is_ok() {
                    outcome.done.insert(i, next);
                }
            }
            Step::Pump(max) => {
                queue.pump(&mut log, &mut source, max, &mut report);
            }
            Step::Delete(i) => match log.delete(addr(i)) {
                Ok(_) => {
                    outcome.done.remove(&i);
                }
                Err(LogError::Device(_)) => outcome.unanswered_delete = Some(i),
                Err(_) => {}
            },
        }
        for done in reported.drain(..) {
            if done.result.is_ok() {
                let next = links[&done.addr];
                outcome.done.insert(done.addr.index(), next);
            }
        }
    }
    outcome
}

fn verify(log: &mut DiskLog<'_, &mut FaultDevice>, outcome: &Outcome, fresh: bool) {
    let mut out = vec![0u8; 25_000];
    let lengths: BTreeMap<u32, usize> = SCRIPT
        .iter()
        .filter_map(|s| match *s {
            Step::Wait(i, len, _) | Step::Queue(i, len, _) => Some((i, len)),
            _ => None,
        })
        .collect();
    for index in 0..BLOCKS {
        let got = log.get(addr(index), &mut out);
        let expected = pattern(index, lengths[&index]);
        if outcome.unanswered_delete == Some(index) && outcome.acknowledged(index) {
            if let Ok(n) = got {
                assert_eq!(&out[..n], &expected[..], "block {index}");
            } else {
                assert_eq!(got, Err(LogError::NotFound), "block {index}");
            }
        } else if outcome.acknowledged(index) {
            assert_eq!(got, Ok(expected.len()), "block {index}");
            assert_eq!(&out[..expected.len()], &expected[..], "block {index}");
        } else {
            assert_eq!(
                got,
                Err(LogError::NotFound),
                "block {index} served unacknowledged"
            );
        }
    }
    if fresh {
        assert_eq!(log.get(addr(FRESH), &mut out), Ok(333));
        assert_eq!(&out[..333], &pattern(FRESH, 333)[..]);
    }
}

/// Recovers, checks, stores one more block, recovers again and checks.
fn recover_and_check(bytes: Vec<u8>, outcome: &Outcome) {
    let mut dev = FaultDevice::from_bytes(bytes);
    let (mut image, mut map) = memory();
    {
        let (mut log, _) = DiskLog::recover(&mut dev, GEO, &mut image, &mut map).unwrap();
        verify(&mut log, outcome, false);
        log.put(addr(FRESH), &pattern(FRESH, 333), BlockMeta::default())
            .unwrap();
    }
    let (mut log, report) = DiskLog::recover(&mut dev, GEO, &mut image, &mut map).unwrap();
    assert_eq!((report.corrupt_records, report.broken_chains), (0, 0));
    verify(&mut log, outcome, true);
}

#[test]
fn every_cut_point_keeps_every_waited_and_every_reported_queued_block() {
    let clean = formatted();
    let mut baseline = FaultDevice::from_bytes(clean.clone());
    let full = run_script(&mut baseline);
    // Without a cut: everything but the never-pumped tail is on disk.
    let expected: BTreeSet<u32> = [1, 2, 4, 5, 6, 7, 8].into_iter().collect();
    let acknowledged: BTreeSet<u32> = (0..BLOCKS).filter(|&i| full.acknowledged(i)).collect();
    assert_eq!(acknowledged, expected);
    recover_and_check(baseline.bytes.clone(), &full);
    let opening = {
        let mut dev = FaultDevice::from_bytes(clean.clone());
        let (mut image, mut map) = memory();
        DiskLog::recover(&mut dev, GEO, &mut image, &mut map).unwrap();
        dev.writes
    };
    let mut cut_points = 0usize;
    for (at_write, &size) in baseline.write_sizes.iter().enumerate().skip(opening) {
        for landed_sectors in 0..size {
            let mut dev = FaultDevice::from_bytes(clean.clone());
            dev.cut = Some(PowerCut {
                at_write,
                landed_sectors,
            });
            let outcome = run_script(&mut dev);
            assert!(dev.dead, "cut at {at_write} must have happened");
            cut_points += 1;
            recover_and_check(dev.bytes, &outcome);
        }
    }
    std::println!("power cuts tried with waited and queued writes: {cut_points}");
    assert!(cut_points > 100);
}

//! Writes the seed inputs of the `disk` fuzz target into `corpus/disk/seed-*`: regions
//! formatted and filled by the disk log itself, so that the fuzzer starts from good
//! headers, records and cluster chains and mutates those.
//!
//! Run from `gh_store/fuzz`: `cargo run --example seeds`. The output is deterministic.

use gh_store::addr::BlockAddr;
use gh_store::disk::device::{MemDevice, SECTOR_SIZE};
use gh_store::disk::geometry::Geometry;
use gh_store::disk::log::{BlockMeta, DiskLog};
use gh_store_fuzz::{GEOMETRIES, RESEAL, SECOND_GEOMETRY};
use std::fs;
use std::path::Path;

/// What to do to a fresh region.
enum Op {
    Put(u32, usize),
    Delete(u32),
}

fn addr(index: u32) -> BlockAddr {
    BlockAddr::new(5, index).unwrap_or_else(|e| panic!("seed address {index}: {e:?}"))
}

/// A region of `geometry`, formatted, with `ops` applied, trailing zeros cut (the target
/// pads them back).
fn region(geometry: Geometry, ops: &[Op]) -> Vec<u8> {
    let len = geometry.total_sectors() as usize * SECTOR_SIZE;
    let mut disk = vec![0u8; len];
    let mut image = vec![0u8; geometry.block_info_image_len()];
    let mut map = vec![0u8; geometry.cluster_map_len()];
    {
        let mut log = DiskLog::format(MemDevice::new(&mut disk), geometry, &mut image, &mut map)
            .unwrap_or_else(|e| panic!("format: {e:?}"));
        for op in ops {
            let result = match *op {
                Op::Put(i, n) => {
                    let data: Vec<u8> = (0..n).map(|b| (b as u32 * 31 + i) as u8).collect();
                    log.put(addr(i), &data, BlockMeta::default())
                }
                Op::Delete(i) => log.delete(addr(i)).map(|_| ()),
            };
            result.unwrap_or_else(|e| panic!("seed operation failed: {e:?}"));
        }
    }
    let used = disk.iter().rposition(|&b| b != 0).map_or(0, |p| p + 1);
    disk.truncate(used);
    disk
}

fn write(name: &str, control: u8, disk: &[u8]) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/disk");
    let mut bytes = vec![control];
    bytes.extend_from_slice(disk);
    if let Err(e) = fs::create_dir_all(&dir).and_then(|()| fs::write(dir.join(name), bytes)) {
        panic!("cannot write seed {name}: {e}");
    }
}

fn main() {
    let [first, second] = GEOMETRIES;
    write("seed-formatted", 0, &region(first, &[]));
    // A chain over two clusters, a deletion, and a block that wraps the ring to the
    // freed cluster; resealed on input, so mutated records still check out.
    let busy = region(
        first,
        &[
            Op::Put(1, 100),
            Op::Put(2, 12_000),
            Op::Put(3, 50),
            Op::Delete(1),
            Op::Put(4, 300),
        ],
    );
    write("seed-wrapped", 0, &busy);
    write("seed-wrapped-resealed", RESEAL | 4, &busy);
    // One block over two clusters and two clusters free: the cluster accounting is
    // visible (a full ring hides it behind saturation).
    let chain = region(first, &[Op::Put(1, 12_000)]);
    write("seed-chain-resealed", RESEAL, &chain);
    // Five records in a four-slot area: the area compacts.
    let small = region(
        second,
        &[
            Op::Put(1, 10),
            Op::Put(2, 0),
            Op::Delete(1),
            Op::Put(3, 20),
            Op::Delete(2),
            Op::Put(4, 0),
            Op::Put(5, 0),
        ],
    );
    write("seed-compacted", SECOND_GEOMETRY | RESEAL | 8, &small);
}

//! The per-core pool of connection slots over caller memory, with a lookup table by flow.
//!
//! The table is open addressing with linear probing over `u32` entries (slot index + 1),
//! deletion shifts entries back, so there are no tombstones to age. Free slots chain
//! through their otherwise unused wheel link.
//!
//! Every segment looks its flow up, so the table's hash is multiply-add-shift
//! (Dietzfelbinger): `((a * x + b) mod 2^128) >> (128 - bits)` over the 64-bit flow key `x`,
//! with `a` and `b` 128-bit secrets drawn from the pool's SipHash key. That family is
//! strongly universal, so a peer that does not know the key cannot aim many flows at one
//! chain, and it costs a few multiplications instead of a SipHash.

use super::super::wire::ipv4::Address;
use super::conn::Tcb;
use super::siphash::{self, Key};
use super::wheel::{Link, Wheel, MAX_SLOTS};

/// The table's keyed hash of a flow (see the module comment).
#[derive(Debug)]
struct FlowHash {
    a: u128,
    b: u128,
    /// 64 minus the table's index bits.
    shift: u32,
}

impl FlowHash {
    fn new(key: &Key, table_len: usize) -> FlowHash {
        let word = |tag: &[u8]| siphash::hash(key, tag);
        let wide = |hi: u64, lo: u64| (u128::from(hi) << 64) | u128::from(lo);
        FlowHash {
            a: wide(word(b"pool a hi"), word(b"pool a lo")),
            b: wide(word(b"pool b hi"), word(b"pool b lo")),
            shift: 64 - table_len.trailing_zeros().min(64),
        }
    }

    /// The top index bits of `a * x + b`; wider than the table is masked by the caller.
    #[inline]
    fn home(&self, ip: Address, port: u16, local_port: u16) -> usize {
        let x = (u64::from(ip.to_u32()) << 32) | (u64::from(port) << 16) | u64::from(local_port);
        let h = self.a.wrapping_mul(u128::from(x)).wrapping_add(self.b);
        // A one-entry table has shift 64, which wraps to 0; its mask is 0 anyway.
        ((h >> 64) as u64).wrapping_shr(self.shift) as usize
    }
}

/// Connection slots and their index.
#[derive(Debug)]
pub struct Pool<'a> {
    slots: &'a mut [Tcb],
    table: &'a mut [u32],
    hash: FlowHash,
    free_head: Link,
    used: usize,
}

impl<'a> Pool<'a> {
    /// A pool over `slots` (at most [`MAX_SLOTS`]), indexed by `table`, whose length must
    /// be a power of two larger than the slot count (twice as large keeps probes short).
    /// `None` otherwise.
    pub fn new(slots: &'a mut [Tcb], table: &'a mut [u32], key: Key) -> Option<Pool<'a>> {
        if !table.len().is_power_of_two() || table.len() <= slots.len() || slots.len() > MAX_SLOTS {
            return None;
        }
        table.fill(0);
        let n = slots.len();
        for (i, s) in slots.iter_mut().enumerate() {
            *s = Tcb::EMPTY;
            // The free list runs through the wheel links of free slots.
            s.next = if i + 1 < n { i as Link + 2 } else { 0 };
        }
        Some(Pool {
            free_head: if n > 0 { 1 } else { 0 },
            hash: FlowHash::new(&key, table.len()),
            slots,
            table,
            used: 0,
        })
    }

    /// Slots in use.
    pub fn used(&self) -> usize {
        self.used
    }

    /// Total slots.
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// Memory per connection: its slot plus its share of the table.
    pub fn bytes_per_connection(&self) -> usize {
        let table = core::mem::size_of_val(self.table);
        core::mem::size_of::<Tcb>() + table / self.slots.len().max(1)
    }

    fn home(&self, ip: Address, port: u16, local_port: u16) -> usize {
        self.hash.home(ip, port, local_port) & (self.table.len() - 1)
    }

    fn home_of_slot(&self, i: usize) -> usize {
        match self.slots.get(i) {
            Some(t) => {
                let f = t.flow(Address::UNSPECIFIED);
                self.home(f.remote_ip, f.remote_port, f.local_port)
            }
            None => 0,
        }
    }

    /// The slot of the connection from `ip:port` to our `local_port`.
    #[inline]
    pub fn find(&self, ip: Address, port: u16, local_port: u16) -> Option<usize> {
        let mask = self.table.len() - 1;
        let mut pos = self.home(ip, port, local_port);
        for _ in 0..self.table.len() {
            let i = (*self.table.get(pos)? as usize).checked_sub(1)?;
            if self.slots.get(i)?.matches(ip, port, local_port) {
                return Some(i);
            }
            pos = (pos + 1) & mask;
        }
        None
    }

    /// Stores a new connection; `None` when every slot is taken.
    pub fn insert(&mut self, tcb: Tcb) -> Option<usize> {
        let i = usize::from(self.free_head).checked_sub(1)?;
        let slot = self.slots.get_mut(i)?;
        self.free_head = slot.next;
        *slot = tcb;
        slot.next = 0;
        slot.prev = 0;
        let f = tcb.flow(Address::UNSPECIFIED);
        let mask = self.table.len() - 1;
        let mut pos = self.home(f.remote_ip, f.remote_port, f.local_port);
        while let Some(e) = self.table.get_mut(pos) {
            if *e == 0 {
                *e = i as u32 + 1;
                break;
            }
            pos = (pos + 1) & mask;
        }
        self.used += 1;
        Some(i)
    }

    /// Frees slot `i`: off the wheel, out of the table, back on the free list.
    pub fn release(&mut self, i: usize, wheel: &mut Wheel<'_>) {
        // A slot not in the table is already free: releasing twice is harmless.
        if !self.unindex(i) {
            return;
        }
        wheel.remove(self.slots, i);
        if let Some(s) = self.slots.get_mut(i) {
            *s = Tcb::EMPTY;
            s.next = self.free_head;
        }
        // Below `MAX_SLOTS`: `new` refused more slots.
        self.free_head = i as Link + 1;
        self.used = self.used.saturating_sub(1);
    }

    /// Removes slot `i` from the table, shifting later entries of its probe run back;
    /// false if it was not there.
    fn unindex(&mut self, i: usize) -> bool {
        let mask = self.table.len() - 1;
        let mut hole = self.home_of_slot(i);
        loop {
            match self.table.get(hole) {
                Some(&e) if e == i as u32 + 1 => break,
                Some(&0) | None => return false,
                Some(_) => hole = (hole + 1) & mask,
            }
        }
        let mut q = hole;
        loop {
            q = (q + 1) & mask;
            let e = self.table.get(q).copied().unwrap_or(0);
            if e == 0 {
                break;
            }
            let home = self.home_of_slot(e as usize - 1);
            // The entry at q may fill the hole unless its home lies cyclically in (hole, q].
            let stays = (q.wrapping_sub(home) & mask) < (q.wrapping_sub(hole) & mask);
            if !stays {
                if let Some(h) = self.table.get_mut(hole) {
                    *h = e;
                }
                hole = q;
            }
        }
        if let Some(h) = self.table.get_mut(hole) {
            *h = 0;
        }
        true
    }

    /// A slot.
    pub fn get(&self, i: usize) -> Option<&Tcb> {
        self.slots.get(i)
    }

    /// A slot, for the state machine. Its wheel links must be left alone.
    pub fn get_mut(&mut self, i: usize) -> Option<&mut Tcb> {
        self.slots.get_mut(i)
    }

    /// All slots.
    pub fn slots(&self) -> &[Tcb] {
        self.slots
    }

    /// All slots, for the timing wheel.
    pub fn slots_mut(&mut self) -> &mut [Tcb] {
        self.slots
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    extern crate std;
    use super::super::super::wire::tcp::{Flags, Options, Repr, SeqNumber};
    use super::super::{Config, Flow};
    use super::*;
    use std::vec::Vec;

    fn tcb(ip: u8, port: u16) -> Tcb {
        let flow = Flow {
            remote_ip: Address([10, 0, 0, ip]),
            remote_port: port,
            local_ip: Address([10, 0, 0, 1]),
            local_port: 80,
        };
        let syn = Repr {
            src_port: port,
            dst_port: 80,
            seq: SeqNumber(1),
            ack: None,
            flags: Flags::SYN,
            window: 100,
            options: Options::default(),
            payload: &[],
        };
        Tcb::syn_received(&flow, &syn, SeqNumber(9), &Config::default())
    }

    #[test]
    fn insert_find_release_reuse() {
        let mut slots = [Tcb::EMPTY; 4];
        let mut table = [0u32; 8];
        let mut heads = [0; 8];
        let mut wheel = Wheel::new(&mut heads, 10, 0).unwrap();
        let mut pool = Pool::new(&mut slots, &mut table, Key([1, 2])).unwrap();
        let ids: Vec<usize> = (0..4)
            .map(|k| pool.insert(tcb(2, 1000 + k)).unwrap())
            .collect();
        assert_eq!(pool.insert(tcb(3, 1)), None, "full");
        assert_eq!(pool.used(), 4);
        for (k, &i) in ids.iter().enumerate() {
            assert_eq!(
                pool.find(Address([10, 0, 0, 2]), 1000 + k as u16, 80),
                Some(i)
            );
        }
        assert_eq!(pool.find(Address([10, 0, 0, 2]), 999, 80), None);
        assert_eq!(pool.find(Address([10, 0, 0, 2]), 1000, 81), None);
        pool.release(ids[1], &mut wheel);
        pool.release(ids[1], &mut wheel);
        assert_eq!(pool.used(), 3);
        assert_eq!(pool.find(Address([10, 0, 0, 2]), 1001, 80), None);
        for k in [0u16, 2, 3] {
            assert!(pool.find(Address([10, 0, 0, 2]), 1000 + k, 80).is_some());
        }
        assert_eq!(pool.insert(tcb(3, 1)), Some(ids[1]));
        std::println!(
            "tcp pool: {} bytes per connection",
            pool.bytes_per_connection()
        );
    }

    #[test]
    fn churn_keeps_table_consistent() {
        let mut slots = [Tcb::EMPTY; 64];
        let mut table = [0u32; 128];
        let mut heads = [0; 8];
        let mut wheel = Wheel::new(&mut heads, 10, 0).unwrap();
        let mut pool = Pool::new(&mut slots, &mut table, Key([3, 4])).unwrap();
        let mut live: Vec<(u16, usize)> = Vec::new();
        let mut x = 1u32;
        for step in 0..5000u32 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            if (x >> 16) % 2 == 0 && !live.is_empty() {
                let k = (x >> 8) as usize % live.len();
                let (port, i) = live.swap_remove(k);
                pool.release(i, &mut wheel);
                assert_eq!(pool.find(Address([10, 0, 0, 5]), port, 80), None);
            } else if let Some(i) = pool.insert(tcb(5, step as u16)) {
                live.retain(|&(p, _)| p != step as u16);
                live.push((step as u16, i));
            }
            for &(port, i) in &live {
                assert_eq!(
                    pool.find(Address([10, 0, 0, 5]), port, 80),
                    Some(i),
                    "step {step}"
                );
            }
            assert_eq!(pool.used(), live.len());
        }
    }

    #[test]
    fn rejects_bad_geometry() {
        let mut slots = [Tcb::EMPTY; 4];
        assert!(Pool::new(&mut slots, &mut [0u32; 4], Key::default()).is_none());
        assert!(Pool::new(&mut slots, &mut [0u32; 6], Key::default()).is_none());
    }
}

//! A hashed timing wheel over connection slots: O(1) arm and disarm, and per tick only the
//! slots due in that tick are touched, so millions of idle connections cost nothing.
//!
//! Slots link into bucket lists through their own `next`/`prev` words (slot index + 1;
//! `prev` of a bucket's first slot is `HEAD | bucket`), so the wheel needs no memory per
//! connection beyond the slot. A deadline beyond the wheel's span waits in the farthest
//! bucket and is moved on when that bucket comes round.

use super::conn::Tcb;

const HEAD: u32 = 1 << 31;

/// Timer buckets over caller memory.
#[derive(Debug)]
pub struct Wheel<'a> {
    heads: &'a mut [u32],
    tick_ms: u64,
    /// The tick being processed; every deadline up to its end is due.
    cursor: u64,
    /// Platform time (ms) at the last `advance`.
    now_ms: u64,
}

impl<'a> Wheel<'a> {
    /// A wheel with `heads.len()` buckets of `tick_ms` each, starting at `now_ms`.
    /// Returns `None` for an empty bucket array or zero tick.
    pub fn new(heads: &'a mut [u32], tick_ms: u32, now_ms: u64) -> Option<Wheel<'a>> {
        if heads.is_empty() || tick_ms == 0 || heads.len() >= HEAD as usize {
            return None;
        }
        heads.fill(0);
        let tick_ms = u64::from(tick_ms);
        Some(Wheel {
            heads,
            tick_ms,
            cursor: now_ms / tick_ms,
            now_ms,
        })
    }

    fn len(&self) -> u64 {
        self.heads.len() as u64
    }

    /// The bucket of `tick`: a mask for the usual power-of-two wheel, no division.
    #[inline]
    fn index(&self, tick: u64) -> u64 {
        let len = self.len();
        if len.is_power_of_two() {
            tick & (len - 1)
        } else {
            tick % len
        }
    }

    /// Bucket for a deadline: rounded up to a tick, so a timer never fires early.
    fn bucket_for(&self, deadline: u32) -> u32 {
        let delta = deadline.wrapping_sub(self.now_ms as u32) as i32;
        let at = self
            .now_ms
            .saturating_add(u64::from(delta.max(0).unsigned_abs()));
        let tick = at.div_ceil(self.tick_ms);
        let tick = tick.clamp(self.cursor, self.cursor + self.len() - 1);
        self.index(tick) as u32
    }

    /// Links slot `i` by its deadline (nothing if it has none). The slot must be unlinked.
    #[inline]
    pub fn insert(&mut self, slots: &mut [Tcb], i: usize) {
        let Some(deadline) = slots.get(i).and_then(|t| t.deadline()) else {
            return;
        };
        let b = self.bucket_for(deadline);
        let Some(head) = self.heads.get_mut(b as usize) else {
            return;
        };
        let old = *head;
        *head = i as u32 + 1;
        if let Some(t) = slots.get_mut(i) {
            t.next = old;
            t.prev = HEAD | b;
        }
        if let Some(o) = (old as usize).checked_sub(1).and_then(|o| slots.get_mut(o)) {
            o.prev = i as u32 + 1;
        }
    }

    /// Unlinks slot `i` if linked.
    #[inline]
    pub fn remove(&mut self, slots: &mut [Tcb], i: usize) {
        let Some(t) = slots.get_mut(i) else {
            return;
        };
        let (next, prev) = (t.next, t.prev);
        t.next = 0;
        t.prev = 0;
        if prev == 0 {
            return;
        }
        if prev & HEAD != 0 {
            if let Some(h) = self.heads.get_mut((prev & !HEAD) as usize) {
                *h = next;
            }
        } else if let Some(p) = (prev as usize)
            .checked_sub(1)
            .and_then(|p| slots.get_mut(p))
        {
            p.next = next;
        }
        if let Some(n) = (next as usize)
            .checked_sub(1)
            .and_then(|n| slots.get_mut(n))
        {
            n.prev = prev;
        }
    }

    /// Moves slot `i` to the bucket of its current deadline.
    #[inline]
    pub fn rearm(&mut self, slots: &mut [Tcb], i: usize) {
        self.remove(slots, i);
        self.insert(slots, i);
    }

    /// Moves the clock to `now_ms`.
    pub fn advance(&mut self, now_ms: u64) {
        if now_ms > self.now_ms {
            self.now_ms = now_ms;
        }
    }

    /// Unlinks and returns one slot whose deadline has passed, or `None` when no more are
    /// due. Call repeatedly after [`Wheel::advance`]; re-insert slots whose timer is re-armed.
    pub fn pop_expired(&mut self, slots: &mut [Tcb]) -> Option<usize> {
        let now_tick = self.now_ms / self.tick_ms;
        // After a long pause, one turn of the wheel visits every bucket.
        if now_tick.saturating_sub(self.cursor) >= self.len() {
            self.cursor = now_tick + 1 - self.len();
        }
        loop {
            let b = self.index(self.cursor) as usize;
            while let Some(i) = self.heads.get(b).and_then(|&h| (h as usize).checked_sub(1)) {
                self.remove(slots, i);
                let due = slots
                    .get(i)
                    .and_then(|t| t.deadline())
                    .is_some_and(|d| (self.now_ms as u32).wrapping_sub(d) as i32 >= 0);
                if due {
                    return Some(i);
                }
                // Parked in the farthest bucket, or re-armed later: it goes further on.
                let before = self.heads.get(b).copied();
                self.insert(slots, i);
                if self.heads.get(b).copied() != before
                    && self.heads.get(b) == Some(&(i as u32 + 1))
                {
                    // Still belongs here (the wheel has one bucket): leave it for the next tick.
                    break;
                }
            }
            if self.cursor >= now_tick {
                return None;
            }
            self.cursor += 1;
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    extern crate std;
    use super::super::super::wire::ipv4::Address;
    use super::super::super::wire::tcp::{Flags, Options, Repr, SeqNumber};
    use super::super::conn::State;
    use super::super::{Config, Flow};
    use super::*;
    use std::vec::Vec;

    /// An established connection whose idle timer fires at `now + idle_ms`.
    fn idle_slot(now: u32, idle_ms: u32) -> Tcb {
        let cfg = Config {
            idle_ms,
            ..Config::default()
        };
        let flow = Flow {
            remote_ip: Address([1, 2, 3, 4]),
            remote_port: 1,
            local_ip: Address([5, 6, 7, 8]),
            local_port: 80,
        };
        let ack = Repr {
            src_port: 1,
            dst_port: 80,
            seq: SeqNumber(1),
            ack: Some(SeqNumber(1)),
            flags: Flags(0),
            window: 100,
            options: Options::default(),
            payload: &[],
        };
        let t = Tcb::from_cookie(&flow, &ack, 1000, &cfg, now);
        assert_eq!(t.state(), State::Established);
        assert_eq!(t.deadline(), Some(now.wrapping_add(idle_ms)));
        t
    }

    fn drain(w: &mut Wheel<'_>, slots: &mut [Tcb], now: u64) -> Vec<usize> {
        w.advance(now);
        let mut out = Vec::new();
        while let Some(i) = w.pop_expired(slots) {
            out.push(i);
        }
        out.sort_unstable();
        out
    }

    #[test]
    fn fires_at_deadline_never_before() {
        let mut heads = [0u32; 16];
        let mut w = Wheel::new(&mut heads, 10, 0).unwrap();
        let mut slots = [idle_slot(0, 95), idle_slot(0, 30), idle_slot(0, 1000)];
        for i in 0..3 {
            w.insert(&mut slots, i);
        }
        assert!(drain(&mut w, &mut slots, 29).is_empty());
        assert_eq!(drain(&mut w, &mut slots, 30), [1]);
        assert!(drain(&mut w, &mut slots, 94).is_empty());
        assert_eq!(drain(&mut w, &mut slots, 100), [0]);
        // Beyond the 160 ms span: parked far, moved on, fired on time.
        assert!(drain(&mut w, &mut slots, 999).is_empty());
        assert_eq!(drain(&mut w, &mut slots, 1000), [2]);
        assert!(drain(&mut w, &mut slots, 5000).is_empty());
    }

    #[test]
    fn remove_and_rearm() {
        let mut heads = [0u32; 8];
        let mut w = Wheel::new(&mut heads, 10, 0).unwrap();
        let mut slots = [idle_slot(0, 20), idle_slot(0, 20), idle_slot(0, 20)];
        for i in 0..3 {
            w.insert(&mut slots, i);
        }
        w.remove(&mut slots, 1);
        w.remove(&mut slots, 1); // twice is harmless
                                 // A slot's timer changes only while it is unlinked: remove, change, insert.
        w.remove(&mut slots, 2);
        slots[2] = idle_slot(0, 50);
        w.insert(&mut slots, 2);
        assert_eq!(drain(&mut w, &mut slots, 20), [0]);
        assert_eq!(drain(&mut w, &mut slots, 60), [2]);
    }

    #[test]
    fn long_pause_fires_everything_due() {
        let mut heads = [0u32; 4];
        let mut w = Wheel::new(&mut heads, 10, 0).unwrap();
        let mut slots: Vec<Tcb> = (1..=20).map(|k| idle_slot(0, k * 7)).collect();
        for i in 0..slots.len() {
            w.insert(&mut slots, i);
        }
        assert_eq!(
            drain(&mut w, &mut slots, 100_000),
            (0..20).collect::<Vec<_>>()
        );
    }

    #[test]
    fn many_timers_random_order() {
        let mut heads = [0u32; 64];
        let mut w = Wheel::new(&mut heads, 5, 0).unwrap();
        let mut x = 7u32;
        let mut slots: Vec<Tcb> = (0..300)
            .map(|_| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                idle_slot(0, 1 + (x >> 8) % 2000)
            })
            .collect();
        for i in 0..slots.len() {
            w.insert(&mut slots, i);
        }
        let mut fired = 0;
        for now in (0..2100).step_by(3) {
            w.advance(now);
            while let Some(i) = w.pop_expired(&mut slots) {
                let d = slots[i].deadline().unwrap();
                assert!(u64::from(d) <= now, "fired early");
                assert!(now - u64::from(d) < 3 + 5, "fired late");
                fired += 1;
            }
        }
        assert_eq!(fired, 300);
    }

    #[test]
    fn rejects_bad_geometry() {
        assert!(Wheel::new(&mut [], 10, 0).is_none());
        assert!(Wheel::new(&mut [0; 4], 0, 0).is_none());
    }
}

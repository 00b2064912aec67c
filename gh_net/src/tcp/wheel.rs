//! A hashed timing wheel over connection slots: O(1) arm and disarm, and per tick only the
//! slots due in that tick are touched, so millions of idle connections cost nothing.
//!
//! Slots link into bucket lists through their own `next`/`prev` fields (slot index + 1;
//! `prev` of a bucket's first slot is `FIRST_HEAD + bucket`), so the wheel needs no memory
//! per connection beyond the slot. The links are 16 bits, which bounds a wheel to
//! [`MAX_SLOTS`] slots and [`MAX_BUCKETS`] buckets. A deadline beyond the wheel's span waits in the farthest
//! bucket and is moved on when that bucket comes round.

use super::conn::Tcb;
use core::num::NonZeroU64;

/// A slot's link to its neighbours in a bucket list.
pub type Link = u16;

/// The most buckets a wheel has.
pub const MAX_BUCKETS: usize = 4096;

/// `prev` of a bucket's first slot: this plus the bucket. The links above slot links.
const FIRST_HEAD: Link = (Link::MAX as usize + 1 - MAX_BUCKETS) as Link;

/// The most slots a wheel links: their index + 1 must stay below [`FIRST_HEAD`].
pub const MAX_SLOTS: usize = FIRST_HEAD as usize - 1;

/// Timer buckets over caller memory.
#[derive(Debug)]
pub struct Wheel<'a> {
    heads: &'a mut [Link],
    /// Non-zero, so dividing by it has no panic path.
    tick_ms: NonZeroU64,
    /// The tick being processed; every deadline up to its end is due.
    cursor: u64,
    /// Platform time (ms) at the last `advance`.
    now_ms: u64,
}

impl<'a> Wheel<'a> {
    /// A wheel with `heads.len()` buckets of `tick_ms` each, starting at `now_ms`.
    /// Returns `None` for fewer than two buckets (with one, a slot not yet due would be
    /// filed again where it was, ahead of slots that are due), more than
    /// [`MAX_BUCKETS`], or zero tick.
    pub fn new(heads: &'a mut [Link], tick_ms: u32, now_ms: u64) -> Option<Wheel<'a>> {
        if heads.len() < 2 || tick_ms == 0 || heads.len() > MAX_BUCKETS {
            return None;
        }
        let tick_ms = NonZeroU64::new(u64::from(tick_ms))?;
        heads.fill(0);
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
            tick.checked_rem(len).unwrap_or(0)
        }
    }

    /// The tick whose bucket holds a deadline: rounded up, so a timer never fires early,
    /// and no further than the wheel's span.
    #[inline]
    fn tick_for(&self, deadline: u32) -> u64 {
        let at = self.at_ms(deadline);
        let tick = at / self.tick_ms + u64::from(at % self.tick_ms != 0);
        tick.min(self.cursor + self.len() - 1).max(self.cursor)
    }

    /// A deadline on the platform clock, or now if it has passed.
    #[inline]
    fn at_ms(&self, deadline: u32) -> u64 {
        let delta = deadline.wrapping_sub(self.now_ms as u32) as i32;
        self.now_ms
            .saturating_add(u64::from(delta.max(0).unsigned_abs()))
    }

    /// Links slot `i` by its deadline (nothing if it has none). The slot must be unlinked.
    #[inline(always)]
    pub fn insert(&mut self, slots: &mut [Tcb], i: usize) {
        let Some(deadline) = slots.get(i).and_then(|t| t.deadline()) else {
            return;
        };
        if i >= MAX_SLOTS {
            return;
        }
        let tick = self.tick_for(deadline);
        // Both fit: `new` checked the bucket count, and `i` was just checked.
        let b = self.index(tick) as Link;
        let link = i as Link + 1;
        let Some(head) = self.heads.get_mut(usize::from(b)) else {
            return;
        };
        let old = *head;
        *head = link;
        if let Some(t) = slots.get_mut(i) {
            t.next = old;
            t.prev = FIRST_HEAD + b;
            t.filed = tick as u16;
        }
        if let Some(o) = usize::from(old)
            .checked_sub(1)
            .and_then(|o| slots.get_mut(o))
        {
            o.prev = link;
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
        if prev >= FIRST_HEAD {
            if let Some(h) = self.heads.get_mut(usize::from(prev - FIRST_HEAD)) {
                *h = next;
            }
        } else if let Some(p) = usize::from(prev)
            .checked_sub(1)
            .and_then(|p| slots.get_mut(p))
        {
            p.next = next;
        }
        if let Some(n) = usize::from(next)
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

    /// Files slot `i` after its timer changed, lazily: a slot linked in a bucket that
    /// comes round at or before its deadline's stays there, and `pop_expired`, finding it
    /// not yet due, files it again then. Most changes push a deadline later (the idle timer
    /// after each segment), so most calls touch no list. A stopped timer leaves the slot
    /// linked until its bucket comes round. A deadline that will not move again
    /// (TIME-WAIT's) is filed at once: left early, its slot would be visited there only to
    /// be filed again.
    #[inline(always)]
    pub fn refile(&mut self, slots: &mut [Tcb], i: usize) {
        let Some(t) = slots.get(i) else {
            return;
        };
        // The 16-bit tick is exact while it lies within one span ahead of the cursor, and
        // the bucket at `filed` is then next visited at tick `filed`.
        let ahead = t.filed.wrapping_sub(self.cursor as u16);
        if t.prev != 0 && !t.deadline_is_final() && self.len() <= 1 << 15 && ahead as i16 >= 0 {
            // Tick `f` holds the deadlines in ((f - 1) * tick, f * tick]: the slot may stay
            // if its deadline is past the start of its bucket's tick.
            let end_ms = (self.cursor + u64::from(ahead)).saturating_mul(self.tick_ms.get());
            let keep = match t.deadline() {
                None => true,
                Some(d) => self.at_ms(d).saturating_add(self.tick_ms.get()) > end_ms,
            };
            if keep {
                return;
            }
        }
        self.remove(slots, i);
        self.insert(slots, i);
    }

    /// The first slot for which `pred` holds, in the order the wheel fires them (bucket by
    /// bucket from the current tick), after looking at no more than `budget` buckets and
    /// slots together: a search that costs the same bounded work however full the wheel.
    pub fn first_due(
        &self,
        slots: &[Tcb],
        budget: usize,
        pred: impl Fn(&Tcb) -> bool,
    ) -> Option<usize> {
        let mut left = budget;
        for k in 0..self.len() {
            let b = self.index(self.cursor.wrapping_add(k)) as usize;
            let mut next = self.heads.get(b).copied()?;
            left = left.checked_sub(1)?;
            while let Some(i) = (next as usize).checked_sub(1) {
                let t = slots.get(i)?;
                left = left.checked_sub(1)?;
                if pred(t) {
                    return Some(i);
                }
                next = t.next;
            }
        }
        None
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
        let into_tick = self.now_ms % self.tick_ms;
        // After a long pause, one turn of the wheel visits every bucket.
        if now_tick.saturating_sub(self.cursor) >= self.len() {
            self.cursor = now_tick + 1 - self.len();
        }
        loop {
            let b = self.index(self.cursor) as usize;
            while let Some(i) = self.heads.get(b).and_then(|&h| (h as usize).checked_sub(1)) {
                self.remove(slots, i);
                // Due at the start of the current tick: a deadline fires in the tick it
                // rounds up to, also when `refile` left its slot in an earlier bucket.
                let due = slots.get(i).and_then(|t| t.deadline()).is_some_and(|d| {
                    let lag = (self.now_ms as u32).wrapping_sub(d) as i32;
                    lag >= 0 && u64::from(lag.unsigned_abs()) >= into_tick
                });
                if due {
                    return Some(i);
                }
                // Parked in the farthest bucket, or re-armed later: it goes further on.
                let before = self.heads.get(b).copied();
                self.insert(slots, i);
                if self.heads.get(b).copied() != before
                    && self.heads.get(b) == Some(&(i as Link + 1))
                {
                    // Still belongs here: leave it for the next tick. Never so with two
                    // buckets or more, which `new` requires; kept so that no pass can
                    // take the same slot again and again.
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
        let mut heads = [0; 16];
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

    /// The 16-bit links reach the last slot and the last bucket; one more of either is
    /// refused rather than linked wrong.
    #[test]
    fn links_reach_the_last_slot_and_bucket() {
        let mut heads = std::vec![0; MAX_BUCKETS];
        assert!(Wheel::new(&mut std::vec![0; MAX_BUCKETS + 1], 10, 0).is_none());
        assert!(Wheel::new(&mut [0; 1], 10, 0).is_none(), "one bucket");
        assert!(Wheel::new(&mut [], 10, 0).is_none());
        let mut w = Wheel::new(&mut heads, 1, 0).unwrap();
        let mut slots = std::vec![Tcb::EMPTY; MAX_SLOTS + 1];
        let last = MAX_SLOTS - 1;
        // Deadlines 4,095 and 4,094 ms ahead: the last bucket and the one before it.
        slots[last] = idle_slot(0, MAX_BUCKETS as u32 - 1);
        slots[last - 1] = idle_slot(0, MAX_BUCKETS as u32 - 1);
        slots[0] = idle_slot(0, MAX_BUCKETS as u32 - 2);
        slots[MAX_SLOTS] = idle_slot(0, 5);
        for i in [last, last - 1, 0, MAX_SLOTS] {
            w.insert(&mut slots, i);
        }
        assert_eq!(slots[MAX_SLOTS].prev, 0, "beyond the links: not linked");
        assert!(drain(&mut w, &mut slots, MAX_BUCKETS as u64 - 3).is_empty());
        assert_eq!(drain(&mut w, &mut slots, MAX_BUCKETS as u64 - 2), [0]);
        w.remove(&mut slots, last - 1);
        assert_eq!(drain(&mut w, &mut slots, MAX_BUCKETS as u64 - 1), [last]);
        assert!(w.heads.iter().all(|&h| h == 0));
    }

    #[test]
    fn remove_and_rearm() {
        let mut heads = [0; 8];
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
        let mut heads = [0; 4];
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
        let mut heads = [0; 64];
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

    /// Deadlines moved at random, earlier and later, and timers stopped: a wheel filing
    /// lazily fires exactly the slots, at exactly the ticks, an eager one does, and never
    /// more than a tick after a deadline.
    #[test]
    fn lazy_refiling_fires_as_eager_rearming() {
        const N: usize = 48;
        let (mut eager_heads, mut lazy_heads) = ([0; 32], [0; 32]);
        let mut eager = Wheel::new(&mut eager_heads, 10, 0).unwrap();
        let mut lazy = Wheel::new(&mut lazy_heads, 10, 0).unwrap();
        let mut a: Vec<Tcb> = (0..N).map(|_| idle_slot(0, 5000)).collect();
        for t in a.iter_mut() {
            t.stop_timer_for_test();
        }
        let mut b = a.clone();
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut next = move |n: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 16) % n
        };
        let mut now = 0u64;
        let mut fired = 0;
        while now < 60_000 {
            for _ in 0..next(4) {
                let i = next(N as u64) as usize;
                if next(5) == 0 {
                    a[i].stop_timer_for_test();
                    b[i].stop_timer_for_test();
                } else {
                    // Mostly near (retransmission), sometimes beyond the 320 ms span.
                    let far = next(3) == 0;
                    let d = (now + 1 + next(if far { 3000 } else { 250 })) as u32;
                    a[i].set_linger_for_test(d);
                    b[i].set_linger_for_test(d);
                }
                eager.rearm(&mut a, i);
                lazy.refile(&mut b, i);
            }
            now += 1 + next(25);
            eager.advance(now);
            lazy.advance(now);
            let (mut ea, mut la) = (Vec::new(), Vec::new());
            while let Some(i) = eager.pop_expired(&mut a) {
                ea.push((i, a[i].deadline()));
                a[i].stop_timer_for_test();
                eager.rearm(&mut a, i);
            }
            while let Some(i) = lazy.pop_expired(&mut b) {
                la.push((i, b[i].deadline()));
                b[i].stop_timer_for_test();
                lazy.refile(&mut b, i);
            }
            ea.sort_unstable();
            la.sort_unstable();
            assert_eq!(ea, la, "at {now} ms");
            fired += la.len();
            for t in &b {
                if let Some(d) = t.deadline() {
                    assert!(u64::from(d) + 10 > now, "late: {d} at {now}");
                }
            }
        }
        assert!(fired > 1000, "{fired} fired");
    }

    #[test]
    fn time_wait_is_filed_at_once() {
        let mut heads = [0; 16];
        let mut w = Wheel::new(&mut heads, 10, 0).unwrap();
        let mut slots = [idle_slot(0, 30), idle_slot(0, 30)];
        w.insert(&mut slots, 0);
        w.insert(&mut slots, 1);
        // A later idle deadline leaves its slot in the early bucket; TIME-WAIT's does not.
        slots[0].set_linger_for_test(100);
        w.refile(&mut slots, 0);
        slots[1].time_wait_for_test(100);
        w.refile(&mut slots, 1);
        assert_eq!(w.heads[3], 1);
        assert_eq!(w.heads[10], 2);
        assert!(drain(&mut w, &mut slots, 99).is_empty());
        assert_eq!(drain(&mut w, &mut slots, 100), [0, 1]);
    }

    #[test]
    fn rejects_bad_geometry() {
        assert!(Wheel::new(&mut [], 10, 0).is_none());
        assert!(Wheel::new(&mut [0; 4], 0, 0).is_none());
    }

    #[test]
    fn first_due_finds_the_first_match_in_firing_order_within_its_budget() {
        let mut slots: Vec<Tcb> = (0..8).map(|_| Tcb::EMPTY).collect();
        let mut heads = [0; 16];
        let mut w = Wheel::new(&mut heads, 10, 0).unwrap();
        // Slots 0..8 due at 70, 60, ..., 0 ms; the odd ones are in TIME-WAIT.
        for i in 0..8 {
            let due = 70 - 10 * i as u32;
            if i % 2 == 1 {
                slots[i].time_wait_for_test(due);
            } else {
                slots[i] = idle_slot(0, due);
            }
            w.insert(&mut slots, i);
        }
        let time_wait = |t: &Tcb| t.state() == State::TimeWait;
        // Slot 7 (due at 0) is the first TIME-WAIT to fire.
        assert_eq!(w.first_due(&slots, 100, time_wait), Some(7));
        assert_eq!(
            w.first_due(&slots, 100, |t| t.state() != State::TimeWait),
            Some(6)
        );
        // Buckets and slots both count against the budget.
        assert_eq!(w.first_due(&slots, 1, time_wait), None);
        assert_eq!(w.first_due(&slots, 2, time_wait), Some(7));
        assert_eq!(w.first_due(&slots, 100, |_| false), None);
        let mut empty = [0; 4];
        let e = Wheel::new(&mut empty, 10, 0).unwrap();
        assert_eq!(e.first_due(&slots, 100, time_wait), None);
    }
}

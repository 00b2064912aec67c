//! Lazy-resource QoS: a request that meets a missing resource (TX ring full, pool empty,
//! peer window closed) waits on that resource's list and resumes when it frees up.
//! Every list is bounded by the memory it was given; past the bound the caller answers
//! with an explicit 503 or RST and counts it.

/// A bounded FIFO of connection slots over caller memory.
#[derive(Debug)]
pub struct WaitList<'a> {
    ring: &'a mut [u32],
    head: usize,
    len: usize,
}

/// The list is at its bound: the caller must refuse the request explicitly.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Full;

impl<'a> WaitList<'a> {
    /// A list holding at most `ring.len()` waiters.
    pub fn new(ring: &'a mut [u32]) -> WaitList<'a> {
        WaitList {
            ring,
            head: 0,
            len: 0,
        }
    }

    /// Waiters now.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True if nobody waits.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Most waiters the list accepts.
    pub fn bound(&self) -> usize {
        self.ring.len()
    }

    /// Parks `slot` at the tail.
    pub fn park(&mut self, slot: u32) -> Result<(), Full> {
        if self.len >= self.ring.len() {
            return Err(Full);
        }
        let at = (self.head + self.len) % self.ring.len();
        let e = self.ring.get_mut(at).ok_or(Full)?;
        *e = slot;
        self.len += 1;
        Ok(())
    }

    /// The longest waiter, left in its place.
    pub fn first(&self) -> Option<u32> {
        if self.len == 0 {
            return None;
        }
        self.ring.get(self.head).copied()
    }

    /// Takes `slot` off the list wherever it waits (a connection that ended while
    /// waiting), keeping the others in order. Linear, but only for such an ending.
    pub fn remove(&mut self, slot: u32) {
        let n = self.ring.len();
        if n == 0 {
            return;
        }
        let mut kept = 0;
        for k in 0..self.len {
            let from = (self.head + k) % n;
            let Some(s) = self.ring.get(from).copied() else {
                continue;
            };
            if s != slot {
                if let Some(e) = self.ring.get_mut((self.head + kept) % n) {
                    *e = s;
                }
                kept += 1;
            }
        }
        self.len = kept;
    }

    /// Takes `slot` off the list: at once from its head, where a resumed waiter is.
    pub fn leave(&mut self, slot: u32) {
        if self.first() == Some(slot) {
            self.resume();
        } else {
            self.remove(slot);
        }
    }

    /// The waiters, longest first.
    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        (0..self.len).filter_map(|k| {
            let at = (self.head + k).checked_rem(self.ring.len())?;
            self.ring.get(at).copied()
        })
    }

    /// Resumes the longest waiter.
    pub fn resume(&mut self) -> Option<u32> {
        if self.len == 0 {
            return None;
        }
        let slot = self.ring.get(self.head).copied()?;
        self.head = (self.head + 1) % self.ring.len();
        self.len -= 1;
        Some(slot)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn fifo_with_bound() {
        let mut mem = [0u32; 3];
        let mut w = WaitList::new(&mut mem);
        assert_eq!(w.resume(), None);
        for s in [7, 8, 9] {
            w.park(s).unwrap();
        }
        assert_eq!(w.park(10), Err(Full));
        assert_eq!((w.len(), w.bound()), (3, 3));
        assert_eq!(w.resume(), Some(7));
        w.park(10).unwrap();
        assert_eq!(
            [w.resume(), w.resume(), w.resume(), w.resume()],
            [Some(8), Some(9), Some(10), None]
        );
        assert!(w.is_empty());
    }

    #[test]
    fn removal_keeps_the_others_in_order() {
        let mut mem = [0u32; 4];
        let mut w = WaitList::new(&mut mem);
        w.park(1).unwrap();
        assert_eq!(w.resume(), Some(1));
        // Wrapped around the ring: 5 6 5 7.
        for s in [5, 6, 5, 7] {
            w.park(s).unwrap();
        }
        w.remove(5);
        assert_eq!((w.len(), w.first()), (2, Some(6)));
        w.park(8).unwrap();
        w.remove(9);
        assert!(w.iter().eq([6, 7, 8]));
        assert_eq!(
            [w.resume(), w.resume(), w.resume(), w.resume()],
            [Some(6), Some(7), Some(8), None]
        );
        assert_eq!(w.first(), None);
    }

    #[test]
    fn leaving_from_the_head_or_inside_keeps_the_others_in_order() {
        let mut mem = [0u32; 4];
        let mut w = WaitList::new(&mut mem);
        w.park(1).unwrap();
        assert_eq!(w.resume(), Some(1));
        // Wrapped around the ring: 5 6 7 8.
        for s in [5, 6, 7, 8] {
            w.park(s).unwrap();
        }
        w.leave(5);
        assert!(w.iter().eq([6, 7, 8]));
        w.leave(7);
        assert!(w.iter().eq([6, 8]));
        w.leave(9);
        w.park(9).unwrap();
        assert!(w.iter().eq([6, 8, 9]));
        w.leave(9);
        w.leave(6);
        w.leave(8);
        assert!(w.is_empty());
    }

    #[test]
    fn zero_bound_refuses_everything() {
        let mut w = WaitList::new(&mut []);
        assert_eq!(w.park(1), Err(Full));
        assert_eq!(w.iter().count(), 0);
        assert_eq!(w.resume(), None);
    }
}

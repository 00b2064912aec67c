//! Responses decided for pipelined requests, waiting behind the one a connection is
//! sending. TCP carries one response per connection at a time, and nothing of a request
//! is buffered; what a pipelined request needs until its turn is only its decided
//! response handle. Those wait here, in a pool shared by the core's connections, so a
//! connection that does not pipeline costs nothing more. When the pool is empty the
//! request is left unacknowledged and the peer sends it again.

/// Responses one connection may have waiting here. Past them its next request is left
/// unacknowledged until a response ahead is sent, so that one peer pipelining without
/// reading cannot take the pool every connection shares (nor make each push walk a long
/// list).
pub const PER_CONNECTION: usize = 16;

/// One waiting response.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Queued {
    handle: u32,
    /// Next entry of the same connection (index + 1), or of the free list.
    next: u16,
    /// The site's flags for the response (its request is complete, a 100 Continue is
    /// owed), taken back with it when it comes first.
    flags: u8,
}

/// The pool, over caller memory (at most 65,535 entries are used).
#[derive(Debug)]
pub struct Pipeline<'a> {
    entries: &'a mut [Queued],
    /// Head of the free list (index + 1, 0 when empty).
    free: u16,
}

impl<'a> Pipeline<'a> {
    /// A pool of every entry of `entries`, all free.
    pub fn new(entries: &'a mut [Queued]) -> Self {
        let n = entries.len().min(usize::from(u16::MAX));
        for (i, e) in entries.iter_mut().enumerate() {
            let next = if i + 1 < n { (i + 2) as u16 } else { 0 };
            *e = Queued {
                handle: 0,
                next,
                flags: 0,
            };
        }
        Pipeline {
            entries,
            free: if n > 0 { 1 } else { 0 },
        }
    }

    /// True if no entry is free.
    pub fn is_empty(&self) -> bool {
        self.free == 0
    }

    fn get(&self, link: u16) -> Option<&Queued> {
        self.entries.get(usize::from(link).checked_sub(1)?)
    }

    fn get_mut(&mut self, link: u16) -> Option<&mut Queued> {
        self.entries.get_mut(usize::from(link).checked_sub(1)?)
    }

    /// Appends `handle` (with no flags) to the list starting at `*head`; false when the
    /// pool is empty or the list holds [`PER_CONNECTION`] entries.
    pub fn push(&mut self, head: &mut u16, handle: u32) -> bool {
        let (tail, _, len) = self.tail(*head);
        if len >= PER_CONNECTION {
            return false;
        }
        let link = self.free;
        let Some(e) = self.get_mut(link) else {
            return false;
        };
        let after = e.next;
        *e = Queued {
            handle,
            next: 0,
            flags: 0,
        };
        self.free = after;
        match tail {
            Some(t) => {
                if let Some(t) = self.get_mut(t) {
                    t.next = link;
                }
            }
            None => *head = link,
        }
        true
    }

    /// The list at `head`: its last entry, the one before it, and its length.
    fn tail(&self, head: u16) -> (Option<u16>, Option<u16>, usize) {
        let (mut at, mut before, mut last, mut len) = (head, None, None, 0);
        // A list is never longer than its bound; the bound keeps a damaged link harmless.
        while let Some(e) = self.get(at).filter(|_| len < PER_CONNECTION) {
            (before, last) = (last, Some(at));
            len += 1;
            at = e.next;
        }
        (last, before, len)
    }

    /// The handle and flags of the last entry of the list at `head`, to change them.
    pub fn last_mut(&mut self, head: u16) -> Option<(&mut u32, &mut u8)> {
        let (Some(t), _, _) = self.tail(head) else {
            return None;
        };
        self.get_mut(t).map(|e| (&mut e.handle, &mut e.flags))
    }

    /// Takes the first entry off the list at `*head`: its handle and flags.
    pub fn pop(&mut self, head: &mut u16) -> Option<(u32, u8)> {
        let link = *head;
        let free = self.free;
        let e = self.get_mut(link)?;
        let got = (e.handle, e.flags);
        *head = e.next;
        e.next = free;
        self.free = link;
        Some(got)
    }

    /// Takes the last entry off the list at `*head` back to the pool.
    pub fn drop_last(&mut self, head: &mut u16) {
        let (Some(last), before, _) = self.tail(*head) else {
            return;
        };
        let free = self.free;
        let Some(e) = self.get_mut(last) else {
            return;
        };
        e.next = free;
        self.free = last;
        match before.and_then(|b| self.get_mut(b)) {
            Some(b) => b.next = 0,
            None => *head = 0,
        }
    }

    /// Returns the whole list at `*head` to the pool.
    pub fn release(&mut self, head: &mut u16) {
        for _ in 0..self.entries.len() {
            if self.pop(head).is_none() {
                return;
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn lists_share_the_pool_in_order() {
        let mut mem = [Queued::default(); 3];
        let mut p = Pipeline::new(&mut mem);
        let (mut a, mut b) = (0u16, 0u16);
        assert!(p.push(&mut a, 1) && p.push(&mut b, 10) && p.push(&mut a, 2));
        assert!(p.is_empty() && !p.push(&mut a, 3), "bounded by the pool");
        *p.last_mut(a).unwrap().1 = 2;
        assert_eq!(p.pop(&mut a), Some((1, 0)));
        assert_eq!(p.pop(&mut a), Some((2, 2)));
        assert_eq!((p.pop(&mut a), a), (None, 0));
        p.release(&mut b);
        assert_eq!(b, 0);
        for h in 0..3 {
            assert!(p.push(&mut a, h));
        }
        assert!(p.is_empty());
    }

    #[test]
    fn one_connection_takes_no_more_than_its_share() {
        let mut mem = [Queued::default(); 2 * PER_CONNECTION];
        let mut p = Pipeline::new(&mut mem);
        let (mut a, mut b) = (0u16, 0u16);
        for h in 0..PER_CONNECTION as u32 {
            assert!(p.push(&mut a, h));
        }
        assert!(
            !p.is_empty() && !p.push(&mut a, 99),
            "bounded per connection"
        );
        assert!(p.push(&mut b, 1000), "the others still have room");
        assert_eq!(p.pop(&mut a), Some((0, 0)));
        assert!(p.push(&mut a, 99), "room again once one leaves");
        assert_eq!(*p.last_mut(a).unwrap().0, 99);
        p.release(&mut a);
        assert_eq!(a, 0);
        for h in 0..PER_CONNECTION as u32 - 1 {
            assert!(p.push(&mut b, h));
        }
        for h in 0..PER_CONNECTION as u32 {
            assert!(p.push(&mut a, h));
        }
        let mut c = 0;
        assert!(p.is_empty() && !p.push(&mut c, 1), "bounded by the pool");
    }

    #[test]
    fn the_last_entry_leaves_alone() {
        let mut mem = [Queued::default(); 3];
        let mut p = Pipeline::new(&mut mem);
        let (mut a, mut b) = (0u16, 0u16);
        assert!(p.push(&mut a, 1) && p.push(&mut b, 10) && p.push(&mut a, 2));
        p.drop_last(&mut a);
        assert_eq!(*p.last_mut(a).unwrap().0, 1);
        p.drop_last(&mut a);
        assert_eq!(a, 0);
        p.drop_last(&mut a);
        assert!(p.push(&mut a, 3) && p.push(&mut a, 4) && p.is_empty());
        assert_eq!(p.pop(&mut b), Some((10, 0)));
        assert_eq!(
            (p.pop(&mut a), p.pop(&mut a), p.pop(&mut a)),
            (Some((3, 0)), Some((4, 0)), None)
        );
    }

    #[test]
    fn an_empty_pool_refuses() {
        let mut p = Pipeline::new(&mut []);
        let mut a = 0;
        assert!(p.is_empty() && !p.push(&mut a, 1));
    }
}

//! Whole responses as sent, kept assembled with their checksum sums.
//!
//! A prepared response goes out as five pieces (head template, date, rest of the head,
//! `Connection` ending, body), and every segment of it would copy them one by one and
//! sum its bytes again. Every response started within a second carries the same date, so
//! the site assembles a response once in that second, takes its
//! [`checksum::partial`] sum, and a segment that carries it whole is one copy and no
//! sum. A few entries, chosen by the response's handle, keep the site's common
//! responses (a page's 200 and 304 in each connection behaviour) from evicting one
//! another.
//!
//! The entries are a cache of bytes the pieces define: a response that does not fit an
//! entry, a task's answer, or one whose entry was taken by another is filled from its
//! pieces as before, with the same bytes.

use super::super::checksum;
use super::replies::Handle;

/// Entries kept.
pub const ENTRIES: usize = 4;
/// Largest response an entry keeps: one full-sized segment's data (1500-byte MTU).
pub const ENTRY_LEN: usize = 1460;
/// Bytes the entries take.
pub const BYTES: usize = ENTRIES * ENTRY_LEN;

/// What an entry holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Entry {
    /// The response's handle (0 with `len` 0: nothing).
    handle: u32,
    /// The Unix second of its date (the handle keeps only its low 16 bits).
    date: u64,
    /// Its length (at most [`ENTRY_LEN`]).
    len: u16,
    /// Its [`checksum::partial`] sum.
    sum: u16,
}

/// The assembled responses of a site.
pub struct Assembled<'a> {
    bytes: &'a mut [u8],
    entries: [Entry; ENTRIES],
}

impl<'a> Assembled<'a> {
    /// Entries in `bytes` ([`BYTES`] long); `None` if it is shorter.
    pub fn new(bytes: &'a mut [u8]) -> Option<Assembled<'a>> {
        let bytes = bytes.get_mut(..BYTES)?;
        Some(Assembled {
            bytes,
            entries: [Entry::default(); ENTRIES],
        })
    }

    /// The entry response `h` may be kept in.
    #[inline]
    fn index(h: Handle) -> usize {
        // A page's 200 and 304 are neighbours in the table; a connection behaviour moves
        // the same response to another entry.
        (h.index() + (h.0 >> 28) as usize) % ENTRIES
    }

    /// Makes sure response `h`, dated `date` and `len` bytes long, is kept, writing it
    /// with `write` if it is not; does nothing for a response longer than an entry.
    #[inline]
    pub fn keep(&mut self, h: Handle, date: u64, len: u32, write: impl FnOnce(&mut [u8])) {
        let i = Self::index(h);
        let Some(e) = self.entries.get_mut(i) else {
            return;
        };
        if e.handle == h.0 && e.date == date && e.len != 0 {
            return;
        }
        let Ok(n) = u16::try_from(len) else {
            return;
        };
        let Some(out) = self
            .bytes
            .get_mut(i * ENTRY_LEN..)
            .and_then(|b| b.get_mut(..usize::from(n)))
            .filter(|_| usize::from(n) <= ENTRY_LEN && n != 0)
        else {
            return;
        };
        write(out);
        *e = Entry {
            handle: h.0,
            date,
            len: n,
            sum: checksum::partial(out),
        };
    }

    /// Response `h` dated `date` and its sum, if it is kept.
    #[inline]
    pub fn get(&self, h: Handle, date: u64) -> Option<(&[u8], u16)> {
        let i = Self::index(h);
        let e = self.entries.get(i)?;
        if e.handle != h.0 || e.date != date || e.len == 0 {
            return None;
        }
        let bytes = self.bytes.get(i * ENTRY_LEN..)?.get(..usize::from(e.len))?;
        Some((bytes, e.sum))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    extern crate std;
    use super::super::replies::Conn;
    use super::*;
    use std::vec;

    fn response(h: Handle, date: u64, len: usize) -> std::vec::Vec<u8> {
        (0..len)
            .map(|i| (i as u64 ^ u64::from(h.0) ^ date) as u8)
            .collect()
    }

    #[test]
    fn keeps_what_it_was_given_with_its_sum() {
        let mut mem = vec![0u8; BYTES];
        let mut a = Assembled::new(&mut mem).unwrap();
        let h = Handle::reply(12, Conn::Close, false).dated(1000);
        assert_eq!(a.get(h, 1000), None);
        let want = response(h, 1000, 267);
        a.keep(h, 1000, 267, |out| out.copy_from_slice(&want));
        let (bytes, sum) = a.get(h, 1000).unwrap();
        assert_eq!(bytes, &want[..]);
        assert_eq!(sum, checksum::partial(&want));
        // The same handle a multiple of 65,536 seconds away is another response.
        assert_eq!(a.get(h, 1000 + 65_536), None);
        // Kept: not written again.
        a.keep(h, 1000, 267, |_| panic!("written again"));
    }

    #[test]
    fn a_response_too_long_or_empty_is_not_kept() {
        let mut mem = vec![0u8; BYTES];
        let mut a = Assembled::new(&mut mem).unwrap();
        let h = Handle::reply(14, Conn::Keep, false);
        a.keep(h, 5, ENTRY_LEN as u32 + 1, |_| panic!("written"));
        a.keep(h, 5, u32::MAX, |_| panic!("written"));
        a.keep(h, 5, 0, |_| panic!("written"));
        assert_eq!(a.get(h, 5), None);
        let full = response(h, 5, ENTRY_LEN);
        a.keep(h, 5, ENTRY_LEN as u32, |out| out.copy_from_slice(&full));
        assert_eq!(a.get(h, 5).unwrap().0, &full[..]);
    }

    #[test]
    fn entries_replace_one_another_and_never_mix() {
        let mut mem = vec![0u8; BYTES];
        let mut a = Assembled::new(&mut mem).unwrap();
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut kept: std::vec::Vec<(Handle, u64)> = vec![];
        for _ in 0..2000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let conn = [Conn::Keep, Conn::KeepAnnounced, Conn::Close][(x % 3) as usize];
            let h = Handle::reply((x >> 8) as usize % 20, conn, x & 1 << 20 != 0);
            let date = (x >> 32) % 3;
            // A response's length is its own, as a handle's always is.
            let len = 1 + (u64::from(h.0) ^ (date * 7919)) as usize % ENTRY_LEN;
            if let Some((bytes, sum)) = a.get(h, date) {
                assert_eq!(bytes, &response(h, date, bytes.len())[..]);
                assert_eq!(sum, checksum::partial(bytes));
            }
            a.keep(h, date, len as u32, |out| {
                out.copy_from_slice(&response(h, date, out.len()))
            });
            kept.push((h, date));
            let (bytes, _) = a.get(h, date).unwrap();
            assert_eq!(bytes, &response(h, date, len)[..]);
        }
        // Whatever is still found is what was last kept for it.
        for (h, date) in kept {
            if let Some((bytes, sum)) = a.get(h, date) {
                assert_eq!(bytes, &response(h, date, bytes.len())[..]);
                assert_eq!(sum, checksum::partial(bytes));
            }
        }
    }

    #[test]
    fn refuses_too_little_memory() {
        let mut mem = vec![0u8; BYTES - 1];
        assert!(Assembled::new(&mut mem).is_none());
    }
}

//! A record one core writes and Linux reads without a lock: a sequence counter around a
//! few 64-bit words, so a reader sees all the words of one write or retries.
//!
//! The words are atomics written and read with relaxed ordering; the fences order them
//! against the counter (a seqlock in the C11 model). A writer stopped in the middle of a
//! write (a core reset by the watchdog) leaves the counter odd: readers give up after a
//! bounded number of tries instead of spinning, and the next write starts over.

use core::sync::atomic::{fence, AtomicU32, AtomicU64, Ordering};

/// How many times a reader tries before reporting the record as being written.
pub const READ_TRIES: usize = 100;

/// `N` words published together.
pub struct SeqRecord<const N: usize> {
    sequence: AtomicU32,
    words: [AtomicU64; N],
}

impl<const N: usize> Default for SeqRecord<N> {
    fn default() -> Self {
        Self {
            sequence: AtomicU32::new(0),
            words: core::array::from_fn(|_| AtomicU64::new(0)),
        }
    }
}

impl<const N: usize> SeqRecord<N> {
    /// Publishes `values`. Only one writer may call this at a time (the owning core).
    pub fn write(&self, values: &[u64; N]) {
        // Odd while writing; an odd counter left by an interrupted write is reused.
        let writing = self.sequence.load(Ordering::Relaxed) | 1;
        self.sequence.store(writing, Ordering::Relaxed);
        fence(Ordering::Release);
        for (word, value) in self.words.iter().zip(values) {
            word.store(*value, Ordering::Relaxed);
        }
        self.sequence
            .store(writing.wrapping_add(1), Ordering::Release);
    }

    /// The words of one complete write, or `None` while a write is under way after
    /// [`READ_TRIES`] tries.
    pub fn read(&self) -> Option<[u64; N]> {
        for _ in 0..READ_TRIES {
            let before = self.sequence.load(Ordering::Acquire);
            let values: [u64; N] = core::array::from_fn(|i| {
                self.words.get(i).map_or(0, |w| w.load(Ordering::Relaxed))
            });
            fence(Ordering::Acquire);
            if before & 1 == 0 && self.sequence.load(Ordering::Relaxed) == before {
                return Some(values);
            }
            core::hint::spin_loop();
        }
        None
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    extern crate std;
    use super::*;
    use std::sync::atomic::AtomicBool;

    #[test]
    fn reads_what_was_written() {
        let r = SeqRecord::<3>::default();
        assert_eq!(r.read(), Some([0, 0, 0]));
        r.write(&[1, 2, 3]);
        assert_eq!(r.read(), Some([1, 2, 3]));
        r.write(&[4, 5, 6]);
        assert_eq!(r.read(), Some([4, 5, 6]));
    }

    #[test]
    fn an_interrupted_write_is_never_read_and_the_next_one_is() {
        let r = SeqRecord::<2>::default();
        r.write(&[1, 1]);
        // A writer reset after marking the record and storing one word.
        r.sequence.store(3, Ordering::Relaxed);
        r.words[0].store(9, Ordering::Relaxed);
        assert_eq!(r.read(), None);
        r.write(&[2, 2]);
        assert_eq!(r.read(), Some([2, 2]));
    }

    /// A writer storing equal words races readers: no reader ever sees two different
    /// words in one record. The writer goes on until every reader has read many records,
    /// however the threads are scheduled.
    #[test]
    fn concurrent_readers_see_whole_writes() {
        const READERS: u32 = 2;
        const READS: u32 = 1000;
        const MAX_WRITES: u64 = 1 << 32;
        let r = SeqRecord::<4>::default();
        let (done, readers_done) = (AtomicBool::new(false), AtomicU32::new(0));
        let last = std::thread::scope(|s| {
            let writer = s.spawn(|| {
                let mut n = 0;
                while n < 200_000 || readers_done.load(Ordering::Acquire) < READERS {
                    n += 1;
                    assert!(n < MAX_WRITES, "the readers never read");
                    r.write(&[n; 4]);
                }
                done.store(true, Ordering::Release);
                n
            });
            for _ in 0..READERS {
                s.spawn(|| {
                    let (mut seen, mut last) = (0u32, 0u64);
                    while !done.load(Ordering::Acquire) {
                        if let Some(v) = r.read() {
                            assert!(v.iter().all(|&w| w == v[0]), "torn read {v:?}");
                            assert!(v[0] >= last, "went back from {last} to {}", v[0]);
                            last = v[0];
                            seen += 1;
                            if seen == READS {
                                readers_done.fetch_add(1, Ordering::Release);
                            }
                        }
                    }
                });
            }
            writer.join().unwrap()
        });
        assert_eq!(r.read(), Some([last; 4]));
    }
}

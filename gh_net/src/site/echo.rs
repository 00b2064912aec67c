//! `POST /echo`: the built-in application's task. A request body streams through a task
//! taken from a small pool, which answers with the body's length and FNV-1a hash; the
//! task lives until its answer has been acknowledged, so a retransmission renders the
//! same bytes again.

/// FNV-1a 64-bit offset basis.
pub const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// Folds `bytes` into an FNV-1a 64-bit hash.
pub fn fnv1a(mut hash: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        hash = (hash ^ u64::from(b)).wrapping_mul(FNV_PRIME);
    }
    hash
}

/// Where a task stands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Phase {
    /// In the pool.
    #[default]
    Free,
    /// Taking a request body.
    Receiving,
    /// Its answer is being sent.
    Replying,
}

/// One body being hashed, then answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Task {
    hash: u64,
    len: u32,
    /// Where it stands.
    pub phase: Phase,
}

impl Default for Task {
    fn default() -> Self {
        Self::FREE
    }
}

/// Longest answer body: 10 digits, space, 16 hex digits, newline.
pub const MAX_ANSWER: usize = 28;

impl Task {
    /// A task in the pool.
    pub const FREE: Task = Task {
        hash: FNV_OFFSET,
        len: 0,
        phase: Phase::Free,
    };

    /// Takes the next piece of the body.
    pub fn feed(&mut self, piece: &[u8]) {
        self.hash = fnv1a(self.hash, piece);
        self.len = self
            .len
            .saturating_add(u32::try_from(piece.len()).unwrap_or(u32::MAX));
    }

    /// Writes the answer body (`<length> <hash>\n`); returns its length.
    pub fn answer(&self, out: &mut [u8; MAX_ANSWER]) -> usize {
        let mut at = decimal(u64::from(self.len), out);
        let rest = out.get_mut(at..).unwrap_or(&mut []);
        if let Some(sp) = rest.first_mut() {
            *sp = b' ';
        }
        at += 1;
        for (i, d) in out.iter_mut().skip(at).take(16).enumerate() {
            let nibble = (self.hash >> (60 - 4 * i)) & 0xf;
            *d = b"0123456789abcdef"
                .get(nibble as usize)
                .copied()
                .unwrap_or(b'0');
        }
        at += 16;
        if let Some(nl) = out.get_mut(at) {
            *nl = b'\n';
        }
        at + 1
    }
}

/// Writes `v` in decimal at the start of `out`; returns the digits written.
pub fn decimal(v: u64, out: &mut [u8]) -> usize {
    let mut digits = [0u8; 20];
    let mut n = 0;
    let mut v = v;
    loop {
        if let Some(d) = digits.get_mut(n) {
            *d = b'0' + (v % 10) as u8;
        }
        n += 1;
        v /= 10;
        if v == 0 || n == digits.len() {
            break;
        }
    }
    for (o, d) in out.iter_mut().zip(digits.iter().take(n).rev()) {
        *o = *d;
    }
    n.min(out.len())
}

/// A fixed pool of tasks over caller memory.
#[derive(Debug)]
pub struct Tasks<'a> {
    tasks: &'a mut [Task],
    next: usize,
}

impl<'a> Tasks<'a> {
    /// A pool of `tasks.len()` tasks, all free.
    pub fn new(tasks: &'a mut [Task]) -> Self {
        tasks.fill(Task::FREE);
        Tasks { tasks, next: 0 }
    }

    /// Takes a free task for a new body; `None` when every task is busy.
    pub fn take(&mut self) -> Option<usize> {
        let n = self.tasks.len();
        for k in 0..n {
            let i = (self.next + k) % n;
            if let Some(t) = self.tasks.get_mut(i).filter(|t| t.phase == Phase::Free) {
                *t = Task {
                    phase: Phase::Receiving,
                    ..Task::FREE
                };
                self.next = (i + 1) % n;
                return Some(i);
            }
        }
        None
    }

    /// Task `i`.
    pub fn get(&self, i: usize) -> Option<&Task> {
        self.tasks.get(i)
    }

    /// Task `i`, to change.
    pub fn get_mut(&mut self, i: usize) -> Option<&mut Task> {
        self.tasks.get_mut(i)
    }

    /// Returns task `i` to the pool.
    pub fn release(&mut self, i: usize) {
        if let Some(t) = self.tasks.get_mut(i) {
            *t = Task::FREE;
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn fnv_vectors() {
        assert_eq!(fnv1a(FNV_OFFSET, b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(FNV_OFFSET, b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(FNV_OFFSET, b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn answer_is_length_and_hash_whatever_the_pieces() {
        let mut whole = Task::FREE;
        whole.feed(b"foobar");
        let mut split = Task::FREE;
        split.feed(b"foo");
        split.feed(b"");
        split.feed(b"bar");
        let (mut a, mut b) = ([0u8; MAX_ANSWER], [0u8; MAX_ANSWER]);
        let n = whole.answer(&mut a);
        assert_eq!(&a[..n], b"6 85944171f73967e8\n");
        let m = split.answer(&mut b);
        assert_eq!(&b[..m], &a[..n]);
        let mut big = Task::FREE;
        big.len = u32::MAX;
        assert_eq!(big.answer(&mut a), MAX_ANSWER);
    }

    #[test]
    fn pool_takes_until_empty_and_reuses() {
        let mut mem = [Task::FREE; 2];
        let mut p = Tasks::new(&mut mem);
        let (a, b) = (p.take().unwrap(), p.take().unwrap());
        assert_ne!(a, b);
        assert_eq!(p.take(), None);
        p.release(a);
        assert_eq!(p.take(), Some(a));
    }
}

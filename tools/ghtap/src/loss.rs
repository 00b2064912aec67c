//! A lossy link, for tests: a fixed share of the frames going each way is dropped at
//! random, as on a congested or noisy path, so that the engine's retransmission is
//! tested against Linux's TCP over a wire that loses.

/// Drops `percent` of the frames it is asked about.
pub struct Loss {
    percent: u64,
    state: u64,
    /// Frames dropped so far.
    pub dropped: u64,
}

impl Loss {
    /// A link losing `percent` of its frames (0: none), chosen by a generator seeded with
    /// `seed`.
    pub fn new(percent: u8, seed: u64) -> Loss {
        Loss {
            percent: u64::from(percent),
            // Xorshift needs a state other than zero.
            state: seed | 1,
            dropped: 0,
        }
    }

    /// True if the next frame is lost (and counted).
    pub fn lose(&mut self) -> bool {
        if self.percent == 0 {
            return false;
        }
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        let lost = self.state % 100 < self.percent;
        self.dropped += u64::from(lost);
        lost
    }
}

//! The per-core limit on challenge ACKs (RFC 5961 section 7): a forger who knows a
//! connection's addresses and ports gets at most this many answers a second from a core,
//! and two peers that each find the other's ACKs unacceptable cannot keep it busy.
//!
//! The budget is drawn anew each second, keyed, between half and one and a half times
//! [`PER_SECOND`]: a fixed budget shared by all connections lets an off-path observer
//! count it down with forged segments and see from its own connection's challenges
//! whether a guessed connection exists (CVE-2016-5696).

use super::siphash::{self, Key};

/// The average budget of challenge ACKs per second of the clock.
pub const PER_SECOND: u32 = 1000;

/// What is left of this second's budget.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChallengeLimit {
    second: u32,
    left: u32,
}

impl ChallengeLimit {
    /// A limit whose first budget is drawn at the first challenge.
    pub const fn new() -> ChallengeLimit {
        ChallengeLimit {
            second: u32::MAX,
            left: 0,
        }
    }

    /// True if a challenge ACK may go at `now_ms`, which then counts against the budget.
    pub fn allow(&mut self, now_ms: u32, key: &Key) -> bool {
        let second = now_ms / 1000;
        if second != self.second {
            self.second = second;
            // No flow has the limited broadcast as its local address, so no ISN is
            // keyed hashed from the same bytes.
            let [a, b, c, d] = second.to_le_bytes();
            let m = [a, b, c, d, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
            let r = siphash::hash12(key, &m) as u32;
            self.left = PER_SECOND / 2 + r % PER_SECOND;
        }
        if self.left == 0 {
            return false;
        }
        self.left -= 1;
        true
    }
}

impl Default for ChallengeLimit {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;

    #[test]
    fn each_second_has_a_keyed_budget_around_the_average() {
        let key = Key([3, 5]);
        let mut limit = ChallengeLimit::new();
        let mut budgets = std::vec::Vec::new();
        for second in 0..50u32 {
            let at = second * 1000 + 7;
            let n = (0..2 * PER_SECOND)
                .take_while(|k| limit.allow(at + k % 990, &key))
                .count() as u32;
            assert!((PER_SECOND / 2..PER_SECOND * 3 / 2).contains(&n), "{n}");
            // Spent: nothing more this second, whatever the millisecond.
            assert!(!limit.allow(at + 992, &key));
            budgets.push(n);
        }
        // Drawn anew: not one fixed value an observer could count down.
        budgets.sort_unstable();
        budgets.dedup();
        assert!(budgets.len() > 40, "{budgets:?}");
        // Another key draws other budgets.
        let (mut a, mut b) = (ChallengeLimit::new(), ChallengeLimit::new());
        let count = |l: &mut ChallengeLimit, key: &Key| {
            (0..2 * PER_SECOND).take_while(|_| l.allow(0, key)).count()
        };
        assert_ne!(count(&mut a, &key), count(&mut b, &Key([4, 5])));
    }
}

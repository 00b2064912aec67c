//! Retransmission timeout per RFC 6298, kept in two `u16`s of milliseconds.

/// Smoothed RTT state of one connection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RttEstimator {
    /// Smoothed RTT in ms; 0 means no sample yet.
    srtt: u16,
    /// RTT variation in ms; before the first sample, a timeout that replaces a shorter
    /// initial one (0 for none).
    rttvar: u16,
}

/// The timeout once the handshake completes after its SYN timed out (RFC 6298 section
/// 5.7), until the first sample.
const AFTER_SYN_TIMEOUT_MS: u16 = 3000;

/// Bounds on the timeout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RtoBounds {
    /// Timeout before any sample (RFC 6298: 1 s).
    pub initial_ms: u32,
    /// Lower bound (RFC 6298 says 1 s; LAN servers commonly use 200 ms).
    pub min_ms: u32,
    /// Upper bound after backoff (RFC 6298 allows 60 s).
    pub max_ms: u32,
}

impl Default for RtoBounds {
    fn default() -> Self {
        RtoBounds {
            initial_ms: 1000,
            min_ms: 200,
            max_ms: 60_000,
        }
    }
}

/// Clock granularity assumed in `RTO = SRTT + max(G, 4 * RTTVAR)`.
const GRANULARITY_MS: u32 = 1;

impl RttEstimator {
    /// No sample yet.
    pub const fn new() -> RttEstimator {
        RttEstimator { srtt: 0, rttvar: 0 }
    }

    /// Folds in one RTT measurement (only of segments never retransmitted: Karn).
    pub fn sample(&mut self, rtt_ms: u32) {
        let r = rtt_ms.clamp(1, u32::from(u16::MAX));
        if self.srtt == 0 {
            // First measurement: SRTT = R, RTTVAR = R/2.
            self.srtt = r as u16;
            self.rttvar = (r / 2) as u16;
            return;
        }
        let srtt = u32::from(self.srtt);
        let diff = srtt.abs_diff(r);
        // RTTVAR = 3/4 RTTVAR + 1/4 |SRTT - R|; SRTT = 7/8 SRTT + 1/8 R.
        let rttvar = (3 * u32::from(self.rttvar) + diff) / 4;
        let srtt = (7 * srtt + r) / 8;
        self.rttvar = rttvar.min(u32::from(u16::MAX)) as u16;
        self.srtt = srtt.clamp(1, u32::from(u16::MAX)) as u16;
    }

    /// The handshake completed after its SYN (our SYN-ACK) timed out: until the first
    /// sample, the timeout is at least 3 s (RFC 6298 section 5.7).
    pub fn after_handshake_timeout(&mut self) {
        if self.srtt == 0 {
            self.rttvar = AFTER_SYN_TIMEOUT_MS;
        }
    }

    /// Data sent again after a timeout is acknowledged, which is no sample of the path's
    /// delay (Karn): the backed-off timeout `rto_ms` stays in force until a sample, which
    /// then starts the estimate afresh (RFC 6298 sections 5 and 2.2; cleared after a
    /// backoff as section 5 allows).
    pub fn hold(&mut self, rto_ms: u32) {
        self.srtt = 0;
        self.rttvar = rto_ms.min(u32::from(u16::MAX)) as u16;
    }

    /// Smoothed RTT in ms (0 before the first sample).
    pub fn srtt_ms(&self) -> u32 {
        u32::from(self.srtt)
    }

    /// Timeout after `backoff` consecutive expiries, doubled each time and clamped.
    pub fn rto_ms(&self, bounds: &RtoBounds, backoff: u8) -> u32 {
        let base = if self.srtt == 0 {
            bounds.initial_ms.max(u32::from(self.rttvar))
        } else {
            u32::from(self.srtt) + GRANULARITY_MS.max(4 * u32::from(self.rttvar))
        };
        let base = base.max(bounds.min_ms);
        let shift = u32::from(backoff).min(16);
        base.saturating_mul(1 << shift).min(bounds.max_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initial_and_first_sample() {
        let b = RtoBounds::default();
        let mut e = RttEstimator::default();
        assert_eq!(e.rto_ms(&b, 0), 1000);
        e.sample(100);
        // SRTT 100, RTTVAR 50: RTO = 100 + 200.
        assert_eq!(e.rto_ms(&b, 0), 300);
        assert_eq!(e.srtt_ms(), 100);
    }

    #[test]
    fn smoothing_follows_rfc6298() {
        let mut e = RttEstimator::default();
        e.sample(100);
        e.sample(200);
        // RTTVAR = (3*50 + 100)/4 = 62, SRTT = (700 + 200)/8 = 112.
        assert_eq!(e.srtt_ms(), 112);
        assert_eq!(e.rto_ms(&RtoBounds::default(), 0), 112 + 4 * 62);
    }

    #[test]
    fn three_seconds_after_a_syn_timeout_until_a_sample() {
        let b = RtoBounds::default();
        let mut e = RttEstimator::default();
        e.after_handshake_timeout();
        assert_eq!(e.rto_ms(&b, 0), 3000);
        assert_eq!(e.rto_ms(&b, 1), 6000);
        e.sample(100);
        assert_eq!(e.rto_ms(&b, 0), 300, "the first sample decides");
        e.after_handshake_timeout();
        assert_eq!(e.rto_ms(&b, 0), 300, "only before a sample");
    }

    #[test]
    fn bounds_and_backoff() {
        let b = RtoBounds::default();
        let mut e = RttEstimator::default();
        e.sample(1);
        assert_eq!(e.rto_ms(&b, 0), 200, "lower bound");
        assert_eq!(e.rto_ms(&b, 1), 400);
        assert_eq!(e.rto_ms(&b, 3), 1600);
        assert_eq!(e.rto_ms(&b, 20), 60_000, "upper bound");
        assert_eq!(e.rto_ms(&b, 255), 60_000);
        e.sample(u32::MAX);
        assert_eq!(e.rto_ms(&b, 0), 60_000);
    }
}

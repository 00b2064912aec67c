//! SYN cookies: when the half-open table is full, the SYN-ACK's sequence number carries the
//! connection's essentials so that no slot is spent until the handshake's ACK proves the
//! peer real.
//!
//! Layout of the 32-bit cookie: 1 bit of time (the parity of its 64 s period), 3 bits of
//! MSS index, 28 bits of keyed hash over the flow, the peer's initial sequence number,
//! the MSS index and the period count (its low 32 bits, which repeat only after some
//! 8,700 years). The time bit only says which of the last
//! two periods to check, so a cookie seen once is good for those two periods alone, nor
//! can its MSS bits be changed; and a forger who knows the time (from a cookie sent to
//! itself) and picks an MSS still has the 28 bits to guess, one chance in 2^28 a try.

use super::super::wire::field;
use super::super::wire::tcp::SeqNumber;
use super::siphash::{self, Key};
use super::Flow;

/// MSS values a cookie can carry; a peer's MSS is rounded down to one of them, so no
/// segment exceeds what the peer announced (RFC 9293 section 3.7.1). The first is the
/// floor a connection's segment size has anyway (`Tcb::syn_received`).
const MSS_TABLE: [u16; 8] = [64, 256, 536, 1220, 1300, 1400, 1440, 1460];

/// How long one time step of a cookie lasts.
const PERIOD_MS: u64 = 64_000;

const HASH_BITS: u32 = 28;
const HASH_MASK: u32 = (1 << HASH_BITS) - 1;

/// Makes and checks cookies under a per-core secret key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CookieJar {
    key: Key,
    /// The period of the last cookie made: an ACK can only carry a genuine cookie in that
    /// period and the next, so at any other time none is checked (no hash is spent on
    /// stray ACKs, and a forger gets no guesses while no flood is being answered).
    last_made: Option<u64>,
}

impl CookieJar {
    /// A jar keyed with secret randomness from the platform.
    pub fn new(key: Key) -> CookieJar {
        CookieJar {
            key,
            last_made: None,
        }
    }

    fn mac(&self, flow: &Flow, irs: SeqNumber, period: u64, idx: u32) -> u32 {
        let mut m = [0u8; 21];
        field::set_bytes(&mut m, 0, &flow.bytes());
        field::set_u32(&mut m, 12, irs.0);
        field::set_u32(&mut m, 16, period as u32);
        field::set_u8(&mut m, 20, idx as u8);
        (siphash::hash(&self.key, &m) as u32) & HASH_MASK
    }

    /// The initial sequence number to send in a stateless SYN-ACK.
    pub fn make(&mut self, flow: &Flow, irs: SeqNumber, peer_mss: u16, now_ms: u64) -> SeqNumber {
        let period = now_ms / PERIOD_MS;
        self.last_made = Some(period);
        let idx = MSS_TABLE.iter().rposition(|&m| m <= peer_mss).unwrap_or(0) as u32;
        let parity = (period & 1) as u32;
        SeqNumber((parity << 31) | (idx << HASH_BITS) | self.mac(flow, irs, period, idx))
    }

    /// True if an ACK may carry a cookie still good: one was made in this period or the
    /// one before. Otherwise an ACK for no connection is a stray, not a bad cookie.
    pub fn active(&self, now_ms: u64) -> bool {
        let now_period = now_ms / PERIOD_MS;
        self.last_made
            .is_some_and(|p| now_period.saturating_sub(p) <= 1)
    }

    /// Checks the cookie echoed in a handshake ACK (`ack - 1`) for the peer's `seq - 1`;
    /// gives the peer's MSS if the cookie is genuine and at most two periods old.
    pub fn check(
        &self,
        flow: &Flow,
        irs: SeqNumber,
        cookie: SeqNumber,
        now_ms: u64,
    ) -> Option<u16> {
        if !self.active(now_ms) {
            return None;
        }
        let now_period = now_ms / PERIOD_MS;
        // This period's or the one before, by the cookie's parity.
        let age = (now_period ^ u64::from(cookie.0 >> 31)) & 1;
        let period = now_period.checked_sub(age)?;
        let idx = (cookie.0 >> HASH_BITS) & 0x7;
        if cookie.0 & HASH_MASK != self.mac(flow, irs, period, idx) {
            return None;
        }
        MSS_TABLE.get(idx as usize).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::wire::ipv4::Address;
    use super::*;

    fn flow() -> Flow {
        Flow {
            remote_ip: Address([192, 0, 2, 7]),
            remote_port: 40000,
            local_ip: Address([192, 0, 2, 1]),
            local_port: 80,
        }
    }

    #[test]
    fn cookies_are_out_for_the_period_one_was_made_in_and_the_next() {
        let mut jar = CookieJar::new(Key([7, 9]));
        assert!(!jar.active(5_000));
        jar.make(&flow(), SeqNumber(1000), 1460, 5_000);
        assert!(jar.active(5_000));
        assert!(jar.active(2 * PERIOD_MS - 1));
        assert!(!jar.active(2 * PERIOD_MS));
    }

    #[test]
    fn genuine_cookie_accepted_with_rounded_mss() {
        let mut jar = CookieJar::new(Key([7, 9]));
        let c = jar.make(&flow(), SeqNumber(1000), 1450, 5_000);
        assert_eq!(jar.check(&flow(), SeqNumber(1000), c, 5_000), Some(1440));
        assert_eq!(
            jar.check(&flow(), SeqNumber(1000), c, 5_000 + PERIOD_MS),
            Some(1440)
        );
        for (announced, carried) in [(100, 64), (535, 256), (536, 536), (9000, 1460)] {
            let c = jar.make(&flow(), SeqNumber(1000), announced, 5_000);
            assert_eq!(
                jar.check(&flow(), SeqNumber(1000), c, 5_000),
                Some(carried),
                "MSS {announced}"
            );
        }
    }

    #[test]
    fn forged_stale_or_misdirected_cookies_rejected() {
        let mut jar = CookieJar::new(Key([7, 9]));
        let c = jar.make(&flow(), SeqNumber(1000), 1460, 5_000);
        assert_eq!(
            jar.check(&flow(), SeqNumber(1001), c, 5_000),
            None,
            "other irs"
        );
        assert_eq!(
            jar.check(&flow(), SeqNumber(1000), c.wrapping_add(1), 5_000),
            None
        );
        assert_eq!(
            jar.check(&flow(), SeqNumber(1000), c, 5_000 + 2 * PERIOD_MS),
            None,
            "stale"
        );
        let other = Flow {
            remote_port: 40001,
            ..flow()
        };
        assert_eq!(jar.check(&other, SeqNumber(1000), c, 5_000), None);
        // The same cookie two and 256 periods on: its time bit matches again, the
        // period does not.
        for later in [2, 256] {
            jar.make(&flow(), SeqNumber(7), 1460, 5_000 + later * PERIOD_MS);
            assert_eq!(
                jar.check(&flow(), SeqNumber(1000), c, 5_000 + later * PERIOD_MS),
                None,
                "replayed {later} periods on"
            );
        }
        // Another MSS index in the same cookie.
        let mut jar = CookieJar::new(Key([7, 9]));
        let c = jar.make(&flow(), SeqNumber(1000), 1460, 5_000);
        let other_mss = SeqNumber(c.0 ^ (1 << HASH_BITS));
        assert_eq!(jar.check(&flow(), SeqNumber(1000), other_mss, 5_000), None);
        let mut other_jar = CookieJar::new(Key([7, 10]));
        other_jar.make(&flow(), SeqNumber(1), 1460, 5_000);
        assert_eq!(
            other_jar.check(&flow(), SeqNumber(1000), c, 5_000),
            None,
            "other key"
        );
    }

    /// All but four of a cookie's bits are its hash, which a forger who knows the time
    /// (from a cookie made for itself) and picks an MSS must guess: its top bit is used,
    /// and its values do not repeat among a few thousand cookies.
    #[test]
    fn the_hash_takes_28_bits() {
        extern crate std;
        let mut jar = CookieJar::new(Key([0x1234_5678, 0x9abc_def0]));
        let mut hashes: std::vec::Vec<u32> = (0..4096)
            .map(|irs| jar.make(&flow(), SeqNumber(irs), 1460, 5_000).0 & HASH_MASK)
            .collect();
        assert!(hashes.iter().any(|h| h >> 27 == 1));
        hashes.sort_unstable();
        hashes.dedup();
        assert!(hashes.len() > 4090, "{} distinct", hashes.len());
    }

    #[test]
    fn no_cookie_is_checked_while_none_was_made_lately() {
        let mut jar = CookieJar::new(Key([7, 9]));
        let mut maker = CookieJar::new(Key([7, 9]));
        let c = maker.make(&flow(), SeqNumber(1000), 1460, 5_000);
        assert_eq!(
            jar.check(&flow(), SeqNumber(1000), c, 5_000),
            None,
            "none made"
        );
        jar.make(&flow(), SeqNumber(7), 1460, 5_000);
        assert_eq!(jar.check(&flow(), SeqNumber(1000), c, 5_000), Some(1460));
        // Two periods after the last one made, nothing can be genuine any more.
        let later = 5_000 + 2 * PERIOD_MS;
        let c = maker.make(&flow(), SeqNumber(1000), 1460, later);
        assert_eq!(jar.check(&flow(), SeqNumber(1000), c, later), None);
    }
}

//! SYN cookies: when the half-open table is full, the SYN-ACK's sequence number carries the
//! connection's essentials so that no slot is spent until the handshake's ACK proves the
//! peer real.
//!
//! Layout of the 32-bit cookie: 8 bits of time (64 s periods), 3 bits of MSS index, 21 bits
//! of keyed hash over the flow, the peer's initial sequence number and the time.

use super::super::wire::field;
use super::super::wire::tcp::SeqNumber;
use super::siphash::{self, Key};
use super::Flow;

/// MSS values a cookie can carry; a peer's MSS is rounded down to one of them.
const MSS_TABLE: [u16; 8] = [536, 1024, 1220, 1300, 1400, 1440, 1460, 8960];

/// How long one time step of a cookie lasts.
const PERIOD_MS: u64 = 64_000;

const HASH_BITS: u32 = 21;
const HASH_MASK: u32 = (1 << HASH_BITS) - 1;

/// Makes and checks cookies under a per-core secret key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CookieJar {
    key: Key,
}

impl CookieJar {
    /// A jar keyed with secret randomness from the platform.
    pub fn new(key: Key) -> CookieJar {
        CookieJar { key }
    }

    fn mac(&self, flow: &Flow, irs: SeqNumber, t: u8) -> u32 {
        let mut m = [0u8; 17];
        field::set_bytes(&mut m, 0, &flow.bytes());
        field::set_u32(&mut m, 12, irs.0);
        field::set_u8(&mut m, 16, t);
        (siphash::hash(&self.key, &m) as u32) & HASH_MASK
    }

    /// The initial sequence number to send in a stateless SYN-ACK.
    pub fn make(&self, flow: &Flow, irs: SeqNumber, peer_mss: u16, now_ms: u64) -> SeqNumber {
        let t = (now_ms / PERIOD_MS) as u8;
        let idx = MSS_TABLE.iter().rposition(|&m| m <= peer_mss).unwrap_or(0) as u32;
        SeqNumber((u32::from(t) << 24) | (idx << HASH_BITS) | self.mac(flow, irs, t))
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
        let t = (cookie.0 >> 24) as u8;
        let now_t = (now_ms / PERIOD_MS) as u8;
        if now_t.wrapping_sub(t) > 1 {
            return None;
        }
        if cookie.0 & HASH_MASK != self.mac(flow, irs, t) {
            return None;
        }
        let idx = ((cookie.0 >> HASH_BITS) & 0x7) as usize;
        MSS_TABLE.get(idx).copied()
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
    fn genuine_cookie_accepted_with_rounded_mss() {
        let jar = CookieJar::new(Key([7, 9]));
        let c = jar.make(&flow(), SeqNumber(1000), 1450, 5_000);
        assert_eq!(jar.check(&flow(), SeqNumber(1000), c, 5_000), Some(1440));
        assert_eq!(
            jar.check(&flow(), SeqNumber(1000), c, 5_000 + PERIOD_MS),
            Some(1440)
        );
        let c = jar.make(&flow(), SeqNumber(1000), 100, 5_000);
        assert_eq!(jar.check(&flow(), SeqNumber(1000), c, 5_000), Some(536));
    }

    #[test]
    fn forged_stale_or_misdirected_cookies_rejected() {
        let jar = CookieJar::new(Key([7, 9]));
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
        let other_jar = CookieJar::new(Key([7, 10]));
        assert_eq!(
            other_jar.check(&flow(), SeqNumber(1000), c, 5_000),
            None,
            "other key"
        );
    }
}

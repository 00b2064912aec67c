//! IPv4 headers (RFC 791). Options are skipped via IHL; fragments are reported, not reassembled.

use super::super::checksum;
use super::field;
use super::{Error, Result};

/// An IPv4 address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct Address(pub [u8; 4]);

impl Address {
    /// 0.0.0.0.
    pub const UNSPECIFIED: Address = Address([0; 4]);
    /// 255.255.255.255.
    pub const BROADCAST: Address = Address([255; 4]);

    /// The address as a big-endian integer.
    pub fn to_u32(self) -> u32 {
        u32::from_be_bytes(self.0)
    }

    /// True if no host may send from this address (RFC 1122 section 3.2.1.3): "this
    /// network" (0/8), loopback (127/8), multicast (224/4) and the limited broadcast. A
    /// datagram from one is discarded, never answered.
    pub fn is_invalid_source(&self) -> bool {
        let first = self.0[0];
        // Evaluated whole, without a branch per test: every received segment asks.
        (first == 0) | (first == 127) | (first & 0xf0 == 0xe0) | (*self == Self::BROADCAST)
    }

    /// True if no peer sends from this address to a host at `ours` whose network's own
    /// address and directed broadcast are `subnet_ends`: an invalid source, ours, or one
    /// of those two.
    #[inline(always)]
    pub fn is_bad_source(&self, ours: Address, subnet_ends: [Address; 2]) -> bool {
        let [network, directed] = subnet_ends;
        self.is_invalid_source() | (*self == ours) | (*self == network) | (*self == directed)
    }
}

/// The protocols GigaHttpd handles above IPv4.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// ICMP, 1.
    Icmp,
    /// TCP, 6.
    Tcp,
    /// Anything else, kept so it can be counted.
    Unknown(u8),
}

impl From<u8> for Protocol {
    fn from(v: u8) -> Self {
        match v {
            1 => Protocol::Icmp,
            6 => Protocol::Tcp,
            other => Protocol::Unknown(other),
        }
    }
}

impl From<Protocol> for u8 {
    fn from(p: Protocol) -> u8 {
        match p {
            Protocol::Icmp => 1,
            Protocol::Tcp => 6,
            Protocol::Unknown(v) => v,
        }
    }
}

/// Length of a header without options.
pub const HEADER_LEN: usize = 20;

/// The TTL GigaHttpd sends with.
pub const DEFAULT_TTL: u8 = 64;

mod at {
    pub const VER_IHL: usize = 0;
    pub const DSCP_ECN: usize = 1;
    pub const TOTAL_LEN: usize = 2;
    pub const IDENT: usize = 4;
    pub const FLAGS_FRAG: usize = 6;
    pub const TTL: usize = 8;
    pub const PROTOCOL: usize = 9;
    pub const CHECKSUM: usize = 10;
    pub const SRC: usize = 12;
    pub const DST: usize = 16;
}

const FLAG_DONT_FRAGMENT: u16 = 0x4000;
const FLAG_MORE_FRAGMENTS: u16 = 0x2000;
const FRAG_OFFSET_MASK: u16 = 0x1fff;

/// A view of an IPv4 packet.
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without checking it.
    pub fn new_unchecked(buffer: T) -> Self {
        Packet { buffer }
    }

    /// Wraps a buffer after checking version, header length and total length against it.
    ///
    /// The buffer may be longer than the total length (Ethernet pads short frames);
    /// [`Packet::payload`] stops at the total length.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let p = Packet { buffer };
        let len = p.buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(Error::Truncated);
        }
        if p.version() != 4 {
            return Err(Error::Unsupported);
        }
        let header_len = p.header_len();
        let total_len = usize::from(p.total_len());
        if header_len < HEADER_LEN || total_len < header_len {
            return Err(Error::Malformed);
        }
        if len < header_len || len < total_len {
            return Err(Error::Truncated);
        }
        Ok(p)
    }

    /// Version field (4).
    pub fn version(&self) -> u8 {
        field::u8_at(self.buffer.as_ref(), at::VER_IHL) >> 4
    }

    /// Header length in bytes, from IHL.
    pub fn header_len(&self) -> usize {
        usize::from(field::u8_at(self.buffer.as_ref(), at::VER_IHL) & 0x0f) * 4
    }

    /// DSCP and ECN byte.
    pub fn dscp_ecn(&self) -> u8 {
        field::u8_at(self.buffer.as_ref(), at::DSCP_ECN)
    }

    /// Total length of header and payload.
    pub fn total_len(&self) -> u16 {
        field::u16_at(self.buffer.as_ref(), at::TOTAL_LEN)
    }

    /// Identification.
    pub fn ident(&self) -> u16 {
        field::u16_at(self.buffer.as_ref(), at::IDENT)
    }

    /// Don't-fragment flag.
    pub fn dont_fragment(&self) -> bool {
        field::u16_at(self.buffer.as_ref(), at::FLAGS_FRAG) & FLAG_DONT_FRAGMENT != 0
    }

    /// More-fragments flag.
    pub fn more_fragments(&self) -> bool {
        field::u16_at(self.buffer.as_ref(), at::FLAGS_FRAG) & FLAG_MORE_FRAGMENTS != 0
    }

    /// Fragment offset in bytes.
    pub fn frag_offset(&self) -> u16 {
        (field::u16_at(self.buffer.as_ref(), at::FLAGS_FRAG) & FRAG_OFFSET_MASK) << 3
    }

    /// True if this packet is any piece of a fragmented datagram.
    pub fn is_fragment(&self) -> bool {
        self.more_fragments() || self.frag_offset() != 0
    }

    /// Time to live.
    pub fn ttl(&self) -> u8 {
        field::u8_at(self.buffer.as_ref(), at::TTL)
    }

    /// Upper-layer protocol.
    pub fn protocol(&self) -> Protocol {
        Protocol::from(field::u8_at(self.buffer.as_ref(), at::PROTOCOL))
    }

    /// Header checksum field.
    pub fn checksum(&self) -> u16 {
        field::u16_at(self.buffer.as_ref(), at::CHECKSUM)
    }

    /// Source address.
    pub fn src(&self) -> Address {
        Address(field::array_at(self.buffer.as_ref(), at::SRC))
    }

    /// Destination address.
    pub fn dst(&self) -> Address {
        Address(field::array_at(self.buffer.as_ref(), at::DST))
    }

    /// True if the header checksum (options included) verifies.
    pub fn verify_checksum(&self) -> bool {
        match self.buffer.as_ref().get(..self.header_len()) {
            Some(h) => checksum::of(h) == 0,
            None => false,
        }
    }

    /// The header's options (empty without).
    pub fn options(&self) -> &[u8] {
        self.buffer
            .as_ref()
            .get(HEADER_LEN..self.header_len())
            .unwrap_or(&[])
    }

    /// Bytes between the header and the total length (empty if inconsistent).
    pub fn payload(&self) -> &[u8] {
        let end = usize::from(self.total_len());
        self.buffer
            .as_ref()
            .get(self.header_len()..end)
            .unwrap_or(&[])
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Recomputes and stores the header checksum.
    pub fn fill_checksum(&mut self) {
        field::set_u16(self.buffer.as_mut(), at::CHECKSUM, 0);
        let hl = self.header_len();
        let c = self
            .buffer
            .as_ref()
            .get(..hl)
            .map(checksum::of)
            .unwrap_or(0);
        field::set_u16(self.buffer.as_mut(), at::CHECKSUM, c);
    }
}

/// The meaning of an IPv4 header, for the unfragmented packets GigaHttpd accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Repr {
    /// Sender.
    pub src: Address,
    /// Receiver.
    pub dst: Address,
    /// Upper-layer protocol.
    pub protocol: Protocol,
    /// Length of the upper-layer payload.
    pub payload_len: u16,
    /// Time to live.
    pub ttl: u8,
}

/// Loose and strict source route options (RFC 791).
const LOOSE_SOURCE_ROUTE: u8 = 131;
const STRICT_SOURCE_ROUTE: u8 = 137;

/// Walks a header's options: `Malformed` if one runs past them, `Unsupported` for a
/// source route. RFC 1122 (section 3.2.1.8) would have a host answer along the route
/// reversed, which lets a sender steer the answer; GigaHttpd drops such packets, as
/// Linux does by default and RFC 7126 advises for the devices that forward them.
/// Every other option is skipped.
fn check_options(mut o: &[u8]) -> Result<()> {
    while let [kind, rest @ ..] = o {
        match *kind {
            // End of the list.
            0 => return Ok(()),
            // No operation.
            1 => o = rest,
            LOOSE_SOURCE_ROUTE | STRICT_SOURCE_ROUTE => return Err(Error::Unsupported),
            _ => {
                let len = usize::from(rest.first().copied().unwrap_or(0));
                if len < 2 {
                    return Err(Error::Malformed);
                }
                o = o.get(len..).ok_or(Error::Malformed)?;
            }
        }
    }
    Ok(())
}

impl Repr {
    /// Validates a checked packet: checksum, then no fragments, then its options
    /// (`Unsupported` for a source route).
    pub fn parse<T: AsRef<[u8]>>(p: &Packet<T>) -> Result<Repr> {
        if !p.verify_checksum() {
            return Err(Error::Checksum);
        }
        if p.is_fragment() {
            return Err(Error::Fragment);
        }
        check_options(p.options())?;
        let header_len = u16::try_from(p.header_len()).map_err(|_| Error::Malformed)?;
        Ok(Repr {
            src: p.src(),
            dst: p.dst(),
            protocol: p.protocol(),
            payload_len: p
                .total_len()
                .checked_sub(header_len)
                .ok_or(Error::Malformed)?,
            ttl: p.ttl(),
        })
    }

    /// Length of the header this writes.
    pub fn header_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes an option-less header with DF set and the checksum filled; returns its length.
    pub fn emit(&self, buf: &mut [u8], ident: u16) -> Result<usize> {
        let total = self
            .payload_len
            .checked_add(HEADER_LEN as u16)
            .ok_or(Error::Malformed)?;
        let out = buf.get_mut(..HEADER_LEN).ok_or(Error::BufferTooSmall)?;
        field::set_u8(out, at::VER_IHL, 0x45);
        field::set_u8(out, at::DSCP_ECN, 0);
        field::set_u16(out, at::TOTAL_LEN, total);
        field::set_u16(out, at::IDENT, ident);
        field::set_u16(out, at::FLAGS_FRAG, FLAG_DONT_FRAGMENT);
        field::set_u8(out, at::TTL, self.ttl);
        field::set_u8(out, at::PROTOCOL, self.protocol.into());
        field::set_bytes(out, at::SRC, &self.src.0);
        field::set_bytes(out, at::DST, &self.dst.0);
        Packet::new_unchecked(out).fill_checksum();
        Ok(HEADER_LEN)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn repr() -> Repr {
        Repr {
            src: Address([10, 0, 0, 1]),
            dst: Address([10, 0, 0, 2]),
            protocol: Protocol::Tcp,
            payload_len: 4,
            ttl: 64,
        }
    }

    fn packet() -> [u8; 24] {
        let mut b = [0u8; 24];
        repr().emit(&mut b, 0x1234).unwrap();
        b[20..].copy_from_slice(&[1, 2, 3, 4]);
        b
    }

    #[test]
    fn round_trip() {
        let b = packet();
        let p = Packet::new_checked(&b[..]).unwrap();
        assert!(p.verify_checksum());
        assert!(p.dont_fragment());
        assert_eq!(p.ident(), 0x1234);
        assert_eq!(Repr::parse(&p), Ok(repr()));
        assert_eq!(p.payload(), &[1, 2, 3, 4]);
    }

    #[test]
    fn known_checksum() {
        // A header checksummed by hand: 45 00 00 18 12 34 40 00 40 06 ... 0a000001 0a000002.
        let b = packet();
        let sum: u32 = [
            0x4500u32, 0x0018, 0x1234, 0x4000, 0x4006, 0x0a00, 0x0001, 0x0a00, 0x0002,
        ]
        .iter()
        .sum();
        let folded = (sum & 0xffff) + (sum >> 16);
        assert_eq!(u16::from_be_bytes([b[10], b[11]]), !(folded as u16));
    }

    #[test]
    fn truncated_at_every_length() {
        let b = packet();
        for n in 0..b.len() {
            assert_eq!(
                Packet::new_checked(&b[..n]).err(),
                Some(Error::Truncated),
                "len {n}"
            );
        }
    }

    #[test]
    fn ethernet_padding_is_ignored() {
        let mut b = [0u8; 46];
        b[..24].copy_from_slice(&packet());
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!(p.payload(), &[1, 2, 3, 4]);
    }

    #[test]
    fn bad_checksum_rejected() {
        let mut b = packet();
        b[8] = 63;
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!(Repr::parse(&p), Err(Error::Checksum));
    }

    #[test]
    fn bad_lengths_rejected() {
        let mut b = packet();
        b[0] = 0x44; // IHL 16 bytes
        assert_eq!(Packet::new_checked(&b[..]).err(), Some(Error::Malformed));
        let mut b = packet();
        b[0] = 0x46; // IHL 24 bytes, then a total length shorter than that
        b[3] = 22;
        assert_eq!(Packet::new_checked(&b[..]).err(), Some(Error::Malformed));
        let mut b = packet();
        b[3] = 30; // total length beyond the buffer
        assert_eq!(Packet::new_checked(&b[..]).err(), Some(Error::Truncated));
        let mut b = packet();
        b[0] = 0x65;
        assert_eq!(Packet::new_checked(&b[..]).err(), Some(Error::Unsupported));
    }

    #[test]
    fn options_are_skipped() {
        // IHL 6: one 4-byte option word (NOP NOP NOP EOL) before the payload.
        let mut b = [0u8; 28];
        b[0] = 0x46;
        b[3] = 28;
        b[6] = 0x40;
        b[8] = 64;
        b[9] = 6;
        b[12..16].copy_from_slice(&[10, 0, 0, 1]);
        b[16..20].copy_from_slice(&[10, 0, 0, 2]);
        b[20..24].copy_from_slice(&[1, 1, 1, 0]);
        b[24..].copy_from_slice(&[9, 8, 7, 6]);
        let mut p = Packet::new_checked(&mut b[..]).unwrap();
        p.fill_checksum();
        assert_eq!(p.header_len(), 24);
        assert_eq!(p.payload(), &[9, 8, 7, 6]);
        assert_eq!(Repr::parse(&p).unwrap().payload_len, 4);
    }

    #[test]
    fn source_routes_and_broken_options_are_refused() {
        let parse = |opts: &[u8]| {
            let mut b = [0u8; 32];
            let b = &mut b[..20 + opts.len() + 4];
            b[0] = 0x40 | (5 + opts.len() / 4) as u8;
            b[3] = b.len() as u8;
            b[8] = 64;
            b[9] = 6;
            b[12..16].copy_from_slice(&[10, 0, 0, 1]);
            b[16..20].copy_from_slice(&[10, 0, 0, 2]);
            b[20..20 + opts.len()].copy_from_slice(opts);
            let mut p = Packet::new_checked(&mut b[..]).unwrap();
            p.fill_checksum();
            Repr::parse(&p).map(|r| r.payload_len)
        };
        // Skipped: no-ops, a timestamp, a router alert, anything after the end.
        assert_eq!(parse(&[1, 1, 1, 0]), Ok(4));
        assert_eq!(parse(&[68, 4, 5, 0]), Ok(4));
        assert_eq!(parse(&[148, 4, 0, 0]), Ok(4));
        assert_eq!(parse(&[0, 131, 3, 4]), Ok(4));
        // Source routes, loose and strict, wherever they are.
        for route in [131, 137] {
            assert_eq!(
                parse(&[route, 7, 4, 192, 0, 2, 1, 0]),
                Err(Error::Unsupported)
            );
            assert_eq!(parse(&[1, 1, 1, route]), Err(Error::Unsupported));
        }
        // An option whose length is short or runs past the header.
        assert_eq!(parse(&[68, 0, 0, 0]), Err(Error::Malformed));
        assert_eq!(parse(&[68, 1, 0, 0]), Err(Error::Malformed));
        assert_eq!(parse(&[1, 68, 4, 0]), Err(Error::Malformed));
        assert_eq!(parse(&[1, 1, 1, 68]), Err(Error::Malformed));
    }

    #[test]
    fn fragments_detected() {
        for flags in [[0x20u8, 0], [0, 1], [0x20, 5]] {
            let mut b = packet();
            b[6..8].copy_from_slice(&flags);
            let mut p = Packet::new_checked(&mut b[..]).unwrap();
            p.fill_checksum();
            assert!(p.is_fragment());
            assert_eq!(Repr::parse(&p), Err(Error::Fragment));
        }
        let b = packet();
        assert!(!Packet::new_checked(&b[..]).unwrap().is_fragment());
    }

    #[test]
    fn emit_into_small_buffer_fails() {
        assert_eq!(repr().emit(&mut [0u8; 19], 0), Err(Error::BufferTooSmall));
        let mut big = repr();
        big.payload_len = u16::MAX;
        assert_eq!(big.emit(&mut [0u8; 20], 0), Err(Error::Malformed));
    }

    #[test]
    fn protocol_and_address_kinds() {
        assert_eq!(Protocol::from(17), Protocol::Unknown(17));
        assert_eq!(u8::from(Protocol::Icmp), 1);
        for bad in [
            [224, 0, 0, 1],
            [239, 9, 9, 9],
            [255; 4],
            [0; 4],
            [0, 1, 2, 3],
            [127, 0, 0, 1],
        ] {
            assert!(Address(bad).is_invalid_source(), "{bad:?}");
        }
        for good in [
            [10, 0, 0, 1],
            [1, 0, 0, 0],
            [126, 255, 255, 255],
            [223, 1, 1, 1],
        ] {
            assert!(!Address(good).is_invalid_source(), "{good:?}");
        }
        assert_eq!(Address([1, 2, 3, 4]).to_u32(), 0x0102_0304);
    }
}

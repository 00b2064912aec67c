//! ICMPv4 (RFC 792): echo request and reply, enough for `ping` to reach a GigaHttpd core,
//! and a router's "fragmentation needed" (RFC 1191), which path MTU discovery needs
//! because every TCP segment leaves with Don't Fragment set.

use super::super::checksum;
use super::field;
use super::{Error, Result};

/// Length of the header (type, code, checksum, and for an echo the identifier and
/// sequence number; for "fragmentation needed" two unused bytes and the next-hop MTU).
pub const HEADER_LEN: usize = 8;

const TYPE_ECHO_REPLY: u8 = 0;
const TYPE_DESTINATION_UNREACHABLE: u8 = 3;
const TYPE_ECHO_REQUEST: u8 = 8;
/// Destination unreachable: fragmentation needed and Don't Fragment set.
const CODE_FRAGMENTATION_NEEDED: u8 = 4;

mod at {
    pub const TYPE: usize = 0;
    pub const CODE: usize = 1;
    pub const CHECKSUM: usize = 2;
    pub const IDENT: usize = 4;
    pub const SEQ: usize = 6;
}

/// A view of an ICMPv4 message.
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without checking it.
    pub fn new_unchecked(buffer: T) -> Self {
        Packet { buffer }
    }

    /// Wraps a buffer that must hold at least the echo header.
    pub fn new_checked(buffer: T) -> Result<Self> {
        if buffer.as_ref().len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        Ok(Packet { buffer })
    }

    /// Message type.
    pub fn msg_type(&self) -> u8 {
        field::u8_at(self.buffer.as_ref(), at::TYPE)
    }

    /// Message code.
    pub fn code(&self) -> u8 {
        field::u8_at(self.buffer.as_ref(), at::CODE)
    }

    /// Echo identifier.
    pub fn ident(&self) -> u16 {
        field::u16_at(self.buffer.as_ref(), at::IDENT)
    }

    /// Echo sequence number.
    pub fn seq(&self) -> u16 {
        field::u16_at(self.buffer.as_ref(), at::SEQ)
    }

    /// True if the checksum over the whole message verifies.
    pub fn verify_checksum(&self) -> bool {
        checksum::of(self.buffer.as_ref()) == 0
    }

    /// Echo data.
    pub fn data(&self) -> &[u8] {
        self.buffer.as_ref().get(HEADER_LEN..).unwrap_or(&[])
    }
}

/// A message GigaHttpd handles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Repr<'a> {
    /// Ping.
    EchoRequest {
        /// Identifier.
        ident: u16,
        /// Sequence number.
        seq: u16,
        /// Data to be echoed.
        data: &'a [u8],
    },
    /// Pong.
    EchoReply {
        /// Identifier.
        ident: u16,
        /// Sequence number.
        seq: u16,
        /// Echoed data.
        data: &'a [u8],
    },
    /// A router could not forward a datagram with Don't Fragment set (RFC 1191).
    FragmentationNeeded {
        /// The MTU of the next hop, 0 from a router older than RFC 1191.
        mtu: u16,
        /// The start of the datagram it dropped: its IPv4 header and at least the first
        /// eight bytes of its payload (RFC 792).
        original: &'a [u8],
    },
}

impl<'a> Repr<'a> {
    /// Validates a checked message; other ICMP types are `Unsupported`.
    pub fn parse(p: &Packet<&'a [u8]>) -> Result<Repr<'a>> {
        if !p.verify_checksum() {
            return Err(Error::Checksum);
        }
        let (ident, seq) = (p.ident(), p.seq());
        let buffer: &'a [u8] = p.buffer;
        let data = buffer.get(HEADER_LEN..).unwrap_or(&[]);
        match (p.msg_type(), p.code()) {
            (TYPE_ECHO_REQUEST, 0) => Ok(Repr::EchoRequest { ident, seq, data }),
            (TYPE_ECHO_REPLY, 0) => Ok(Repr::EchoReply { ident, seq, data }),
            (TYPE_DESTINATION_UNREACHABLE, CODE_FRAGMENTATION_NEEDED) => {
                Ok(Repr::FragmentationNeeded {
                    mtu: seq,
                    original: data,
                })
            }
            _ => Err(Error::Unsupported),
        }
    }

    /// The reply to an echo request; `None` for anything else.
    pub fn reply(&self) -> Option<Repr<'a>> {
        match *self {
            Repr::EchoRequest { ident, seq, data } => Some(Repr::EchoReply { ident, seq, data }),
            Repr::EchoReply { .. } | Repr::FragmentationNeeded { .. } => None,
        }
    }

    /// Length of the message this writes.
    pub fn buffer_len(&self) -> usize {
        match self {
            Repr::EchoRequest { data, .. }
            | Repr::EchoReply { data, .. }
            | Repr::FragmentationNeeded { original: data, .. } => {
                HEADER_LEN.saturating_add(data.len())
            }
        }
    }

    /// Writes the message (data copied once) with its checksum; returns its length.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let (ty, code, ident, seq, data) = match *self {
            Repr::EchoRequest { ident, seq, data } => (TYPE_ECHO_REQUEST, 0, ident, seq, data),
            Repr::EchoReply { ident, seq, data } => (TYPE_ECHO_REPLY, 0, ident, seq, data),
            Repr::FragmentationNeeded { mtu, original } => (
                TYPE_DESTINATION_UNREACHABLE,
                CODE_FRAGMENTATION_NEEDED,
                0,
                mtu,
                original,
            ),
        };
        let len = self.buffer_len();
        let out = buf.get_mut(..len).ok_or(Error::BufferTooSmall)?;
        field::set_u8(out, at::TYPE, ty);
        field::set_u8(out, at::CODE, code);
        field::set_u16(out, at::CHECKSUM, 0);
        field::set_u16(out, at::IDENT, ident);
        field::set_u16(out, at::SEQ, seq);
        field::set_bytes(out, HEADER_LEN, data);
        let c = checksum::of(out);
        field::set_u16(out, at::CHECKSUM, c);
        Ok(len)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn request_bytes() -> [u8; 12] {
        let mut b = [0u8; 12];
        let r = Repr::EchoRequest {
            ident: 0x1111,
            seq: 7,
            data: b"ping",
        };
        assert_eq!(r.emit(&mut b), Ok(12));
        b
    }

    #[test]
    fn round_trip_and_reply() {
        let b = request_bytes();
        let p = Packet::new_checked(&b[..]).unwrap();
        let r = Repr::parse(&p).unwrap();
        assert_eq!(
            r,
            Repr::EchoRequest {
                ident: 0x1111,
                seq: 7,
                data: b"ping"
            }
        );
        let reply = r.reply().unwrap();
        assert!(reply.reply().is_none());
        let mut out = [0u8; 12];
        reply.emit(&mut out).unwrap();
        assert_eq!(out[0], 0);
        let p = Packet::new_checked(&out[..]).unwrap();
        assert!(p.verify_checksum());
        assert_eq!(p.data(), b"ping");
        assert!(matches!(
            Repr::parse(&p),
            Ok(Repr::EchoReply { seq: 7, .. })
        ));
    }

    #[test]
    fn truncated_at_every_length() {
        let b = request_bytes();
        for n in 0..HEADER_LEN {
            assert_eq!(Packet::new_checked(&b[..n]).err(), Some(Error::Truncated));
        }
        // Cutting the data breaks the checksum rather than passing silently.
        for n in HEADER_LEN..b.len() {
            let p = Packet::new_checked(&b[..n]).unwrap();
            assert_eq!(Repr::parse(&p), Err(Error::Checksum), "len {n}");
        }
    }

    #[test]
    fn bad_checksum_and_other_types() {
        let mut b = request_bytes();
        b[11] ^= 1;
        assert_eq!(
            Repr::parse(&Packet::new_checked(&b[..]).unwrap()),
            Err(Error::Checksum)
        );
        let mut b = request_bytes();
        b[0] = 3; // destination unreachable: checksum still right after the adjustment below
        b[2..4].copy_from_slice(&[0, 0]);
        let c = checksum::of(&b);
        b[2..4].copy_from_slice(&c.to_be_bytes());
        assert_eq!(
            Repr::parse(&Packet::new_checked(&b[..]).unwrap()),
            Err(Error::Unsupported)
        );
    }

    #[test]
    fn fragmentation_needed_round_trip() {
        let original = [0x45u8, 0, 5, 0xdc, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
        let r = Repr::FragmentationNeeded {
            mtu: 1400,
            original: &original,
        };
        let mut b = [0u8; 22];
        assert_eq!(r.emit(&mut b), Ok(22));
        assert_eq!(&b[..2], &[3, 4]);
        assert_eq!(&b[6..8], &1400u16.to_be_bytes());
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!(Repr::parse(&p), Ok(r));
        assert_eq!(r.reply(), None);
        // Any other code of destination unreachable is not handled.
        for code in (0..=255).filter(|&c| c != 4) {
            let mut c = b;
            c[1] = code;
            c[2..4].copy_from_slice(&[0, 0]);
            let sum = checksum::of(&c);
            c[2..4].copy_from_slice(&sum.to_be_bytes());
            let p = Packet::new_checked(&c[..]).unwrap();
            assert_eq!(Repr::parse(&p), Err(Error::Unsupported), "code {code}");
        }
    }

    #[test]
    fn emit_into_small_buffer_fails() {
        let r = Repr::EchoReply {
            ident: 1,
            seq: 1,
            data: &[0; 10],
        };
        assert_eq!(r.emit(&mut [0u8; 17]), Err(Error::BufferTooSmall));
    }
}

//! ARP for IPv4 over Ethernet (RFC 826), the only kind GigaHttpd speaks.

use super::ethernet::Address as EthernetAddress;
use super::field;
use super::ipv4::Address as Ipv4Address;
use super::{Error, Result};

/// Length of an Ethernet/IPv4 ARP packet.
pub const PACKET_LEN: usize = 28;

mod at {
    pub const HTYPE: usize = 0;
    pub const PTYPE: usize = 2;
    pub const HLEN: usize = 4;
    pub const PLEN: usize = 5;
    pub const OPER: usize = 6;
    pub const SHA: usize = 8;
    pub const SPA: usize = 14;
    pub const THA: usize = 18;
    pub const TPA: usize = 24;
}

const HTYPE_ETHERNET: u16 = 1;
const PTYPE_IPV4: u16 = 0x0800;

/// ARP operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    /// Who has `target_ip`?
    Request,
    /// `source_ip` is at `source_hw`.
    Reply,
}

/// A view of an ARP packet.
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without checking it.
    pub fn new_unchecked(buffer: T) -> Self {
        Packet { buffer }
    }

    /// Wraps a buffer that must hold a whole Ethernet/IPv4 ARP packet.
    pub fn new_checked(buffer: T) -> Result<Self> {
        if buffer.as_ref().len() < PACKET_LEN {
            return Err(Error::Truncated);
        }
        Ok(Packet { buffer })
    }

    /// Hardware type (1 = Ethernet).
    pub fn hardware_type(&self) -> u16 {
        field::u16_at(self.buffer.as_ref(), at::HTYPE)
    }

    /// Protocol type (0x0800 = IPv4).
    pub fn protocol_type(&self) -> u16 {
        field::u16_at(self.buffer.as_ref(), at::PTYPE)
    }

    /// Hardware address length.
    pub fn hardware_len(&self) -> u8 {
        field::u8_at(self.buffer.as_ref(), at::HLEN)
    }

    /// Protocol address length.
    pub fn protocol_len(&self) -> u8 {
        field::u8_at(self.buffer.as_ref(), at::PLEN)
    }

    /// Raw operation code.
    pub fn operation(&self) -> u16 {
        field::u16_at(self.buffer.as_ref(), at::OPER)
    }

    /// Sender hardware address.
    pub fn source_hw(&self) -> EthernetAddress {
        EthernetAddress(field::array_at(self.buffer.as_ref(), at::SHA))
    }

    /// Sender protocol address.
    pub fn source_ip(&self) -> Ipv4Address {
        Ipv4Address(field::array_at(self.buffer.as_ref(), at::SPA))
    }

    /// Target hardware address.
    pub fn target_hw(&self) -> EthernetAddress {
        EthernetAddress(field::array_at(self.buffer.as_ref(), at::THA))
    }

    /// Target protocol address.
    pub fn target_ip(&self) -> Ipv4Address {
        Ipv4Address(field::array_at(self.buffer.as_ref(), at::TPA))
    }
}

/// The meaning of an Ethernet/IPv4 ARP packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Repr {
    /// Request or reply.
    pub operation: Operation,
    /// Sender hardware address.
    pub source_hw: EthernetAddress,
    /// Sender IPv4 address.
    pub source_ip: Ipv4Address,
    /// Target hardware address (zero in requests).
    pub target_hw: EthernetAddress,
    /// Target IPv4 address.
    pub target_ip: Ipv4Address,
}

impl Repr {
    /// Validates a checked packet: Ethernet/IPv4 with the right address lengths only.
    pub fn parse<T: AsRef<[u8]>>(p: &Packet<T>) -> Result<Repr> {
        if p.hardware_type() != HTYPE_ETHERNET
            || p.protocol_type() != PTYPE_IPV4
            || p.hardware_len() != 6
            || p.protocol_len() != 4
        {
            return Err(Error::Unsupported);
        }
        let operation = match p.operation() {
            1 => Operation::Request,
            2 => Operation::Reply,
            _ => return Err(Error::Unsupported),
        };
        Ok(Repr {
            operation,
            source_hw: p.source_hw(),
            source_ip: p.source_ip(),
            target_hw: p.target_hw(),
            target_ip: p.target_ip(),
        })
    }

    /// The reply that answers this request for `our_hw`.
    pub fn reply_from(&self, our_hw: EthernetAddress) -> Repr {
        Repr {
            operation: Operation::Reply,
            source_hw: our_hw,
            source_ip: self.target_ip,
            target_hw: self.source_hw,
            target_ip: self.source_ip,
        }
    }

    /// Writes the packet at the start of `buf`; returns its length.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let out = buf.get_mut(..PACKET_LEN).ok_or(Error::BufferTooSmall)?;
        field::set_u16(out, at::HTYPE, HTYPE_ETHERNET);
        field::set_u16(out, at::PTYPE, PTYPE_IPV4);
        field::set_u8(out, at::HLEN, 6);
        field::set_u8(out, at::PLEN, 4);
        let op = match self.operation {
            Operation::Request => 1,
            Operation::Reply => 2,
        };
        field::set_u16(out, at::OPER, op);
        field::set_bytes(out, at::SHA, &self.source_hw.0);
        field::set_bytes(out, at::SPA, &self.source_ip.0);
        field::set_bytes(out, at::THA, &self.target_hw.0);
        field::set_bytes(out, at::TPA, &self.target_ip.0);
        Ok(PACKET_LEN)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn request() -> Repr {
        Repr {
            operation: Operation::Request,
            source_hw: EthernetAddress([2, 0, 0, 0, 0, 1]),
            source_ip: Ipv4Address([10, 0, 0, 1]),
            target_hw: EthernetAddress([0; 6]),
            target_ip: Ipv4Address([10, 0, 0, 2]),
        }
    }

    #[test]
    fn round_trip() {
        let mut buf = [0u8; 42];
        assert_eq!(request().emit(&mut buf), Ok(PACKET_LEN));
        let p = Packet::new_checked(&buf[..]).unwrap();
        assert_eq!(Repr::parse(&p), Ok(request()));
        assert_eq!(&buf[..8], &[0, 1, 8, 0, 6, 4, 0, 1]);
    }

    #[test]
    fn truncated_at_every_length() {
        let mut buf = [0u8; PACKET_LEN];
        request().emit(&mut buf).unwrap();
        for n in 0..PACKET_LEN {
            assert_eq!(Packet::new_checked(&buf[..n]).err(), Some(Error::Truncated));
            assert_eq!(
                request().emit(&mut [0u8; PACKET_LEN][..n]),
                Err(Error::BufferTooSmall)
            );
        }
    }

    #[test]
    fn other_kinds_are_unsupported() {
        let mut buf = [0u8; PACKET_LEN];
        request().emit(&mut buf).unwrap();
        for (at, v) in [(1, 6u8), (2, 0x86), (4, 8), (5, 16), (7, 3)] {
            let mut bad = buf;
            bad[at] = v;
            let p = Packet::new_checked(&bad[..]).unwrap();
            assert_eq!(Repr::parse(&p), Err(Error::Unsupported), "byte {at}");
        }
    }

    #[test]
    fn reply_swaps_addresses() {
        let ours = EthernetAddress([2, 0, 0, 0, 0, 2]);
        let r = request().reply_from(ours);
        assert_eq!(r.operation, Operation::Reply);
        assert_eq!(r.source_hw, ours);
        assert_eq!(r.source_ip, Ipv4Address([10, 0, 0, 2]));
        assert_eq!(r.target_hw, EthernetAddress([2, 0, 0, 0, 0, 1]));
        assert_eq!(r.target_ip, Ipv4Address([10, 0, 0, 1]));
    }
}

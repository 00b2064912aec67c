//! Ethernet II frames.

use super::field;
use super::{Error, Result};

/// A 48-bit Ethernet hardware address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Address(pub [u8; 6]);

impl Address {
    /// The broadcast address `ff:ff:ff:ff:ff:ff`.
    pub const BROADCAST: Address = Address([0xff; 6]);

    /// True for the broadcast address.
    pub fn is_broadcast(&self) -> bool {
        *self == Self::BROADCAST
    }

    /// True for group (multicast or broadcast) addresses: low bit of the first octet.
    pub fn is_multicast(&self) -> bool {
        self.0[0] & 1 == 1
    }

    /// True for an address a NIC may own: not a group address, not all zeroes.
    pub fn is_unicast(&self) -> bool {
        !self.is_multicast() && self.0 != [0; 6]
    }
}

/// The EtherType values GigaHttpd handles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EtherType {
    /// IPv4, 0x0800.
    Ipv4,
    /// ARP, 0x0806.
    Arp,
    /// Anything else, kept so it can be counted.
    Unknown(u16),
}

impl From<u16> for EtherType {
    fn from(v: u16) -> Self {
        match v {
            0x0800 => EtherType::Ipv4,
            0x0806 => EtherType::Arp,
            other => EtherType::Unknown(other),
        }
    }
}

impl From<EtherType> for u16 {
    fn from(t: EtherType) -> u16 {
        match t {
            EtherType::Ipv4 => 0x0800,
            EtherType::Arp => 0x0806,
            EtherType::Unknown(v) => v,
        }
    }
}

/// Length of the Ethernet II header (no 802.1Q tag).
pub const HEADER_LEN: usize = 14;

mod at {
    pub const DST: usize = 0;
    pub const SRC: usize = 6;
    pub const ETHERTYPE: usize = 12;
}

/// A view of an Ethernet II frame.
#[derive(Debug, Clone)]
pub struct Frame<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Frame<T> {
    /// Wraps a buffer without checking it.
    pub fn new_unchecked(buffer: T) -> Self {
        Frame { buffer }
    }

    /// Wraps a buffer that must hold at least the header.
    pub fn new_checked(buffer: T) -> Result<Self> {
        if buffer.as_ref().len() < HEADER_LEN {
            return Err(Error::Truncated);
        }
        Ok(Frame { buffer })
    }

    /// Gives the buffer back.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// Destination address.
    pub fn dst(&self) -> Address {
        Address(field::array_at(self.buffer.as_ref(), at::DST))
    }

    /// Source address.
    pub fn src(&self) -> Address {
        Address(field::array_at(self.buffer.as_ref(), at::SRC))
    }

    /// EtherType.
    pub fn ethertype(&self) -> EtherType {
        EtherType::from(field::u16_at(self.buffer.as_ref(), at::ETHERTYPE))
    }

    /// Bytes after the header (empty if the frame is shorter than a header).
    pub fn payload(&self) -> &[u8] {
        self.buffer.as_ref().get(HEADER_LEN..).unwrap_or(&[])
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Frame<T> {
    /// Sets the destination address.
    pub fn set_dst(&mut self, a: Address) {
        field::set_bytes(self.buffer.as_mut(), at::DST, &a.0);
    }

    /// Sets the source address.
    pub fn set_src(&mut self, a: Address) {
        field::set_bytes(self.buffer.as_mut(), at::SRC, &a.0);
    }

    /// Sets the EtherType.
    pub fn set_ethertype(&mut self, t: EtherType) {
        field::set_u16(self.buffer.as_mut(), at::ETHERTYPE, t.into());
    }

    /// Mutable bytes after the header.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        self.buffer
            .as_mut()
            .get_mut(HEADER_LEN..)
            .unwrap_or(&mut [])
    }
}

/// The meaning of an Ethernet II header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Repr {
    /// Sender.
    pub src: Address,
    /// Receiver.
    pub dst: Address,
    /// What the payload is.
    pub ethertype: EtherType,
}

impl Repr {
    /// Reads the header of a checked frame.
    pub fn parse<T: AsRef<[u8]>>(frame: &Frame<T>) -> Repr {
        Repr {
            src: frame.src(),
            dst: frame.dst(),
            ethertype: frame.ethertype(),
        }
    }

    /// Writes the header at the start of `buf`; returns the header length.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        if buf.len() < HEADER_LEN {
            return Err(Error::BufferTooSmall);
        }
        let mut f = Frame::new_unchecked(buf);
        f.set_dst(self.dst);
        f.set_src(self.src);
        f.set_ethertype(self.ethertype);
        Ok(HEADER_LEN)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    const FRAME: [u8; 18] = [
        1, 2, 3, 4, 5, 6, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x08, 0x00, 0xaa, 0xbb, 0xcc, 0xdd,
    ];

    #[test]
    fn parses_fields() {
        let f = Frame::new_checked(&FRAME[..]).unwrap();
        assert_eq!(f.dst(), Address([1, 2, 3, 4, 5, 6]));
        assert_eq!(f.src(), Address([0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f]));
        assert_eq!(f.ethertype(), EtherType::Ipv4);
        assert_eq!(f.payload(), &[0xaa, 0xbb, 0xcc, 0xdd]);
    }

    #[test]
    fn truncated_at_every_length() {
        for n in 0..HEADER_LEN {
            assert_eq!(
                Frame::new_checked(&FRAME[..n]).err(),
                Some(Error::Truncated)
            );
        }
        assert!(Frame::new_checked(&FRAME[..HEADER_LEN]).is_ok());
    }

    #[test]
    fn unchecked_short_buffer_reads_zero_not_panic() {
        let f = Frame::new_unchecked(&FRAME[..3]);
        assert_eq!(f.ethertype(), EtherType::Unknown(0));
        assert_eq!(f.payload(), &[] as &[u8]);
    }

    #[test]
    fn round_trip() {
        let repr = Repr::parse(&Frame::new_checked(&FRAME[..]).unwrap());
        let mut out = [0u8; 18];
        assert_eq!(repr.emit(&mut out), Ok(HEADER_LEN));
        assert_eq!(out[..HEADER_LEN], FRAME[..HEADER_LEN]);
        assert_eq!(repr.emit(&mut out[..13]), Err(Error::BufferTooSmall));
    }

    #[test]
    fn ethertypes_and_address_kinds() {
        assert_eq!(EtherType::from(0x0806), EtherType::Arp);
        assert_eq!(u16::from(EtherType::Unknown(0x86dd)), 0x86dd);
        assert!(Address::BROADCAST.is_broadcast());
        assert!(Address::BROADCAST.is_multicast());
        assert!(Address([2, 0, 0, 0, 0, 1]).is_unicast());
        assert!(!Address([0; 6]).is_unicast());
        assert!(!Address([1, 0, 0x5e, 0, 0, 1]).is_unicast());
    }
}

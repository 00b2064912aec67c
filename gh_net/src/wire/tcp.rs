//! TCP segments (RFC 9293 section 3.1): header, options, checksum over the IPv4 pseudo-header.

use core::cmp::Ordering;

use super::super::checksum;
use super::field;
use super::ipv4::Address as Ipv4Address;
use super::{Error, Result};

/// A TCP sequence number: arithmetic and ordering are modulo 2^32.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Hash)]
pub struct SeqNumber(pub u32);

impl SeqNumber {
    /// `self + n` modulo 2^32.
    pub fn wrapping_add(self, n: u32) -> SeqNumber {
        SeqNumber(self.0.wrapping_add(n))
    }

    /// Distance from `earlier` to `self`, modulo 2^32.
    pub fn since(self, earlier: SeqNumber) -> u32 {
        self.0.wrapping_sub(earlier.0)
    }

    /// Comparison valid while the two numbers are less than 2^31 apart.
    pub fn cmp_seq(self, other: SeqNumber) -> Ordering {
        (self.0.wrapping_sub(other.0) as i32).cmp(&0)
    }

    /// `self < other` in sequence space.
    pub fn lt(self, other: SeqNumber) -> bool {
        self.cmp_seq(other) == Ordering::Less
    }

    /// `self <= other` in sequence space.
    pub fn le(self, other: SeqNumber) -> bool {
        self.cmp_seq(other) != Ordering::Greater
    }

    /// True if `lo <= self < lo + len` in sequence space.
    pub fn in_window(self, lo: SeqNumber, len: u32) -> bool {
        self.since(lo) < len
    }
}

/// TCP flags (the low 8 bits of the flags field; NS is ignored).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Flags(pub u8);

impl Flags {
    /// No more data from sender.
    pub const FIN: Flags = Flags(0x01);
    /// Synchronize sequence numbers.
    pub const SYN: Flags = Flags(0x02);
    /// Reset the connection.
    pub const RST: Flags = Flags(0x04);
    /// Push function.
    pub const PSH: Flags = Flags(0x08);
    /// Acknowledgment field is significant.
    pub const ACK: Flags = Flags(0x10);
    /// Urgent pointer field is significant.
    pub const URG: Flags = Flags(0x20);

    /// True if every flag of `other` is set.
    pub fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }

    /// Union of flags.
    pub fn with(self, other: Flags) -> Flags {
        Flags(self.0 | other.0)
    }

    /// Sequence space taken by the control flags (SYN and FIN count one each).
    pub fn seq_len(self) -> u32 {
        u32::from(self.contains(Flags::SYN)) + u32::from(self.contains(Flags::FIN))
    }
}

/// Length of a header without options.
pub const HEADER_LEN: usize = 20;
/// Longest header: data offset 15 words.
pub const MAX_HEADER_LEN: usize = 60;

mod at {
    pub const SRC_PORT: usize = 0;
    pub const DST_PORT: usize = 2;
    pub const SEQ: usize = 4;
    pub const ACK: usize = 8;
    pub const OFFSET: usize = 12;
    pub const FLAGS: usize = 13;
    pub const WINDOW: usize = 14;
    pub const CHECKSUM: usize = 16;
    pub const URGENT: usize = 18;
}

mod kind {
    pub const END: u8 = 0;
    pub const NOP: u8 = 1;
    pub const MSS: u8 = 2;
    pub const WINDOW_SCALE: u8 = 3;
    pub const SACK_PERMITTED: u8 = 4;
    pub const TIMESTAMPS: u8 = 8;
}

/// The options GigaHttpd reads from a segment; others are skipped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Options {
    /// Maximum segment size the peer can receive (SYN only).
    pub mss: Option<u16>,
    /// Peer's window scale shift (SYN only).
    pub window_scale: Option<u8>,
    /// Peer allows SACK.
    pub sack_permitted: bool,
}

impl Options {
    /// Parses the option bytes between the fixed header and the data offset.
    ///
    /// Rejects an option whose length byte is missing, below 2, runs past the header, or
    /// does not match the fixed length of a known option.
    pub fn parse(mut bytes: &[u8]) -> Result<Options> {
        let mut opts = Options::default();
        while let Some((&k, rest)) = bytes.split_first() {
            match k {
                kind::END => break,
                kind::NOP => {
                    bytes = rest;
                    continue;
                }
                _ => {}
            }
            let len = usize::from(*rest.first().ok_or(Error::Malformed)?);
            if len < 2 {
                return Err(Error::Malformed);
            }
            let body = bytes.get(2..len).ok_or(Error::Malformed)?;
            let expected = match k {
                kind::MSS => Some(4),
                kind::WINDOW_SCALE => Some(3),
                kind::SACK_PERMITTED => Some(2),
                kind::TIMESTAMPS => Some(10),
                _ => None,
            };
            if expected.is_some_and(|e| e != len) {
                return Err(Error::Malformed);
            }
            match (k, body) {
                (kind::MSS, &[hi, lo]) => opts.mss = Some(u16::from_be_bytes([hi, lo])),
                (kind::WINDOW_SCALE, &[shift]) => opts.window_scale = Some(shift),
                (kind::SACK_PERMITTED, _) => opts.sack_permitted = true,
                _ => {}
            }
            bytes = bytes.get(len..).unwrap_or(&[]);
        }
        Ok(opts)
    }
}

/// A view of a TCP segment.
#[derive(Debug, Clone)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without checking it.
    pub fn new_unchecked(buffer: T) -> Self {
        Packet { buffer }
    }

    /// Wraps a buffer (exactly the IPv4 payload) after checking the data offset against it.
    pub fn new_checked(buffer: T) -> Result<Self> {
        let p = Packet { buffer };
        let len = p.buffer.as_ref().len();
        if len < HEADER_LEN {
            return Err(Error::Truncated);
        }
        let hl = p.header_len();
        if hl < HEADER_LEN {
            return Err(Error::Malformed);
        }
        if len < hl {
            return Err(Error::Truncated);
        }
        Ok(p)
    }

    /// Source port.
    pub fn src_port(&self) -> u16 {
        field::u16_at(self.buffer.as_ref(), at::SRC_PORT)
    }

    /// Destination port.
    pub fn dst_port(&self) -> u16 {
        field::u16_at(self.buffer.as_ref(), at::DST_PORT)
    }

    /// Sequence number.
    pub fn seq(&self) -> SeqNumber {
        SeqNumber(field::u32_at(self.buffer.as_ref(), at::SEQ))
    }

    /// Acknowledgment number (meaningful with ACK).
    pub fn ack(&self) -> SeqNumber {
        SeqNumber(field::u32_at(self.buffer.as_ref(), at::ACK))
    }

    /// Header length in bytes, from the data offset.
    pub fn header_len(&self) -> usize {
        usize::from(field::u8_at(self.buffer.as_ref(), at::OFFSET) >> 4) * 4
    }

    /// Flags.
    pub fn flags(&self) -> Flags {
        Flags(field::u8_at(self.buffer.as_ref(), at::FLAGS))
    }

    /// Receive window (unscaled).
    pub fn window(&self) -> u16 {
        field::u16_at(self.buffer.as_ref(), at::WINDOW)
    }

    /// Checksum field.
    pub fn checksum(&self) -> u16 {
        field::u16_at(self.buffer.as_ref(), at::CHECKSUM)
    }

    /// Urgent pointer.
    pub fn urgent(&self) -> u16 {
        field::u16_at(self.buffer.as_ref(), at::URGENT)
    }

    /// Option bytes.
    pub fn options(&self) -> &[u8] {
        self.buffer
            .as_ref()
            .get(HEADER_LEN..self.header_len())
            .unwrap_or(&[])
    }

    /// Data bytes.
    pub fn payload(&self) -> &[u8] {
        self.buffer.as_ref().get(self.header_len()..).unwrap_or(&[])
    }

    /// True if the checksum over pseudo-header and segment verifies.
    pub fn verify_checksum(&self, src: Ipv4Address, dst: Ipv4Address) -> bool {
        let b = self.buffer.as_ref();
        let Ok(len) = u16::try_from(b.len()) else {
            return false;
        };
        let sum = checksum::pseudo_header(src.0, dst.0, 6, len);
        checksum::finish(checksum::add(sum, b)) == 0
    }
}

/// The meaning of a TCP segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Repr<'a> {
    /// Source port.
    pub src_port: u16,
    /// Destination port.
    pub dst_port: u16,
    /// Sequence number.
    pub seq: SeqNumber,
    /// Acknowledgment number, if the ACK flag is set.
    pub ack: Option<SeqNumber>,
    /// Flags other than ACK (ACK is implied by `ack`).
    pub flags: Flags,
    /// Receive window (unscaled).
    pub window: u16,
    /// Options read or to be written.
    pub options: Options,
    /// Data.
    pub payload: &'a [u8],
}

impl<'a> Repr<'a> {
    /// Validates a checked segment between `src` and `dst`: checksum, ports, options.
    pub fn parse(p: &Packet<&'a [u8]>, src: Ipv4Address, dst: Ipv4Address) -> Result<Repr<'a>> {
        if !p.verify_checksum(src, dst) {
            return Err(Error::Checksum);
        }
        if p.src_port() == 0 || p.dst_port() == 0 {
            return Err(Error::Malformed);
        }
        let buffer: &'a [u8] = p.buffer;
        let hl = p.header_len();
        let options = Options::parse(buffer.get(HEADER_LEN..hl).unwrap_or(&[]))?;
        let flags = p.flags();
        Ok(Repr {
            src_port: p.src_port(),
            dst_port: p.dst_port(),
            seq: p.seq(),
            ack: flags.contains(Flags::ACK).then(|| p.ack()),
            flags: Flags(flags.0 & !Flags::ACK.0),
            window: p.window(),
            options,
            payload: buffer.get(hl..).unwrap_or(&[]),
        })
    }

    /// Sequence space this segment takes: data plus SYN and FIN.
    pub fn seq_len(&self) -> u32 {
        u32::try_from(self.payload.len())
            .unwrap_or(u32::MAX)
            .saturating_add(self.flags.seq_len())
    }

    /// Length of the header this writes (GigaHttpd writes only the MSS option).
    pub fn header_len(&self) -> usize {
        if self.options.mss.is_some() {
            HEADER_LEN + 4
        } else {
            HEADER_LEN
        }
    }

    /// Length of the segment this writes.
    pub fn buffer_len(&self) -> usize {
        self.header_len().saturating_add(self.payload.len())
    }

    /// Writes header, MSS option, data (copied once) and checksum; returns the length.
    pub fn emit(&self, buf: &mut [u8], src: Ipv4Address, dst: Ipv4Address) -> Result<usize> {
        let payload = self.payload;
        self.emit_with(buf, src, dst, payload.len(), |out| {
            super::super::bytes::copy(out, payload)
        })
    }

    /// Like [`Repr::emit`], but the `payload_len` data bytes are written by `fill` straight
    /// into the segment (`self.payload` is not used): a response assembled from several
    /// places is copied once, into the frame.
    pub fn emit_with(
        &self,
        buf: &mut [u8],
        src: Ipv4Address,
        dst: Ipv4Address,
        payload_len: usize,
        fill: impl FnOnce(&mut [u8]),
    ) -> Result<usize> {
        let hl = self.header_len();
        let len = hl.saturating_add(payload_len);
        let len16 = u16::try_from(len).map_err(|_| Error::Malformed)?;
        let out = buf.get_mut(..len).ok_or(Error::BufferTooSmall)?;
        field::set_u16(out, at::SRC_PORT, self.src_port);
        field::set_u16(out, at::DST_PORT, self.dst_port);
        field::set_u32(out, at::SEQ, self.seq.0);
        field::set_u32(out, at::ACK, self.ack.map_or(0, |a| a.0));
        // `hl` is 20 or 24: the data offset fits in four bits.
        field::set_u8(out, at::OFFSET, ((hl / 4) as u8) << 4);
        let flags = match self.ack {
            Some(_) => self.flags.with(Flags::ACK),
            None => self.flags,
        };
        field::set_u8(out, at::FLAGS, flags.0);
        field::set_u16(out, at::WINDOW, self.window);
        field::set_u16(out, at::CHECKSUM, 0);
        field::set_u16(out, at::URGENT, 0);
        if let Some(mss) = self.options.mss {
            field::set_u8(out, HEADER_LEN, kind::MSS);
            field::set_u8(out, HEADER_LEN + 1, 4);
            field::set_u16(out, HEADER_LEN + 2, mss);
        }
        if let Some(data) = out.get_mut(hl..) {
            fill(data);
        }
        let sum = checksum::pseudo_header(src.0, dst.0, 6, len16);
        let c = checksum::finish(checksum::add(sum, out));
        field::set_u16(out, at::CHECKSUM, c);
        Ok(len)
    }
}

/// What the TCP layer reads of a received segment: a [`Repr`], or the header left in
/// place in the frame ([`InPlace`]), which the receive path hands on without first
/// decoding every field into a `Repr`.
pub trait Incoming<'a> {
    /// Source port.
    fn src_port(&self) -> u16;
    /// Destination port.
    fn dst_port(&self) -> u16;
    /// Sequence number.
    fn seq(&self) -> SeqNumber;
    /// Acknowledgment number, if the ACK flag is set.
    fn ack(&self) -> Option<SeqNumber>;
    /// Flags other than ACK.
    fn flags(&self) -> Flags;
    /// Receive window (unscaled).
    fn window(&self) -> u16;
    /// The MSS option.
    fn mss(&self) -> Option<u16>;
    /// Data.
    fn payload(&self) -> &'a [u8];
    /// Sequence space this segment takes: data plus SYN and FIN.
    #[inline(always)]
    fn seq_len(&self) -> u32 {
        u32::try_from(self.payload().len())
            .unwrap_or(u32::MAX)
            .saturating_add(self.flags().seq_len())
    }
}

impl<'a> Incoming<'a> for Repr<'a> {
    #[inline(always)]
    fn src_port(&self) -> u16 {
        self.src_port
    }
    #[inline(always)]
    fn dst_port(&self) -> u16 {
        self.dst_port
    }
    #[inline(always)]
    fn seq(&self) -> SeqNumber {
        self.seq
    }
    #[inline(always)]
    fn ack(&self) -> Option<SeqNumber> {
        self.ack
    }
    #[inline(always)]
    fn flags(&self) -> Flags {
        self.flags
    }
    #[inline(always)]
    fn window(&self) -> u16 {
        self.window
    }
    #[inline(always)]
    fn mss(&self) -> Option<u16> {
        self.options.mss
    }
    #[inline(always)]
    fn payload(&self) -> &'a [u8] {
        self.payload
    }
}

/// A validated segment whose fixed header and options are read where they lie in the
/// frame, as the TCP layer asks for them (the options only for a SYN).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InPlace<'a> {
    header: &'a [u8; HEADER_LEN],
    options: &'a [u8],
    payload: &'a [u8],
}

impl<'a> InPlace<'a> {
    /// A segment of a checked packet: `header` its first bytes, `options` the option
    /// bytes, which [`Options::parse`] accepts, and `payload` its data.
    #[inline(always)]
    pub fn new(header: &'a [u8; HEADER_LEN], options: &'a [u8], payload: &'a [u8]) -> Self {
        InPlace {
            header,
            options,
            payload,
        }
    }

    /// The options.
    pub fn options(&self) -> Options {
        match *self.options {
            [] => Options::default(),
            _ => Options::parse(self.options).unwrap_or_default(),
        }
    }

    /// The same segment decoded.
    pub fn repr(&self) -> Repr<'a> {
        Repr {
            src_port: self.src_port(),
            dst_port: self.dst_port(),
            seq: self.seq(),
            ack: self.ack(),
            flags: self.flags(),
            window: self.window(),
            options: self.options(),
            payload: self.payload,
        }
    }

    #[inline(always)]
    fn be16<const AT: usize>(&self) -> u16 {
        match self.header.get(AT..AT + 2) {
            Some(&[a, b]) => u16::from_be_bytes([a, b]),
            _ => 0,
        }
    }

    #[inline(always)]
    fn be32<const AT: usize>(&self) -> u32 {
        match self.header.get(AT..AT + 4) {
            Some(&[a, b, c, d]) => u32::from_be_bytes([a, b, c, d]),
            _ => 0,
        }
    }

    #[inline(always)]
    fn all_flags(&self) -> u8 {
        self.header.get(at::FLAGS).copied().unwrap_or(0)
    }
}

impl<'a> Incoming<'a> for InPlace<'a> {
    #[inline(always)]
    fn src_port(&self) -> u16 {
        self.be16::<{ at::SRC_PORT }>()
    }
    #[inline(always)]
    fn dst_port(&self) -> u16 {
        self.be16::<{ at::DST_PORT }>()
    }
    #[inline(always)]
    fn seq(&self) -> SeqNumber {
        SeqNumber(self.be32::<{ at::SEQ }>())
    }
    #[inline(always)]
    fn ack(&self) -> Option<SeqNumber> {
        (self.all_flags() & Flags::ACK.0 != 0).then(|| SeqNumber(self.be32::<{ at::ACK }>()))
    }
    #[inline(always)]
    fn flags(&self) -> Flags {
        Flags(self.all_flags() & !Flags::ACK.0)
    }
    #[inline(always)]
    fn window(&self) -> u16 {
        self.be16::<{ at::WINDOW }>()
    }
    #[inline]
    fn mss(&self) -> Option<u16> {
        match *self.options {
            [] => None,
            // A SYN's usual MSS option alone.
            [2, 4, hi, lo] => Some(u16::from_be_bytes([hi, lo])),
            _ => self.options().mss,
        }
    }
    #[inline(always)]
    fn payload(&self) -> &'a [u8] {
        self.payload
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    const SRC: Ipv4Address = Ipv4Address([10, 0, 0, 1]);
    const DST: Ipv4Address = Ipv4Address([10, 0, 0, 2]);

    fn syn() -> Repr<'static> {
        Repr {
            src_port: 40000,
            dst_port: 80,
            seq: SeqNumber(0xffff_fff0),
            ack: None,
            flags: Flags::SYN,
            window: 1024,
            options: Options {
                mss: Some(1460),
                ..Options::default()
            },
            payload: &[],
        }
    }

    fn data() -> Repr<'static> {
        Repr {
            flags: Flags::PSH,
            ack: Some(SeqNumber(77)),
            options: Options::default(),
            payload: b"GET / HTTP/1.1\r\n\r\n",
            ..syn()
        }
    }

    /// A segment with hand-made options after the fixed header, checksum filled.
    fn with_options(opts: &[u8]) -> std::vec::Vec<u8> {
        let mut b = std::vec![0u8; HEADER_LEN];
        let r = Repr {
            payload: &[],
            ..data()
        };
        r.emit(&mut b, SRC, DST).unwrap();
        b.extend_from_slice(opts);
        b[12] = (((HEADER_LEN + opts.len()) / 4) as u8) << 4;
        b[16] = 0;
        b[17] = 0;
        let len = b.len() as u16;
        let c = checksum::finish(checksum::add(
            checksum::pseudo_header(SRC.0, DST.0, 6, len),
            &b,
        ));
        b[16..18].copy_from_slice(&c.to_be_bytes());
        b
    }

    extern crate std;

    #[test]
    fn round_trip_syn_with_mss() {
        let mut b = [0u8; 64];
        let n = syn().emit(&mut b, SRC, DST).unwrap();
        assert_eq!(n, 24);
        let p = Packet::new_checked(&b[..n]).unwrap();
        assert_eq!(p.header_len(), 24);
        assert_eq!(Repr::parse(&p, SRC, DST), Ok(syn()));
        assert_eq!(syn().seq_len(), 1);
    }

    #[test]
    fn round_trip_data() {
        let mut b = [0u8; 64];
        let n = data().emit(&mut b, SRC, DST).unwrap();
        let p = Packet::new_checked(&b[..n]).unwrap();
        assert!(p.flags().contains(Flags::ACK));
        let r = Repr::parse(&p, SRC, DST).unwrap();
        assert_eq!(r, data());
        assert_eq!(r.seq_len(), 18);
    }

    #[test]
    fn truncated_at_every_length() {
        let mut b = [0u8; 64];
        let n = syn().emit(&mut b, SRC, DST).unwrap();
        for len in 0..24 {
            assert_eq!(
                Packet::new_checked(&b[..len]).err(),
                Some(Error::Truncated),
                "{len}"
            );
        }
        // Cutting data changes the checksum.
        let n2 = data().emit(&mut b, SRC, DST).unwrap();
        for len in HEADER_LEN..n2 {
            let p = Packet::new_checked(&b[..len]).unwrap();
            assert_eq!(Repr::parse(&p, SRC, DST), Err(Error::Checksum));
        }
        assert!(n < n2);
    }

    #[test]
    fn bad_checksum_and_wrong_addresses() {
        let mut b = [0u8; 64];
        let n = data().emit(&mut b, SRC, DST).unwrap();
        let p = Packet::new_checked(&b[..n]).unwrap();
        assert_eq!(
            Repr::parse(&p, DST, SRC).ok(),
            Some(Repr::parse(&p, SRC, DST).unwrap())
        );
        assert_eq!(
            Repr::parse(&p, SRC, Ipv4Address([10, 0, 0, 3])),
            Err(Error::Checksum)
        );
        b[25] ^= 0x40;
        let p = Packet::new_checked(&b[..n]).unwrap();
        assert_eq!(Repr::parse(&p, SRC, DST), Err(Error::Checksum));
    }

    #[test]
    fn bad_data_offset() {
        let mut b = [0u8; 64];
        let n = data().emit(&mut b, SRC, DST).unwrap();
        b[12] = 4 << 4;
        assert_eq!(Packet::new_checked(&b[..n]).err(), Some(Error::Malformed));
        b[12] = 15 << 4;
        assert_eq!(Packet::new_checked(&b[..n]).err(), Some(Error::Truncated));
    }

    #[test]
    fn zero_port_rejected() {
        let r = Repr {
            src_port: 0,
            ..data()
        };
        let mut b = [0u8; 64];
        let n = r.emit(&mut b, SRC, DST).unwrap();
        let p = Packet::new_checked(&b[..n]).unwrap();
        assert_eq!(Repr::parse(&p, SRC, DST), Err(Error::Malformed));
    }

    #[test]
    fn linux_syn_options_parse() {
        // MSS 1460, SACK permitted, timestamps, NOP, window scale 7: what Linux sends.
        let opts = [
            2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7,
        ];
        let b = with_options(&opts);
        let p = Packet::new_checked(&b[..]).unwrap();
        let r = Repr::parse(&p, SRC, DST).unwrap();
        assert_eq!(
            r.options,
            Options {
                mss: Some(1460),
                window_scale: Some(7),
                sack_permitted: true
            }
        );
        assert_eq!(r.payload, &[] as &[u8]);
    }

    #[test]
    fn unknown_and_end_options() {
        assert_eq!(
            Options::parse(&[1, 1, 30, 3, 9, 0, 2]),
            Ok(Options::default()),
            "unknown kind skipped, END stops before the broken MSS"
        );
        assert_eq!(Options::parse(&[]), Ok(Options::default()));
    }

    #[test]
    fn malformed_options_rejected() {
        for opts in [
            &[2u8][..],          // kind without length
            &[2, 0],             // length below 2
            &[2, 1],             // length below 2
            &[2, 4, 5],          // runs past the end
            &[2, 3, 5],          // MSS of wrong length
            &[3, 4, 7, 0],       // window scale of wrong length
            &[4, 3, 0],          // SACK-permitted of wrong length
            &[8, 6, 0, 0, 0, 0], // timestamps of wrong length
            &[30, 9, 0, 0],      // unknown kind running past the end
        ] {
            assert_eq!(Options::parse(opts), Err(Error::Malformed), "{opts:?}");
        }
        let b = with_options(&[2, 3, 5, 0]);
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!(Repr::parse(&p, SRC, DST), Err(Error::Malformed));
    }

    #[test]
    fn emit_into_small_buffer_fails() {
        assert_eq!(
            data().emit(&mut [0u8; 37], SRC, DST),
            Err(Error::BufferTooSmall)
        );
    }

    #[test]
    fn sequence_arithmetic_wraps() {
        let a = SeqNumber(0xffff_fff0);
        let b = a.wrapping_add(0x20);
        assert_eq!(b, SeqNumber(0x10));
        assert!(a.lt(b) && a.le(b) && !b.lt(a) && a.le(a));
        assert_eq!(b.since(a), 0x20);
        assert!(SeqNumber(5).in_window(a, 0x20));
        assert!(!b.in_window(a, 0x20));
        assert!(!SeqNumber(5).in_window(a, 0));
    }
}

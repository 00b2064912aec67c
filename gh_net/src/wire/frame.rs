//! Whole Ethernet + IPv4 + TCP frames in one pass: the per-segment fast path.
//!
//! Every segment GigaHttpd sends and nearly every frame it receives is an option-less IPv4
//! packet carrying TCP, so the three headers are read and written as one fixed 54-byte
//! array (one length check, then constant offsets), and the checksums of the header fields
//! are summed from the values rather than re-read from the bytes. The layered views
//! ([`super::ethernet`], [`super::ipv4`], [`super::tcp`]) stay the reference: a frame this
//! parser declines goes through them, and tests hold both paths to the same results.

use super::super::bytes::copy;
use super::super::checksum;
use super::ethernet::Address as Mac;
use super::ipv4::{self, Address as Ip};
use super::tcp::{self, Flags, InPlace, Options, SeqNumber};
use super::{Error, Result};

/// Ethernet, option-less IPv4 and fixed TCP headers.
pub const HEADERS_LEN: usize = 14 + ipv4::HEADER_LEN + tcp::HEADER_LEN;

/// Offsets in the frame.
mod at {
    pub const ETHERTYPE: usize = 12;
    pub const IP: usize = 14;
    pub const IP_TOTAL_LEN: usize = IP + 2;
    pub const IP_FLAGS_FRAG: usize = IP + 6;
    pub const IP_PROTOCOL: usize = IP + 9;
    pub const IP_SRC: usize = IP + 12;
    pub const IP_DST: usize = IP + 16;
    pub const TCP: usize = IP + 20;
    pub const TCP_OFFSET: usize = TCP + 12;
}

/// The header fields of one outgoing TCP segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpOut {
    /// Our hardware address.
    pub src_mac: Mac,
    /// The next hop's.
    pub dst_mac: Mac,
    /// Our address.
    pub src_ip: Ip,
    /// The peer's.
    pub dst_ip: Ip,
    /// IPv4 identification.
    pub ident: u16,
    /// Our port.
    pub src_port: u16,
    /// The peer's port.
    pub dst_port: u16,
    /// Sequence number.
    pub seq: SeqNumber,
    /// Acknowledgment number (sets ACK).
    pub ack: Option<SeqNumber>,
    /// Flags other than ACK.
    pub flags: Flags,
    /// Window.
    pub window: u16,
    /// MSS option (the only option GigaHttpd sends).
    pub mss: Option<u16>,
}

/// Sum of the two halves of an address, for the checksums.
#[inline(always)]
fn addr_sum(a: Ip) -> u32 {
    let [w, x, y, z] = a.0;
    u32::from(u16::from_be_bytes([w, x])) + u32::from(u16::from_be_bytes([y, z]))
}

/// Sum of the two halves of a 32-bit word.
#[inline(always)]
fn halves(v: u32) -> u32 {
    (v >> 16) + (v & 0xffff)
}

/// The length of the frame [`TcpOut::emit`] writes for `payload_len` data bytes, if an
/// IPv4 packet can hold them.
#[inline]
pub fn tcp_frame_len(mss: bool, payload_len: usize) -> Option<usize> {
    let tcp_len = payload_len.checked_add(tcp::HEADER_LEN + if mss { 4 } else { 0 })?;
    let total = u16::try_from(tcp_len.checked_add(ipv4::HEADER_LEN)?).ok()?;
    Some(14 + usize::from(total))
}

impl TcpOut {
    /// Writes the frame of [`tcp_frame_len`] bytes at the start of `buf`: headers, then
    /// the `payload_len` data bytes through `fill`, then both checksums; returns the
    /// frame's length. `fill` returns the data's [`checksum::partial`] sum if it knows it,
    /// or `None` to have the data summed here. The bytes are those of `ethernet::Repr::emit`, `ipv4::Repr::emit`
    /// (TTL 64, DF) and `tcp::Repr::emit_with`.
    #[inline]
    pub fn emit(
        &self,
        buf: &mut [u8],
        payload_len: usize,
        fill: impl FnOnce(&mut [u8]) -> Option<u16>,
    ) -> Result<usize> {
        let len = tcp_frame_len(self.mss.is_some(), payload_len).ok_or(Error::Malformed)?;
        // Both fit in 16 bits: `tcp_frame_len` checked the IPv4 total length.
        let total = (len - 14) as u16;
        let tcp_len = total - 20;
        let opt_len: u16 = if self.mss.is_some() { 4 } else { 0 };
        let buf = buf.get_mut(..len).ok_or(Error::BufferTooSmall)?;
        let (h, rest) = buf
            .split_first_chunk_mut::<HEADERS_LEN>()
            .ok_or(Error::BufferTooSmall)?;
        let ack = self.ack.map_or(0, |a| a.0);
        let flags = match self.ack {
            Some(_) => self.flags.with(Flags::ACK).0,
            None => self.flags.0,
        };
        let offset_flags = ((5 + opt_len / 4) << 12) | u16::from(flags);
        copy(&mut h[0..6], &self.dst_mac.0);
        copy(&mut h[6..12], &self.src_mac.0);
        copy(&mut h[12..14], &[0x08, 0x00]);
        copy(&mut h[14..18], &[0x45, 0, (total >> 8) as u8, total as u8]);
        copy(
            &mut h[18..22],
            &(u32::from(self.ident) << 16 | 0x4000).to_be_bytes(),
        );
        copy(&mut h[22..26], &[ipv4::DEFAULT_TTL, 6, 0, 0]);
        copy(&mut h[26..30], &self.src_ip.0);
        copy(&mut h[30..34], &self.dst_ip.0);
        copy(
            &mut h[34..38],
            &(u32::from(self.src_port) << 16 | u32::from(self.dst_port)).to_be_bytes(),
        );
        copy(&mut h[38..42], &self.seq.0.to_be_bytes());
        copy(&mut h[42..46], &ack.to_be_bytes());
        copy(
            &mut h[46..50],
            &(u32::from(offset_flags) << 16 | u32::from(self.window)).to_be_bytes(),
        );
        copy(&mut h[50..54], &[0; 4]);
        let addrs = addr_sum(self.src_ip) + addr_sum(self.dst_ip);
        let ip_sum = 0x4500
            + u32::from(total)
            + u32::from(self.ident)
            + 0x4000
            + (u32::from(ipv4::DEFAULT_TTL) << 8 | 6)
            + addrs;
        copy(&mut h[24..26], &checksum::finish(ip_sum).to_be_bytes());
        let mut sum = addrs
            + 6
            + u32::from(tcp_len)
            + u32::from(self.src_port)
            + u32::from(self.dst_port)
            + halves(self.seq.0)
            + halves(ack)
            + u32::from(offset_flags)
            + u32::from(self.window);
        let data = match self.mss {
            Some(mss) => {
                let (o, data) = rest
                    .split_first_chunk_mut::<4>()
                    .ok_or(Error::BufferTooSmall)?;
                *o = [2, 4, (mss >> 8) as u8, mss as u8];
                sum += 0x0204 + u32::from(mss);
                data
            }
            None => rest,
        };
        let sum = match fill(data) {
            Some(part) => checksum::add_partial(sum, part),
            None => checksum::add(sum, data),
        };
        let c = checksum::finish(sum);
        copy(&mut h[50..52], &c.to_be_bytes());
        Ok(len)
    }
}

/// A TCP segment taken whole from a frame by [`parse_tcp`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpIn<'a> {
    /// The peer's address.
    pub src: Ip,
    /// The peer's hardware address.
    pub src_mac: Mac,
    /// The segment, its header read in place in the frame.
    pub segment: InPlace<'a>,
}

/// The frame's `N` bytes at `AT`, from the fixed header array.
#[inline(always)]
fn bytes<const AT: usize, const N: usize>(h: &[u8; HEADERS_LEN]) -> [u8; N] {
    let mut out = [0u8; N];
    if let Some(s) = h.get(AT..AT + N) {
        copy(&mut out, s);
    }
    out
}

/// Big-endian `u16` at `AT`.
#[inline(always)]
fn be16<const AT: usize>(h: &[u8; HEADERS_LEN]) -> u16 {
    u16::from_be_bytes(bytes::<AT, 2>(h))
}

/// Takes a frame to `mac` and `ip` that is a valid TCP segment in an option-less,
/// unfragmented IPv4 packet: the result the layered path (`ethernet::Frame`,
/// `ipv4::Packet` and `Repr`, `tcp::Packet` and `Repr`) gives such a frame. `None` for
/// anything else, valid or not, and for a segment from either of `subnet_ends` (the
/// network's own address and directed broadcast): the layered path then decides, and
/// counts its drops.
///
/// Always inlined: the receive path is its one caller in a core, and a second caller
/// elsewhere in a binary (the benchmark's frames-alone answerer) must not change how
/// the receive path is compiled.
#[inline(always)]
pub fn parse_tcp(frame: &[u8], mac: Mac, ip: Ip, subnet_ends: [Ip; 2]) -> Option<TcpIn<'_>> {
    let h = frame.first_chunk::<HEADERS_LEN>()?;
    if bytes::<0, 6>(h) != mac.0
        || be16::<{ at::ETHERTYPE }>(h) != 0x0800
        || h[at::IP] != 0x45
        || be16::<{ at::IP_FLAGS_FRAG }>(h) & 0x3fff != 0
        || h[at::IP_PROTOCOL] != 6
        || bytes::<{ at::IP_DST }, 4>(h) != ip.0
    {
        return None;
    }
    let (src, src_mac) = (Ip(bytes::<{ at::IP_SRC }, 4>(h)), Mac(bytes::<6, 6>(h)));
    // No peer sends from a group or zero hardware address, from an address no host may
    // use, or from ours: the layered path drops and counts such a frame.
    if !src_mac.is_unicast() || src.is_bad_source(ip, subnet_ends) {
        return None;
    }
    // The IPv4 header checksum, five words at a time, in the machine's byte order: a
    // byte-swapped sum checks the same, as all-ones swapped is all-ones (RFC 1071).
    let mut ip_sum = 0u64;
    let mut k = at::IP;
    while k < at::TCP {
        ip_sum += u64::from(halves(u32::from_ne_bytes(bytes_at(h, k))));
        k += 4;
    }
    if checksum::finish(ip_sum as u32) != 0 {
        return None;
    }
    let total = usize::from(be16::<{ at::IP_TOTAL_LEN }>(h));
    let seg = frame.get(at::TCP..at::IP + total)?;
    let hl = usize::from(h[at::TCP_OFFSET] >> 4) * 4;
    if hl < tcp::HEADER_LEN || seg.len() < hl {
        return None;
    }
    let sum = checksum::pseudo_header(src.0, ip.0, 6, u16::try_from(seg.len()).ok()?);
    if checksum::finish(checksum::add(sum, seg)) != 0 {
        return None;
    }
    let (src_port, dst_port) = (be16::<{ at::TCP }>(h), be16::<{ at::TCP + 2 }>(h));
    if src_port == 0 || dst_port == 0 {
        return None;
    }
    let options = seg.get(tcp::HEADER_LEN..hl)?;
    // Checked here, read only if the TCP layer asks (for a SYN's MSS).
    match options {
        [] | [2, 4, _, _] => {}
        opts => {
            Options::parse(opts).ok()?;
        }
    }
    let (header, _) = seg.split_first_chunk::<{ tcp::HEADER_LEN }>()?;
    Some(TcpIn {
        src,
        src_mac,
        segment: InPlace::new(header, options, seg.get(hl..)?),
    })
}

/// Four bytes at `k` (zero past the end; callers stay inside the header).
#[inline(always)]
fn bytes_at(h: &[u8; HEADERS_LEN], k: usize) -> [u8; 4] {
    let mut out = [0u8; 4];
    if let Some(s) = h.get(k..k + 4) {
        copy(&mut out, s);
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    extern crate std;
    use super::super::ethernet::{self, EtherType, Frame};
    use super::super::ipv4::{Packet as IpPacket, Protocol, Repr as IpRepr};
    use super::super::tcp::{Incoming, Packet as TcpPacket, Repr};
    use super::*;
    use std::vec;
    use std::vec::Vec;

    const MAC: Mac = Mac([2, 0, 0, 0, 0, 1]);
    const IP: Ip = Ip([10, 1, 0, 1]);

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    /// The frame as the layered emitters write it.
    fn layered_emit(o: &TcpOut, payload: &[u8]) -> Vec<u8> {
        let seg = Repr {
            src_port: o.src_port,
            dst_port: o.dst_port,
            seq: o.seq,
            ack: o.ack,
            flags: o.flags,
            window: o.window,
            options: Options {
                mss: o.mss,
                ..Options::default()
            },
            payload,
        };
        let tcp_len = seg.buffer_len();
        let mut f = vec![0u8; 14 + 20 + tcp_len];
        ethernet::Repr {
            src: o.src_mac,
            dst: o.dst_mac,
            ethertype: EtherType::Ipv4,
        }
        .emit(&mut f)
        .unwrap();
        IpRepr {
            src: o.src_ip,
            dst: o.dst_ip,
            protocol: Protocol::Tcp,
            payload_len: tcp_len as u16,
            ttl: ipv4::DEFAULT_TTL,
        }
        .emit(&mut f[14..], o.ident)
        .unwrap();
        seg.emit(&mut f[34..], o.src_ip, o.dst_ip).unwrap();
        f
    }

    /// What the layered views make of a frame to `MAC`/`IP`, when it is a TCP segment.
    /// What the layered views make of `frame`: the peer's address and hardware address and
    /// the decoded segment.
    fn layered_parse(frame: &[u8]) -> Option<(Ip, Mac, Repr<'_>)> {
        let f = Frame::new_checked(frame).ok()?;
        if f.dst() != MAC || !f.src().is_unicast() || f.ethertype() != EtherType::Ipv4 {
            return None;
        }
        let payload = &frame[14..];
        let p = IpPacket::new_checked(payload).ok()?;
        let r = IpRepr::parse(&p).ok()?;
        if r.dst != IP || r.src.is_invalid_source() || r.src == IP || r.protocol != Protocol::Tcp {
            return None;
        }
        let body = payload.get(p.header_len()..usize::from(p.total_len()))?;
        let t = TcpPacket::new_checked(body).ok()?;
        let segment = Repr::parse(&t, r.src, r.dst).ok()?;
        Some((r.src, f.src(), segment))
    }

    /// The one-pass parse, decoded the same way (and its MSS, read without decoding the
    /// options, the same as theirs).
    fn fast_parse(frame: &[u8], mac: Mac, ip: Ip) -> Option<(Ip, Mac, Repr<'_>)> {
        parse_tcp(frame, mac, ip, [Ip::BROADCAST; 2]).map(|t| {
            let repr = t.segment.repr();
            assert_eq!(t.segment.mss(), repr.options.mss);
            (t.src, t.src_mac, repr)
        })
    }

    fn random_out(r: &mut Rng) -> TcpOut {
        let mut mac = [0u8; 6];
        mac.iter_mut().for_each(|b| *b = r.next() as u8);
        let v = r.next();
        TcpOut {
            src_mac: MAC,
            dst_mac: Mac(mac),
            src_ip: Ip((r.next() as u32).to_be_bytes()),
            dst_ip: Ip((r.next() as u32).to_be_bytes()),
            ident: v as u16,
            src_port: (v >> 16) as u16,
            dst_port: (v >> 32) as u16,
            seq: SeqNumber(r.next() as u32),
            ack: (v & 1 == 1).then(|| SeqNumber(r.next() as u32)),
            flags: Flags((v >> 48) as u8 & 0x2f),
            window: (v >> 24) as u16,
            mss: (v & 2 == 2).then_some((v >> 40) as u16),
        }
    }

    #[test]
    fn emit_writes_the_layered_bytes() {
        let mut r = Rng(0x1234_5678_9abc_def1);
        let mut buf = vec![0u8; 2000];
        for round in 0..3000 {
            let o = random_out(&mut r);
            let len = match round % 3 {
                0 => r.below(1500) as usize,
                1 => r.below(40) as usize,
                _ => 267,
            };
            let payload: Vec<u8> = (0..len).map(|_| r.next() as u8).collect();
            let want = layered_emit(&o, &payload);
            let n = o
                .emit(&mut buf, len, |out| {
                    out.copy_from_slice(&payload);
                    // Every other frame tells the sum it knows.
                    (round % 2 == 1).then(|| checksum::partial(&payload))
                })
                .unwrap();
            assert_eq!(Some(n), tcp_frame_len(o.mss.is_some(), len));
            assert_eq!(&buf[..n], &want[..], "{o:?} len {len}");
        }
    }

    #[test]
    fn emit_refuses_what_does_not_fit() {
        let o = random_out(&mut Rng(5));
        assert_eq!(tcp_frame_len(false, 65_535 - 40), Some(65_535 + 14));
        assert_eq!(tcp_frame_len(false, 65_535 - 39), None);
        assert_eq!(
            o.emit(&mut [0u8; 60], 65_535, |_| None),
            Err(Error::Malformed)
        );
        assert_eq!(
            o.emit(&mut [0u8; 60], 10, |_| None),
            Err(Error::BufferTooSmall)
        );
    }

    /// A valid segment to us from a random peer, with `opts` after the fixed header.
    fn to_us(r: &mut Rng, opts: &[u8], payload_len: usize, pad: usize) -> Vec<u8> {
        let mut o = random_out(r);
        o.dst_mac = MAC;
        o.dst_ip = IP;
        o.src_ip.0[0] = 10;
        // A unicast sender, locally administered.
        o.src_mac.0[0] = o.src_mac.0[0] & 0xfc | 2;
        o.mss = None;
        o.src_port |= 1;
        o.dst_port |= 1;
        let payload: Vec<u8> = (0..payload_len).map(|_| r.next() as u8).collect();
        let mut f = layered_emit(&o, &payload);
        // Options go between the fixed header and the data.
        let tail = f.split_off(54);
        f.extend_from_slice(opts);
        f.extend_from_slice(&tail);
        let tcp_len = f.len() - 34;
        f[46] = (((20 + opts.len()) / 4) as u8) << 4 | (f[46] & 0x0f);
        f[16..18].copy_from_slice(&((20 + tcp_len) as u16).to_be_bytes());
        IpPacket::new_unchecked(&mut f[14..34]).fill_checksum();
        f[50] = 0;
        f[51] = 0;
        let sum = checksum::pseudo_header(o.src_ip.0, IP.0, 6, tcp_len as u16);
        let c = checksum::finish(checksum::add(sum, &f[34..]));
        f[50..52].copy_from_slice(&c.to_be_bytes());
        f.resize(f.len() + pad, 0);
        f
    }

    /// Option lists: none, MSS alone, what Linux sends, unknown ones, and malformed ones.
    const OPTIONS: [&[u8]; 9] = [
        &[],
        &[2, 4, 5, 0xb4],
        &[
            2, 4, 5, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7,
        ],
        &[1, 1, 1, 0],
        &[30, 4, 0, 0],
        &[3, 3, 7, 0],
        &[2, 3, 5, 0],
        &[2, 4, 5],
        &[30, 9, 0, 0],
    ];

    #[test]
    fn parse_agrees_with_the_layered_views() {
        let mut r = Rng(0x0bad_cafe_f00d_0001);
        let mut accepted = 0;
        for round in 0..400 {
            let mut opts: Vec<u8> = OPTIONS[round % OPTIONS.len()].to_vec();
            while opts.len() % 4 != 0 {
                opts.push(0);
            }
            let len = [0, 1, 2, 100, 267, 1460][round % 6];
            let f = to_us(&mut r, &opts, len, [0, 0, 6][round % 3]);
            let want = layered_parse(&f);
            assert_eq!(fast_parse(&f, MAC, IP), want, "round {round}");
            accepted += usize::from(want.is_some());
            // Every truncation.
            for n in 0..f.len() {
                let fast = fast_parse(&f[..n], MAC, IP);
                assert!(fast.is_none() || fast == layered_parse(&f[..n]), "cut {n}");
            }
            // Every single-byte change: the fast path accepts only what the layered one
            // accepts, and then reads the same.
            for at in 0..f.len().min(80) {
                let mut g = f.clone();
                g[at] ^= 1 << (r.next() % 8);
                let fast = fast_parse(&g, MAC, IP);
                let slow = layered_parse(&g);
                assert!(fast.is_none() || fast == slow, "byte {at}");
            }
        }
        assert!(accepted > 200, "{accepted}");
    }

    #[test]
    fn declines_what_the_layered_path_must_see() {
        let mut r = Rng(77);
        let f = to_us(&mut r, &[], 10, 0);
        assert!(parse_tcp(&f, MAC, IP, [Ip::BROADCAST; 2]).is_some());
        // Broadcast, another MAC, another address, IPv4 options, a fragment: not taken
        // here, whatever the layered path then makes of them.
        let mut g = f.clone();
        g[..6].copy_from_slice(&[0xff; 6]);
        assert_eq!(parse_tcp(&g, MAC, IP, [Ip::BROADCAST; 2]), None);
        assert_eq!(
            parse_tcp(&f, Mac([2, 0, 0, 0, 0, 2]), IP, [Ip::BROADCAST; 2]),
            None
        );
        assert_eq!(
            parse_tcp(&f, MAC, Ip([10, 1, 0, 2]), [Ip::BROADCAST; 2]),
            None
        );
        let mut g = f.clone();
        g[20] = 0x20;
        IpPacket::new_unchecked(&mut g[14..34]).fill_checksum();
        assert_eq!(parse_tcp(&g, MAC, IP, [Ip::BROADCAST; 2]), None);
        assert_eq!(layered_parse(&g), None, "a fragment");
        // Sources no peer sends from: multicast, loopback, "this network", our own
        // address, and a group or zero hardware address.
        for src in [[224, 0, 0, 1], [127, 0, 0, 1], [0, 0, 0, 0], IP.0] {
            let mut g = f.clone();
            g[26..30].copy_from_slice(&src);
            IpPacket::new_unchecked(&mut g[14..34]).fill_checksum();
            assert_eq!(parse_tcp(&g, MAC, IP, [Ip::BROADCAST; 2]), None, "{src:?}");
        }
        // The network's own address and directed broadcast, which only the caller knows.
        let src = Ip(f[26..30].try_into().unwrap());
        assert_eq!(parse_tcp(&f, MAC, IP, [src, Ip::BROADCAST]), None);
        assert_eq!(parse_tcp(&f, MAC, IP, [Ip::BROADCAST, src]), None);
        for mac in [[0xff; 6], [1, 0, 0x5e, 0, 0, 1], [0; 6]] {
            let mut g = f.clone();
            g[6..12].copy_from_slice(&mac);
            assert_eq!(parse_tcp(&g, MAC, IP, [Ip::BROADCAST; 2]), None, "{mac:?}");
        }
    }
}

//! One data interface of a core, below TCP: answers ARP for its address and ICMP echo,
//! and refuses TCP connections with a reset while no listener takes them.
//!
//! [`Interface::handle`] takes one received Ethernet frame and writes at most one reply
//! frame into caller memory; every frame it does not answer is counted by reason.

use super::wire::arp;
use super::wire::ethernet::{self, EtherType};
use super::wire::icmp;
use super::wire::ipv4::{self, Protocol};
use super::wire::tcp::{self, Flags, SeqNumber};
use super::wire::Error;

/// Counts of what [`Interface::handle`] did, by outcome. Plain fields: the owning core
/// is the only writer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IfaceCounters {
    /// ARP requests for our address answered.
    pub arp_replies: u64,
    /// ICMP echo requests answered.
    pub echo_replies: u64,
    /// TCP segments answered with a reset (no listener).
    pub tcp_resets: u64,
    /// Frames that failed a length, checksum or consistency check.
    pub malformed: u64,
    /// IPv4 fragments (not reassembled).
    pub fragments: u64,
    /// Well-formed frames for another host, or of a kind that needs no answer.
    pub ignored: u64,
}

/// What to do after a frame was handled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Send the first `n` bytes of the output buffer.
    Reply(usize),
    /// Nothing to send; the frame was counted.
    Dropped,
}

/// An interface: its MAC and IPv4 address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Interface {
    /// Our MAC address.
    pub mac: ethernet::Address,
    /// Our IPv4 address.
    pub ip: ipv4::Address,
}

/// Why a frame got no answer.
enum Drop {
    /// Not for us, or nothing to answer.
    Ignored,
    /// Rejected by a wire check.
    Bad(Error),
}

impl From<Error> for Drop {
    fn from(e: Error) -> Self {
        Drop::Bad(e)
    }
}

/// TTL of the packets the interface sends.
const TTL: u8 = 64;

impl Interface {
    /// Handles one received frame; a reply, if any, is written at the start of `out`.
    pub fn handle(&self, frame: &[u8], out: &mut [u8], counters: &mut IfaceCounters) -> Outcome {
        match self.answer(frame, out, counters) {
            Ok(len) => Outcome::Reply(len),
            Err(why) => {
                match why {
                    Drop::Ignored | Drop::Bad(Error::Unsupported) => counters.ignored += 1,
                    Drop::Bad(Error::Fragment) => counters.fragments += 1,
                    Drop::Bad(_) => counters.malformed += 1,
                }
                Outcome::Dropped
            }
        }
    }

    fn answer(
        &self,
        frame: &[u8],
        out: &mut [u8],
        counters: &mut IfaceCounters,
    ) -> Result<usize, Drop> {
        let f = ethernet::Frame::new_checked(frame)?;
        let eth = ethernet::Repr::parse(&f);
        if eth.dst != self.mac && !eth.dst.is_broadcast() {
            return Err(Drop::Ignored);
        }
        match eth.ethertype {
            EtherType::Arp => self.arp(&eth, f.payload(), out, counters),
            EtherType::Ipv4 => self.ipv4(&eth, f.payload(), out, counters),
            EtherType::Unknown(_) => Err(Drop::Ignored),
        }
    }

    fn arp(
        &self,
        eth: &ethernet::Repr,
        payload: &[u8],
        out: &mut [u8],
        counters: &mut IfaceCounters,
    ) -> Result<usize, Drop> {
        let request = arp::Repr::parse(&arp::Packet::new_checked(payload)?)?;
        if request.operation != arp::Operation::Request || request.target_ip != self.ip {
            return Err(Drop::Ignored);
        }
        let reply = request.reply_from(self.mac);
        let len = self.ethernet_header(eth.src, EtherType::Arp, out)?;
        let len = len + reply.emit(out.get_mut(len..).ok_or(Error::BufferTooSmall)?)?;
        counters.arp_replies += 1;
        Ok(len)
    }

    fn ipv4(
        &self,
        eth: &ethernet::Repr,
        payload: &[u8],
        out: &mut [u8],
        counters: &mut IfaceCounters,
    ) -> Result<usize, Drop> {
        let packet = ipv4::Packet::new_checked(payload)?;
        let ip = ipv4::Repr::parse(&packet)?;
        if ip.dst != self.ip {
            return Err(Drop::Ignored);
        }
        match ip.protocol {
            Protocol::Icmp => self.echo(eth, &ip, packet.payload(), out, counters),
            Protocol::Tcp => self.reset(eth, &ip, packet.payload(), out, counters),
            Protocol::Unknown(_) => Err(Drop::Ignored),
        }
    }

    fn echo(
        &self,
        eth: &ethernet::Repr,
        ip: &ipv4::Repr,
        payload: &[u8],
        out: &mut [u8],
        counters: &mut IfaceCounters,
    ) -> Result<usize, Drop> {
        let request = icmp::Repr::parse(&icmp::Packet::new_checked(payload)?)?;
        let reply = request.reply().ok_or(Drop::Ignored)?;
        let len = self.ip_headers(eth.src, ip.src, Protocol::Icmp, reply.buffer_len(), out)?;
        let len = len + reply.emit(out.get_mut(len..).ok_or(Error::BufferTooSmall)?)?;
        counters.echo_replies += 1;
        Ok(len)
    }

    /// RFC 9293 section 3.10.7.1: a segment to a closed port gets a reset, unless it is
    /// a reset itself.
    fn reset(
        &self,
        eth: &ethernet::Repr,
        ip: &ipv4::Repr,
        payload: &[u8],
        out: &mut [u8],
        counters: &mut IfaceCounters,
    ) -> Result<usize, Drop> {
        let seg = tcp::Repr::parse(&tcp::Packet::new_checked(payload)?, ip.src, ip.dst)?;
        if seg.flags.contains(Flags::RST) {
            return Err(Drop::Ignored);
        }
        let (seq, ack) = match seg.ack {
            Some(ack) => (ack, None),
            None => (SeqNumber(0), Some(seg.seq.wrapping_add(seg.seq_len()))),
        };
        let rst = tcp::Repr {
            src_port: seg.dst_port,
            dst_port: seg.src_port,
            seq,
            ack,
            flags: Flags::RST,
            window: 0,
            options: tcp::Options::default(),
            payload: &[],
        };
        let len = self.ip_headers(eth.src, ip.src, Protocol::Tcp, rst.buffer_len(), out)?;
        let len = len
            + rst.emit(
                out.get_mut(len..).ok_or(Error::BufferTooSmall)?,
                self.ip,
                ip.src,
            )?;
        counters.tcp_resets += 1;
        Ok(len)
    }

    fn ethernet_header(
        &self,
        to: ethernet::Address,
        ethertype: EtherType,
        out: &mut [u8],
    ) -> Result<usize, Drop> {
        let header = ethernet::Repr {
            src: self.mac,
            dst: to,
            ethertype,
        };
        Ok(header.emit(out)?)
    }

    /// Ethernet and IPv4 headers of a reply carrying `payload_len` bytes of `protocol`.
    fn ip_headers(
        &self,
        to_mac: ethernet::Address,
        to_ip: ipv4::Address,
        protocol: Protocol,
        payload_len: usize,
        out: &mut [u8],
    ) -> Result<usize, Drop> {
        let len = self.ethernet_header(to_mac, EtherType::Ipv4, out)?;
        let ip = ipv4::Repr {
            src: self.ip,
            dst: to_ip,
            protocol,
            payload_len: u16::try_from(payload_len).map_err(|_| Error::Malformed)?,
            ttl: TTL,
        };
        Ok(len + ip.emit(out.get_mut(len..).ok_or(Error::BufferTooSmall)?, 0)?)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    const OUR_MAC: ethernet::Address = ethernet::Address([0x52, 0x54, 0, 0x12, 0x34, 2]);
    const PEER_MAC: ethernet::Address = ethernet::Address([0x52, 0x55, 10, 0, 3, 2]);
    const OUR_IP: ipv4::Address = ipv4::Address([10, 0, 3, 15]);
    const PEER_IP: ipv4::Address = ipv4::Address([10, 0, 3, 2]);

    fn iface() -> Interface {
        Interface {
            mac: OUR_MAC,
            ip: OUR_IP,
        }
    }

    fn eth(buf: &mut [u8], dst: ethernet::Address, ethertype: EtherType) -> usize {
        ethernet::Repr {
            src: PEER_MAC,
            dst,
            ethertype,
        }
        .emit(buf)
        .unwrap()
    }

    fn arp_request(target: ipv4::Address) -> ([u8; 64], usize) {
        let mut buf = [0u8; 64];
        let n = eth(&mut buf, ethernet::Address::BROADCAST, EtherType::Arp);
        let req = arp::Repr {
            operation: arp::Operation::Request,
            source_hw: PEER_MAC,
            source_ip: PEER_IP,
            target_hw: ethernet::Address([0; 6]),
            target_ip: target,
        };
        let m = req.emit(&mut buf[n..]).unwrap();
        (buf, n + m)
    }

    fn ip_frame(protocol: Protocol, payload: &[u8]) -> ([u8; 256], usize) {
        let mut buf = [0u8; 256];
        let n = eth(&mut buf, OUR_MAC, EtherType::Ipv4);
        let ip = ipv4::Repr {
            src: PEER_IP,
            dst: OUR_IP,
            protocol,
            payload_len: payload.len() as u16,
            ttl: 64,
        };
        let m = ip.emit(&mut buf[n..], 1).unwrap();
        buf[n + m..n + m + payload.len()].copy_from_slice(payload);
        (buf, n + m + payload.len())
    }

    fn ping(data: &[u8]) -> ([u8; 256], usize) {
        let mut icmp_buf = [0u8; 128];
        let req = icmp::Repr::EchoRequest {
            ident: 0x4242,
            seq: 9,
            data,
        };
        let n = req.emit(&mut icmp_buf).unwrap();
        ip_frame(Protocol::Icmp, &icmp_buf[..n])
    }

    fn segment(flags: Flags, seq: u32, ack: Option<u32>) -> ([u8; 256], usize) {
        let mut tcp_buf = [0u8; 64];
        let seg = tcp::Repr {
            src_port: 40000,
            dst_port: 80,
            seq: SeqNumber(seq),
            ack: ack.map(SeqNumber),
            flags,
            window: 64240,
            options: tcp::Options::default(),
            payload: &[],
        };
        let n = seg.emit(&mut tcp_buf, PEER_IP, OUR_IP).unwrap();
        ip_frame(Protocol::Tcp, &tcp_buf[..n])
    }

    /// Handles `frame` and returns the reply's IPv4 packet bytes (after Ethernet).
    fn reply_of(frame: &[u8], counters: &mut IfaceCounters) -> std::vec::Vec<u8> {
        extern crate std;
        let mut out = [0u8; 1600];
        match iface().handle(frame, &mut out, counters) {
            Outcome::Reply(n) => {
                let f = ethernet::Frame::new_checked(&out[..n]).unwrap();
                let e = ethernet::Repr::parse(&f);
                assert_eq!((e.src, e.dst), (OUR_MAC, PEER_MAC));
                f.payload().to_vec()
            }
            Outcome::Dropped => panic!("no reply"),
        }
    }

    extern crate std;

    #[test]
    fn answers_arp_for_our_address_only() {
        let mut c = IfaceCounters::default();
        let (req, n) = arp_request(OUR_IP);
        let reply = reply_of(&req[..n], &mut c);
        let r = arp::Repr::parse(&arp::Packet::new_checked(&reply[..]).unwrap()).unwrap();
        assert_eq!(r.operation, arp::Operation::Reply);
        assert_eq!((r.source_hw, r.source_ip), (OUR_MAC, OUR_IP));
        assert_eq!((r.target_hw, r.target_ip), (PEER_MAC, PEER_IP));
        assert_eq!(c.arp_replies, 1);

        let (other, n) = arp_request(ipv4::Address([10, 0, 3, 16]));
        let mut out = [0u8; 128];
        assert_eq!(
            iface().handle(&other[..n], &mut out, &mut c),
            Outcome::Dropped
        );
        assert_eq!(c.ignored, 1);
    }

    #[test]
    fn answers_ping_with_the_same_data() {
        let mut c = IfaceCounters::default();
        let (frame, n) = ping(b"abcdefgh");
        let reply = reply_of(&frame[..n], &mut c);
        let p = ipv4::Packet::new_checked(&reply[..]).unwrap();
        let ip = ipv4::Repr::parse(&p).unwrap();
        assert_eq!(
            (ip.src, ip.dst, ip.protocol),
            (OUR_IP, PEER_IP, Protocol::Icmp)
        );
        let r = icmp::Repr::parse(&icmp::Packet::new_checked(p.payload()).unwrap()).unwrap();
        assert_eq!(
            r,
            icmp::Repr::EchoReply {
                ident: 0x4242,
                seq: 9,
                data: b"abcdefgh"
            }
        );
        assert_eq!(c.echo_replies, 1);
    }

    #[test]
    fn resets_tcp_to_a_closed_port() {
        let mut c = IfaceCounters::default();
        // A SYN gets RST+ACK acknowledging the SYN.
        let (frame, n) = segment(Flags::SYN, 1000, None);
        let reply = reply_of(&frame[..n], &mut c);
        let p = ipv4::Packet::new_checked(&reply[..]).unwrap();
        let seg = tcp::Repr::parse(
            &tcp::Packet::new_checked(p.payload()).unwrap(),
            OUR_IP,
            PEER_IP,
        )
        .unwrap();
        assert_eq!((seg.src_port, seg.dst_port), (80, 40000));
        assert_eq!(
            (seg.seq, seg.ack, seg.flags),
            (SeqNumber(0), Some(SeqNumber(1001)), Flags::RST)
        );
        // A segment with ACK gets a bare RST at its acknowledgment number.
        let (frame, n) = segment(Flags(0), 5, Some(777));
        let reply = reply_of(&frame[..n], &mut c);
        let p = ipv4::Packet::new_checked(&reply[..]).unwrap();
        let seg = tcp::Repr::parse(
            &tcp::Packet::new_checked(p.payload()).unwrap(),
            OUR_IP,
            PEER_IP,
        )
        .unwrap();
        assert_eq!(
            (seg.seq, seg.ack, seg.flags),
            (SeqNumber(777), None, Flags::RST)
        );
        // A reset is never answered.
        let (frame, n) = segment(Flags::RST, 5, None);
        let mut out = [0u8; 128];
        assert_eq!(
            iface().handle(&frame[..n], &mut out, &mut c),
            Outcome::Dropped
        );
        assert_eq!((c.tcp_resets, c.ignored), (2, 1));
    }

    #[test]
    fn ignores_frames_for_other_hosts() {
        let mut c = IfaceCounters::default();
        let (mut frame, n) = ping(b"x");
        frame[0..6].copy_from_slice(&[2, 0, 0, 0, 0, 1]);
        let mut out = [0u8; 128];
        assert_eq!(
            iface().handle(&frame[..n], &mut out, &mut c),
            Outcome::Dropped
        );
        assert_eq!(c.ignored, 1);
    }

    #[test]
    fn counts_fragments() {
        let mut c = IfaceCounters::default();
        let (mut frame, n) = ping(b"x");
        // Set "more fragments" and fix the IPv4 checksum.
        frame[14 + 6] |= 0x20;
        let mut p = ipv4::Packet::new_unchecked(&mut frame[14..n]);
        p.fill_checksum();
        let mut out = [0u8; 128];
        assert_eq!(
            iface().handle(&frame[..n], &mut out, &mut c),
            Outcome::Dropped
        );
        assert_eq!(c.fragments, 1);
    }

    #[test]
    fn every_truncation_and_corruption_is_dropped_without_panic() {
        let mut c = IfaceCounters::default();
        let (frame, n) = ping(b"0123456789");
        let mut out = [0u8; 128];
        for len in 0..n {
            assert_eq!(
                iface().handle(&frame[..len], &mut out, &mut c),
                Outcome::Dropped,
                "len {len}"
            );
        }
        for i in 0..n {
            for bit in 0..8 {
                let mut bad = frame;
                bad[i] ^= 1 << bit;
                // Any outcome is fine; a reply must still fit and never panic.
                let _ = iface().handle(&bad[..n], &mut out, &mut c);
            }
        }
        // A reply larger than the output buffer is dropped, not truncated.
        let mut tiny = [0u8; 20];
        assert_eq!(
            iface().handle(&frame[..n], &mut tiny, &mut c),
            Outcome::Dropped
        );
        assert!(c.malformed > 0);
    }
}

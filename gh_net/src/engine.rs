//! The platform interface and the link/network half of the engine: Ethernet, ARP and IPv4
//! in, ARP and ICMP echo answered on the spot, TCP segments and the routers' reports on
//! them validated and handed up.

use super::counters::{bump, Counters};
use super::wire::arp;
use super::wire::ethernet::{self, Address as Mac, EtherType};
use super::wire::frame;
use super::wire::icmp;
use super::wire::ipv4::{self, Address as Ip, Protocol};
use super::wire::tcp;
use super::wire::Error;

/// What the engine needs from the machine it runs on (a GigaHttpd core, or a test).
pub trait Platform {
    /// Milliseconds of a monotonic clock. (Should it step back, `Server` and every layer
    /// under it go on from the time they had, at the clock's pace.)
    fn now_ms(&self) -> u64;
    /// Unpredictable bits (for keys and initial sequence numbers).
    fn random(&mut self) -> u64;
    /// The frame being handled belongs to a connection whose byte stream ends at
    /// `Some(end)` (one past the last sequence number sent, with nothing more owed for
    /// the requests before this frame), or `None` if responses before it are still to
    /// be sent. Should the frame stop the core, the next run answers the flow's request
    /// only from that end, and resets the flow otherwise (see
    /// [`super::quarantine::StreamEnd`]): a core publishes it beside the flow.
    #[inline(always)]
    fn serving(&mut self, _stream_end: Option<u32>) {}
    /// Queues one frame of `len` bytes that `build` writes into the TX buffer; false if the
    /// TX ring is full (the frame is then not built).
    fn transmit(&mut self, len: usize, build: &mut dyn FnMut(&mut [u8])) -> bool;
}

/// Addresses of one core's data interface.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NetConfig {
    /// Our hardware address.
    pub mac: Mac,
    /// Our IPv4 address.
    pub ip: Ip,
    /// The length of the data network's prefix: addresses inside it are on the link,
    /// reached at the hardware address their own frames and ARP packets came from; every
    /// other address is reached through the gateway. 0 puts every address on the link.
    pub prefix_len: u8,
    /// The gateway, resolved with ARP and cached.
    pub gateway: Option<Ip>,
}

/// A received frame that the TCP layer must see.
#[derive(Debug, PartialEq, Eq)]
pub enum Received<'a> {
    /// Nothing more to do (answered, or dropped and counted).
    Done,
    /// A checksummed, well-formed TCP segment from `src`.
    Tcp {
        /// Peer address.
        src: Ip,
        /// Peer hardware address (for the reply).
        src_mac: Mac,
        /// The segment, its header read in place in the frame.
        segment: tcp::InPlace<'a>,
    },
    /// A router's report that one of our TCP segments was too big for its next hop
    /// (RFC 1191), naming the segment's connection and sequence number.
    TooBig {
        /// The peer the segment was for.
        remote: Ip,
        /// The peer's port.
        remote_port: u16,
        /// Our port.
        local_port: u16,
        /// The segment's sequence number.
        seq: tcp::SeqNumber,
        /// The next hop's MTU, 0 from a router older than RFC 1191.
        mtu: u16,
    },
}

/// Neighbours remembered (peers on the local link); others are reached via the gateway.
const NEIGHBOURS: usize = 8;

/// How often an unresolved gateway, or a neighbour with no entry, is asked for.
const ARP_RETRY_MS: u64 = 1000;

/// How often a resolved gateway is asked for again, so that a gateway replaced without
/// announcing itself is found (RFC 1122 section 2.3.2.1): until it answers, the address
/// already known stays in use.
const ARP_REFRESH_MS: u64 = 60_000;

/// Least time between two announcements of our address in its defence against another
/// host that claims it (RFC 5227 section 2.4's DEFEND_INTERVAL).
const DEFEND_INTERVAL_MS: u64 = 10_000;

pub use super::tcp::Sent;

/// Link and network layers of one core.
#[derive(Debug)]
pub struct Network {
    cfg: NetConfig,
    /// The prefix as a mask of the address's bits.
    mask: u32,
    /// The data network's own address and its directed broadcast, `{<Network>, 0}` and
    /// `{<Network>, -1}` (RFC 1122 section 3.2.1.3; the limited broadcast on a /31 or
    /// /32, which have neither): no host sends from them.
    subnet_ends: [Ip; 2],
    gateway_mac: Option<Mac>,
    last_arp_ms: Option<u64>,
    ident: u16,
    neighbours: [(Ip, Mac); NEIGHBOURS],
    next_neighbour: usize,
    /// The neighbours [`Network::resolve`] asked for lately, and when.
    asked: [Option<(Ip, u64)>; NEIGHBOURS],
    /// Segments lost for want of their next hop since [`Network::resolve_lost`] last
    /// ran, and the peer of the last one.
    lost: (u64, Option<Ip>),
    /// When our address was last announced in its defence.
    defended_ms: Option<u64>,
}

impl Network {
    /// A network layer for `cfg`.
    pub fn new(cfg: NetConfig) -> Network {
        let mask = u32::MAX
            .checked_shl(32 - u32::from(cfg.prefix_len.min(32)))
            .unwrap_or(0);
        // RFC 3021: the two addresses of a /31 are both hosts.
        let subnet_ends = if cfg.prefix_len <= 30 {
            let ip = cfg.ip.to_u32();
            [
                Ip((ip & mask).to_be_bytes()),
                Ip((ip | !mask).to_be_bytes()),
            ]
        } else {
            [Ip::BROADCAST; 2]
        };
        Network {
            cfg,
            mask,
            subnet_ends,
            gateway_mac: None,
            last_arp_ms: None,
            ident: 0,
            neighbours: [(Ip::UNSPECIFIED, Mac([0; 6])); NEIGHBOURS],
            next_neighbour: 0,
            asked: [None; NEIGHBOURS],
            lost: (0, None),
            defended_ms: None,
        }
    }

    /// The gateway's hardware address, once resolved.
    pub fn gateway_mac(&self) -> Option<Mac> {
        self.gateway_mac
    }

    /// Our addresses.
    pub fn config(&self) -> &NetConfig {
        &self.cfg
    }

    /// True if `ip` is in our network.
    #[inline]
    fn on_link(&self, ip: Ip) -> bool {
        (ip.to_u32() ^ self.cfg.ip.to_u32()) & self.mask == 0
    }

    /// Remembers that `ip`, on the link, answered from `mac`: a neighbour already known is
    /// updated; a new one is added (replacing the oldest entry) if `add`. A frame from
    /// beyond the link came through a router: its hardware address says nothing of the
    /// sender's.
    fn learn(&mut self, ip: Ip, mac: Mac, add: bool) {
        if !mac.is_unicast() || self.is_bad_source(ip) || !self.on_link(ip) {
            return;
        }
        if let Some(e) = self.neighbours.iter_mut().find(|e| e.0 == ip) {
            e.1 = mac;
            return;
        }
        if !add {
            return;
        }
        if let Some(e) = self.neighbours.get_mut(self.next_neighbour) {
            *e = (ip, mac);
        }
        self.next_neighbour = (self.next_neighbour + 1) % NEIGHBOURS;
    }

    /// True if no host sends from `ip` (RFC 1122 section 3.2.1.3): see
    /// [`Ip::is_invalid_source`]; also our own address and our network's own address
    /// and directed broadcast.
    fn is_bad_source(&self, ip: Ip) -> bool {
        ip.is_bad_source(self.cfg.ip, self.subnet_ends)
    }

    /// Replies go back the way a segment from `ip` came: its sender is remembered as a
    /// neighbour if it is on the link, not the gateway, and not known yet. A known
    /// neighbour's hardware address changes only by ARP (RFC 826), so a forged segment,
    /// even one that TCP refuses, cannot move a neighbour the table holds (though
    /// segments from as many other addresses as the table has entries push it out, as
    /// ARP packets can), and a peer that changes its hardware address is followed once
    /// it says so with ARP, as hosts do (a gratuitous announcement).
    #[inline]
    fn learn_from(&mut self, ip: Ip, mac: Mac) {
        if Some(ip) == self.cfg.gateway
            || !self.on_link(ip)
            || self.neighbours.iter().any(|e| e.0 == ip)
        {
            return;
        }
        self.learn(ip, mac, true);
    }

    /// Where frames for `ip` go: a neighbour on the link itself, or the gateway for an
    /// address beyond it; `None` while that hardware address is not known. Inline: the
    /// transmit path, generic over the platform, is compiled in the caller's crate.
    #[inline]
    pub fn next_hop(&self, ip: Ip) -> Option<Mac> {
        if !self.on_link(ip) || Some(ip) == self.cfg.gateway {
            return self.gateway_mac;
        }
        self.neighbours.iter().find(|e| e.0 == ip).map(|e| e.1)
    }

    /// Counts the segments lost for want of their next hop since the last call (in
    /// `tx_no_route`) and asks for the last one's ([`Network::resolve`]).
    #[inline]
    pub fn resolve_lost<P: Platform>(&mut self, p: &mut P, ctr: &mut Counters) {
        let (n, Some(ip)) = self.lost else {
            return;
        };
        self.lost = (0, None);
        ctr.tx_no_route = ctr.tx_no_route.wrapping_add(n);
        self.resolve(p, ip, ctr);
    }

    /// Asks with ARP for the hardware address of `ip`, a neighbour a frame could not be
    /// sent to (never learned, or its entry taken by another's); its reply adds it. The
    /// gateway, and with it every address beyond the link, is asked for by
    /// [`Network::poll`]. Flooding is prevented (RFC 1122 section 2.3.2.1): an address
    /// is asked for at most once per [`ARP_RETRY_MS`], and no more than [`NEIGHBOURS`]
    /// requests leave in that time in all.
    fn resolve<P: Platform>(&mut self, p: &mut P, ip: Ip, ctr: &mut Counters) {
        if !self.on_link(ip) || Some(ip) == self.cfg.gateway || self.is_bad_source(ip) {
            return;
        }
        let now = p.now_ms();
        let recent =
            |e: &Option<(Ip, u64)>| e.is_some_and(|(_, t)| now.saturating_sub(t) < ARP_RETRY_MS);
        if self
            .asked
            .iter()
            .any(|e| recent(e) && e.is_some_and(|(a, _)| a == ip))
        {
            return;
        }
        // The entry asked longest ago (or never) makes room; if even that one is
        // recent, the requests of the last interval are all spent.
        let oldest = self.asked.iter().copied().enumerate();
        let Some((k, oldest)) = oldest.min_by_key(|(_, e)| e.map(|(_, t)| t)) else {
            return;
        };
        if recent(&oldest) {
            return;
        }
        if self.ask(p, ip, ctr) {
            if let Some(e) = self.asked.get_mut(k) {
                *e = Some((ip, now));
            }
        }
    }

    /// Broadcasts an ARP request for `ip`; true if it left.
    fn ask<P: Platform>(&self, p: &mut P, ip: Ip, ctr: &mut Counters) -> bool {
        let req = arp::Repr {
            operation: arp::Operation::Request,
            source_hw: self.cfg.mac,
            source_ip: self.cfg.ip,
            target_hw: Mac([0; 6]),
            target_ip: ip,
        };
        let sent = self.send_arp(p, Mac::BROADCAST, &req, ctr);
        if sent {
            bump(&mut ctr.arp_requests_sent);
        }
        sent
    }

    /// Builds and queues one TCP segment for `flow` whose `payload_len` data bytes `fill`
    /// writes straight into the frame, and counts what became of it; a next hop not
    /// known is asked for.
    pub fn send_tcp<P: Platform>(
        &mut self,
        p: &mut P,
        flow: &super::tcp::Flow,
        seg: &super::tcp::Segment,
        payload_len: usize,
        fill: &mut dyn FnMut(&mut [u8]),
        ctr: &mut Counters,
    ) -> Sent {
        let sent = self.send_tcp_with(p, flow, seg, payload_len, |out| {
            fill(out);
            None
        });
        if sent == Sent::Queued {
            bump(&mut ctr.tx_frames);
        }
        self.resolve_lost(p, ctr);
        sent
    }

    /// [`Network::send_tcp`] without the counters (the caller counts the frames it sent
    /// and calls [`Network::resolve_lost`]), with the data written by a closure the
    /// compiler sees, so the transmit path's copy of the response is not an indirect
    /// call. The closure returns the data's [`checksum::partial`](super::checksum::partial)
    /// sum when it knows it.
    #[inline]
    pub fn send_tcp_with<P: Platform>(
        &mut self,
        p: &mut P,
        flow: &super::tcp::Flow,
        seg: &super::tcp::Segment,
        payload_len: usize,
        mut fill: impl FnMut(&mut [u8]) -> Option<u16>,
    ) -> Sent {
        let Some(dst_mac) = self.next_hop(flow.remote_ip) else {
            self.lost = (self.lost.0.wrapping_add(1), Some(flow.remote_ip));
            return Sent::NoRoute;
        };
        // An IPv4 packet too long for its length field is not built. TCP never asks for
        // one (its segments are at most an MSS, clamped to 1460 bytes or less).
        let Some(len) = frame::tcp_frame_len(seg.mss.is_some(), payload_len) else {
            return Sent::RingFull;
        };
        self.ident = self.ident.wrapping_add(1);
        let out = frame::TcpOut {
            src_mac: self.cfg.mac,
            dst_mac,
            src_ip: self.cfg.ip,
            dst_ip: flow.remote_ip,
            ident: self.ident,
            src_port: flow.local_port,
            dst_port: flow.remote_port,
            seq: seg.seq,
            ack: seg.ack,
            flags: seg.flags,
            window: seg.window,
            mss: seg.mss,
        };
        let queued = p.transmit(len, &mut |buf| {
            let _ = out.emit(buf, payload_len, &mut fill);
        });
        if queued {
            Sent::Queued
        } else {
            Sent::RingFull
        }
    }

    /// Periodic work: asks for the gateway's address until it is known, and again every
    /// [`ARP_REFRESH_MS`] once it is.
    pub fn poll<P: Platform>(&mut self, p: &mut P, ctr: &mut Counters) {
        let Some(gw) = self.cfg.gateway else {
            return;
        };
        let now = p.now_ms();
        let every = if self.gateway_mac.is_some() {
            ARP_REFRESH_MS
        } else {
            ARP_RETRY_MS
        };
        if self
            .last_arp_ms
            .is_some_and(|t| now.saturating_sub(t) < every)
        {
            return;
        }
        if self.ask(p, gw, ctr) {
            self.last_arp_ms = Some(now);
        }
    }

    fn send_arp<P: Platform>(
        &self,
        p: &mut P,
        dst: Mac,
        repr: &arp::Repr,
        ctr: &mut Counters,
    ) -> bool {
        let eth = ethernet::Repr {
            src: self.cfg.mac,
            dst,
            ethertype: EtherType::Arp,
        };
        let len = ethernet::HEADER_LEN + arp::PACKET_LEN;
        let sent = p.transmit(len, &mut |buf| {
            let _ = eth.emit(buf);
            if let Some(rest) = buf.get_mut(ethernet::HEADER_LEN..) {
                let _ = repr.emit(rest);
            }
        });
        if sent {
            bump(&mut ctr.tx_frames);
        }
        sent
    }

    /// Handles one received frame.
    pub fn receive<'a, P: Platform>(
        &mut self,
        frame: &'a [u8],
        p: &mut P,
        ctr: &mut Counters,
    ) -> Received<'a> {
        bump(&mut ctr.rx_frames);
        // Nearly every frame is a TCP segment in a plain IPv4 packet: taken in one pass.
        // Anything else goes the layered way below, which also counts the drops.
        if let Some(t) = frame::parse_tcp(frame, self.cfg.mac, self.cfg.ip, self.subnet_ends) {
            self.learn_from(t.src, t.src_mac);
            return Received::Tcp {
                src: t.src,
                src_mac: t.src_mac,
                segment: t.segment,
            };
        }
        self.receive_layered(frame, p, ctr)
    }

    /// Any frame but a plain TCP segment, layer by layer, counting every drop. Out of
    /// line: it stays out of the way of the one-pass path's code.
    #[inline(never)]
    fn receive_layered<'a, P: Platform>(
        &mut self,
        frame: &'a [u8],
        p: &mut P,
        ctr: &mut Counters,
    ) -> Received<'a> {
        let Ok(f) = ethernet::Frame::new_checked(frame) else {
            bump(&mut ctr.drop_eth_truncated);
            return Received::Done;
        };
        let dst = f.dst();
        if dst != self.cfg.mac && !dst.is_broadcast() {
            bump(&mut ctr.drop_eth_not_ours);
            return Received::Done;
        }
        let src_mac = f.src();
        if !src_mac.is_unicast() {
            bump(&mut ctr.drop_eth_bad_source);
            return Received::Done;
        }
        let payload = frame.get(ethernet::HEADER_LEN..).unwrap_or(&[]);
        match f.ethertype() {
            EtherType::Arp => {
                self.receive_arp(payload, p, ctr);
                Received::Done
            }
            EtherType::Ipv4 if dst == self.cfg.mac => self.receive_ipv4(payload, src_mac, p, ctr),
            EtherType::Ipv4 => {
                bump(&mut ctr.drop_eth_not_ours);
                Received::Done
            }
            EtherType::Unknown(_) => {
                bump(&mut ctr.drop_eth_unknown_type);
                Received::Done
            }
        }
    }

    fn receive_arp<P: Platform>(&mut self, payload: &[u8], p: &mut P, ctr: &mut Counters) {
        let parsed = arp::Packet::new_checked(payload).and_then(|a| arp::Repr::parse(&a));
        // The sender's hardware address is where a reply goes: never a group address.
        let Some(repr) = parsed.ok().filter(|r| r.source_hw.is_unicast()) else {
            bump(&mut ctr.drop_arp_malformed);
            return;
        };
        if repr.source_ip == self.cfg.ip && repr.source_hw != self.cfg.mac {
            self.defend(p, ctr);
        }
        // RFC 826's merge: a sender already known is updated by any ARP packet; a new
        // one is added only from a packet for us.
        let for_us = repr.target_ip == self.cfg.ip;
        if Some(repr.source_ip) == self.cfg.gateway {
            if for_us || self.gateway_mac.is_some() {
                self.gateway_mac = Some(repr.source_hw);
            }
        } else {
            self.learn(repr.source_ip, repr.source_hw, for_us);
        }
        if !for_us {
            bump(&mut ctr.drop_arp_not_ours);
            return;
        }
        if repr.operation == arp::Operation::Request {
            let reply = repr.reply_from(self.cfg.mac);
            if self.send_arp(p, repr.source_hw, &reply, ctr) {
                bump(&mut ctr.arp_replies_sent);
            } else {
                bump(&mut ctr.tx_full_drops);
            }
        }
    }

    /// Another host claims our address: the link is told whose it is with one broadcast
    /// announcement, at most one every [`DEFEND_INTERVAL_MS`] (RFC 5227 section 2.4 (c)),
    /// so that neighbours that took the other host's claim are set right. Out of line:
    /// it is rare.
    #[inline(never)]
    fn defend<P: Platform>(&mut self, p: &mut P, ctr: &mut Counters) {
        bump(&mut ctr.arp_conflicts);
        let now = p.now_ms();
        if self
            .defended_ms
            .is_some_and(|t| now.saturating_sub(t) < DEFEND_INTERVAL_MS)
        {
            return;
        }
        let announcement = arp::Repr {
            operation: arp::Operation::Request,
            source_hw: self.cfg.mac,
            source_ip: self.cfg.ip,
            target_hw: Mac([0; 6]),
            target_ip: self.cfg.ip,
        };
        if self.send_arp(p, Mac::BROADCAST, &announcement, ctr) {
            self.defended_ms = Some(now);
        } else {
            bump(&mut ctr.tx_full_drops);
        }
    }

    fn receive_ipv4<'a, P: Platform>(
        &mut self,
        payload: &'a [u8],
        src_mac: Mac,
        p: &mut P,
        ctr: &mut Counters,
    ) -> Received<'a> {
        let packet = match ipv4::Packet::new_checked(payload) {
            Ok(packet) => packet,
            Err(_) => {
                bump(&mut ctr.drop_ipv4_malformed);
                return Received::Done;
            }
        };
        let repr = match ipv4::Repr::parse(&packet) {
            Ok(r) => r,
            Err(Error::Checksum) => {
                bump(&mut ctr.drop_ipv4_checksum);
                return Received::Done;
            }
            Err(Error::Fragment) => {
                bump(&mut ctr.drop_ipv4_fragment);
                return Received::Done;
            }
            Err(Error::Unsupported) => {
                bump(&mut ctr.drop_ipv4_source_routed);
                return Received::Done;
            }
            Err(_) => {
                bump(&mut ctr.drop_ipv4_malformed);
                return Received::Done;
            }
        };
        if repr.dst != self.cfg.ip {
            bump(&mut ctr.drop_ipv4_not_ours);
            return Received::Done;
        }
        if self.is_bad_source(repr.src) {
            bump(&mut ctr.drop_ipv4_bad_source);
            return Received::Done;
        }
        let body = payload
            .get(packet.header_len()..usize::from(packet.total_len()))
            .unwrap_or(&[]);
        match repr.protocol {
            Protocol::Icmp => self.receive_icmp(body, &repr, src_mac, p, ctr),
            Protocol::Tcp => {
                let parsed = tcp::Packet::new_checked(body)
                    .and_then(|t| tcp::Repr::parse(&t, repr.src, repr.dst));
                let header = body.first_chunk::<{ tcp::HEADER_LEN }>();
                // The option bytes lie between the fixed header and the data.
                let options = parsed.as_ref().ok().and_then(|r| {
                    let end = body.len().checked_sub(r.payload.len())?;
                    body.get(tcp::HEADER_LEN..end)
                });
                match (parsed, header, options) {
                    (Ok(r), Some(header), Some(options)) => {
                        self.learn_from(repr.src, src_mac);
                        Received::Tcp {
                            src: repr.src,
                            src_mac,
                            segment: tcp::InPlace::new(header, options, r.payload),
                        }
                    }
                    // A checked packet holds its fixed header.
                    (Ok(_), _, _) => {
                        bump(&mut ctr.drop_tcp_malformed);
                        Received::Done
                    }
                    (Err(Error::Checksum), _, _) => {
                        bump(&mut ctr.drop_tcp_checksum);
                        Received::Done
                    }
                    (Err(_), _, _) => {
                        bump(&mut ctr.drop_tcp_malformed);
                        Received::Done
                    }
                }
            }
            Protocol::Unknown(_) => {
                bump(&mut ctr.drop_ipv4_unknown_protocol);
                Received::Done
            }
        }
    }

    fn receive_icmp<P: Platform>(
        &mut self,
        body: &[u8],
        ip: &ipv4::Repr,
        src_mac: Mac,
        p: &mut P,
        ctr: &mut Counters,
    ) -> Received<'static> {
        let parsed = icmp::Packet::new_checked(body).and_then(|m| icmp::Repr::parse(&m));
        if let Ok(icmp::Repr::FragmentationNeeded { mtu, original }) = parsed {
            return match self.too_big(original, mtu) {
                Some(report) => report,
                None => {
                    bump(&mut ctr.drop_icmp);
                    Received::Done
                }
            };
        }
        let Some(reply) = parsed.ok().and_then(|r| r.reply()) else {
            bump(&mut ctr.drop_icmp);
            return Received::Done;
        };
        let Ok(icmp_len) = u16::try_from(reply.buffer_len()) else {
            bump(&mut ctr.drop_icmp);
            return Received::Done;
        };
        let eth = ethernet::Repr {
            src: self.cfg.mac,
            dst: src_mac,
            ethertype: EtherType::Ipv4,
        };
        let ip_out = ipv4::Repr {
            src: self.cfg.ip,
            dst: ip.src,
            protocol: Protocol::Icmp,
            payload_len: icmp_len,
            ttl: ipv4::DEFAULT_TTL,
        };
        self.ident = self.ident.wrapping_add(1);
        let ident = self.ident;
        let len = ethernet::HEADER_LEN + ipv4::HEADER_LEN + usize::from(icmp_len);
        let sent = p.transmit(len, &mut |buf| {
            let _ = eth.emit(buf);
            if let Some(rest) = buf.get_mut(ethernet::HEADER_LEN..) {
                let _ = ip_out.emit(rest, ident);
            }
            if let Some(rest) = buf.get_mut(ethernet::HEADER_LEN + ipv4::HEADER_LEN..) {
                let _ = reply.emit(rest);
            }
        });
        if sent {
            bump(&mut ctr.tx_frames);
            bump(&mut ctr.icmp_echo_replies);
        } else {
            // A ping reply is not worth parking: with the TX ring full it is dropped.
            bump(&mut ctr.tx_full_drops);
        }
        Received::Done
    }

    /// The TCP segment a "fragmentation needed" message quotes: `None` unless `original`
    /// starts with an IPv4 header of a TCP segment from us, followed by the eight bytes
    /// that hold its ports and sequence number. Whether that segment is in flight is the
    /// TCP layer's to judge (RFC 5927 section 7.2).
    fn too_big(&self, original: &[u8], mtu: u16) -> Option<Received<'static>> {
        let quoted = ipv4::Packet::new_unchecked(original);
        let header_len = quoted.header_len();
        if original.len() < ipv4::HEADER_LEN
            || quoted.version() != 4
            || header_len < ipv4::HEADER_LEN
            || quoted.protocol() != Protocol::Tcp
            || quoted.src() != self.cfg.ip
        {
            return None;
        }
        let tcp = original.get(header_len..)?.first_chunk::<8>()?;
        let [sp0, sp1, dp0, dp1, s0, s1, s2, s3] = *tcp;
        Some(Received::TooBig {
            remote: quoted.dst(),
            remote_port: u16::from_be_bytes([dp0, dp1]),
            local_port: u16::from_be_bytes([sp0, sp1]),
            seq: tcp::SeqNumber(u32::from_be_bytes([s0, s1, s2, s3])),
            mtu,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec;
    use std::vec::Vec;

    const OUR_MAC: Mac = Mac([2, 0, 0, 0, 0, 1]);
    const PEER_MAC: Mac = Mac([2, 0, 0, 0, 0, 9]);
    const OUR_IP: Ip = Ip([10, 1, 0, 1]);
    const PEER_IP: Ip = Ip([10, 1, 0, 9]);
    const GW: Ip = Ip([10, 1, 0, 254]);

    #[derive(Default)]
    struct TestPlatform {
        now: u64,
        sent: Vec<Vec<u8>>,
        full: bool,
    }

    impl Platform for TestPlatform {
        fn now_ms(&self) -> u64 {
            self.now
        }
        fn random(&mut self) -> u64 {
            4
        }
        fn transmit(&mut self, len: usize, build: &mut dyn FnMut(&mut [u8])) -> bool {
            if self.full {
                return false;
            }
            let mut buf = vec![0u8; len];
            build(&mut buf);
            self.sent.push(buf);
            true
        }
    }

    fn net() -> Network {
        Network::new(NetConfig {
            mac: OUR_MAC,
            ip: OUR_IP,
            prefix_len: 24,
            gateway: Some(GW),
        })
    }

    fn frame(dst: Mac, ethertype: EtherType, payload: &[u8]) -> Vec<u8> {
        frame_from(PEER_MAC, dst, ethertype, payload)
    }

    fn frame_from(src: Mac, dst: Mac, ethertype: EtherType, payload: &[u8]) -> Vec<u8> {
        let mut f = vec![0u8; 14 + payload.len()];
        ethernet::Repr {
            src,
            dst,
            ethertype,
        }
        .emit(&mut f)
        .unwrap();
        f[14..].copy_from_slice(payload);
        f
    }

    fn arp_frame(op: arp::Operation, src_ip: Ip, target: Ip) -> Vec<u8> {
        arp_frame_from(PEER_MAC, op, src_ip, target)
    }

    fn arp_frame_from(hw: Mac, op: arp::Operation, src_ip: Ip, target: Ip) -> Vec<u8> {
        let mut a = [0u8; 28];
        arp::Repr {
            operation: op,
            source_hw: hw,
            source_ip: src_ip,
            target_hw: Mac([0; 6]),
            target_ip: target,
        }
        .emit(&mut a)
        .unwrap();
        frame(Mac::BROADCAST, EtherType::Arp, &a)
    }

    fn ip_frame(protocol: Protocol, dst: Ip, body: &[u8]) -> Vec<u8> {
        ip_frame_from(PEER_IP, protocol, dst, body)
    }

    fn ip_frame_from(src: Ip, protocol: Protocol, dst: Ip, body: &[u8]) -> Vec<u8> {
        let mut ip = vec![0u8; 20 + body.len()];
        ipv4::Repr {
            src,
            dst,
            protocol,
            payload_len: body.len() as u16,
            ttl: 64,
        }
        .emit(&mut ip, 1)
        .unwrap();
        ip[20..].copy_from_slice(body);
        frame(OUR_MAC, EtherType::Ipv4, &ip)
    }

    fn ping() -> Vec<u8> {
        let mut m = [0u8; 12];
        icmp::Repr::EchoRequest {
            ident: 7,
            seq: 3,
            data: b"ping",
        }
        .emit(&mut m)
        .unwrap();
        ip_frame(Protocol::Icmp, OUR_IP, &m)
    }

    #[test]
    fn answers_arp_for_our_address_only() {
        let (mut n, mut p, mut c) = (net(), TestPlatform::default(), Counters::default());
        let f = arp_frame(arp::Operation::Request, PEER_IP, OUR_IP);
        assert_eq!(n.receive(&f, &mut p, &mut c), Received::Done);
        let out = &p.sent[0];
        let eth = ethernet::Frame::new_checked(&out[..]).unwrap();
        assert_eq!((eth.dst(), eth.src()), (PEER_MAC, OUR_MAC));
        let r = arp::Repr::parse(&arp::Packet::new_checked(&out[14..]).unwrap()).unwrap();
        assert_eq!(r.operation, arp::Operation::Reply);
        assert_eq!((r.source_hw, r.source_ip), (OUR_MAC, OUR_IP));
        assert_eq!((r.target_hw, r.target_ip), (PEER_MAC, PEER_IP));
        let f = arp_frame(arp::Operation::Request, PEER_IP, Ip([10, 1, 0, 2]));
        n.receive(&f, &mut p, &mut c);
        assert_eq!(p.sent.len(), 1);
        assert_eq!((c.arp_replies_sent, c.drop_arp_not_ours), (1, 1));
        n.receive(&f[..30], &mut p, &mut c);
        assert_eq!(c.drop_arp_malformed, 1);
    }

    #[test]
    fn resolves_and_caches_the_gateway() {
        let (mut n, mut p, mut c) = (net(), TestPlatform::default(), Counters::default());
        n.poll(&mut p, &mut c);
        n.poll(&mut p, &mut c);
        assert_eq!(p.sent.len(), 1, "rate limited");
        let r = arp::Repr::parse(&arp::Packet::new_checked(&p.sent[0][14..]).unwrap()).unwrap();
        assert_eq!((r.operation, r.target_ip), (arp::Operation::Request, GW));
        p.now = 1000;
        n.poll(&mut p, &mut c);
        assert_eq!(c.arp_requests_sent, 2);
        n.receive(
            &arp_frame(arp::Operation::Reply, GW, OUR_IP),
            &mut p,
            &mut c,
        );
        assert_eq!(n.gateway_mac(), Some(PEER_MAC));
        p.now = 5000;
        n.poll(&mut p, &mut c);
        assert_eq!(c.arp_requests_sent, 2, "cached");
        // Asked again after a while; the known address serves until the answer.
        p.now = 1000 + ARP_REFRESH_MS;
        n.poll(&mut p, &mut c);
        assert_eq!(c.arp_requests_sent, 3, "refreshed");
        assert_eq!(n.gateway_mac(), Some(PEER_MAC));
        let moved = Mac([2, 0, 0, 0, 0, 0x42]);
        n.receive(
            &arp_frame_from(moved, arp::Operation::Reply, GW, OUR_IP),
            &mut p,
            &mut c,
        );
        assert_eq!(n.gateway_mac(), Some(moved));
    }

    #[test]
    fn arp_updates_known_senders_and_adds_new_ones_only_from_packets_for_us() {
        let (mut n, mut p, mut c) = (net(), TestPlatform::default(), Counters::default());
        let other = Ip([10, 1, 0, 3]);
        let moved = Mac([2, 0, 0, 0, 0, 0x42]);
        // The gateway asking for someone else, before we asked for it: not taken.
        n.receive(
            &arp_frame(arp::Operation::Request, GW, other),
            &mut p,
            &mut c,
        );
        assert_eq!(n.gateway_mac(), None);
        // A gratuitous announcement of an unknown sender: not taken either.
        n.receive(
            &arp_frame(arp::Operation::Request, other, other),
            &mut p,
            &mut c,
        );
        assert_eq!(n.next_hop(other), None);
        // Packets for us add their sender; later announcements update it.
        n.receive(
            &arp_frame(arp::Operation::Request, PEER_IP, OUR_IP),
            &mut p,
            &mut c,
        );
        n.receive(
            &arp_frame(arp::Operation::Reply, GW, OUR_IP),
            &mut p,
            &mut c,
        );
        assert_eq!(n.next_hop(PEER_IP), Some(PEER_MAC));
        assert_eq!(n.gateway_mac(), Some(PEER_MAC));
        let announce = arp_frame_from(moved, arp::Operation::Request, PEER_IP, PEER_IP);
        n.receive(&announce, &mut p, &mut c);
        n.receive(
            &arp_frame_from(moved, arp::Operation::Request, GW, other),
            &mut p,
            &mut c,
        );
        assert_eq!(n.next_hop(PEER_IP), Some(moved));
        assert_eq!(n.gateway_mac(), Some(moved));
        assert_eq!(
            n.next_hop(other),
            None,
            "a neighbour is never reached via the gateway"
        );
        assert_eq!(c.drop_arp_not_ours, 4);
        // A reply the full TX ring cannot take is counted.
        p.full = true;
        n.receive(
            &arp_frame(arp::Operation::Request, PEER_IP, OUR_IP),
            &mut p,
            &mut c,
        );
        assert_eq!((c.arp_replies_sent, c.tx_full_drops), (1, 1));
    }

    /// Sends a bare ACK to port 40000 of `ip`.
    fn send_ack(n: &mut Network, p: &mut TestPlatform, c: &mut Counters, ip: Ip) -> Sent {
        let flow = super::super::tcp::Flow {
            remote_ip: ip,
            remote_port: 40000,
            local_ip: OUR_IP,
            local_port: 80,
        };
        let seg = super::super::tcp::Segment {
            seq: tcp::SeqNumber(1),
            ack: Some(tcp::SeqNumber(1)),
            flags: tcp::Flags(0),
            window: 1024,
            mss: None,
            data: None,
        };
        n.send_tcp(p, &flow, &seg, 0, &mut |_| {}, c)
    }

    #[test]
    fn a_segment_to_a_neighbour_not_known_is_lost_and_the_neighbour_asked_for() {
        let (mut n, mut p, mut c) = (net(), TestPlatform::default(), Counters::default());
        let send =
            |n: &mut Network, p: &mut TestPlatform, c: &mut Counters| send_ack(n, p, c, PEER_IP);
        // Eight other neighbours took every entry: the peer has none.
        for k in 0..8 {
            let ip = Ip([10, 1, 0, 100 + k]);
            let f = frame_from(
                Mac([2, 0, 0, 0, 1, k]),
                OUR_MAC,
                EtherType::Ipv4,
                &syn_frame_from(ip)[14..],
            );
            n.receive(&f, &mut p, &mut c);
        }
        n.receive(
            &arp_frame(arp::Operation::Reply, GW, OUR_IP),
            &mut p,
            &mut c,
        );
        assert_eq!(
            n.next_hop(PEER_IP),
            None,
            "not the gateway: the peer is on the link"
        );
        assert_eq!(send(&mut n, &mut p, &mut c), Sent::NoRoute);
        assert_eq!((c.tx_no_route, c.arp_requests_sent, c.tx_frames), (1, 1, 1));
        let req = arp::Repr::parse(&arp::Packet::new_checked(&p.sent[0][14..]).unwrap()).unwrap();
        assert_eq!(
            (req.operation, req.target_ip),
            (arp::Operation::Request, PEER_IP)
        );
        assert_eq!(&p.sent[0][..6], &[0xff; 6]);
        // Asked once a second at most.
        p.now = 999;
        assert_eq!(send(&mut n, &mut p, &mut c), Sent::NoRoute);
        assert_eq!((c.tx_no_route, c.arp_requests_sent), (2, 1));
        p.now = 1000;
        assert_eq!(send(&mut n, &mut p, &mut c), Sent::NoRoute);
        assert_eq!((c.tx_no_route, c.arp_requests_sent), (3, 2));
        // Its answer adds it; the next segment goes out.
        n.receive(
            &arp_frame(arp::Operation::Reply, PEER_IP, OUR_IP),
            &mut p,
            &mut c,
        );
        assert_eq!(n.next_hop(PEER_IP), Some(PEER_MAC));
        assert_eq!(send(&mut n, &mut p, &mut c), Sent::Queued);
        assert_eq!(c.tx_no_route, 3);
        // A full ring is no lost route.
        p.full = true;
        assert_eq!(send(&mut n, &mut p, &mut c), Sent::RingFull);
        assert_eq!(c.tx_no_route, 3);
    }

    /// Another host claiming our address gets a broadcast announcement of ours, at most
    /// one every ten seconds however often it claims it.
    #[test]
    fn our_address_is_defended_by_announcement() {
        let (mut n, mut p, mut c) = (net(), TestPlatform::default(), Counters::default());
        let intruder = Mac([2, 0, 0, 0, 0, 0x66]);
        let claims = [
            arp_frame_from(intruder, arp::Operation::Request, OUR_IP, OUR_IP),
            arp_frame_from(intruder, arp::Operation::Reply, OUR_IP, PEER_IP),
        ];
        let announced = |p: &TestPlatform| {
            p.sent
                .iter()
                .filter(|f| f[..6] == [0xff; 6])
                .map(|f| arp::Repr::parse(&arp::Packet::new_checked(&f[14..]).unwrap()).unwrap())
                .inspect(|r| {
                    assert_eq!(r.operation, arp::Operation::Request);
                    assert_eq!(
                        (r.source_hw, r.source_ip, r.target_ip),
                        (OUR_MAC, OUR_IP, OUR_IP)
                    );
                })
                .count()
        };
        for at in [0, 5_000, 9_999] {
            p.now = at;
            for f in &claims {
                n.receive(f, &mut p, &mut c);
            }
        }
        assert_eq!((announced(&p), c.arp_conflicts), (1, 6));
        p.now = 10_000;
        n.receive(&claims[1], &mut p, &mut c);
        assert_eq!((announced(&p), c.arp_conflicts), (2, 7));
        // Our own address from our own hardware is no claim.
        let ours = arp_frame_from(OUR_MAC, arp::Operation::Request, OUR_IP, OUR_IP);
        n.receive(&ours, &mut p, &mut c);
        assert_eq!(c.arp_conflicts, 7);
    }

    /// A TCP segment teaches a new neighbour's hardware address, but only ARP moves a
    /// known one: a forged segment cannot redirect a peer's traffic.
    #[test]
    fn tcp_adds_neighbours_and_only_arp_moves_them() {
        let (mut n, mut p, mut c) = (net(), TestPlatform::default(), Counters::default());
        let first = frame_from(
            PEER_MAC,
            OUR_MAC,
            EtherType::Ipv4,
            &syn_frame_from(PEER_IP)[14..],
        );
        n.receive(&first, &mut p, &mut c);
        assert_eq!(n.next_hop(PEER_IP), Some(PEER_MAC));
        let forger = Mac([2, 0, 0, 0, 0, 0x66]);
        let forged = frame_from(
            forger,
            OUR_MAC,
            EtherType::Ipv4,
            &syn_frame_from(PEER_IP)[14..],
        );
        assert!(matches!(
            n.receive(&forged, &mut p, &mut c),
            Received::Tcp { .. }
        ));
        assert_eq!(n.next_hop(PEER_IP), Some(PEER_MAC));
        n.receive(
            &arp_frame_from(forger, arp::Operation::Request, PEER_IP, OUR_IP),
            &mut p,
            &mut c,
        );
        assert_eq!(n.next_hop(PEER_IP), Some(forger), "ARP moves it");
    }

    #[test]
    fn peers_beyond_the_link_are_reached_through_the_gateway() {
        let (mut n, mut p, mut c) = (net(), TestPlatform::default(), Counters::default());
        let far = Ip([192, 0, 2, 7]);
        let router = Mac([2, 0, 0, 0, 0, 0x77]);
        // A segment from beyond the link, as a router hands it on: its hardware address
        // is the router's, not the sender's, and is not learned.
        let f = frame_from(router, OUR_MAC, EtherType::Ipv4, &syn_frame_from(far)[14..]);
        assert!(matches!(
            n.receive(&f, &mut p, &mut c),
            Received::Tcp { .. }
        ));
        assert_eq!(n.next_hop(far), None, "the gateway is not resolved yet");
        // Nor is an ARP packet for us from an address beyond the link believed.
        n.receive(
            &arp_frame(arp::Operation::Request, far, OUR_IP),
            &mut p,
            &mut c,
        );
        assert_eq!(n.next_hop(far), None);
        n.receive(
            &arp_frame(arp::Operation::Reply, GW, OUR_IP),
            &mut p,
            &mut c,
        );
        assert_eq!(n.next_hop(far), Some(PEER_MAC), "through the gateway");
        // A neighbour on the link is reached directly.
        let near = Ip([10, 1, 0, 77]);
        let f = frame_from(
            router,
            OUR_MAC,
            EtherType::Ipv4,
            &syn_frame_from(near)[14..],
        );
        n.receive(&f, &mut p, &mut c);
        assert_eq!(n.next_hop(near), Some(router));
    }

    #[test]
    fn drops_frames_from_sources_no_peer_sends_from() {
        let (mut n, mut p, mut c) = (net(), TestPlatform::default(), Counters::default());
        let good = ping();
        // Group and zero hardware sources, whatever the frame carries.
        for mac in [Mac::BROADCAST, Mac([1, 0, 0x5e, 0, 0, 1]), Mac([0; 6])] {
            let f = frame_from(mac, OUR_MAC, EtherType::Ipv4, &good[14..]);
            assert_eq!(n.receive(&f, &mut p, &mut c), Received::Done);
        }
        assert_eq!(c.drop_eth_bad_source, 3);
        // An ARP request whose sender hardware address is a group address.
        let mut f = arp_frame(arp::Operation::Request, PEER_IP, OUR_IP);
        f[14 + 8..14 + 14].copy_from_slice(&[0xff; 6]);
        n.receive(&f, &mut p, &mut c);
        assert_eq!(c.drop_arp_malformed, 1);
        // Addresses no host sends from, ours and our network's own address and directed
        // broadcast: not pinged back, no SYN-ACK.
        let bad = [
            Ip([127, 0, 0, 1]),
            Ip([0, 0, 0, 0]),
            Ip([224, 0, 0, 9]),
            OUR_IP,
            Ip([10, 1, 0, 255]),
            Ip([10, 1, 0, 0]),
        ];
        for src in bad {
            let f = syn_frame_from(src);
            assert_eq!(n.receive(&f, &mut p, &mut c), Received::Done, "{src:?}");
            let mut icmp = [0u8; 8];
            icmp::Repr::EchoRequest {
                ident: 1,
                seq: 1,
                data: &[],
            }
            .emit(&mut icmp)
            .unwrap();
            let f = ip_frame_from(src, Protocol::Icmp, OUR_IP, &icmp);
            assert_eq!(n.receive(&f, &mut p, &mut c), Received::Done, "{src:?}");
        }
        assert_eq!(c.drop_ipv4_bad_source, 12);
        assert!(p.sent.is_empty());
        assert_eq!(c.rx_frames, 16);
        // On a /31 both addresses are hosts (RFC 3021).
        let mut n = Network::new(NetConfig {
            prefix_len: 31,
            ..*net().config()
        });
        let peer = Ip([10, 1, 0, 0]);
        assert!(matches!(
            n.receive(&syn_frame_from(peer), &mut p, &mut c),
            Received::Tcp { .. }
        ));
        assert_eq!(c.drop_ipv4_bad_source, 12);
    }

    #[test]
    fn answers_ping() {
        let (mut n, mut p, mut c) = (net(), TestPlatform::default(), Counters::default());
        assert_eq!(n.receive(&ping(), &mut p, &mut c), Received::Done);
        let out = &p.sent[0];
        let ip = ipv4::Packet::new_checked(&out[14..]).unwrap();
        let r = ipv4::Repr::parse(&ip).unwrap();
        assert_eq!(
            (r.src, r.dst, r.protocol),
            (OUR_IP, PEER_IP, Protocol::Icmp)
        );
        let m = icmp::Packet::new_checked(ip.payload()).unwrap();
        assert_eq!(
            icmp::Repr::parse(&m),
            Ok(icmp::Repr::EchoReply {
                ident: 7,
                seq: 3,
                data: b"ping"
            })
        );
        assert_eq!(c.icmp_echo_replies, 1);
        p.full = true;
        n.receive(&ping(), &mut p, &mut c);
        assert_eq!((c.drop_icmp, c.tx_full_drops), (0, 1));
    }

    /// A router's "fragmentation needed" quoting `original`, with `mtu`.
    fn too_big(original: &[u8], mtu: u16) -> Vec<u8> {
        let message = icmp::Repr::FragmentationNeeded { mtu, original };
        let mut m = vec![0u8; message.buffer_len()];
        message.emit(&mut m).unwrap();
        ip_frame_from(Ip([10, 1, 0, 254]), Protocol::Icmp, OUR_IP, &m)
    }

    #[test]
    fn arp_requests_are_limited_per_address_and_in_all() {
        let (mut n, mut p, mut c) = (net(), TestPlatform::default(), Counters::default());
        let lose = |n: &mut Network, p: &mut TestPlatform, c: &mut Counters, k: u8| {
            let ip = Ip([10, 1, 0, 100 + k]);
            assert_eq!(send_ack(n, p, c, ip), Sent::NoRoute);
        };
        p.now = 5000;
        // Two neighbours lost in turn: each asked for once.
        for _ in 0..5 {
            lose(&mut n, &mut p, &mut c, 0);
            lose(&mut n, &mut p, &mut c, 1);
        }
        assert_eq!((c.arp_requests_sent, c.tx_no_route), (2, 10));
        // Many more: no more than eight requests in a second in all.
        for k in 0..20 {
            lose(&mut n, &mut p, &mut c, k);
        }
        assert_eq!(c.arp_requests_sent, 8);
        // A second later, the next ones are asked for.
        p.now = 6000;
        for k in 8..12 {
            lose(&mut n, &mut p, &mut c, k);
            lose(&mut n, &mut p, &mut c, k);
        }
        assert_eq!(c.arp_requests_sent, 12);
        let targets: Vec<u8> = p
            .sent
            .iter()
            .map(|f| {
                let a = arp::Repr::parse(&arp::Packet::new_checked(&f[14..]).unwrap()).unwrap();
                a.target_ip.0[3] - 100
            })
            .collect();
        assert_eq!(targets, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    }

    #[test]
    fn fragmentation_needed_names_our_segment_or_is_dropped() {
        // The start of a segment we sent: IPv4 header, then ports and sequence number.
        let mut ours = vec![0u8; 20];
        ipv4::Repr {
            src: OUR_IP,
            dst: PEER_IP,
            protocol: Protocol::Tcp,
            payload_len: 1480,
            ttl: 64,
        }
        .emit(&mut ours, 5)
        .unwrap();
        ours.extend_from_slice(&[0, 80, 0x9c, 0x40, 0, 0, 0x30, 0x39]);
        let (mut n, mut p, mut c) = (net(), TestPlatform::default(), Counters::default());
        assert_eq!(
            n.receive(&too_big(&ours, 1400), &mut p, &mut c),
            Received::TooBig {
                remote: PEER_IP,
                remote_port: 40000,
                local_port: 80,
                seq: tcp::SeqNumber(12345),
                mtu: 1400,
            }
        );
        assert_eq!((c.drop_icmp, p.sent.len()), (0, 0));
        // Anything else quoted is dropped and counted: cut short, not IPv4, not TCP, or
        // not from us.
        let mut not_v4 = ours.clone();
        not_v4[0] = 0x65;
        let mut not_tcp = ours.clone();
        not_tcp[9] = 17;
        let mut not_ours = ours.clone();
        not_ours[12..16].copy_from_slice(&PEER_IP.0);
        let mut bad_ihl = ours.clone();
        bad_ihl[0] = 0x44;
        let mut cases = vec![not_v4, not_tcp, not_ours, bad_ihl];
        cases.extend((0..ours.len()).map(|k| ours[..k].to_vec()));
        for (k, original) in cases.iter().enumerate() {
            assert_eq!(
                n.receive(&too_big(original, 1400), &mut p, &mut c),
                Received::Done
            );
            assert_eq!(c.drop_icmp, k as u64 + 1);
        }
        assert!(p.sent.is_empty());
    }

    /// A SYN to port 80.
    fn syn() -> tcp::Repr<'static> {
        tcp::Repr {
            src_port: 40000,
            dst_port: 80,
            seq: tcp::SeqNumber(1),
            ack: None,
            flags: tcp::Flags::SYN,
            window: 100,
            options: tcp::Options::default(),
            payload: &[],
        }
    }

    /// [`syn`] from `src`, in a frame to us.
    fn syn_frame_from(src: Ip) -> Vec<u8> {
        let mut body = [0u8; 20];
        syn().emit(&mut body, src, OUR_IP).unwrap();
        ip_frame_from(src, Protocol::Tcp, OUR_IP, &body)
    }

    #[test]
    fn hands_tcp_up() {
        let (mut n, mut p, mut c) = (net(), TestPlatform::default(), Counters::default());
        let seg = syn();
        let f = syn_frame_from(PEER_IP);
        assert_handed_up(n.receive(&f, &mut p, &mut c), seg);
        let mut bad = f.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert_eq!(n.receive(&bad, &mut p, &mut c), Received::Done);
        assert_eq!(c.drop_tcp_checksum, 1);
    }

    /// `received` is `seg` from the peer, handed up to TCP.
    fn assert_handed_up(received: Received<'_>, seg: tcp::Repr<'_>) {
        match received {
            Received::Tcp {
                src,
                src_mac,
                segment,
            } => assert_eq!((src, src_mac, segment.repr()), (PEER_IP, PEER_MAC, seg)),
            other => panic!("{other:?}"),
        }
    }

    /// A peer's segment with a short GET, at sequence number `seq`.
    fn get_request(seq: u32) -> tcp::Repr<'static> {
        tcp::Repr {
            src_port: 40000,
            dst_port: 80,
            seq: tcp::SeqNumber(seq),
            ack: Some(tcp::SeqNumber(9)),
            flags: tcp::Flags::PSH,
            window: 100,
            options: tcp::Options::default(),
            payload: b"GET / HTTP/1.1\r\n\r\n",
        }
    }

    /// `seg` from the peer to us, as the bytes of an IPv4 packet's payload.
    fn tcp_body(seg: &tcp::Repr<'_>) -> Vec<u8> {
        let mut body = vec![0u8; seg.buffer_len()];
        seg.emit(&mut body, PEER_IP, OUR_IP).unwrap();
        body
    }

    #[test]
    fn source_routed_packets_are_dropped_and_counted() {
        let (mut n, mut p, mut c) = (net(), TestPlatform::default(), Counters::default());
        let plain = ping();
        // A loose source route through 192.0.2.1, in eight bytes of options.
        let mut f = plain[..34].to_vec();
        f.extend_from_slice(&[131, 7, 4, 192, 0, 2, 1, 0]);
        f.extend_from_slice(&plain[34..]);
        f[14] = 0x47;
        let total = (f.len() - 14) as u16;
        f[16..18].copy_from_slice(&total.to_be_bytes());
        ipv4::Packet::new_unchecked(&mut f[14..42]).fill_checksum();
        assert_eq!(n.receive(&f, &mut p, &mut c), Received::Done);
        assert!(p.sent.is_empty(), "not answered");
        assert_eq!((c.drop_ipv4_source_routed, c.dropped()), (1, 1));
        // The same ping without it is answered.
        n.receive(&plain, &mut p, &mut c);
        assert_eq!(c.icmp_echo_replies, 1);
    }

    #[test]
    fn tcp_behind_ipv4_options_is_handed_up_the_layered_way() {
        let (mut n, mut p, mut c) = (net(), TestPlatform::default(), Counters::default());
        let seg = get_request(7);
        let body = tcp_body(&seg);
        let plain = ip_frame(Protocol::Tcp, OUR_IP, &body);
        // Four bytes of IPv4 options (three NOPs and the end): the one-pass parser
        // declines the frame, the layered views take it.
        let mut f = plain[..34].to_vec();
        f.extend_from_slice(&[1, 1, 1, 0]);
        f.extend_from_slice(&plain[34..]);
        f[14] = 0x46;
        let total = (f.len() - 14) as u16;
        f[16..18].copy_from_slice(&total.to_be_bytes());
        ipv4::Packet::new_unchecked(&mut f[14..38]).fill_checksum();
        assert!(frame::parse_tcp(&f, OUR_MAC, OUR_IP, [Ip::BROADCAST; 2]).is_none());
        assert_handed_up(n.receive(&f, &mut p, &mut c), seg);
    }

    #[test]
    fn truncated_tcp_frames_are_dropped_and_counted() {
        let (mut n, mut p, mut c) = (net(), TestPlatform::default(), Counters::default());
        let seg = get_request(1);
        let body = tcp_body(&seg);
        let f = ip_frame(Protocol::Tcp, OUR_IP, &body);
        assert!(matches!(
            n.receive(&f, &mut p, &mut c),
            Received::Tcp { .. }
        ));
        for len in 0..f.len() {
            assert_eq!(
                n.receive(&f[..len], &mut p, &mut c),
                Received::Done,
                "{len}"
            );
        }
        let drops = c.drop_eth_truncated + c.drop_ipv4_malformed;
        assert_eq!(c.rx_frames, 1 + f.len() as u64);
        assert_eq!(drops, f.len() as u64, "every cut frame counted once");
        // Ethernet padding after the packet is not part of the segment.
        let mut padded = f.clone();
        padded.extend_from_slice(&[0; 7]);
        match n.receive(&padded, &mut p, &mut c) {
            Received::Tcp { segment, .. } => assert_eq!(segment.repr(), seg),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn drops_are_counted_by_reason() {
        let (mut n, mut p, mut c) = (net(), TestPlatform::default(), Counters::default());
        n.receive(&[0u8; 10], &mut p, &mut c);
        n.receive(
            &frame(Mac([2, 0, 0, 0, 0, 7]), EtherType::Ipv4, &[0; 20]),
            &mut p,
            &mut c,
        );
        n.receive(
            &frame(OUR_MAC, EtherType::Unknown(0x86dd), &[0; 40]),
            &mut p,
            &mut c,
        );
        n.receive(
            &frame(OUR_MAC, EtherType::Ipv4, &[0x45, 0, 0]),
            &mut p,
            &mut c,
        );
        n.receive(
            &ip_frame(Protocol::Unknown(17), OUR_IP, &[0; 8]),
            &mut p,
            &mut c,
        );
        n.receive(
            &ip_frame(Protocol::Icmp, Ip([10, 1, 0, 3]), &[0; 8]),
            &mut p,
            &mut c,
        );
        let mut frag = ping();
        frag[14 + 6] = 0x20; // more fragments
        let sum_at = 14 + 10;
        frag[sum_at] = 0;
        frag[sum_at + 1] = 0;
        let s = super::super::checksum::of(&frag[14..34]);
        frag[sum_at..sum_at + 2].copy_from_slice(&s.to_be_bytes());
        n.receive(&frag, &mut p, &mut c);
        let mut bad_sum = ping();
        bad_sum[14 + 8] = 1;
        n.receive(&bad_sum, &mut p, &mut c);
        assert_eq!(c.drop_eth_truncated, 1);
        assert_eq!(c.drop_eth_not_ours, 1);
        assert_eq!(c.drop_eth_unknown_type, 1);
        assert_eq!(c.drop_ipv4_malformed, 1);
        assert_eq!(c.drop_ipv4_unknown_protocol, 1);
        assert_eq!(c.drop_ipv4_not_ours, 1);
        assert_eq!(c.drop_ipv4_fragment, 1);
        assert_eq!(c.drop_ipv4_checksum, 1);
        assert_eq!(c.rx_frames, 8);
        assert!(p.sent.is_empty());
    }
}

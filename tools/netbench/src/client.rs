//! The scripted client: it builds Ethernet/IPv4/TCP frames with gh_net's emitters, hands
//! them to the server under test one at a time, and reacts to what comes back. Every
//! frame the server sends is parsed and checked (addresses, ports, checksums, sequence
//! and acknowledgment numbers); anything unexpected panics, so a run that finishes is a
//! run in which every connection completed.
//!
//! One connection is four client frames, whatever the server: SYN; the handshake's ACK;
//! the request (PSH, ACK); and, once the whole response and the server's FIN are in,
//! FIN+ACK. The server must answer with SYN-ACK, the response and its FIN (in as many
//! segments as it likes), and the ACK of the client's FIN.

use gh_net::wire::arp;
use gh_net::wire::ethernet::{self, EtherType};
use gh_net::wire::ipv4::{self, Protocol};
use gh_net::wire::tcp::{self, Flags, Options, SeqNumber};

use crate::wire::{Wire, CLIENT_IP, CLIENT_MAC, HTTP_PORT, SERVER_IP, SERVER_MAC};

/// The request: 100 bytes, asking the server to close after answering.
pub const REQUEST: &[u8] = b"GET / HTTP/1.1\r\n\
    Host: 10.9.0.1\r\n\
    User-Agent: gigahttpd-netbench/1\r\n\
    Accept: */*\r\n\
    Connection: close\r\n\
    \r\n";

/// Simulated time between two client frames. Both servers see the same clock; it drives
/// their timers (GigaHttpd's TIME-WAIT expiry and timer ticks).
pub const FRAME_INTERVAL_MS: u64 = 1;

/// Lowest source port; each connection takes the next one, wrapping.
const FIRST_PORT: u16 = 1024;

/// A server under test, seen from the wire.
pub trait Target {
    /// Hands one client frame to the server at `now_ms` and runs one turn of the
    /// server's loop (receive, application, transmit, timers). With `measured`, all of
    /// the server's work in that turn runs inside [`crate::server_side`].
    fn deliver(&mut self, frame: &[u8], now_ms: u64, measured: bool);
    /// The frames the server sent so far; the client clears it after reading.
    fn wire(&mut self) -> &mut Wire;
}

/// A TCP segment the server sent, reduced to what the client checks.
struct Segment {
    /// The client port it was sent to.
    port: u16,
    seq: u32,
    ack: Option<u32>,
    flags: Flags,
    payload: Vec<u8>,
}

/// Frames counted over a run.
#[derive(Clone, Copy, Debug, Default)]
pub struct Tally {
    /// Connections completed.
    pub connections: u64,
    /// Frames the client sent.
    pub client_frames: u64,
    /// Frames the server sent.
    pub server_frames: u64,
}

/// The client and the simulated clock.
pub struct Client {
    /// The clock both the client and the server read, in milliseconds.
    pub now_ms: u64,
    next_port: u16,
    /// What was counted.
    pub tally: Tally,
}

impl Client {
    /// A client whose clock starts at `now_ms`.
    pub fn new(now_ms: u64) -> Self {
        Self {
            now_ms,
            next_port: FIRST_PORT,
            tally: Tally::default(),
        }
    }

    /// Asks for the server's hardware address, as a client does before its first
    /// connection; the server learns the client's address from the request.
    pub fn resolve(&mut self, server: &mut impl Target) {
        let req = arp::Repr {
            operation: arp::Operation::Request,
            source_hw: CLIENT_MAC,
            source_ip: CLIENT_IP,
            target_hw: ethernet::Address([0; 6]),
            target_ip: SERVER_IP,
        };
        let replies = self.exchange(
            server,
            &arp_frame(ethernet::Address::BROADCAST, &req),
            false,
        );
        assert!(
            replies.is_empty(),
            "TCP segments in answer to an ARP request"
        );
    }

    /// Runs one complete connection and returns the response it received. With
    /// `expected`, the response must be those bytes, except the value of its `Date`
    /// field (GigaHttpd dates each response by the clock).
    pub fn connection(
        &mut self,
        server: &mut impl Target,
        expected: Option<&[u8]>,
        measured: bool,
    ) -> Vec<u8> {
        let port = self.next_port;
        self.next_port = self.next_port.checked_add(1).unwrap_or(FIRST_PORT);
        let iss = u32::from(port).wrapping_mul(0x9e37_79b1);
        let mut conn = Connection {
            port,
            snd_nxt: iss,
            their_iss: None,
            response: Vec::new(),
            fin_at: None,
        };

        // SYN: the answer must be a SYN-ACK of it.
        let syn = conn.frame(Flags::SYN, None, &[]);
        conn.snd_nxt = conn.snd_nxt.wrapping_add(1);
        let segs = self.exchange(server, &syn, measured);
        let [synack] = segs.as_slice() else {
            panic!("port {port}: {} segments in answer to SYN", segs.len());
        };
        assert!(
            synack.port == port
                && synack.flags.contains(Flags::SYN)
                && synack.ack == Some(conn.snd_nxt),
            "port {port}: no SYN-ACK in answer to SYN"
        );
        conn.their_iss = Some(synack.seq);

        // The handshake's ACK, then the request.
        let ack = conn.frame(Flags(0), conn.rcv_nxt(), &[]);
        for s in self.exchange(server, &ack, measured) {
            conn.absorb(&s);
        }
        let request = conn.frame(Flags::PSH, conn.rcv_nxt(), REQUEST);
        conn.snd_nxt = conn.snd_nxt.wrapping_add(REQUEST.len() as u32);
        for s in self.exchange(server, &request, measured) {
            conn.absorb(&s);
        }
        let fin_at = conn
            .fin_at
            .unwrap_or_else(|| panic!("port {port}: no FIN after the response"));
        assert_eq!(
            conn.response.len(),
            fin_at as usize,
            "port {port}: response incomplete before the FIN"
        );
        if let Some(expected) = expected {
            assert!(
                same_response(&conn.response, expected),
                "port {port}: response differs: {:?}",
                String::from_utf8_lossy(&conn.response)
            );
        }

        // FIN+ACK of everything; the answer must be the ACK of our FIN.
        let fin = conn.frame(Flags::FIN, conn.rcv_nxt(), &[]);
        conn.snd_nxt = conn.snd_nxt.wrapping_add(1);
        let segs = self.exchange(server, &fin, measured);
        assert!(
            segs.iter()
                .any(|s| s.ack == Some(conn.snd_nxt) && s.payload.is_empty()),
            "port {port}: our FIN was not acknowledged"
        );
        for s in &segs {
            conn.absorb(s);
        }
        self.tally.connections += 1;
        conn.response
    }

    /// Delivers one frame and returns the TCP segments the server answered with,
    /// answering any ARP request for the client on the way.
    fn exchange(&mut self, server: &mut impl Target, frame: &[u8], measured: bool) -> Vec<Segment> {
        let mut segs = Vec::new();
        let mut pending = Some(frame.to_vec());
        while let Some(frame) = pending.take() {
            self.now_ms += FRAME_INTERVAL_MS;
            self.tally.client_frames += 1;
            server.deliver(&frame, self.now_ms, measured);
            let wire = server.wire();
            for f in wire.frames() {
                self.tally.server_frames += 1;
                match parse(f) {
                    Parsed::Tcp(s) => segs.push(s),
                    Parsed::ArpRequest(req) => {
                        assert!(pending.is_none(), "two ARP requests in one turn");
                        pending = Some(arp_frame(req.source_hw, &req.reply_from(CLIENT_MAC)));
                    }
                    Parsed::Other => {}
                }
            }
            wire.clear();
        }
        segs
    }
}

/// The client's side of one connection.
struct Connection {
    port: u16,
    snd_nxt: u32,
    their_iss: Option<u32>,
    response: Vec<u8>,
    /// Offset of the server's FIN in its byte stream, once seen.
    fin_at: Option<u32>,
}

impl Connection {
    /// Next byte expected from the server (its FIN counted once seen).
    fn rcv_nxt(&self) -> Option<u32> {
        let iss = self.their_iss?;
        let taken = self.fin_at.map_or(self.response.len() as u32, |f| f + 1);
        Some(iss.wrapping_add(1).wrapping_add(taken))
    }

    /// Takes a segment's data and FIN; checks it acknowledges all the client sent.
    fn absorb(&mut self, s: &Segment) {
        let port = self.port;
        assert_eq!(s.port, port, "segment for another connection");
        assert!(
            !s.flags.contains(Flags::RST) && !s.flags.contains(Flags::SYN),
            "port {port}: unexpected {:?}",
            s.flags
        );
        assert_eq!(s.ack, Some(self.snd_nxt), "port {port}: wrong ACK");
        let iss = self.their_iss.unwrap_or_default();
        let off = s.seq.wrapping_sub(iss.wrapping_add(1));
        if !s.payload.is_empty() {
            assert!(self.fin_at.is_none(), "port {port}: data after FIN");
            assert_eq!(
                off as usize,
                self.response.len(),
                "port {port}: data out of order"
            );
            self.response.extend_from_slice(&s.payload);
        }
        if s.flags.contains(Flags::FIN) {
            let at = off.wrapping_add(s.payload.len() as u32);
            assert!(
                self.fin_at.is_none_or(|f| f == at),
                "port {port}: FIN moved"
            );
            self.fin_at = Some(at);
        }
    }

    /// A client segment of this connection (`ack` sets the ACK flag).
    fn frame(&self, flags: Flags, ack: Option<u32>, payload: &[u8]) -> Vec<u8> {
        let seg = tcp::Repr {
            src_port: self.port,
            dst_port: HTTP_PORT,
            seq: SeqNumber(self.snd_nxt),
            ack: ack.map(SeqNumber),
            flags,
            window: 65535,
            options: Options {
                mss: flags.contains(Flags::SYN).then_some(1460),
                ..Options::default()
            },
            payload,
        };
        let tcp_len = seg.buffer_len();
        let ip_at = ethernet::HEADER_LEN;
        let tcp_at = ip_at + ipv4::HEADER_LEN;
        let mut f = vec![0u8; tcp_at + tcp_len];
        let emitted = ethernet::Repr {
            src: CLIENT_MAC,
            dst: SERVER_MAC,
            ethertype: EtherType::Ipv4,
        }
        .emit(&mut f)
        .is_ok()
            && ipv4::Repr {
                src: CLIENT_IP,
                dst: SERVER_IP,
                protocol: Protocol::Tcp,
                payload_len: tcp_len as u16,
                ttl: 64,
            }
            .emit(&mut f[ip_at..], self.snd_nxt as u16)
            .is_ok()
            && seg.emit(&mut f[tcp_at..], CLIENT_IP, SERVER_IP).is_ok();
        assert!(emitted, "client frame does not fit");
        f
    }
}

/// True if `got` is `expected` apart from the value of the `Date` field.
fn same_response(got: &[u8], expected: &[u8]) -> bool {
    const FIELD: &[u8] = b"\r\nDate: ";
    let date = expected
        .windows(FIELD.len())
        .position(|w| w == FIELD)
        .map(|at| at + FIELD.len())
        .and_then(|start| {
            let len = expected[start..].windows(2).position(|w| w == b"\r\n")?;
            Some(start..start + len)
        });
    got.len() == expected.len()
        && got
            .iter()
            .zip(expected)
            .enumerate()
            .all(|(i, (a, b))| a == b || date.as_ref().is_some_and(|d| d.contains(&i)))
}

/// An ARP frame from the client.
fn arp_frame(dst: ethernet::Address, repr: &arp::Repr) -> Vec<u8> {
    let mut f = vec![0u8; ethernet::HEADER_LEN + arp::PACKET_LEN];
    let emitted = ethernet::Repr {
        src: CLIENT_MAC,
        dst,
        ethertype: EtherType::Arp,
    }
    .emit(&mut f)
    .is_ok()
        && repr.emit(&mut f[ethernet::HEADER_LEN..]).is_ok();
    assert!(emitted, "ARP frame does not fit");
    f
}

/// What a server frame was.
enum Parsed {
    Tcp(Segment),
    ArpRequest(arp::Repr),
    /// An ARP reply (to the client's request): nothing to do.
    Other,
}

/// Parses and checks one frame from the server.
fn parse(frame: &[u8]) -> Parsed {
    let eth = ethernet::Frame::new_checked(frame).expect("server frame: Ethernet header");
    assert_eq!(eth.src(), SERVER_MAC, "server frame: source MAC");
    match eth.ethertype() {
        EtherType::Arp => {
            let repr = arp::Packet::new_checked(eth.payload())
                .and_then(|p| arp::Repr::parse(&p))
                .expect("server frame: ARP");
            assert_eq!(repr.source_ip, SERVER_IP, "server ARP: sender");
            match repr.operation {
                arp::Operation::Request if repr.target_ip == CLIENT_IP => Parsed::ArpRequest(repr),
                arp::Operation::Reply => {
                    assert_eq!(repr.target_ip, CLIENT_IP, "server ARP reply: target");
                    Parsed::Other
                }
                _ => panic!("server ARP request for {:?}", repr.target_ip),
            }
        }
        EtherType::Ipv4 => {
            assert_eq!(eth.dst(), CLIENT_MAC, "server frame: destination MAC");
            let ip = ipv4::Packet::new_checked(eth.payload()).expect("server frame: IPv4");
            let ipr = ipv4::Repr::parse(&ip).expect("server frame: IPv4 header or checksum");
            assert_eq!(
                (ipr.src, ipr.dst),
                (SERVER_IP, CLIENT_IP),
                "server frame: addresses"
            );
            assert_eq!(ipr.protocol, Protocol::Tcp, "server frame: protocol");
            let body = &eth.payload()[ip.header_len()..usize::from(ip.total_len())];
            let t = tcp::Packet::new_checked(body).expect("server frame: TCP header");
            let r = tcp::Repr::parse(&t, SERVER_IP, CLIENT_IP)
                .expect("server frame: TCP header or checksum");
            assert_eq!(r.src_port, HTTP_PORT, "server frame: source port");
            Parsed::Tcp(Segment {
                port: r.dst_port,
                seq: r.seq.0,
                ack: r.ack.map(|a| a.0),
                flags: r.flags,
                payload: r.payload.to_vec(),
            })
        }
        other => panic!("server frame of type {other:?}"),
    }
}

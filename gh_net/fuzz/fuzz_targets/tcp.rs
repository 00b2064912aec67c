//! Client segments, correctly checksummed, from a few client addresses and ports into a
//! whole server, so that every input reaches the TCP state machine: handshakes (and SYN
//! cookies once the small pool is full), requests, responses, FIN, RST, out-of-window and
//! duplicate segments, a full TX ring, and timers.
//!
//! The harness plays the clients' side of the bookkeeping: it reads the server's ISN from
//! its SYN-ACKs, and each step's sequence and acknowledgment numbers are offsets from
//! what the client knows, so offset 0 is "the right number" and small offsets are the
//! interesting wrong ones.
//!
//! Invariants checked:
//! - every frame sent is well formed with valid checksums (`check_sent`), addressed to the
//!   client the connection belongs to; only RSTs come from a port nobody listens on;
//! - the server never acknowledges sequence space a client never sent;
//! - the data on a connection starts with a response, never skips ahead, and a
//!   retransmission repeats the bytes first sent;
//! - `server.connections()` never exceeds the pool;
//! - once the clients fall silent, every connection is gone within an hour of clock, and
//!   with it every echo task.
//!
//! Input: steps of 9 bytes, each optionally followed by payload bytes:
//! - 0: bits 0-2 client (host and port, modulo 6); bit 3 send to a closed port; bit 4 TX
//!   ring full during this step; bit 5 no `tick` after it; bit 6 offsets scaled by 2^24;
//!   bit 7 include the MSS option
//! - 1: TCP flags as on the wire (ACK decides whether there is an acknowledgment number)
//! - 2: sequence number offset (i8) from the client's next sequence number
//! - 3: acknowledgment offset (i8) from the end of what the client saw the server send
//! - 4: window: 255 is 65535, otherwise 64 per unit (0 closes it)
//! - 5: clock advance before the segment: `(b & 31) << (2 * (b >> 5))` ms
//! - 6: payload: 0 none, 1-12 a piece of HTTP from `templates()` (byte 7 cuts it short
//!   if non-zero), above 12 the next `byte 7` bytes of the input
//! - 7: see byte 6
//! - 8: MSS option value, 8 per unit

#![no_main]

use gh_net::wire::tcp::{self, Flags, Options, SeqNumber};
use gh_net_fuzz::{
    check_sent, counters, etag, new_server, tcp_frame, Nic, Sent, ServerMem, Stream, HOSTS,
    HTTP_PORT, PAGES, POOL_SLOTS,
};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

/// Steps per input.
const MAX_STEPS: usize = 64;
/// A port nobody listens on.
const CLOSED_PORT: u16 = 81;
/// The two source ports each host uses.
const CLIENT_PORTS: [u16; 2] = [40000, 40001];
/// Relative sequence numbers at or beyond this are "before the start": not tracked.
const FAR: u32 = 1 << 30;
/// Server ISNs remembered per client (SYN cookies can bring an older one back).
const ISNS_KEPT: usize = 8;
/// Clock per tick while the clients are silent, and how many such ticks at most.
const DRAIN_STEP_MS: u64 = 5_000;
const DRAIN_TICKS: usize = 720;

/// Pieces of HTTP a step can carry: requests for each kind of answer the site gives,
/// a request head in two pieces, and a body in pieces.
fn templates() -> &'static [Vec<u8>] {
    static TEMPLATES: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    TEMPLATES.get_or_init(|| {
        let mut t: Vec<Vec<u8>> = [
            &b"GET / HTTP/1.1\r\nHost: gh\r\n\r\n"[..],
            b"GET /big HTTP/1.1\r\nHost: gh\r\nConnection: close\r\n\r\n",
            b"POST /echo HTTP/1.1\r\nHost: gh\r\nContent-Length: 5\r\n\r\nhello",
            b"GET /big HTTP/1.1\r\nHo",
            b"st: gh\r\n\r\n",
            b"BREW / HTCPCP/1.0\r\n\r\n",
            b"POST /echo HTTP/1.1\r\nHost: gh\r\nContent-Length: 3000\r\n\r\n",
            &[b'x'; 1000],
            b"HEAD / HTTP/1.0\r\n\r\n",
            b"GET /nowhere HTTP/1.1\r\nHost: gh\r\n\r\n",
            b"DELETE / HTTP/1.1\r\nHost: gh\r\n\r\n",
        ]
        .iter()
        .map(|t| t.to_vec())
        .collect();
        t.push(
            format!(
                "GET / HTTP/1.1\r\nHost: gh\r\nIf-None-Match: {}\r\n\r\n",
                etag(&PAGES[0])
            )
            .into_bytes(),
        );
        t
    })
}

/// What one client knows of its side and of the server's.
struct Client {
    host: usize,
    port: u16,
    /// The client's sequence space starts here; everything below is relative to it.
    base: u32,
    /// Next sequence number, relative to `base`.
    next: u32,
    /// One past the furthest sequence number ever sent, relative to `base`.
    hi: u32,
    /// One past the furthest sequence number seen from the server (absolute).
    server_end: Option<SeqNumber>,
    /// Server ISNs of this client's connections, newest last, each with its data stream.
    conns: Vec<(SeqNumber, Stream)>,
}

impl Client {
    fn new(index: usize) -> Client {
        Client {
            host: index / CLIENT_PORTS.len(),
            port: CLIENT_PORTS[index % CLIENT_PORTS.len()],
            base: 0x1000_0000u32.wrapping_mul(index as u32 + 1),
            next: 0,
            hi: 0,
            server_end: None,
            conns: Vec::new(),
        }
    }

    /// Notes a segment the client sent.
    fn sent(&mut self, seg: &tcp::Repr<'_>, in_order: bool) {
        let end = seg
            .seq
            .wrapping_add(seg.seq_len())
            .0
            .wrapping_sub(self.base);
        if end < FAR && end > self.hi {
            self.hi = end;
        }
        if in_order {
            self.next = self.next.wrapping_add(seg.seq_len());
        }
    }

    /// Checks and notes a segment the server sent to this client.
    fn received(&mut self, seg: &tcp::Repr<'_>) {
        if seg.src_port != HTTP_PORT {
            assert_eq!(seg.src_port, CLOSED_PORT, "segment from an unknown port");
            assert!(
                seg.flags.contains(Flags::RST),
                "a closed port answered with something other than RST"
            );
        }
        if let Some(ack) = seg.ack {
            let rel = ack.0.wrapping_sub(self.base);
            assert!(
                rel >= FAR || rel <= self.hi,
                "server acknowledged {rel} but the client sent only up to {}",
                self.hi
            );
        }
        // A SYN-ACK starts a new sequence space: what the client acknowledges from now on.
        let end = seg.seq.wrapping_add(seg.seq_len());
        if seg.flags.contains(Flags::SYN) || self.server_end.is_none_or(|e| e.lt(end)) {
            self.server_end = Some(end);
        }
        if seg.src_port != HTTP_PORT {
            return;
        }
        if seg.flags.contains(Flags::SYN) {
            // A SYN-ACK goes out only while no connection of this client has sent data
            // (the flow has none, or one still in SYN-RECEIVED): every earlier stream is
            // over, and one with the same ISN starts again from nothing.
            for (_, stream) in &mut self.conns {
                *stream = Stream::default();
            }
            if !self.conns.iter().any(|(isn, _)| *isn == seg.seq) {
                if self.conns.len() == ISNS_KEPT {
                    self.conns.remove(0);
                }
                self.conns.push((seg.seq, Stream::default()));
            }
            assert!(seg.payload.is_empty(), "SYN-ACK carries data");
            return;
        }
        if seg.payload.is_empty() {
            return;
        }
        // Data: it belongs to the connection whose stream it continues.
        let at = |isn: SeqNumber| seg.seq.since(isn.wrapping_add(1)) as usize;
        let conn = self
            .conns
            .iter_mut()
            .rev()
            .find(|(isn, stream)| at(*isn) <= stream.bytes.len());
        let Some((isn, stream)) = conn else {
            panic!(
                "data at seq {} continues no connection of this client (ISNs {:?})",
                seg.seq.0,
                self.conns.iter().map(|c| c.0 .0).collect::<Vec<_>>()
            );
        };
        let offset = at(*isn);
        stream.record(offset, seg.payload);
    }
}

/// Checks everything the server sent since the last call.
fn drain_sent(nic: &mut Nic, clients: &mut [Client]) {
    for frame in nic.sent.drain(..) {
        let Sent::Tcp { dst_mac, dst, seg } = check_sent(&frame) else {
            continue;
        };
        let client = clients
            .iter_mut()
            .find(|c| HOSTS[c.host].ip == dst && c.port == seg.dst_port);
        let Some(client) = client else {
            panic!(
                "segment to a client that never spoke: {dst:?}:{}",
                seg.dst_port
            );
        };
        assert_eq!(dst_mac, HOSTS[client.host].mac, "segment to the wrong MAC");
        client.received(&seg);
    }
}

fn clock(b: u8) -> u64 {
    u64::from(b & 31) << (2 * (b >> 5))
}

fuzz_target!(|data: &[u8]| {
    let mut mem = ServerMem::default();
    let mut server = new_server(&mut mem, 0);
    let mut nic = Nic::default();
    let mut clients: Vec<Client> = (0..HOSTS.len() * CLIENT_PORTS.len())
        .map(Client::new)
        .collect();
    let client_count = clients.len();
    let mut rest = data;
    for _ in 0..MAX_STEPS {
        let [b0, flags, seq_off, ack_off, window, advance, kind, param, mss, tail @ ..] = rest
        else {
            break;
        };
        rest = tail;
        let payload: &[u8] = match *kind {
            0 => &[],
            k if usize::from(k) <= templates().len() => {
                let t = &templates()[usize::from(k - 1)][..];
                match usize::from(*param) {
                    0 => t,
                    n => &t[..n.min(t.len())],
                }
            }
            _ => {
                let n = usize::from(*param).min(rest.len());
                let (p, r) = rest.split_at(n);
                rest = r;
                p
            }
        };
        let c = &mut clients[usize::from(b0 & 7) % client_count];
        let scale = if b0 & 0x40 != 0 { 1u32 << 24 } else { 1 };
        let seq_off = (*seq_off as i8 as i32 as u32).wrapping_mul(scale);
        let ack_off = (*ack_off as i8 as i32 as u32).wrapping_mul(scale);
        let flags = Flags(*flags);
        let ack = flags
            .contains(Flags::ACK)
            .then(|| c.server_end.unwrap_or(SeqNumber(0)).wrapping_add(ack_off));
        let seg = tcp::Repr {
            src_port: c.port,
            dst_port: if b0 & 8 != 0 { CLOSED_PORT } else { HTTP_PORT },
            seq: SeqNumber(c.base.wrapping_add(c.next).wrapping_add(seq_off)),
            ack,
            flags: Flags(flags.0 & !Flags::ACK.0),
            window: if *window == 255 {
                u16::MAX
            } else {
                u16::from(*window) * 64
            },
            options: Options {
                mss: (b0 & 0x80 != 0).then_some(u16::from(*mss) * 8),
                ..Options::default()
            },
            payload,
        };
        let frame = tcp_frame(&HOSTS[c.host], &seg);
        c.sent(&seg, seq_off == 0);
        nic.now += clock(*advance);
        nic.tx_full = b0 & 0x10 != 0;
        server.receive(&frame, &mut nic);
        if b0 & 0x20 == 0 {
            server.tick(&mut nic);
        }
        nic.tx_full = false;
        drain_sent(&mut nic, &mut clients);
        assert!(
            server.connections() <= POOL_SLOTS,
            "{} connections in a pool of {POOL_SLOTS}",
            server.connections()
        );
    }

    // The clients fall silent: retransmissions, idle and linger timers must end every
    // connection.
    for _ in 0..DRAIN_TICKS {
        if server.connections() == 0 {
            break;
        }
        nic.now += DRAIN_STEP_MS;
        server.tick(&mut nic);
        drain_sent(&mut nic, &mut clients);
    }
    assert_eq!(
        server.connections(),
        0,
        "connections still open after {} s of silent clients; counters: {}",
        DRAIN_STEP_MS * DRAIN_TICKS as u64 / 1000,
        counters(&server)
    );
    assert_eq!(
        server.tasks_busy(),
        0,
        "echo tasks outlive their connections"
    );
});

//! Writes the seed inputs of the network fuzz targets into `corpus/<target>/seed-*`:
//! small valid conversations the fuzzer starts from, so that it mutates a working
//! handshake and request instead of discovering them byte by byte.
//!
//! Run from `gh_net/fuzz`: `cargo run --example seeds`. The output is deterministic.

use gh_net::wire::tcp::{self, Flags, Options, SeqNumber};
use gh_net_fuzz::{arp_request, new_server, ping, tcp_frame, Nic, ServerMem, HOSTS, HTTP_PORT};
use std::fs;
use std::path::Path;

const GET: &[u8] = b"GET / HTTP/1.1\r\nHost: gh\r\n\r\n";
const GET_CLOSE: &[u8] = b"GET /x HTTP/1.1\r\nHost: gh\r\nConnection: close\r\n\r\n";

fn write(target: &str, name: &str, bytes: &[u8]) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target);
    if let Err(e) = fs::create_dir_all(&dir).and_then(|()| fs::write(dir.join(name), bytes)) {
        panic!("cannot write seed {target}/{name}: {e}");
    }
}

/// One record of the `frame` target: header (length, clock byte) and the frame.
fn frame_record(out: &mut Vec<u8>, frame: &[u8], clock: u8) {
    let len = u16::try_from(frame.len()).unwrap_or(u16::MAX) & 0x07ff;
    out.extend_from_slice(&len.to_be_bytes());
    out.push(clock);
    out.extend_from_slice(frame);
}

fn segment<'a>(seq: u32, ack: Option<u32>, flags: Flags, payload: &'a [u8]) -> tcp::Repr<'a> {
    tcp::Repr {
        src_port: 40000,
        dst_port: HTTP_PORT,
        seq: SeqNumber(seq),
        ack: ack.map(SeqNumber),
        flags,
        window: u16::MAX,
        options: Options {
            mss: flags.contains(Flags::SYN).then_some(1460),
            ..Options::default()
        },
        payload,
    }
}

/// A whole keep-alive conversation as `frame` records. The frame target cannot read the
/// server's answers, so this runs a server of its own, on the same clock, to learn the
/// ISN the target's server will choose.
fn conversation() -> Vec<u8> {
    let host = &HOSTS[0];
    let mut mem = ServerMem::default();
    let mut server = new_server(&mut mem, 0);
    let mut nic = Nic::default();
    let mut out = Vec::new();
    let mut step = |frame: Vec<u8>, clock: u8, out: &mut Vec<u8>| {
        frame_record(out, &frame, clock);
        nic.now += u64::from(clock & 31) << (2 * (clock >> 5));
        server.receive(&frame, &mut nic);
        server.tick(&mut nic);
        std::mem::take(&mut nic.sent)
    };
    step(arp_request(host), 1, &mut out);
    let sent = step(
        tcp_frame(host, &segment(100, None, Flags::SYN, b"")),
        1,
        &mut out,
    );
    let isn = sent
        .iter()
        .find_map(|f| match gh_net_fuzz::check_sent(f) {
            gh_net_fuzz::Sent::Tcp { seg, .. } if seg.flags.contains(Flags::SYN) => Some(seg.seq.0),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no SYN-ACK from the seed server"));
    let mut seq = 101u32;
    let mut their = isn.wrapping_add(1);
    for req in [GET, GET_CLOSE] {
        let sent = step(
            tcp_frame(host, &segment(seq, Some(their), Flags::PSH, req)),
            2,
            &mut out,
        );
        seq += req.len() as u32;
        for f in &sent {
            if let gh_net_fuzz::Sent::Tcp { seg, .. } = gh_net_fuzz::check_sent(f) {
                let end = seg.seq.wrapping_add(seg.seq_len()).0;
                if end.wrapping_sub(their) as i32 > 0 {
                    their = end;
                }
            }
        }
        step(
            tcp_frame(host, &segment(seq, Some(their), Flags(0), b"")),
            1,
            &mut out,
        );
    }
    step(
        tcp_frame(host, &segment(seq, Some(their), Flags::FIN, b"")),
        1,
        &mut out,
    );
    out
}

fn frame_seeds() {
    let host = &HOSTS[1];
    let mut arp = Vec::new();
    frame_record(&mut arp, &arp_request(host), 0);
    write("frame", "seed-arp", &arp);
    let mut echo = Vec::new();
    frame_record(&mut echo, &ping(host, b"GigaHttpd ping"), 3);
    write("frame", "seed-ping", &echo);
    let mut syn = Vec::new();
    frame_record(
        &mut syn,
        &tcp_frame(host, &segment(7, None, Flags::SYN, b"")),
        0,
    );
    // A stray ACK with data to a closed port: the RST path.
    let mut stray = segment(9, Some(1), Flags::PSH, GET);
    stray.dst_port = 81;
    frame_record(&mut syn, &tcp_frame(host, &stray), 0);
    write("frame", "seed-syn-and-stray", &syn);
    write("frame", "seed-conversation", &conversation());
}

/// One step of the `tcp` target (see its header for the layout).
fn tcp_step(out: &mut Vec<u8>, client: u8, flags: u8, kind: u8, param: u8, window: u8) {
    let mss_option = if flags & 0x02 != 0 { 0x80 } else { 0 };
    out.extend_from_slice(&[
        client | mss_option,
        flags,
        0,
        0,
        window,
        2,
        kind,
        param,
        182,
    ]);
}

fn tcp_seeds() {
    const SYN: u8 = 0x02;
    const ACK: u8 = 0x10;
    const PSH_ACK: u8 = 0x18;
    const FIN_ACK: u8 = 0x11;
    // Handshake, a keep-alive GET, a closing GET, FIN.
    let mut s = Vec::new();
    tcp_step(&mut s, 0, SYN, 0, 0, 255);
    tcp_step(&mut s, 0, PSH_ACK, 1, 0, 255);
    tcp_step(&mut s, 0, ACK, 0, 0, 255);
    tcp_step(&mut s, 0, PSH_ACK, 2, 0, 255);
    tcp_step(&mut s, 0, ACK, 0, 0, 255);
    tcp_step(&mut s, 0, FIN_ACK, 0, 0, 255);
    tcp_step(&mut s, 0, ACK, 0, 0, 255);
    write("tcp", "seed-keep-alive", &s);

    // A request in two pieces with a small window, then the client closes first.
    let mut s = Vec::new();
    tcp_step(&mut s, 1, SYN, 0, 0, 8);
    tcp_step(&mut s, 1, PSH_ACK, 4, 0, 8);
    tcp_step(&mut s, 1, PSH_ACK, 5, 0, 8);
    tcp_step(&mut s, 1, ACK, 0, 0, 8);
    tcp_step(&mut s, 1, ACK, 0, 0, 8);
    tcp_step(&mut s, 1, FIN_ACK, 0, 0, 255);
    write("tcp", "seed-split-request", &s);

    // Five clients open connections at once: the fourth fills the pool, the fifth gets a
    // SYN cookie and completes with it.
    let mut s = Vec::new();
    for c in 0..5 {
        tcp_step(&mut s, c, SYN, 0, 0, 255);
    }
    for c in 0..5 {
        tcp_step(&mut s, c, PSH_ACK, 1, 0, 255);
    }
    write("tcp", "seed-pool-full", &s);

    // A POST with a body in several segments, and a raw-payload step with its bytes.
    let mut s = Vec::new();
    tcp_step(&mut s, 2, SYN, 0, 0, 255);
    tcp_step(&mut s, 2, PSH_ACK, 7, 0, 255);
    tcp_step(&mut s, 2, PSH_ACK, 8, 0, 255);
    tcp_step(&mut s, 2, PSH_ACK, 8, 0, 255);
    tcp_step(&mut s, 2, PSH_ACK, 8, 0, 255);
    tcp_step(&mut s, 2, ACK, 0, 0, 255);
    tcp_step(&mut s, 2, PSH_ACK, 13, GET.len() as u8, 255);
    s.extend_from_slice(GET);
    tcp_step(&mut s, 2, ACK, 0, 0, 255);
    write("tcp", "seed-post-body", &s);

    // Found by this target: a SYN with a closed window, then a segment that completes the
    // handshake and brings a request but, starting before RCV.NXT, cannot open the
    // window; the client falls silent. The persist timer must give up in the end.
    let s = [
        0xa6, SYN, 0x18, 0, 0, 0xff, 2, 8, 0, //
        0xa6, PSH_ACK, 0, 0, 0x3b, 2, 3, 0, 0,
    ];
    write("tcp", "seed-zero-window-silent", &s);
}

fn http_seeds() {
    let mut s = vec![0u8];
    s.extend_from_slice(GET);
    write("http", "seed-get", &s);
    // Three pipelined requests, the middle one with a body, split at three points.
    let mut s = vec![3u8, 0, 5, 0, 40, 0, 90];
    s.extend_from_slice(GET);
    s.extend_from_slice(
        b"POST /login HTTP/1.1\r\nHost: gh\r\nContent-Length: 11\r\nConnection: keep-alive\r\n\r\nuser=a&pw=b",
    );
    s.extend_from_slice(b"HEAD /3:1f HTTP/1.0\r\nIf-None-Match:  \"x\"  \"y\" \r\n\r\n");
    write("http", "seed-pipelined", &s);
    // A client waiting for 100 (Continue) before its body.
    let mut s = vec![0u8];
    s.extend_from_slice(
        b"POST /echo HTTP/1.1\r\nHost: gh\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc",
    );
    write("http", "seed-expect", &s);
    // A chunked body with an extension and a trailer, split inside the framing, then a
    // pipelined request.
    let mut s = vec![2u8, 0, 80, 0, 95];
    s.extend_from_slice(
        b"POST /echo HTTP/1.1\r\nHost: gh\r\nTransfer-Encoding: chunked\r\n\r\n3;e=1\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\nT: v\r\n\r\n",
    );
    s.extend_from_slice(GET);
    write("http", "seed-chunked", &s);
    // Small limits: a target longer than 16 bytes.
    let mut s = vec![0x10u8];
    s.extend_from_slice(b"GET /0123456789abcdef HTTP/1.1\r\n\r\n");
    write("http", "seed-small-limits", &s);
}

fn main() {
    frame_seeds();
    tcp_seeds();
    http_seeds();
}

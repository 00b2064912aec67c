//! GigaHttpd's engine benchmark: complete short HTTP connections (handshake, one request,
//! one response, FIN both ways) through gh_net's `Server` in memory, and the same frames
//! through smoltcp for comparison. Instructions are counted by callgrind around
//! [`server_side`] only; `tools/bench.sh` runs it and prints the table, and
//! Documentation/benchmark.md explains the design.
//!
//! Usage:
//!   netbench check [N]            both servers natively, every connection verified
//!   netbench run gh|smoltcp|floor [N]
//!                                 warm-up, then N measured connections (under callgrind)
//!   netbench sizes                bytes per established connection
//!   netbench parse [N]            the request through gh_net's HTTP parser alone, N times,
//!                                 then through httparse N times

mod client;
mod floor;
mod gh;
mod smol;
mod wire;

use client::{Client, Tally, Target, REQUEST};
use gh_net::http::request::{Event, Limits, Parser};

/// Connections before the measured ones. At four client frames of 1 ms each, 500
/// connections span 2 s of the simulated clock, past GigaHttpd's 1 s TIME-WAIT, so the
/// measured connections run in steady state: each one's TIME-WAIT expiry is paid for
/// inside the measured run.
const WARMUP: u64 = 500;

/// Measured connections by default.
const DEFAULT_CONNECTIONS: u64 = 1000;

/// Where the simulated clock starts (ms).
const START_MS: u64 = 1000;

/// Runs `f`, the server's work for one delivered frame or timer tick. Callgrind is told
/// to count instructions only while this function is on the stack
/// (`--toggle-collect=netbench::server_side`), so the client, the checks and the warm-up
/// (which call the server directly) cost nothing in the figures.
#[inline(never)]
fn server_side<R>(f: impl FnOnce() -> R) -> R {
    f()
}

/// Parses the benchmark's request once with a new parser, as the site does
/// (`Parser::feed_routing`), with an event closure that only adds up the target's length.
/// Callgrind counts it apart (`--toggle-collect=netbench::parser_side`): the HTTP
/// parser's share of a connection, without the site's routing and response choice.
#[inline(never)]
fn parser_side(request: &[u8], limits: &Limits, seen: &mut usize) -> usize {
    let mut parser = Parser::new();
    let progress = parser.feed_routing(request, limits, &mut |e| {
        if let Event::Target(piece) = e {
            *seen += piece.len();
        }
    });
    progress.map_or(0, |p| p.consumed)
}

/// Parses the benchmark's request once with httparse (hyper's parser), as its users do:
/// a new `Request` over an array of 16 headers, taken whole. Counted apart
/// (`--toggle-collect=netbench::httparse_side`) beside [`parser_side`]. httparse checks
/// less than gh_net's parser: it splits the head into method, target, version and
/// name/value pairs, checking their bytes, and leaves the meaning of the fields
/// (`Host`, `Content-Length`, `Connection`, and the rest) to its caller.
#[inline(never)]
fn httparse_side(request: &[u8], seen: &mut usize) -> usize {
    let mut headers = [httparse::EMPTY_HEADER; 16];
    let mut req = httparse::Request::new(&mut headers);
    match req.parse(request) {
        Ok(httparse::Status::Complete(n)) => {
            *seen += req.path.map_or(0, str::len);
            n
        }
        _ => 0,
    }
}

/// [`parser_side`], then [`httparse_side`], `n` times each; every request must be taken
/// whole.
fn parse(n: u64) {
    let limits = Limits::default();
    let (mut seen, mut seen_httparse) = (0, 0);
    for _ in 0..n {
        let taken = parser_side(std::hint::black_box(REQUEST), &limits, &mut seen);
        assert_eq!(taken, REQUEST.len(), "the request is taken whole");
    }
    for _ in 0..n {
        let taken = httparse_side(std::hint::black_box(REQUEST), &mut seen_httparse);
        assert_eq!(taken, REQUEST.len(), "httparse takes the request whole");
    }
    assert_eq!(seen as u64, n, "the target `/` is seen once per request");
    assert_eq!(
        seen_httparse as u64, n,
        "httparse sees the target `/` once per request"
    );
    println!(
        "parsed {n} requests of {} bytes, with each parser",
        REQUEST.len()
    );
}

/// Runs `f` as [`server_side`] work of kind `work`. It is called through one function per
/// kind, outside the counted function, so that a profile's inclusive costs split the
/// server's work by what it was handed without counting the split itself.
pub fn server_work<R>(work: Work, f: impl FnOnce() -> R) -> R {
    match work {
        Work::Syn => syn(f),
        Work::HandshakeAck => handshake_ack(f),
        Work::Request => request(f),
        Work::Fin => fin(f),
        Work::Timers => timers(f),
    }
}

/// What a measured piece of server work is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Work {
    /// The client's SYN.
    Syn,
    /// The ACK that completes the handshake.
    HandshakeAck,
    /// The segment carrying the request.
    Request,
    /// The client's FIN.
    Fin,
    /// A timer tick.
    Timers,
}

impl Work {
    /// The kind of a frame the client sends, by its TCP flags and length.
    pub fn of_frame(frame: &[u8]) -> Work {
        let flags = frame.get(wire::TCP_FLAGS_AT).copied().unwrap_or(0);
        match flags {
            f if f & 0x02 != 0 => Work::Syn,
            f if f & 0x01 != 0 => Work::Fin,
            _ if frame.len() > wire::HEADERS_LEN => Work::Request,
            _ => Work::HandshakeAck,
        }
    }
}

// One function per kind of work. Each keeps a distinct constant alive, as the compiler
// would otherwise fold the identical bodies into one.
#[inline(never)]
fn syn<R>(f: impl FnOnce() -> R) -> R {
    std::hint::black_box(Work::Syn);
    server_side(f)
}
#[inline(never)]
fn handshake_ack<R>(f: impl FnOnce() -> R) -> R {
    std::hint::black_box(Work::HandshakeAck);
    server_side(f)
}
#[inline(never)]
fn request<R>(f: impl FnOnce() -> R) -> R {
    std::hint::black_box(Work::Request);
    server_side(f)
}
#[inline(never)]
fn fin<R>(f: impl FnOnce() -> R) -> R {
    std::hint::black_box(Work::Fin);
    server_side(f)
}
#[inline(never)]
fn timers<R>(f: impl FnOnce() -> R) -> R {
    std::hint::black_box(Work::Timers);
    server_side(f)
}

/// The exact bytes GigaHttpd answers the request with, from one unmeasured connection
/// to a fresh server: the smoltcp application sends the same bytes. It must be the page
/// whole, in a 200 with the head Documentation/benchmark.md shows: the benchmark measures
/// that exchange, not whatever the site answers.
fn gh_response() -> Vec<u8> {
    let mut mem = gh::Memory::new();
    let mut server = gh::Gh::new(&mut mem, START_MS);
    let mut client = Client::new(START_MS);
    client.resolve(&mut server);
    let response = client.connection(&mut server, None, false);
    let page = &gh::PAGES[0];
    let text = String::from_utf8_lossy(&response);
    let (head, body) = text.split_once("\r\n\r\n").expect("a head and a body");
    let fields: Vec<&str> = head
        .lines()
        .map(|l| l.split(':').next().unwrap_or(l))
        .collect();
    assert_eq!(
        fields,
        [
            "HTTP/1.1 200 OK",
            "Date",
            "Server",
            "Content-Length",
            "Content-Type",
            "ETag",
            "Connection"
        ],
        "GigaHttpd's response head: {head}"
    );
    assert!(head.contains(&format!("\r\nContent-Length: {}\r\n", page.body.len())));
    assert!(head.ends_with("\r\nConnection: close"), "{head}");
    assert_eq!(body.as_bytes(), page.body, "GigaHttpd's response body");
    response
}

/// Warm-up, then `n` measured connections, each checked against `response`. Returns
/// what the measured connections counted.
fn drive(server: &mut impl Target, response: &[u8], n: u64) -> Tally {
    let mut client = Client::new(START_MS);
    client.resolve(server);
    for _ in 0..WARMUP {
        client.connection(server, Some(response), false);
    }
    let before = client.tally;
    for _ in 0..n {
        client.connection(server, Some(response), true);
    }
    let after = client.tally;
    Tally {
        connections: after.connections - before.connections,
        client_frames: after.client_frames - before.client_frames,
        server_frames: after.server_frames - before.server_frames,
    }
}

/// One line about a finished run.
fn report(name: &str, t: &Tally, extra: &str) {
    let per = |x: u64| x as f64 / t.connections.max(1) as f64;
    println!(
        "{name}: {} connections completed after {WARMUP} warm-up; frames per connection: \
         {:.2} from the client, {:.2} from the server{extra}",
        t.connections,
        per(t.client_frames),
        per(t.server_frames),
    );
}

/// Runs one server: `gh`, `smoltcp` or `floor` (the frames alone).
fn run(which: &str, n: u64) {
    let response = gh_response();
    match which {
        "gh" => {
            let mut mem = gh::Memory::new();
            let mut server = gh::Gh::new(&mut mem, START_MS);
            let t = drive(&mut server, &response, n);
            server.check(WARMUP + n);
            let extra = format!(
                "; {} timer ticks in all; {} slots in use at the end (TIME-WAIT)",
                server.ticks,
                server.slots_in_use()
            );
            report("GigaHttpd", &t, &extra);
        }
        "smoltcp" => run_smoltcp(response, smol::RX_BUFFER, smol::TX_BUFFER, n, "smoltcp"),
        "floor" => {
            let response: &'static [u8] = Box::leak(response.into_boxed_slice());
            let mut server = floor::Floor::new(response);
            let t = drive(&mut server, response, n);
            assert_eq!(
                server.served,
                WARMUP + n,
                "the frames alone: requests answered"
            );
            report("The frames alone", &t, "");
        }
        other => usage(&format!("unknown server {other:?}")),
    }
}

/// Runs smoltcp with `rx` and `tx` bytes of socket buffers.
fn run_smoltcp(response: Vec<u8>, rx: usize, tx: usize, n: u64, name: &str) {
    let response: &'static [u8] = Box::leak(response.into_boxed_slice());
    let mut server = smol::Smol::new(response, rx, tx, START_MS);
    let t = drive(&mut server, response, n);
    assert_eq!(server.served, WARMUP + n, "{name}: requests answered");
    report(name, &t, "");
}

/// Prints a breakdown and returns its total.
fn breakdown(items: &[(String, usize)]) -> usize {
    for (what, bytes) in items {
        println!("    {bytes:>6}  {what}");
    }
    items.iter().map(|(_, b)| b).sum()
}

/// Bytes per established connection for both servers.
fn sizes() {
    let response = gh_response();
    println!("Bytes per established connection:");
    println!("  GigaHttpd:");
    let mem = gh::Memory::new();
    let gh_total = breakdown(&mem.per_connection());
    println!(
        "    (per core, not per connection: {} bytes of timer buckets, TX wait ring, \
         prepared responses and echo tasks)",
        mem.per_core()
    );
    println!(
        "  smoltcp (buffers {} / {}):",
        smol::RX_BUFFER,
        smol::TX_BUFFER
    );
    let smol_total = breakdown(&smol::per_connection(smol::RX_BUFFER, smol::TX_BUFFER));
    let exact = smol::per_connection(REQUEST.len(), response.len())
        .iter()
        .map(|(_, b)| b)
        .sum::<usize>();
    println!(
        "  smoltcp with buffers cut to this exchange (rx {}, tx {}): {exact}",
        REQUEST.len(),
        response.len()
    );
    println!("bytes gh {gh_total}");
    println!("bytes smoltcp {smol_total}");
}

/// Explains the command line and exits.
fn usage(why: &str) -> ! {
    eprintln!("netbench: {why}");
    eprintln!(
        "usage: netbench check [N] | netbench run gh|smoltcp|floor [N] | netbench sizes | \
         netbench parse [N]"
    );
    std::process::exit(2);
}

/// The connection count argument, if any.
fn count(arg: Option<&String>) -> u64 {
    match arg {
        None => DEFAULT_CONNECTIONS,
        Some(a) => match a.parse() {
            Ok(n) if n > 0 => n,
            _ => usage(&format!("bad connection count {a:?}")),
        },
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("check") => {
            let n = count(args.get(1));
            let response = gh_response();
            println!(
                "request {} bytes, response {} bytes:\n{}",
                REQUEST.len(),
                response.len(),
                String::from_utf8_lossy(&response).trim_end()
            );
            run("gh", n);
            run("smoltcp", n);
            run("floor", n);
            // The smallest buffers this exchange works with, for the bytes figure.
            let name = format!(
                "smoltcp with buffers cut to this exchange (rx {}, tx {})",
                REQUEST.len(),
                response.len()
            );
            run_smoltcp(response.clone(), REQUEST.len(), response.len(), n, &name);
            sizes();
        }
        Some("run") => match args.get(1) {
            Some(which) => run(which, count(args.get(2))),
            None => usage("run needs gh, smoltcp or floor"),
        },
        Some("sizes") => sizes(),
        Some("parse") => parse(count(args.get(1))),
        _ => usage("no command"),
    }
}

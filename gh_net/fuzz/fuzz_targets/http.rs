//! The HTTP request parser is incremental: a request split over any number of TCP
//! segments must parse exactly as if it came in one piece. This target feeds the same
//! bytes whole, split at fuzzer-chosen points, and one byte at a time, and compares the
//! outcomes: the sequence of completed requests and errors, and the events with adjacent
//! pieces of the same kind joined (a split target or header value arrives in pieces).
//!
//! The request an error ends is unusable, and the parser does not report the piece it
//! was in the middle of when the error came: how much of that request's target, header
//! values or body was reported depends on where the input was split. For it, one
//! outcome's events must be a prefix of the other's, and differ only in such pieces.
//!
//! The server parses with `feed_routing`, which may leave out the method and `Host`
//! events: the split input is parsed that way too, and must give the same outcome less
//! those.
//!
//! Also checked: `consumed` never exceeds the input and is short of it only when a
//! request completed, an error is sticky, and a completed request's body is exactly its
//! Content-Length or, in the chunked coding, within the body limit.
//!
//! Input: byte 0 bits 0-3 the number of split points, bit 4 small limits (so every
//! limit's error is reachable), then two bytes (big endian) per split point, then the
//! request bytes. Split points are taken modulo the request length plus one.

#![no_main]

use gh_net::http::request::{Event, Header, Limits, Parser, RequestHead};
use gh_net::http::{Method, Status};
use libfuzzer_sys::fuzz_target;

/// An event with its bytes owned, so outcomes can be compared.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Ev {
    Method(Method),
    Target(Vec<u8>),
    Header(Header, Vec<u8>),
    Head(RequestHead),
    Body(Vec<u8>),
}

/// How one `feed` ended, when it ended something.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Res {
    Complete,
    Error(Status),
}

#[derive(Debug, Default, PartialEq, Eq)]
struct Outcome {
    events: Vec<Ev>,
    results: Vec<Res>,
    /// Events up to the end of the last completed request.
    settled: usize,
}

impl Outcome {
    /// Records an event, joining it to the previous one if both are pieces of the same
    /// thing.
    fn push(&mut self, e: Event<'_>) {
        match (self.events.last_mut(), e) {
            (Some(Ev::Target(t)), Event::Target(more)) => t.extend_from_slice(more),
            (Some(Ev::Header(h, v)), Event::Header(h2, more)) if *h == h2 => {
                v.extend_from_slice(more)
            }
            (Some(Ev::Body(b)), Event::Body(more)) => b.extend_from_slice(more),
            (_, Event::Method(m)) => self.events.push(Ev::Method(m)),
            (_, Event::Target(t)) => self.events.push(Ev::Target(t.to_vec())),
            (_, Event::Header(h, v)) => self.events.push(Ev::Header(h, v.to_vec())),
            (_, Event::Head(h)) => self.events.push(Ev::Head(h)),
            (_, Event::Body(b)) => self.events.push(Ev::Body(b.to_vec())),
        }
    }
}

impl Outcome {
    /// The outcome less the events `feed_routing` leaves out (the method, `Host`), with
    /// the pieces that then meet joined.
    fn routed(&self) -> Outcome {
        let mut out = Outcome {
            results: self.results.clone(),
            ..Outcome::default()
        };
        for (i, e) in self.events.iter().enumerate() {
            if i == self.settled {
                out.settled = out.events.len();
            }
            match (out.events.last_mut(), e) {
                (_, Ev::Method(_) | Ev::Header(Header::Host, _)) => {}
                (Some(Ev::Header(h, v)), Ev::Header(h2, more)) if h == h2 => {
                    v.extend_from_slice(more)
                }
                (Some(Ev::Target(t)), Ev::Target(more)) => t.extend_from_slice(more),
                (Some(Ev::Body(b)), Ev::Body(more)) => b.extend_from_slice(more),
                _ => out.events.push(e.clone()),
            }
        }
        if self.settled == self.events.len() {
            out.settled = out.events.len();
        }
        out
    }
}

impl Ev {
    /// True if `self` is `other` or, for pieces of the same kind, its beginning.
    fn starts(&self, other: &Ev) -> bool {
        match (self, other) {
            (Ev::Target(a), Ev::Target(b)) | (Ev::Body(a), Ev::Body(b)) => b.starts_with(a),
            (Ev::Header(h, a), Ev::Header(k, b)) => h == k && b.starts_with(a),
            _ => self == other,
        }
    }

    fn is_piece(&self) -> bool {
        matches!(self, Ev::Target(_) | Ev::Header(..) | Ev::Body(_))
    }
}

/// True if `short` is `long` cut inside or after one of its pieces: the same events, the
/// last one possibly a piece's beginning, and only pieces after it.
fn cut_short(short: &[Ev], long: &[Ev]) -> bool {
    let n = short.len();
    n == 0
        || (n <= long.len()
            && short[..n - 1] == long[..n - 1]
            && short[n - 1].starts(&long[n - 1])
            && long[n..].iter().all(Ev::is_piece))
}

/// Asserts that two parses of the same bytes agree (see the top of this file).
fn assert_same(a: &Outcome, b: &Outcome, how: &dyn Fn() -> String) {
    let ok = a.results == b.results
        && a.settled == b.settled
        && a.events[..a.settled] == b.events[..b.settled]
        && match a.results.last() {
            Some(Res::Error(_)) => {
                let (x, y) = (&a.events[a.settled..], &b.events[b.settled..]);
                cut_short(x, y) || cut_short(y, x)
            }
            _ => a.events == b.events,
        };
    assert!(ok, "{}:\n{a:?}\n{b:?}", how());
}

/// Feeds `chunks` in order to one parser, like a connection's segments, each chunk until
/// it is used up (a completed request leaves the rest for the next one); stops at the
/// first error. With `routing`, as the server does (`feed_routing`).
fn parse<'a>(chunks: impl Iterator<Item = &'a [u8]>, limits: &Limits, routing: bool) -> Outcome {
    let mut parser = Parser::new();
    let mut out = Outcome::default();
    // Body bytes of the request being parsed, and its head.
    let mut body = 0u64;
    let mut announced: Option<RequestHead> = None;
    for chunk in chunks {
        let mut rest = chunk;
        loop {
            let mut on = |e: Event<'_>| {
                match &e {
                    Event::Head(h) => announced = Some(*h),
                    Event::Body(b) => body += b.len() as u64,
                    _ => {}
                }
                out.push(e)
            };
            let result = if routing {
                parser.feed_routing(rest, limits, &mut on)
            } else {
                parser.feed(rest, limits, &mut on)
            };
            match result {
                Ok(p) => {
                    assert!(p.consumed <= rest.len(), "consumed more than the input");
                    if !p.complete {
                        assert_eq!(p.consumed, rest.len(), "stopped short without a request");
                        break;
                    }
                    match announced {
                        Some(h) if h.chunked => assert!(
                            h.content_length == 0 && body <= u64::from(limits.max_body),
                            "chunked body over the limit"
                        ),
                        Some(h) => assert_eq!(
                            h.content_length, body,
                            "body length differs from Content-Length"
                        ),
                        None => panic!("a request completed without its head"),
                    }
                    (body, announced) = (0, None);
                    out.results.push(Res::Complete);
                    out.settled = out.events.len();
                    rest = &rest[p.consumed..];
                    if rest.is_empty() {
                        break;
                    }
                }
                Err(status) => {
                    assert_eq!(
                        parser.feed(b"GET", limits, &mut |_| {}),
                        Err(status),
                        "an error must be sticky"
                    );
                    out.results.push(Res::Error(status));
                    return out;
                }
            }
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&control, rest)) = data.split_first() else {
        return;
    };
    let count = usize::from(control & 0x0f);
    let limits = if control & 0x10 != 0 {
        Limits {
            max_target: 16,
            max_head: 64,
            max_body: 32,
        }
    } else {
        Limits::default()
    };
    if rest.len() < 2 * count {
        return;
    }
    let (cuts, input) = rest.split_at(2 * count);
    let mut points: Vec<usize> = cuts
        .chunks_exact(2)
        .map(|c| usize::from(u16::from_be_bytes([c[0], c[1]])) % (input.len() + 1))
        .collect();
    points.sort_unstable();

    let whole = parse(std::iter::once(input), &limits, false);
    let mut bounds = vec![0];
    bounds.extend(&points);
    bounds.push(input.len());
    let pieces = || bounds.windows(2).map(|w| &input[w[0]..w[1]]);
    let split = parse(pieces(), &limits, false);
    assert_same(&whole, &split, &|| format!("split at {points:?}"));
    let bytewise = parse(input.chunks(1), &limits, false);
    assert_same(&whole, &bytewise, &|| "fed one byte at a time".to_string());
    let routed = parse(pieces(), &limits, true);
    // The state machine may still report them where the fast path does not.
    assert_same(&split.routed(), &routed.routed(), &|| {
        format!("routing, split at {points:?}")
    });
});

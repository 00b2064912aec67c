//! Incremental, in-place HTTP/1.1 request parser (RFC 9112).
//!
//! Bytes are never copied or buffered: the parser walks each received segment once and
//! reports slices of it as [`Event`]s (target, selected header values, body). Between
//! segments only [`Parser`] survives, a few bytes of state-machine position and counters,
//! so a request split over many segments costs the connection nothing more.
//!
//! Strict on purpose, because a front proxy and GigaHttpd must never disagree about where a
//! request ends: bare CR or LF, obs-fold, whitespace before a colon, duplicate
//! Content-Length, and Content-Length with Transfer-Encoding are all 400. A body comes
//! with a Content-Length or in the chunked transfer coding (`chunked`).

use super::{Method, Status};

mod chunked;

/// Size limits; each overrun has its own status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Longest request target (414 beyond). RFC 9112 section 3 recommends taking request
    /// lines of at least 8,000 bytes.
    pub max_target: u16,
    /// Longest request head, request line and header fields together (431 beyond), with
    /// room for the longest target and a browser's fields.
    pub max_head: u16,
    /// Largest body accepted, by its Content-Length or as its chunks arrive (413 beyond).
    pub max_body: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_target: 8000,
            max_head: 16384,
            max_body: 1 << 20,
        }
    }
}

/// Header fields whose values the application sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Header {
    /// `Host`.
    Host,
    /// `If-None-Match`: compared with the ETag to answer 304.
    IfNoneMatch,
    /// `If-Match`: compared with the ETag, strongly; 412 when no tag matches (RFC 9110
    /// section 13.1.1).
    IfMatch,
}

/// What the parser found in a request head.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestHead {
    /// Method.
    pub method: Method,
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub minor_version: u8,
    /// Body length (0 without Content-Length).
    pub content_length: u64,
    /// The body comes in the chunked transfer coding, of a length not known yet.
    pub chunked: bool,
    /// An `If-Match` field came (its values as [`Header::IfMatch`]): the request is
    /// served only if it holds.
    pub if_match: bool,
    /// True if the connection stays open after the response.
    pub keep_alive: bool,
    /// True if an HTTP/1.1 client waits for a 100 (Continue) before it sends the body
    /// (`Expect: 100-continue`, RFC 9110 section 10.1.1); an HTTP/1.0 one is ignored.
    pub expect_continue: bool,
}

/// A piece of a request, reported as soon as it is seen.
#[derive(Debug, PartialEq, Eq)]
pub enum Event<'a> {
    /// The method (always first).
    Method(Method),
    /// A piece of the request target; a split target comes in several pieces.
    Target(&'a [u8]),
    /// A piece of a selected header's value, outer whitespace removed and inner whitespace
    /// given as spaces.
    Header(Header, &'a [u8]),
    /// The head is complete and valid.
    Head(RequestHead),
    /// A piece of the body.
    Body(&'a [u8]),
}

/// How far one call to [`Parser::feed`] got.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Bytes of the input used. Less than the input only when a request completed: the
    /// rest belongs to the next (pipelined) request.
    pub consumed: usize,
    /// True if a whole request (head and body) has been parsed; the parser is ready for
    /// the next one.
    pub complete: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
enum State {
    Start,
    StartLf,
    Method,
    TargetStart,
    Target,
    /// The scheme of an absolute-form target (`http://`, `https://`).
    Scheme,
    /// Its authority, up to the path.
    Authority,
    Version,
    VersionLf,
    HeaderStart,
    HeaderName,
    ValueStart,
    Value,
    HeaderLf,
    HeadEndLf,
    /// A Content-Length body; the chunked body's states follow (`chunked.rs`).
    Body,
    ChunkSize,
    /// After a chunk's size: whitespace, then extensions from a `;`.
    ChunkExt,
    ChunkSizeLf,
    ChunkData,
    ChunkDataCr,
    ChunkDataLf,
    TrailerStart,
    TrailerName,
    TrailerValue,
    TrailerLf,
    TrailerEndLf,
    Failed,
}

/// Which header field is being read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
enum Field {
    ContentLength,
    TransferEncoding,
    Connection,
    Host,
    IfNoneMatch,
    Expect,
    IfMatch,
    Other,
}

/// Lower-case names of the fields the parser acts on, indexed by `Field`.
const NAMES: [&[u8]; 7] = [
    b"content-length",
    b"transfer-encoding",
    b"connection",
    b"host",
    b"if-none-match",
    b"expect",
    b"if-match",
];
const FIELDS: [Field; 7] = [
    Field::ContentLength,
    Field::TransferEncoding,
    Field::Connection,
    Field::Host,
    Field::IfNoneMatch,
    Field::Expect,
    Field::IfMatch,
];

/// `Connection` tokens the parser acts on.
const TOKENS: [&[u8]; 2] = [b"close", b"keep-alive"];

/// Schemes of an absolute-form target (RFC 9112 section 3.2.2), lower-case.
const SCHEMES: [&[u8]; 2] = [b"http://", b"https://"];

/// The one `Transfer-Encoding` coding the parser tells apart from the others.
const CODINGS: [&[u8]; 1] = [b"chunked"];

/// The one expectation there is (RFC 9110 section 10.1.1); others are ignored.
const EXPECTATIONS: [&[u8]; 1] = [b"100-continue"];

mod flag {
    pub const CONTENT_LENGTH: u16 = 1;
    pub const TRANSFER_ENCODING: u16 = 2;
    pub const CLOSE: u16 = 4;
    pub const KEEP_ALIVE: u16 = 8;
    pub const HOST: u16 = 16;
    /// Whitespace followed the current Content-Length digits.
    pub const CL_WS: u16 = 32;
    /// An `If-None-Match` line was seen: the next one continues its list.
    pub const IF_NONE_MATCH: u16 = 64;
    /// The last `Transfer-Encoding` coding so far is `chunked`.
    pub const CHUNKED_LAST: u16 = 128;
    /// `Expect` holds `100-continue`.
    pub const EXPECT_CONTINUE: u16 = 256;
    /// A coding followed `chunked`: chunked is applied once and last, or the body's end
    /// cannot be known (RFC 9112 section 6.1).
    pub const AFTER_CHUNKED: u16 = 512;
    /// A coding other than `chunked`, which the parser does not decode.
    pub const OTHER_CODING: u16 = 1024;
    /// An `If-Match` line was seen: the next one continues its list.
    pub const IF_MATCH: u16 = 2048;
    /// The target names a path of the site: it began with `/`, or is absolute-form.
    pub const PATH: u16 = 4096;
}

/// Methods recognised but not served: 405 rather than 501.
const KNOWN_UNSERVED: [&[u8]; 6] = [
    b"PUT", b"DELETE", b"OPTIONS", b"PATCH", b"TRACE", b"CONNECT",
];

/// The state of a request being parsed: all that survives between segments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Parser {
    /// Method bytes, then Content-Length, then body bytes left (a chunked body: its length
    /// so far and its chunk's, see `chunked.rs`), then the failure status.
    acc: u64,
    /// Bytes of the head so far (then of a chunked body's padding and trailer fields).
    head_len: u16,
    /// Bytes of the target so far (then of a chunk-size line).
    line_len: u16,
    state: State,
    field: Field,
    /// Position in the version string, header name or `Connection` token being matched.
    pos: u8,
    /// Candidate names or tokens still matching, one bit each.
    mask: u8,
    /// Whitespace held back inside a header value until a visible byte follows it (a
    /// line is bounded by the head's length, so it never saturates).
    ws: u16,
    flags: u16,
    method: u8,
    minor: u8,
}

impl Default for Parser {
    fn default() -> Self {
        Self::new()
    }
}

/// What one byte did, for the span bookkeeping in `feed`.
enum Step {
    /// The byte is structure, or was consumed silently.
    Skip,
    /// The byte belongs to a slice reported to the application.
    Content(Span),
    /// The byte ended a valid head.
    HeadDone,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Span {
    Target,
    Header(Header),
}

/// A byte-class table: ASCII letters and digits, and the bytes of `others`.
// Built at compile time with `c < 256`: an out-of-range index would fail the build.
#[allow(clippy::indexing_slicing)]
const fn byte_class(others: &[u8]) -> [bool; 256] {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        t[c] = (c as u8).is_ascii_alphanumeric();
        c += 1;
    }
    let mut k = 0;
    while k < others.len() {
        t[others[k] as usize] = true;
        k += 1;
    }
    t
}

/// `TCHAR[c]`: `c` may appear in a token (RFC 9110 section 5.6.2). A table, because every
/// byte of every method and header name is tested.
const TCHAR: [bool; 256] = byte_class(b"!#$%&'*+-.^_`|~");

fn is_tchar(c: u8) -> bool {
    TCHAR.get(usize::from(c)).copied().unwrap_or(false)
}

/// Bytes allowed in a field value besides SP and HTAB: VCHAR and obs-text.
fn is_field_vchar(c: u8) -> bool {
    (0x21..=0x7e).contains(&c) || c >= 0x80
}

/// `HOST_BYTE[c]`: `c` may appear in a `Host` value, `uri-host [ ":" port ]` (RFC 9112
/// section 3.2, RFC 3986 section 3.2.2): unreserved, percent-encoded, sub-delims, and the
/// colon and brackets of a port and an IP literal. Any other byte makes the request a
/// 400.
const HOST_BYTE: [bool; 256] = byte_class(b"-._~%!$&'()*+,;=:[]");

fn is_host_byte(c: u8) -> bool {
    HOST_BYTE.get(usize::from(c)).copied().unwrap_or(false)
}

/// Where a `Host` value is in its grammar, `uri-host [ ":" port ]` with `uri-host` an IP
/// literal in brackets or a name (RFC 9112 section 3.2, RFC 3986 section 3.2.2): kept in
/// `Parser::pos` while the state machine reads the value.
mod host {
    /// Nothing yet.
    pub const START: u8 = 0;
    /// In a name or IPv4 address.
    pub const NAME: u8 = 1;
    /// Inside the brackets of an IP literal.
    pub const LITERAL: u8 = 2;
    /// After an IP literal's closing bracket.
    pub const AFTER_LITERAL: u8 = 3;
    /// In the port's digits.
    pub const PORT: u8 = 4;
}

/// The `host` state after byte `c` of a `Host` value, `None` if no value goes on so.
fn host_step(state: u8, c: u8) -> Option<u8> {
    if !is_host_byte(c) {
        return None;
    }
    match (state, c) {
        (host::START, b'[') => Some(host::LITERAL),
        (host::START | host::NAME, b':') => Some(host::PORT),
        (host::START | host::NAME, b'[' | b']') => None,
        (host::START | host::NAME, _) => Some(host::NAME),
        (host::LITERAL, b']') => Some(host::AFTER_LITERAL),
        (host::LITERAL, b'[') => None,
        (host::LITERAL, _) => Some(host::LITERAL),
        (host::AFTER_LITERAL, b':') => Some(host::PORT),
        (host::PORT, c) if c.is_ascii_digit() => Some(host::PORT),
        _ => None,
    }
}

/// True if a `Host` value may end in `state` (an IP literal must be closed; an empty
/// value is the grammar's empty name).
fn host_complete(state: u8) -> bool {
    state != host::LITERAL
}

/// `NAME_BYTE[c]`: `c` may be in a host name (a `Host` byte but for the colon and the
/// brackets).
const NAME_BYTE: [bool; 256] = byte_class(b"-._~%!$&'()*+,;=");

/// True if `b` is a whole `Host` value. Most are a bare name, checked by table alone.
fn is_host_value(b: &[u8]) -> bool {
    b.iter()
        .all(|&c| NAME_BYTE.get(usize::from(c)) == Some(&true))
        || b.iter()
            .try_fold(host::START, |state, &c| host_step(state, c))
            .is_some_and(host_complete)
}

const SPACES: [u8; 16] = [b' '; 16];

/// `Parser::method` of a method in [`KNOWN_UNSERVED`]: the request line is read to its
/// end, so that the 405's `Allow` can name what its target takes, then it fails.
const UNSERVED: u8 = 3;

impl Parser {
    /// A parser waiting for the first byte of a request.
    pub const fn new() -> Parser {
        Parser {
            acc: 0,
            head_len: 0,
            line_len: 0,
            state: State::Start,
            field: Field::Other,
            pos: 0,
            mask: 0,
            ws: 0,
            flags: 0,
            method: 0,
            minor: 0,
        }
    }

    /// True if no byte of a request has been seen: an idle keep-alive connection.
    pub fn is_idle(&self) -> bool {
        self.state == State::Start && self.head_len == 0
    }

    /// True while the body is being received.
    pub fn in_body(&self) -> bool {
        matches!(
            self.state,
            State::Body
                | State::ChunkSize
                | State::ChunkExt
                | State::ChunkSizeLf
                | State::ChunkData
                | State::ChunkDataCr
                | State::ChunkDataLf
                | State::TrailerStart
                | State::TrailerName
                | State::TrailerValue
                | State::TrailerLf
                | State::TrailerEndLf
        )
    }

    /// One more byte against the head's limit, which a chunked body's extensions and
    /// trailer share: `status` past it (also when the count itself would overflow, so
    /// that a limit of `u16::MAX` still holds).
    fn count_head(&mut self, limits: &Limits, status: Status) -> Result<(), Status> {
        self.head_len = self
            .head_len
            .checked_add(1)
            .filter(|&n| n <= limits.max_head)
            .ok_or(status)?;
        Ok(())
    }

    /// Sets the state a request leaves on the way out: `status` for every later call.
    fn fail(&mut self, status: Status) -> Status {
        self.state = State::Failed;
        self.acc = u64::from(status.0);
        status
    }

    /// After a valid head, the body's first state; false if there is no body (the
    /// request is complete).
    fn begin_body(&mut self) -> bool {
        if self.flags & flag::TRANSFER_ENCODING != 0 {
            self.begin_chunked();
        } else if self.acc != 0 {
            self.state = State::Body;
        } else {
            return false;
        }
        true
    }

    /// The request is complete at `consumed`: the parser is ready for the next one.
    fn complete(&mut self, consumed: usize) -> Progress {
        *self = Parser::new();
        Progress {
            consumed,
            complete: true,
        }
    }

    /// Parses `input`, reporting pieces to `on`. Stops after a complete request.
    ///
    /// On error the request is unusable and the connection must be closed after the
    /// error response; the parser keeps returning the same status.
    pub fn feed<F: FnMut(Event<'_>)>(
        &mut self,
        input: &[u8],
        limits: &Limits,
        on: &mut F,
    ) -> Result<Progress, Status> {
        self.feed_with::<true, false, F>(input, limits, on)
    }

    /// [`Parser::feed`] for a caller that ignores [`Event::Method`] and `Host` values
    /// (the built-in site routes by target alone): the fast path leaves them out, which
    /// saves a call per event, and otherwise everything is as with `feed`.
    pub fn feed_routing<F: FnMut(Event<'_>)>(
        &mut self,
        input: &[u8],
        limits: &Limits,
        on: &mut F,
    ) -> Result<Progress, Status> {
        self.feed_with::<true, true, F>(input, limits, on)
    }

    /// [`Parser::feed`]; `FAST` takes whole valid lines at once (see `fast_line`), and
    /// without it every byte goes through the state machine, which decides every case the
    /// fast path leaves to it: the tests hold the two to the same results.
    fn feed_with<const FAST: bool, const QUIET: bool, F: FnMut(Event<'_>)>(
        &mut self,
        input: &[u8],
        limits: &Limits,
        on: &mut F,
    ) -> Result<Progress, Status> {
        if self.state == State::Failed {
            return Err(self.failed_status());
        }
        let mut i = 0;
        let mut span: Option<(usize, Span)> = None;
        while i < input.len() {
            if self.in_body() {
                if self.state != State::Body {
                    return match self.feed_chunked(input, i, limits, on) {
                        Ok((at, true)) => Ok(self.complete(at)),
                        Ok((_, false)) => Ok(Progress {
                            consumed: input.len(),
                            complete: false,
                        }),
                        Err(status) => Err(self.fail(status)),
                    };
                }
                let left = input.len() - i;
                let n = usize::try_from(self.acc).map_or(left, |a| a.min(left));
                on(Event::Body(input.get(i..i + n).unwrap_or(&[])));
                i += n;
                self.acc -= n as u64;
                if self.acc == 0 {
                    return Ok(self.complete(i));
                }
                continue;
            }
            // A line starts here (no span is open): take whole lines while they are
            // complete, valid and within the limits.
            if FAST && span.is_none() {
                let (at, done) = self.fast_lines::<QUIET, F>(input, i, limits, on);
                i = at;
                if done {
                    if !self.begin_body() {
                        return Ok(self.complete(i));
                    }
                    continue;
                }
                if i >= input.len() {
                    break;
                }
            }
            let c = input.get(i).copied().unwrap_or(0);
            let step = match self.step(c, limits, on) {
                Ok(s) => s,
                Err(status) => return Err(self.fail(status)),
            };
            match step {
                Step::Content(kind) => {
                    if span.is_none() {
                        self.emit_held_spaces(kind, on);
                        span = Some((i, kind));
                    }
                }
                Step::Skip | Step::HeadDone => {
                    if let Some((start, kind)) = span.take() {
                        emit_span(input.get(start..i).unwrap_or(&[]), kind, on);
                    }
                }
            }
            i += 1;
            if let Step::HeadDone = step {
                if !self.begin_body() {
                    return Ok(self.complete(i));
                }
            }
        }
        if let Some((start, kind)) = span {
            emit_span(input.get(start..).unwrap_or(&[]), kind, on);
        }
        Ok(Progress {
            consumed: input.len(),
            complete: false,
        })
    }

    /// The fast path: from `at`, the start of the request line or of a header line, takes
    /// whole lines while each is complete in `input`, valid, and within the limits, with
    /// word-wise scans instead of a state-machine step per byte. Returns where it stopped
    /// and whether it took the empty line that ends a valid head. Anything else (a line
    /// split across segments, an error, a case the state machine decides, such as a
    /// duplicate field or tabs inside a reported value) is left to the byte-by-byte path,
    /// which then produces exactly the events and status it always did.
    fn fast_lines<const QUIET: bool, F: FnMut(Event<'_>)>(
        &mut self,
        input: &[u8],
        mut at: usize,
        limits: &Limits,
        on: &mut F,
    ) -> (usize, bool) {
        if self.state == State::Start && self.head_len == 0 {
            let rest = input.get(at..).unwrap_or(&[]);
            match self.fast_request_line::<QUIET, F>(rest, limits, on) {
                Some(n) => at += n,
                None => return (at, false),
            }
        }
        while self.state == State::HeaderStart {
            let rest = input.get(at..).unwrap_or(&[]);
            match self.fast_header_line::<QUIET, F>(rest, limits, on) {
                Fast::No => break,
                Fast::Line(n) => at += n,
                Fast::HeadDone(n) => return (at + n, true),
            }
        }
        (at, false)
    }

    /// `head_len + n` if the head limit allows `n` more bytes.
    fn head_room(&self, n: usize, limits: &Limits) -> Option<u16> {
        let total = usize::from(self.head_len).checked_add(n)?;
        if total > usize::from(limits.max_head) {
            return None;
        }
        u16::try_from(total).ok()
    }

    /// `GET|HEAD|POST SP target SP HTTP/1.x CRLF`: its length if taken.
    fn fast_request_line<const QUIET: bool, F: FnMut(Event<'_>)>(
        &mut self,
        rest: &[u8],
        limits: &Limits,
        on: &mut F,
    ) -> Option<usize> {
        let (method, name_len) = match rest.first_chunk::<5>() {
            Some([b'G', b'E', b'T', b' ', _]) => (Method::Get, 3),
            Some(b"HEAD ") => (Method::Head, 4),
            Some(b"POST ") => (Method::Post, 4),
            _ => return None,
        };
        let after = rest.get(name_len + 1..)?;
        let target_len = first_outside_target(after);
        if target_len == 0 || target_len > usize::from(limits.max_target) {
            return None;
        }
        // ` HTTP/1.` as one word, then the minor digit and CRLF.
        let (version, end) = after.get(target_len..)?.split_first_chunk::<8>()?;
        if u64::from_le_bytes(*version) != u64::from_le_bytes(*b" HTTP/1.") {
            return None;
        }
        let minor = match end.first_chunk::<3>()? {
            b"1\r\n" => 1,
            b"0\r\n" => 0,
            _ => return None,
        };
        let n = name_len + 1 + target_len + 11;
        let (Some(head_len), Some(target), Ok(line_len)) = (
            self.head_room(n, limits),
            after.get(..target_len),
            u16::try_from(target_len),
        ) else {
            return None;
        };
        // An absolute-form target is reported from its path, `/` for an empty one; any
        // other form is the state machine's to refuse.
        let (slash, path) = match target.first() {
            Some(b'/') => (false, target),
            _ => {
                let rest = SCHEMES.iter().find_map(|s| {
                    let prefix = target.get(..s.len())?;
                    prefix
                        .eq_ignore_ascii_case(s)
                        .then(|| target.get(s.len()..))
                        .flatten()
                })?;
                let host = rest.iter().position(|&c| c == b'/' || c == b'?');
                let (authority, path) = rest.split_at_checked(host.unwrap_or(rest.len()))?;
                if authority.first().is_none_or(|&c| c == b':') || !is_host_value(authority) {
                    return None;
                }
                (!path.starts_with(b"/"), path)
            }
        };
        // What the state machine leaves behind after the same line.
        self.head_len = head_len;
        self.line_len = line_len;
        self.acc = rest
            .get(..name_len)
            .unwrap_or(&[])
            .iter()
            .fold(0, |a, &c| (a << 8) | u64::from(c));
        self.pos = 9;
        self.method = method as u8;
        self.minor = minor;
        self.state = State::HeaderStart;
        if !QUIET {
            on(Event::Method(method));
        }
        if slash {
            on(Event::Target(b"/"));
        }
        if !path.is_empty() {
            on(Event::Target(path));
        }
        Some(n)
    }

    /// A header field line, or the empty line that ends the head.
    fn fast_header_line<const QUIET: bool, F: FnMut(Event<'_>)>(
        &mut self,
        rest: &[u8],
        limits: &Limits,
        on: &mut F,
    ) -> Fast {
        if rest.starts_with(b"\r\n") {
            let Some(head_len) = self.head_room(2, limits) else {
                return Fast::No;
            };
            // A refused head is refused again, with its status, by the state machine.
            let Ok(head) = self.finish_head(limits) else {
                return Fast::No;
            };
            self.head_len = head_len;
            on(Event::Head(head));
            return Fast::HeadDone(2);
        }
        // A name the parser acts on is recognised with its colon in a word or two;
        // any other name is checked byte class by byte class.
        let (field, name_len) = match known_name(rest) {
            Lookup::Known(known) => (known.field, known.len),
            lookup => {
                let name_len = token_len(rest);
                if name_len == 0 || rest.get(name_len) != Some(&b':') {
                    return Fast::No;
                }
                let field = match lookup {
                    Lookup::Other => Field::Other,
                    _ => field_of(rest.get(..name_len).unwrap_or(&[])),
                };
                (field, name_len)
            }
        };
        let Some((cr, tab)) = line_end(rest, name_len + 1) else {
            return Fast::No;
        };
        let n = cr + 2;
        let (Some(head_len), Some(value)) = (self.head_room(n, limits), rest.get(name_len + 1..cr))
        else {
            return Fast::No;
        };
        // Only the values the parser acts on are trimmed: most lines are other fields.
        if field == Field::Other {
            self.head_len = head_len;
            return Fast::Line(n);
        }
        let value = trim_ws(value);
        match field {
            Field::Other => {}
            // The usual value is `chunked` alone; lists are the state machine's.
            Field::TransferEncoding => {
                if !eq_lowercase(value, CODINGS[0]) {
                    return Fast::No;
                }
                self.flags |= flag::TRANSFER_ENCODING;
                self.coding(true);
            }
            Field::Host | Field::IfNoneMatch | Field::IfMatch => {
                // Inner tabs are reported as spaces by the state machine.
                // Not `contains`: its byte search is the kernel's, which may panic.
                #[allow(clippy::manual_contains)]
                let inner_tab = tab && value.iter().any(|&c| c == b'\t');
                if inner_tab {
                    return Fast::No;
                }
                let header = match field {
                    Field::Host => {
                        // A duplicate or an invalid value is the state machine's 400.
                        if self.flags & flag::HOST != 0 || !is_host_value(value) {
                            return Fast::No;
                        }
                        self.flags |= flag::HOST;
                        Header::Host
                    }
                    Field::IfMatch => self.continue_list(Header::IfMatch, on),
                    _ => self.continue_list(Header::IfNoneMatch, on),
                };
                if !(QUIET && header == Header::Host) {
                    emit_span(value, Span::Header(header), on);
                }
            }
            Field::ContentLength => {
                // 19 digits cannot overflow a u64; longer values, a second field and
                // anything but digits are the state machine's to judge.
                if self.flags & flag::CONTENT_LENGTH != 0
                    || value.is_empty()
                    || value.len() > 19
                    || !value.iter().all(u8::is_ascii_digit)
                {
                    return Fast::No;
                }
                self.acc = value.iter().fold(0, |a, &c| a * 10 + u64::from(c - b'0'));
                self.flags |= flag::CONTENT_LENGTH;
            }
            Field::Expect => {
                if value
                    .split(is_list_separator)
                    .any(|t| eq_lowercase(t, EXPECTATIONS[0]))
                {
                    self.flags |= flag::EXPECT_CONTINUE;
                }
            }
            // The usual value is one token: no split. A value holds no CR.
            Field::Connection if eq_lowercase(value, b"close") => {
                self.flags |= flag::CLOSE;
            }
            Field::Connection if eq_lowercase(value, b"keep-alive") => {
                self.flags |= flag::KEEP_ALIVE;
            }
            Field::Connection => {
                for token in value.split(is_list_separator) {
                    if token.eq_ignore_ascii_case(b"close") {
                        self.flags |= flag::CLOSE;
                    } else if token.eq_ignore_ascii_case(b"keep-alive") {
                        self.flags |= flag::KEEP_ALIVE;
                    }
                }
            }
        }
        self.head_len = head_len;
        Fast::Line(n)
    }

    /// One more byte of the target: 414 past the limit.
    fn count_target(&mut self, limits: &Limits) -> Result<(), Status> {
        self.line_len = self.line_len.saturating_add(1);
        if self.line_len > limits.max_target {
            return Err(Status::URI_TOO_LONG);
        }
        Ok(())
    }

    /// One byte of an absolute-form target's scheme, matched against [`SCHEMES`] without
    /// regard to case; 400 once none matches, but for an unserved method, whose target
    /// may be in authority form (`CONNECT h:443`) or of another scheme: it names no path
    /// of the site, and the rest is only read.
    fn scheme_byte(&mut self, c: u8) -> Result<(), Status> {
        self.narrow(&SCHEMES, c);
        if self.matched(&SCHEMES).is_some() {
            self.state = State::Authority;
            self.pos = 0;
        } else if self.mask == 0 {
            match c {
                _ if self.method != UNSERVED => return Err(Status::BAD_REQUEST),
                b' ' => {
                    self.state = State::Version;
                    self.pos = 0;
                }
                0x21..=0x7e => self.state = State::Target,
                _ => return Err(Status::BAD_REQUEST),
            }
        }
        Ok(())
    }

    /// A second and later `If-None-Match` or `If-Match` line continues the list of the
    /// first (RFC 9110 section 5.3): a comma keeps their tags apart. Returns `header`.
    fn continue_list<F: FnMut(Event<'_>)>(&mut self, header: Header, on: &mut F) -> Header {
        let seen = match header {
            Header::IfMatch => flag::IF_MATCH,
            _ => flag::IF_NONE_MATCH,
        };
        if self.flags & seen != 0 {
            on(Event::Header(header, b","));
        }
        self.flags |= seen;
        header
    }

    /// True if the request's target, as far as it was read, names a path of the site
    /// (origin-form, or absolute-form's path): one an unserved method names may be a page,
    /// or nothing of the site, unlike `*` or an authority.
    pub fn target_is_path(&self) -> bool {
        self.flags & flag::PATH != 0
    }

    /// True if the request's method is HEAD: even an error answer to it has no body.
    pub fn is_head(&self) -> bool {
        self.method == Method::Head as u8
    }

    fn failed_status(&self) -> Status {
        Status(u16::try_from(self.acc).unwrap_or(400))
    }

    fn emit_held_spaces<F: FnMut(Event<'_>)>(&mut self, kind: Span, on: &mut F) {
        let mut n = usize::from(self.ws);
        self.ws = 0;
        while n > 0 {
            let k = n.min(SPACES.len());
            emit_span(SPACES.get(..k).unwrap_or(&[]), kind, on);
            n -= k;
        }
    }

    /// Advances the state machine by one byte of the head.
    fn step<F: FnMut(Event<'_>)>(
        &mut self,
        c: u8,
        limits: &Limits,
        on: &mut F,
    ) -> Result<Step, Status> {
        self.count_head(limits, Status::HEADER_FIELDS_TOO_LARGE)?;
        match self.state {
            State::Start => match c {
                // Empty lines before a request are tolerated (RFC 9112 section 2.2).
                b'\r' => self.state = State::StartLf,
                c if is_tchar(c) => {
                    self.state = State::Method;
                    self.acc = u64::from(c);
                    self.pos = 1;
                }
                _ => return Err(Status::BAD_REQUEST),
            },
            State::StartLf => match c {
                b'\n' => self.state = State::Start,
                _ => return Err(Status::BAD_REQUEST),
            },
            State::Method => match c {
                b' ' => {
                    match self.classify_method() {
                        Ok(method) => {
                            self.method = method as u8;
                            on(Event::Method(method));
                        }
                        Err(Status::METHOD_NOT_ALLOWED) => self.method = UNSERVED,
                        Err(status) => return Err(status),
                    }
                    self.state = State::TargetStart;
                }
                c if is_tchar(c) => {
                    // Up to 8 bytes are kept; a longer token is no method we know.
                    self.pos = self.pos.saturating_add(1);
                    self.acc = (self.acc << 8) | u64::from(c);
                }
                _ => return Err(Status::BAD_REQUEST),
            },
            State::TargetStart | State::Target => match c {
                b' ' if self.state == State::Target => {
                    self.state = State::Version;
                    self.pos = 0;
                }
                // An unserved method's target may take any form (`OPTIONS *`,
                // `CONNECT host:443`): it is only routed, for the 405's `Allow`. One that
                // may be absolute-form is tried as that first (`scheme_byte`).
                0x21..=0x7e
                    if self.state == State::Target
                        || c == b'/'
                        || (self.method == UNSERVED && !c.is_ascii_alphabetic()) =>
                {
                    if self.state == State::TargetStart && c == b'/' {
                        self.flags |= flag::PATH;
                    }
                    self.state = State::Target;
                    self.count_target(limits)?;
                    return Ok(Step::Content(Span::Target));
                }
                // An absolute-form target: its path is reported, from the first `/`
                // after the authority (which the Host field names too).
                c if c.is_ascii_alphabetic() => {
                    self.count_target(limits)?;
                    self.state = State::Scheme;
                    self.mask = (1 << SCHEMES.len()) - 1;
                    self.pos = 0;
                    self.scheme_byte(c)?;
                }
                // Asterisk-form and authority-form belong to methods not served.
                _ => return Err(Status::BAD_REQUEST),
            },
            State::Scheme => {
                self.count_target(limits)?;
                self.scheme_byte(c)?;
            }
            // The authority is held to the `Host` grammar, its place in it kept in `pos`.
            State::Authority => match c {
                b'/' | b'?' | b' ' => {
                    // `http:///x` names no host.
                    if self.pos == host::START || !host_complete(self.pos) {
                        return Err(Status::BAD_REQUEST);
                    }
                    self.flags |= flag::PATH;
                    if c != b'/' {
                        // An empty path is `/` (RFC 9112 section 3.2.1).
                        on(Event::Target(b"/"));
                    }
                    if c == b' ' {
                        self.state = State::Version;
                        self.pos = 0;
                    } else {
                        self.state = State::Target;
                        self.count_target(limits)?;
                        return Ok(Step::Content(Span::Target));
                    }
                }
                // Userinfo (`@`), a byte no host has there, or a port after no host
                // (RFC 9110 section 4.2.1: an `http` URI's host is not empty), is refused.
                b':' if self.pos == host::START => return Err(Status::BAD_REQUEST),
                c => {
                    self.count_target(limits)?;
                    self.pos = host_step(self.pos, c).ok_or(Status::BAD_REQUEST)?;
                }
            },
            State::Version => self.version_byte(c)?,
            State::VersionLf => match c {
                b'\n' if self.method == UNSERVED => return Err(Status::METHOD_NOT_ALLOWED),
                b'\n' => self.state = State::HeaderStart,
                _ => return Err(Status::BAD_REQUEST),
            },
            State::HeaderStart => match c {
                b'\r' => self.state = State::HeadEndLf,
                c if is_tchar(c) => {
                    self.state = State::HeaderName;
                    self.mask = (1 << NAMES.len()) - 1;
                    self.pos = 0;
                    self.narrow(&NAMES, c);
                }
                // Leading whitespace is obs-fold (or junk after the request line).
                _ => return Err(Status::BAD_REQUEST),
            },
            State::HeaderName => match c {
                b':' => {
                    self.begin_value()?;
                    match self.field {
                        Field::IfNoneMatch => _ = self.continue_list(Header::IfNoneMatch, on),
                        Field::IfMatch => _ = self.continue_list(Header::IfMatch, on),
                        _ => {}
                    }
                }
                c if is_tchar(c) => self.narrow(&NAMES, c),
                _ => return Err(Status::BAD_REQUEST),
            },
            State::ValueStart => match c {
                b' ' | b'\t' => {}
                b'\r' => self.end_value()?,
                c if is_field_vchar(c) => {
                    self.state = State::Value;
                    return self.value_byte(c);
                }
                _ => return Err(Status::BAD_REQUEST),
            },
            State::Value => match c {
                b' ' | b'\t' => {
                    self.ws = self.ws.saturating_add(1);
                    self.value_space();
                }
                b'\r' => self.end_value()?,
                c if is_field_vchar(c) => return self.value_byte(c),
                _ => return Err(Status::BAD_REQUEST),
            },
            State::HeaderLf => match c {
                b'\n' => self.state = State::HeaderStart,
                _ => return Err(Status::BAD_REQUEST),
            },
            State::HeadEndLf => match c {
                b'\n' => {
                    let head = self.finish_head(limits)?;
                    on(Event::Head(head));
                    return Ok(Step::HeadDone);
                }
                _ => return Err(Status::BAD_REQUEST),
            },
            // The body's states never reach here.
            _ => return Err(Status::BAD_REQUEST),
        }
        Ok(Step::Skip)
    }

    fn classify_method(&self) -> Result<Method, Status> {
        let len = usize::from(self.pos);
        let bytes = self.acc.to_be_bytes();
        let name = match 8usize.checked_sub(len) {
            Some(start) => bytes.get(start..).unwrap_or(&[]),
            None => return Err(Status::NOT_IMPLEMENTED),
        };
        match name {
            b"GET" => Ok(Method::Get),
            b"HEAD" => Ok(Method::Head),
            b"POST" => Ok(Method::Post),
            n if KNOWN_UNSERVED.contains(&n) => Err(Status::METHOD_NOT_ALLOWED),
            _ => Err(Status::NOT_IMPLEMENTED),
        }
    }

    /// `HTTP/1.1` then CR: position 0..=7 are the version, 8 the CR.
    fn version_byte(&mut self, c: u8) -> Result<(), Status> {
        let expected = b"HTTP/";
        match self.pos {
            0..=4 => {
                if expected.get(usize::from(self.pos)) != Some(&c) {
                    return Err(Status::BAD_REQUEST);
                }
            }
            5 | 7 if c.is_ascii_digit() => {
                // Major digit kept in `minor` until the minor digit replaces it.
                if self.pos == 5 {
                    self.minor = (c - b'0') << 4;
                } else {
                    self.minor |= c - b'0';
                }
            }
            6 if c == b'.' => {}
            8 if c == b'\r' => {
                let (major, minor) = (self.minor >> 4, self.minor & 0x0f);
                if major != 1 {
                    return Err(Status::VERSION_NOT_SUPPORTED);
                }
                // A later 1.x is taken as 1.1, the highest this server speaks (RFC 9110
                // section 2.5).
                self.minor = minor.min(1);
                self.state = State::VersionLf;
            }
            _ => return Err(Status::BAD_REQUEST),
        }
        self.pos = self.pos.saturating_add(1);
        Ok(())
    }

    /// One more byte of a word matched against `candidates` (a header name, a token, a
    /// scheme), without regard to case: `mask` keeps the candidates it still matches.
    fn narrow(&mut self, candidates: &[&[u8]], c: u8) {
        let lower = c.to_ascii_lowercase();
        for (bit, candidate) in candidates.iter().enumerate() {
            if candidate.get(usize::from(self.pos)) != Some(&lower) {
                self.mask &= !(1u8 << bit);
            }
        }
        self.pos = self.pos.saturating_add(1);
    }

    /// The candidate the word seen so far is, whole.
    fn matched(&self, candidates: &[&[u8]]) -> Option<usize> {
        candidates.iter().enumerate().position(|(bit, candidate)| {
            self.mask & (1 << bit) != 0 && candidate.len() == usize::from(self.pos)
        })
    }

    fn begin_value(&mut self) -> Result<(), Status> {
        self.field = self
            .matched(&NAMES)
            .and_then(|bit| FIELDS.get(bit).copied())
            .unwrap_or(Field::Other);
        match self.field {
            Field::ContentLength => {
                if self.flags & flag::CONTENT_LENGTH != 0 {
                    return Err(Status::BAD_REQUEST);
                }
                self.flags |= flag::CONTENT_LENGTH;
                self.acc = 0;
            }
            Field::TransferEncoding => {
                self.flags |= flag::TRANSFER_ENCODING;
                self.start_token();
            }
            Field::Host => {
                if self.flags & flag::HOST != 0 {
                    return Err(Status::BAD_REQUEST);
                }
                self.flags |= flag::HOST;
            }
            Field::Connection | Field::Expect => self.start_token(),
            Field::IfNoneMatch | Field::IfMatch | Field::Other => {}
        }
        self.state = State::ValueStart;
        self.ws = 0;
        self.pos = 0;
        // Header lines are bounded by `max_head` alone, not by `line_len`.
        Ok(())
    }

    /// The tokens matched in the current field's value: `Connection` options,
    /// `Transfer-Encoding` codings or expectations.
    fn tokens(&self) -> &'static [&'static [u8]] {
        match self.field {
            Field::TransferEncoding => &CODINGS,
            Field::Expect => &EXPECTATIONS,
            _ => &TOKENS,
        }
    }

    fn start_token(&mut self) {
        self.mask = (1 << self.tokens().len()) - 1;
        self.pos = 0;
    }

    fn end_token(&mut self) {
        match self.field {
            // An empty list item is no coding.
            Field::TransferEncoding if self.pos > 0 => {
                self.coding(self.matched(&CODINGS).is_some())
            }
            Field::TransferEncoding => {}
            Field::Expect => {
                if self.matched(&EXPECTATIONS).is_some() {
                    self.flags |= flag::EXPECT_CONTINUE;
                }
            }
            _ => match self.matched(&TOKENS) {
                Some(0) => self.flags |= flag::CLOSE,
                Some(_) => self.flags |= flag::KEEP_ALIVE,
                None => {}
            },
        }
        self.start_token();
    }

    /// One more `Transfer-Encoding` coding, `chunked` or another.
    fn coding(&mut self, chunked: bool) {
        if self.flags & flag::CHUNKED_LAST != 0 {
            self.flags |= flag::AFTER_CHUNKED;
        }
        if chunked {
            self.flags |= flag::CHUNKED_LAST;
        } else {
            self.flags &= !flag::CHUNKED_LAST;
            self.flags |= flag::OTHER_CODING;
        }
    }

    fn value_space(&mut self) {
        match self.field {
            Field::Connection | Field::TransferEncoding | Field::Expect => self.end_token(),
            Field::ContentLength => self.flags |= flag::CL_WS,
            _ => {}
        }
    }

    fn value_byte(&mut self, c: u8) -> Result<Step, Status> {
        match self.field {
            Field::ContentLength => {
                if !c.is_ascii_digit() || self.flags & flag::CL_WS != 0 {
                    return Err(Status::BAD_REQUEST);
                }
                // Too large for a u64 is over any limit: saturated, it is refused with
                // 413 at the end of the head, after the framing checks (400 with
                // Transfer-Encoding) that come first.
                self.acc = self
                    .acc
                    .checked_mul(10)
                    .and_then(|a| a.checked_add(u64::from(c - b'0')))
                    .unwrap_or(u64::MAX);
            }
            Field::Connection | Field::TransferEncoding | Field::Expect => {
                if c == b',' {
                    self.end_token();
                } else {
                    self.narrow(self.tokens(), c);
                }
            }
            Field::Host => {
                // Whitespace inside the value, or a byte its grammar has not here.
                if self.ws != 0 {
                    return Err(Status::BAD_REQUEST);
                }
                self.pos = host_step(self.pos, c).ok_or(Status::BAD_REQUEST)?;
                return Ok(Step::Content(Span::Header(Header::Host)));
            }
            Field::IfNoneMatch => return Ok(Step::Content(Span::Header(Header::IfNoneMatch))),
            Field::IfMatch => return Ok(Step::Content(Span::Header(Header::IfMatch))),
            Field::Other => {}
        }
        // Held whitespace is only reported for fields given to the application.
        self.ws = 0;
        Ok(Step::Skip)
    }

    fn end_value(&mut self) -> Result<(), Status> {
        match self.field {
            Field::ContentLength if self.state == State::ValueStart => {
                return Err(Status::BAD_REQUEST);
            }
            Field::Connection | Field::TransferEncoding | Field::Expect => self.end_token(),
            Field::Host if !host_complete(self.pos) => return Err(Status::BAD_REQUEST),
            _ => {}
        }
        self.flags &= !flag::CL_WS;
        self.ws = 0;
        self.state = State::HeaderLf;
        Ok(())
    }

    fn finish_head(&mut self, limits: &Limits) -> Result<RequestHead, Status> {
        let has_cl = self.flags & flag::CONTENT_LENGTH != 0;
        let chunked = self.flags & flag::TRANSFER_ENCODING != 0;
        if chunked {
            // With Content-Length it is a smuggling shape, and in HTTP/1.0 the framing is
            // faulty; without `chunked` once and last the body's end cannot be known
            // (all 400, RFC 9112 sections 6.1 and 6.3). Other codings are not decoded.
            let codings = self.flags & (flag::CHUNKED_LAST | flag::AFTER_CHUNKED);
            if has_cl || self.minor == 0 || codings != flag::CHUNKED_LAST {
                return Err(Status::BAD_REQUEST);
            }
            if self.flags & flag::OTHER_CODING != 0 {
                return Err(Status::NOT_IMPLEMENTED);
            }
        }
        if self.minor == 1 && self.flags & flag::HOST == 0 {
            return Err(Status::BAD_REQUEST);
        }
        let method = match self.method {
            m if m == Method::Head as u8 => Method::Head,
            m if m == Method::Post as u8 => Method::Post,
            _ => Method::Get,
        };
        if method == Method::Post && !has_cl && !chunked {
            return Err(Status::LENGTH_REQUIRED);
        }
        let content_length = if has_cl { self.acc } else { 0 };
        if content_length > u64::from(limits.max_body) {
            return Err(Status::CONTENT_TOO_LARGE);
        }
        self.acc = content_length;
        let keep_alive = self.flags & flag::CLOSE == 0
            && (self.minor == 1 || self.flags & flag::KEEP_ALIVE != 0);
        Ok(RequestHead {
            method,
            minor_version: self.minor,
            content_length,
            chunked,
            if_match: self.flags & flag::IF_MATCH != 0,
            keep_alive,
            expect_continue: self.minor == 1 && self.flags & flag::EXPECT_CONTINUE != 0,
        })
    }
}

/// What the fast path did with a line.
enum Fast {
    /// Nothing: the state machine takes the next byte.
    No,
    /// Took a whole line of this many bytes.
    Line(usize),
    /// Took the empty line of this many bytes that ends a valid head.
    HeadDone(usize),
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// High bit set in each byte of `x` below `n` (n <= 0x80). Borrows can mark bytes after
/// the first such byte too, so only the lowest mark is exact.
fn bytes_below(x: u64, n: u8) -> u64 {
    x.wrapping_sub(ONES * u64::from(n)) & !x & HIGHS
}

/// High bit set in each byte of `x` equal to `b`; only the lowest mark is exact.
fn bytes_equal(x: u64, b: u8) -> u64 {
    let y = x ^ (ONES * u64::from(b));
    y.wrapping_sub(ONES) & !y & HIGHS
}

/// Position of the first byte for which `mark` marks a word (read little-endian, so the
/// lowest mark is the first byte) or `bad` holds, eight bytes at a time.
fn first_marked(b: &[u8], mark: impl Fn(u64) -> u64, bad: impl Fn(u8) -> bool) -> usize {
    let mut at = 0;
    while let Some(w) = b.get(at..).and_then(|r| r.first_chunk::<8>()) {
        let m = mark(u64::from_le_bytes(*w));
        if m != 0 {
            return at + (m.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    while let Some(&c) = b.get(at) {
        if bad(c) {
            return at;
        }
        at += 1;
    }
    at
}

/// Length of the run of request-target bytes (VCHAR, 0x21..=0x7e) at the start of `b`.
#[inline(always)]
fn first_outside_target(b: &[u8]) -> usize {
    first_marked(
        b,
        |x| bytes_below(x, 0x21) | (x & HIGHS) | bytes_equal(x, 0x7f),
        |c| !(0x21..=0x7e).contains(&c),
    )
}

/// Position of the first control byte (below 0x20, or DEL) in `b` from `at`, eight bytes
/// at a time; `b.len()` if none.
fn first_control(b: &[u8], mut at: usize) -> usize {
    while let Some(w) = b.get(at..).and_then(|r| r.first_chunk::<8>()) {
        let x = u64::from_le_bytes(*w);
        let m = bytes_below(x, 0x20) | bytes_equal(x, 0x7f);
        if m != 0 {
            return at + (m.trailing_zeros() / 8) as usize;
        }
        at += 8;
    }
    while let Some(&c) = b.get(at) {
        if c < 0x20 || c == 0x7f {
            return at;
        }
        at += 1;
    }
    at
}

/// The CR of the CRLF that ends the field value starting at `at` in `b`, and whether the
/// value holds a tab; `None` unless every byte up to the CRLF is SP, HTAB, VCHAR or
/// obs-text.
#[inline(always)]
fn line_end(b: &[u8], mut at: usize) -> Option<(usize, bool)> {
    let mut tab = false;
    loop {
        at = first_control(b, at);
        match b.get(at..at + 2) {
            Some([b'\t', _]) => {
                tab = true;
                at += 1;
            }
            Some(b"\r\n") => return Some((at, tab)),
            _ => return None,
        }
    }
}

/// True for the bytes that part the items of a list-valued field (with their whitespace).
fn is_list_separator(c: &u8) -> bool {
    matches!(c, b',' | b' ' | b'\t')
}

/// `v` without leading and trailing SP and HTAB.
fn trim_ws(mut v: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = v {
        v = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = v {
        v = rest;
    }
    v
}

/// High bit set in each byte of `x` that is not an ASCII letter, digit or `-`, the bytes
/// of nearly every header name. Exact in every byte: with the high bits cleared first, no
/// sum below carries into the next byte.
fn not_name_bytes(x: u64) -> u64 {
    let low = x & !HIGHS;
    // Setting bit 0x20 maps exactly the letters into 0x61..=0x7a.
    let folded = low | (ONES * 0x20);
    let letter =
        folded.wrapping_add(ONES * (0x80 - 0x61)) & !folded.wrapping_add(ONES * (0x80 - 0x7b));
    let digit = low.wrapping_add(ONES * (0x80 - 0x30)) & !low.wrapping_add(ONES * (0x80 - 0x3a));
    let dash = !(low ^ (ONES * u64::from(b'-'))).wrapping_add(ONES * 0x7f);
    (!(letter | digit | dash) | x) & HIGHS
}

/// Length of the run of tchar bytes at the start of `b`: letters, digits and `-` eight
/// at a time, then the table from the first other byte (usually the colon).
fn token_len(b: &[u8]) -> usize {
    let mut at = 0;
    while let Some(w) = b.get(at..).and_then(|r| r.first_chunk::<8>()) {
        let m = not_name_bytes(u64::from_le_bytes(*w));
        if m != 0 {
            at += (m.trailing_zeros() / 8) as usize;
            break;
        }
        at += 8;
    }
    while let Some(&c) = b.get(at) {
        if !is_tchar(c) {
            return at;
        }
        at += 1;
    }
    at
}

/// The field a (valid, tchar) header name names.
fn field_of(name: &[u8]) -> Field {
    let (known, field) = match name.len() {
        4 => (&b"host"[..], Field::Host),
        6 => (&b"expect"[..], Field::Expect),
        8 => (&b"if-match"[..], Field::IfMatch),
        10 => (&b"connection"[..], Field::Connection),
        13 => (&b"if-none-match"[..], Field::IfNoneMatch),
        14 => (&b"content-length"[..], Field::ContentLength),
        17 => (&b"transfer-encoding"[..], Field::TransferEncoding),
        _ => return Field::Other,
    };
    if eq_lowercase(name, known) {
        field
    } else {
        Field::Other
    }
}

/// A field name the parser acts on, with its colon, laid out for word-wise matching.
struct KnownName {
    field: Field,
    /// Length of the name without its colon.
    len: usize,
    /// The name and colon in lower case, eight bytes a word (little-endian), zero-padded.
    words: [u64; 3],
    /// 0x20 in each byte that is a letter: setting it lower-cases exactly the letters, and
    /// no other byte then equals a letter. `-` and `:` are compared as they are.
    lower: [u64; 3],
    /// 0xff in each byte the name and colon occupy.
    keep: [u64; 3],
}

// Built at compile time from names of at most 24 bytes: an out-of-range index would fail
// the build.
#[allow(clippy::indexing_slicing)]
const fn known(field: Field, name_colon: &[u8]) -> KnownName {
    let mut k = KnownName {
        field,
        len: name_colon.len() - 1,
        words: [0; 3],
        lower: [0; 3],
        keep: [0; 3],
    };
    let mut i = 0;
    while i < name_colon.len() {
        let c = name_colon[i];
        let shift = 8 * (i % 8);
        k.words[i / 8] |= (c as u64) << shift;
        if c.is_ascii_lowercase() {
            k.lower[i / 8] |= 0x20 << shift;
        }
        k.keep[i / 8] |= 0xff << shift;
        i += 1;
    }
    k
}

const HOST: KnownName = known(Field::Host, b"host:");
const EXPECT: KnownName = known(Field::Expect, b"expect:");
const CONNECTION: KnownName = known(Field::Connection, b"connection:");
const CONTENT_LENGTH: KnownName = known(Field::ContentLength, b"content-length:");
const IF_NONE_MATCH: KnownName = known(Field::IfNoneMatch, b"if-none-match:");
const IF_MATCH: KnownName = known(Field::IfMatch, b"if-match:");
const TRANSFER_ENCODING: KnownName = known(Field::TransferEncoding, b"transfer-encoding:");

/// What [`known_name`] tells of the name at the start of a line.
#[derive(Clone, Copy)]
enum Lookup {
    /// This known field, its name and colon there in any case.
    Known(&'static KnownName),
    /// No known field: its first bytes name none, or every word of the one they name is
    /// there and differs.
    Other,
    /// The line is too short for the words: the general scan decides.
    Unsure,
}

/// The known field named at the start of `b`, when its name and colon are there (any
/// case) and `b` holds every word they touch.
#[inline(always)]
fn known_name(b: &[u8]) -> Lookup {
    let Some(&first) = b.first() else {
        return Lookup::Unsure;
    };
    let k = match first | 0x20 {
        b'h' => &HOST,
        b'e' => &EXPECT,
        // `con[n]ection` or `con[t]ent-length`.
        b'c' if b.get(3).is_some_and(|&c| c | 0x20 == b'n') => &CONNECTION,
        b'c' => &CONTENT_LENGTH,
        // `if-[n]one-match` or `if-[m]atch`.
        b'i' if b.get(3).is_some_and(|&c| c | 0x20 == b'm') => &IF_MATCH,
        b'i' => &IF_NONE_MATCH,
        b't' => &TRANSFER_ENCODING,
        _ => return Lookup::Other,
    };
    let mut i = 0;
    while let (Some(&word), Some(&lower), Some(&keep)) =
        (k.words.get(i), k.lower.get(i), k.keep.get(i))
    {
        if keep == 0 {
            break;
        }
        let Some(w) = b.get(8 * i..).and_then(|r| r.first_chunk::<8>()) else {
            return Lookup::Unsure;
        };
        if (u64::from_le_bytes(*w) | lower) & keep != word {
            return Lookup::Other;
        }
        i += 1;
    }
    Lookup::Known(k)
}

/// Eight bytes at `at`, little-endian (zero past the end).
fn word_at(b: &[u8], at: usize) -> u64 {
    b.get(at..)
        .and_then(|r| r.first_chunk::<8>())
        .map_or(0, |w| u64::from_le_bytes(*w))
}

/// `name.eq_ignore_ascii_case(known)` for a `name` without CR (a token or a field value)
/// and a `known` name of lower-case letters and `-`, eight bytes at a time: setting bit
/// 0x20 lower-cases a letter, and the only other byte it maps onto a letter or `-` is CR.
#[inline(always)]
fn eq_lowercase(name: &[u8], known: &[u8]) -> bool {
    const LOWER: u64 = ONES * 0x20;
    if name.len() != known.len() {
        return false;
    }
    if name.len() < 8 {
        return name.iter().zip(known).all(|(&c, &k)| c | 0x20 == k);
    }
    let mut at = 0;
    while at + 8 < name.len() {
        if word_at(name, at) | LOWER != word_at(known, at) {
            return false;
        }
        at += 8;
    }
    // The last word may overlap the previous one.
    let last = name.len() - 8;
    word_at(name, last) | LOWER == word_at(known, last)
}

fn emit_span<F: FnMut(Event<'_>)>(bytes: &[u8], kind: Span, on: &mut F) {
    if bytes.is_empty() {
        return;
    }
    match kind {
        Span::Target => on(Event::Target(bytes)),
        Span::Header(h) => on(Event::Header(h, bytes)),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    /// A request as the application saw it, pieces joined.
    #[derive(Debug, Default, PartialEq, Eq, Clone)]
    struct Seen {
        method: Option<Method>,
        target: Vec<u8>,
        host: Vec<u8>,
        inm: Vec<u8>,
        im: Vec<u8>,
        head: Option<RequestHead>,
        body: Vec<u8>,
    }

    fn record(seen: &mut Seen, e: Event<'_>) {
        match e {
            Event::Method(m) => seen.method = Some(m),
            Event::Target(t) => seen.target.extend_from_slice(t),
            Event::Header(Header::Host, v) => seen.host.extend_from_slice(v),
            Event::Header(Header::IfNoneMatch, v) => seen.inm.extend_from_slice(v),
            Event::Header(Header::IfMatch, v) => seen.im.extend_from_slice(v),
            Event::Head(h) => seen.head = Some(h),
            Event::Body(b) => seen.body.extend_from_slice(b),
        }
    }

    /// Feeds `input` in pieces of `chunk` bytes; returns the first request and bytes used.
    fn parse_chunked(input: &[u8], chunk: usize, limits: &Limits) -> Result<(Seen, usize), Status> {
        let mut p = Parser::new();
        let mut seen = Seen::default();
        let mut used = 0;
        for piece in input.chunks(chunk.max(1)) {
            let pr = p.feed(piece, limits, &mut |e| record(&mut seen, e))?;
            used += pr.consumed;
            if pr.complete {
                return Ok((seen, used));
            }
        }
        Err(Status(0)) // incomplete
    }

    /// Parses `input` whole, byte by byte, and split at every position; all must agree.
    fn parse(input: &[u8]) -> Result<(Seen, usize), Status> {
        parse_with(input, &Limits::default())
    }

    fn parse_with(input: &[u8], limits: &Limits) -> Result<(Seen, usize), Status> {
        let whole = parse_chunked(input, input.len(), limits);
        assert_eq!(parse_chunked(input, 1, limits), whole, "byte by byte");
        for cut in 1..input.len() {
            let mut p = Parser::new();
            let mut seen = Seen::default();
            let mut r = p.feed(&input[..cut], limits, &mut |e| record(&mut seen, e));
            if let Ok(pr) = r {
                if !pr.complete {
                    r = p
                        .feed(&input[cut..], limits, &mut |e| record(&mut seen, e))
                        .map(|q| Progress {
                            consumed: q.consumed + cut,
                            complete: q.complete,
                        });
                }
            }
            let split = match r {
                Ok(pr) if pr.complete => Ok((seen, pr.consumed)),
                Ok(_) => Err(Status(0)),
                Err(s) => Err(s),
            };
            assert_eq!(split, whole, "split at {cut}");
        }
        whole
    }

    fn status(input: &[u8]) -> u16 {
        parse(input).err().map_or(0, |s| s.0)
    }

    #[test]
    fn simple_get() {
        let req = b"GET /3:1f HTTP/1.1\r\nHost: example\r\nIf-None-Match: \"abc\"\r\n\r\n";
        let (seen, used) = parse(req).unwrap();
        assert_eq!(used, req.len());
        assert_eq!(seen.method, Some(Method::Get));
        assert_eq!(seen.target, b"/3:1f");
        assert_eq!(seen.host, b"example");
        assert_eq!(seen.inm, b"\"abc\"");
        assert_eq!(
            seen.head,
            Some(RequestHead {
                method: Method::Get,
                minor_version: 1,
                content_length: 0,
                chunked: false,
                if_match: false,
                keep_alive: true,
                expect_continue: false,
            })
        );
    }

    #[test]
    fn head_and_http10() {
        let (seen, _) = parse(b"HEAD / HTTP/1.0\r\n\r\n").unwrap();
        let head = seen.head.unwrap();
        assert_eq!(head.method, Method::Head);
        assert_eq!(head.minor_version, 0);
        assert!(!head.keep_alive);
        let (seen, _) = parse(b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").unwrap();
        assert!(seen.head.unwrap().keep_alive);
    }

    #[test]
    fn connection_tokens() {
        let keep = |v: &str| {
            let req = std::format!("GET / HTTP/1.1\r\nHost: h\r\nConnection: {v}\r\n\r\n");
            parse(req.as_bytes()).unwrap().0.head.unwrap().keep_alive
        };
        assert!(!keep("close"));
        assert!(!keep("CLOSE"));
        assert!(!keep("upgrade, close"));
        assert!(!keep("keep-alive,close"));
        assert!(keep("closed"));
        assert!(keep("keep-alive"));
        assert!(keep("clos"));
        assert!(keep(""));
    }

    #[test]
    fn post_body_streamed() {
        let req = b"POST /P5 HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello world";
        let (seen, used) = parse(req).unwrap();
        assert_eq!(used, req.len());
        assert_eq!(seen.method, Some(Method::Post));
        assert_eq!(seen.body, b"hello world");
        assert_eq!(seen.head.unwrap().content_length, 11);
    }

    #[test]
    fn pipelined_requests() {
        let reqs = b"GET /a HTTP/1.1\r\nHost: h\r\n\r\nPOST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nokGET /c HTTP/1.1\r\nHost: h\r\n\r\n";
        let mut p = Parser::new();
        let limits = Limits::default();
        let mut rest = &reqs[..];
        let mut targets = Vec::new();
        while !rest.is_empty() {
            let mut seen = Seen::default();
            let pr = p
                .feed(rest, &limits, &mut |e| record(&mut seen, e))
                .unwrap();
            assert!(pr.complete);
            assert!(p.is_idle());
            targets.push(seen.target);
            rest = &rest[pr.consumed..];
        }
        assert_eq!(targets, [b"/a".to_vec(), b"/b".to_vec(), b"/c".to_vec()]);
    }

    #[test]
    fn leading_empty_lines_tolerated() {
        let (seen, _) = parse(b"\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n").unwrap();
        assert_eq!(seen.target, b"/");
    }

    #[test]
    fn header_value_whitespace() {
        let (seen, _) =
            parse(b"GET / HTTP/1.1\r\nHost:  a  \r\nIf-None-Match:\t\"x\", \t W/\"y\" \r\n\r\n")
                .unwrap();
        assert_eq!(seen.host, b"a");
        assert_eq!(seen.inm, b"\"x\",   W/\"y\"");
    }

    #[test]
    fn if_none_match_lines_make_one_list() {
        let (seen, _) = parse(
            b"GET / HTTP/1.1\r\nIf-None-Match: \"x\"\r\nHost: h\r\nif-none-match: \"y\", \"z\"\r\nIf-None-Match:\r\n\r\n",
        )
        .unwrap();
        assert_eq!(seen.inm, b"\"x\",\"y\", \"z\",");
    }

    #[test]
    fn if_match_lines_make_their_own_list() {
        let (seen, _) = parse(
            b"GET / HTTP/1.1\r\nIf-Match: \"x\"\r\nIf-None-Match: \"n\"\r\nHost: h\r\nif-MATCH: \"y\",  *\r\nIf-Match:\r\n\r\n",
        )
        .unwrap();
        assert_eq!(seen.im, b"\"x\",\"y\",  *,");
        assert_eq!(seen.inm, b"\"n\"");
        assert!(seen.head.unwrap().if_match);
        let (seen, _) =
            parse(b"GET / HTTP/1.1\r\nHost: h\r\nIf-Matchx: 1\r\nIf-Mat: 2\r\n\r\n").unwrap();
        assert!(seen.im.is_empty());
        assert!(!seen.head.unwrap().if_match);
        // An empty value is still the field: a list of no tags, which nothing matches.
        let (seen, _) = parse(b"GET / HTTP/1.1\r\nHost: h\r\nIf-Match:\r\n\r\n").unwrap();
        assert!(seen.head.unwrap().if_match);
    }

    #[test]
    fn host_values() {
        let h = |v: &str| std::format!("GET / HTTP/1.1\r\nHost: {v}\r\n\r\n");
        for good in [
            "example.com",
            "example.com:8080",
            "[::1]:80",
            "10.0.2.15",
            "a-b_c~d%41",
            "",
            "[::1]",
            "[v1.x]:443",
            "a:",
            ":80",
            "[::1]:",
        ] {
            assert!(parse(h(good).as_bytes()).is_ok(), "{good:?}");
        }
        // RFC 9112 section 3.2: a value that is not `uri-host [ ":" port ]` is a 400.
        for bad in [
            "a:xyz",
            "a:b:c",
            "a:8o",
            "[::1",
            "::1",
            "a]",
            "[a]b",
            "[[a]]",
            "[::1]x",
            "a[b]",
            "a b",
            "a\tb",
            "a/b",
            "a@b",
            "a?b",
            "\"a\"",
            "a#b",
            "caf\u{e9}",
        ] {
            assert_eq!(status(h(bad).as_bytes()), 400, "{bad:?}");
        }
    }

    #[test]
    fn absolute_form_targets_are_routed_by_their_path() {
        let target = |t: &str| {
            let req = std::format!("GET {t} HTTP/1.1\r\nHost: h\r\n\r\n");
            parse(req.as_bytes()).map(|(seen, _)| seen.target)
        };
        assert_eq!(target("http://example.com/a?b").unwrap(), b"/a?b");
        assert_eq!(target("HTTP://H").unwrap(), b"/");
        assert_eq!(target("https://h:8080?q").unwrap(), b"/?q");
        assert_eq!(target("hTtPs://[::1]/x/").unwrap(), b"/x/");
        assert_eq!(target("http://[::1]:80").unwrap(), b"/");
        assert_eq!(
            target("http://h:/x").unwrap(),
            b"/x",
            "an empty port is the grammar's"
        );
        for bad in [
            "http:///x",
            "http://u@h/",
            "ftp://h/",
            "*",
            "h",
            "http:/h/",
            "http://h\"/",
            "http://h:x/",
            "http://h:1:2/",
            "http://[::1/",
            "http://a]/",
            "http://:80/x",
            "http://:/x",
            "http://:",
        ] {
            assert_eq!(target(bad), Err(Status::BAD_REQUEST), "{bad:?}");
        }
        // The limit counts the whole target: `http://ab/` is 10 bytes.
        let limits = |max_target| Limits {
            max_target,
            ..Limits::default()
        };
        let req = b"GET http://ab/ HTTP/1.1\r\nHost: h\r\n\r\n";
        assert!(parse_with(req, &limits(10)).is_ok());
        assert_eq!(
            parse_with(req, &limits(9)).err(),
            Some(Status::URI_TOO_LONG)
        );
    }

    #[test]
    fn expect_continue() {
        let head = |input: &[u8]| parse(input).unwrap().0.head.unwrap();
        let post = |version: &str, expect: &str| {
            std::format!(
                "POST /e HTTP/{version}\r\nHost: h\r\nExpect: {expect}\r\nContent-Length: 1\r\n\r\na"
            )
        };
        assert!(head(post("1.1", "100-continue").as_bytes()).expect_continue);
        assert!(head(post("1.1", "100-CONTINUE").as_bytes()).expect_continue);
        assert!(head(post("1.1", "foo, 100-continue").as_bytes()).expect_continue);
        assert!(!head(post("1.1", "100-continues").as_bytes()).expect_continue);
        assert!(!head(post("1.1", "").as_bytes()).expect_continue);
        // RFC 9110 section 10.1.1: an HTTP/1.0 client's expectation is ignored.
        assert!(!head(post("1.0", "100-continue").as_bytes()).expect_continue);
        assert!(!head(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n").expect_continue);
    }

    #[test]
    fn transfer_codings() {
        let h = "POST / HTTP/1.1\r\nHost: h\r\n";
        for (extra, code) in [
            ("Transfer-Encoding: gzip\r\n", 400),
            ("Transfer-Encoding: chunked, gzip\r\n", 400),
            ("Transfer-Encoding: chunked, chunked\r\n", 400),
            ("Transfer-Encoding: gzip, chunked\r\n", 501),
            ("Transfer-Encoding: gzip,chunked , \r\n", 501),
            (
                "Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n",
                400,
            ),
            (
                "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
                400,
            ),
            (
                "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n",
                501,
            ),
            ("Transfer-Encoding:\r\n", 400),
            ("Transfer-Encoding: chunkedx\r\n", 400),
            // Decoded: an empty chunked body follows.
            ("Transfer-Encoding: chunked\r\n", 0),
            ("Transfer-Encoding: CHUNKED\r\n", 0),
            ("Transfer-Encoding: , chunked ,\r\n", 0),
            ("Transfer-Encoding: chunked\r\nTransfer-Encoding:\r\n", 0),
        ] {
            let req = std::format!("{h}{extra}\r\n0\r\n\r\n");
            assert_eq!(status(req.as_bytes()), code, "{extra:?}");
        }
        // RFC 9112 section 6.1: in HTTP/1.0 the framing is faulty.
        let req = b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
        assert_eq!(status(req), 400);
    }

    const CHUNKED_POST: &str = "POST /e HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";

    /// The body of a chunked POST whose body is `body`, parsed whole, byte by byte and
    /// split at every position, with `next` pipelined after it.
    fn chunked_body(body: &str) -> Result<Vec<u8>, u16> {
        let next = "GET /n HTTP/1.1\r\nHost: h\r\n\r\n";
        let input = std::format!("{CHUNKED_POST}{body}{next}");
        let (seen, used) = parse(input.as_bytes()).map_err(|s| s.0)?;
        let head = seen.head.unwrap();
        assert!(head.chunked && head.content_length == 0);
        assert_eq!(used, input.len() - next.len(), "stops where the body ends");
        Ok(seen.body)
    }

    #[test]
    fn chunked_bodies_are_decoded() {
        for (body, data) in [
            ("0\r\n\r\n", ""),
            ("5\r\nhello\r\n0\r\n\r\n", "hello"),
            (
                "5\r\nhello\r\n1\r\n,\r\n6\r\n world\r\n0\r\n\r\n",
                "hello, world",
            ),
            ("0005\r\nhe\r\no\r\n000\r\n\r\n", "he\r\no"),
            (
                "a\r\n0123456789\r\nA\r\nabcdefghij\r\n0\r\n\r\n",
                "0123456789abcdefghij",
            ),
            ("3;name=value\r\nabc\r\n0\r\n\r\n", "abc"),
            ("3 ; a=\"q; r\"; b\r\nabc\r\n0;end\r\n\r\n", "abc"),
            ("3;a\t=\t\"x\\\"\\\\ y\";b =c\r\nabc\r\n0\r\n\r\n", "abc"),
            ("3;a=\"\";b=\"\u{e9}\\\t\"\r\nabc\r\n0\r\n\r\n", "abc"),
            ("3\r\nabc\r\n0\r\nChecksum: 1\r\nX-T:\r\n\r\n", "abc"),
        ] {
            assert_eq!(chunked_body(body), Ok(data.as_bytes().to_vec()), "{body:?}");
        }
    }

    #[test]
    fn chunked_framing_errors() {
        for (body, code) in [
            ("\r\n", 400),
            ("x\r\n", 400),
            (" 5\r\nhello\r\n0\r\n\r\n", 400),
            ("5 \r\nhello\r\n0\r\n\r\n", 400),
            ("-5\r\nhello\r\n0\r\n\r\n", 400),
            ("0x5\r\nhello\r\n0\r\n\r\n", 400),
            ("5\nhello\r\n0\r\n\r\n", 400),
            ("5\r\nhelloX\r\n0\r\n\r\n", 400),
            ("5\r\nhello\n0\r\n\r\n", 400),
            ("5\r\nhello\r0\r\n\r\n", 400),
            ("3;a\x01\r\nabc\r\n0\r\n\r\n", 400),
            // Extensions out of their grammar (RFC 9112 section 7.1.1): no name, a name
            // or value with a space in it, no value after `=`, an open quoted string,
            // whitespace that leads to nothing, a value that is neither token nor
            // quoted string.
            ("3;\r\nabc\r\n0\r\n\r\n", 400),
            ("3;=\r\nabc\r\n0\r\n\r\n", 400),
            ("3;=b\r\nabc\r\n0\r\n\r\n", 400),
            ("3;a b\r\nabc\r\n0\r\n\r\n", 400),
            ("3;a=\r\nabc\r\n0\r\n\r\n", 400),
            ("3;a=b c\r\nabc\r\n0\r\n\r\n", 400),
            ("3;a=\"x\r\nabc\r\n0\r\n\r\n", 400),
            ("3;a=\"x\\\"\r\nabc\r\n0\r\n\r\n", 400),
            ("3;a \r\nabc\r\n0\r\n\r\n", 400),
            ("3;a;\r\nabc\r\n0\r\n\r\n", 400),
            ("3;a=\"x\"y\r\nabc\r\n0\r\n\r\n", 400),
            ("3;a=(b)\r\nabc\r\n0\r\n\r\n", 400),
            ("3;a=\"\x7f\"\r\nabc\r\n0\r\n\r\n", 400),
            ("3;a\nb\r\nabc\r\n0\r\n\r\n", 400),
            ("0\r\n\n", 400),
            ("0\r\nX : 1\r\n\r\n", 400),
            ("0\r\n: 1\r\n\r\n", 400),
            ("0\r\n folded\r\n\r\n", 400),
            ("0\r\nX: a\nb\r\n\r\n", 400),
            ("0\r\nX: 1\r\r\n", 400),
            // Past the default 1 MiB, in one chunk or in all.
            ("100001\r\n", 413),
            ("ffffffffffffffffff\r\n", 413),
        ] {
            assert_eq!(chunked_body(body), Err(code), "{body:?}");
        }
        let long_extension = std::format!("1;{}\r\nx\r\n0\r\n\r\n", "e".repeat(1100));
        assert_eq!(chunked_body(&long_extension), Err(400));
    }

    #[test]
    fn chunked_body_limits() {
        let limits = Limits {
            max_body: 10,
            max_head: 100,
            ..Limits::default()
        };
        let parse = |body: &str| {
            let input = std::format!("{CHUNKED_POST}{body}");
            parse_with(input.as_bytes(), &limits).map(|(seen, _)| seen.body)
        };
        assert_eq!(
            parse("a\r\n0123456789\r\n0\r\n\r\n").unwrap(),
            b"0123456789"
        );
        assert_eq!(parse("b\r\n"), Err(Status::CONTENT_TOO_LARGE));
        assert_eq!(
            parse("5\r\n01234\r\n5\r\n56789\r\n1\r\n"),
            Err(Status::CONTENT_TOO_LARGE),
            "the body in all"
        );
        // The trailer section counts against the head's limit (the head is 57 bytes)...
        let trailer = std::format!("0\r\nX: {}\r\n\r\n", "t".repeat(40));
        assert_eq!(parse(&trailer), Err(Status::HEADER_FIELDS_TOO_LARGE));
        let trailer = std::format!("0\r\nX: {}\r\n\r\n", "t".repeat(36));
        assert!(parse(&trailer).is_ok(), "41 bytes of fields, 98 in all");
        // ...and so do extensions and leading zeros, over all the chunks.
        // (A size's first zero is a digit; the seven after it are padding.)
        let padded = "1;abcdefgh\r\nx\r\n".repeat(4) + "000000001\r\ny\r\n0\r\n\r\n";
        assert_eq!(
            parse(&padded).unwrap(),
            b"xxxxy",
            "36 + 7 bytes of padding: 100"
        );
        let padded = "1;abcdefgh\r\nx\r\n".repeat(4) + "0000000001\r\ny\r\n0\r\n\r\n";
        assert_eq!(parse(&padded), Err(Status::BAD_REQUEST), "101");
        // A head at the limit leaves room for the final empty line.
        let head = std::format!(
            "POST /e HTTP/1.1\r\nHost: h\r\nX: {}\r\nTransfer-Encoding: chunked\r\n\r\n",
            "v".repeat(38)
        );
        assert_eq!(head.len(), 100);
        let input = std::format!("{head}0\r\n\r\n");
        assert!(parse_with(input.as_bytes(), &limits).is_ok());
    }

    #[test]
    fn the_largest_head_limit_still_holds() {
        let limits = Limits {
            max_head: u16::MAX,
            ..Limits::default()
        };
        let fill = "X: v\r\n".repeat(11_000);
        let mut p = Parser::new();
        let head = std::format!("GET / HTTP/1.1\r\nHost: h\r\n{fill}\r\n");
        assert_eq!(
            p.feed(head.as_bytes(), &limits, &mut |_| {}),
            Err(Status::HEADER_FIELDS_TOO_LARGE)
        );
        // Byte by byte, through the state machine's count.
        let mut p = Parser::new();
        let r = head.as_bytes().iter().try_for_each(|b| {
            p.feed(core::slice::from_ref(b), &limits, &mut |_| {})
                .map(|_| ())
        });
        assert_eq!(r, Err(Status::HEADER_FIELDS_TOO_LARGE));
    }

    #[test]
    fn chunked_get_and_expect() {
        let (seen, _) = parse(b"GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n2\r\nab\r\n0\r\n\r\n").unwrap();
        let head = seen.head.unwrap();
        assert!(head.chunked && head.expect_continue);
        assert_eq!(seen.body, b"ab");
        let mut p = Parser::new();
        let r = p.feed(CHUNKED_POST.as_bytes(), &Limits::default(), &mut |_| {});
        assert_eq!(r.map(|r| r.complete), Ok(false));
        assert!(p.in_body());
    }

    #[test]
    fn unknown_headers_ignored_but_checked() {
        let (seen, _) = parse(b"GET / HTTP/1.1\r\nhOsT: h\r\nX-Content-Length: zz\r\nContent-Lengthy: 5\r\nAccept: */*\r\n\r\n").unwrap();
        assert_eq!(seen.head.unwrap().content_length, 0);
        assert_eq!(seen.host, b"h");
    }

    #[test]
    fn method_statuses() {
        assert_eq!(status(b"PUT / HTTP/1.1\r\n\r\n"), 405);
        assert_eq!(status(b"DELETE / HTTP/1.1\r\n\r\n"), 405);
        assert_eq!(status(b"BREW / HTTP/1.1\r\n\r\n"), 501);
        assert_eq!(status(b"VERYLONGMETHOD / HTTP/1.1\r\n\r\n"), 501);
        assert_eq!(status(b"get / HTTP/1.1\r\n\r\n"), 501);
        assert_eq!(status(b"G(T / HTTP/1.1\r\n\r\n"), 400);
        assert_eq!(status(b" GET / HTTP/1.1\r\n\r\n"), 400);
    }

    #[test]
    fn request_line_syntax() {
        for bad in [
            &b"GET  / HTTP/1.1\r\n\r\n"[..],
            b"GET / HTTP/1.1 \r\n\r\n",
            b"GET /\x01 HTTP/1.1\r\n\r\n",
            b"GET / http/1.1\r\n\r\n",
            b"GET / HTTP/1.x\r\n\r\n",
            b"GET / HTTP/11\r\n\r\n",
            b"GET / HTTP/1.1\n\r\n",
            b"GET / HTTP/1.1\rX\n\r\n",
            b"\nGET / HTTP/1.1\r\n\r\n",
            b"\rGET / HTTP/1.1\r\n\r\n",
            b"GET /\xff HTTP/1.1\r\n\r\n",
        ] {
            assert_eq!(
                status(bad),
                400,
                "{:?}",
                std::string::String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn versions() {
        assert_eq!(status(b"GET / HTTP/2.0\r\n\r\n"), 505);
        // A later 1.x is taken as 1.1.
        let (seen, _) = parse(b"GET / HTTP/1.2\r\nHost: h\r\n\r\n").unwrap();
        assert_eq!(seen.head.unwrap().minor_version, 1);
        assert_eq!(
            status(b"GET / HTTP/1.9\r\n\r\n"),
            400,
            "as 1.1, it needs Host"
        );
        assert_eq!(status(b"GET / HTTP/0.9\r\n\r\n"), 505);
        assert_eq!(status(b"GET / HTTP/1.1\r\n\r\n"), 400, "1.1 needs Host");
        assert!(parse(b"GET / HTTP/1.0\r\n\r\n").is_ok(), "1.0 does not");
    }

    #[test]
    fn smuggling_shapes() {
        let h = "GET / HTTP/1.1\r\nHost: h\r\n";
        for (extra, code) in [
            ("Content-Length: 1\r\nContent-Length: 1\r\n", 400),
            ("Content-Length: 1\r\nContent-Length: 2\r\n", 400),
            ("Content-Length: 1, 1\r\n", 400),
            ("Content-Length: 1 2\r\n", 400),
            ("Content-Length: +1\r\n", 400),
            ("Content-Length: -1\r\n", 400),
            ("Content-Length: \r\n", 400),
            ("Content-Length: 0x10\r\n", 400),
            ("Content-Length: 3\r\nTransfer-Encoding: chunked\r\n", 400),
            ("Transfer-Encoding: chunked\r\nContent-Length: 3\r\n", 400),
            ("X: a\r\n b\r\n", 400),
            ("X: a\r\n\tb\r\n", 400),
            ("Content-Length : 1\r\n", 400),
            ("X\t: 1\r\n", 400),
            (": 1\r\n", 400),
            ("X: a\rb\r\n", 400),
            ("X: a\nY: b\r\n", 400),
            ("X: a\x00b\r\n", 400),
            ("X: a\x7fb\r\n", 400),
            ("Host: again\r\n", 400),
            ("X-(y): 1\r\n", 400),
        ] {
            let req = std::format!("{h}{extra}\r\n");
            assert_eq!(status(req.as_bytes()), code, "{extra:?}");
        }
    }

    #[test]
    fn obs_text_allowed_in_values() {
        assert!(parse(b"GET / HTTP/1.1\r\nHost: h\r\nX: caf\xc3\xa9\r\n\r\n").is_ok());
    }

    #[test]
    fn length_limits() {
        let limits = Limits {
            max_target: 8,
            max_head: 64,
            max_body: 4,
        };
        assert!(parse_with(b"GET /2345678 HTTP/1.0\r\n\r\n", &limits).is_ok());
        assert_eq!(
            parse_with(b"GET /23456789 HTTP/1.0\r\n\r\n", &limits),
            Err(Status::URI_TOO_LONG)
        );
        assert_eq!(
            parse_with(
                b"GET / HTTP/1.0\r\nX: 01234567890123456789012345678901234567890123456789\r\n\r\n",
                &limits
            ),
            Err(Status::HEADER_FIELDS_TOO_LARGE)
        );
        assert_eq!(
            parse_with(
                b"POST / HTTP/1.0\r\nContent-Length: 5\r\n\r\nhello",
                &limits
            ),
            Err(Status::CONTENT_TOO_LARGE)
        );
        assert_eq!(
            status(b"POST / HTTP/1.0\r\nContent-Length: 99999999999999999999999\r\n\r\n"),
            413
        );
        // With Transfer-Encoding the framing is wrong whatever the length (RFC 9112
        // section 6.3): 400, as for a length that fits.
        for cl in ["5", "99999999999999999999999"] {
            let head = std::format!(
                "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: {cl}\r\n\
                 Transfer-Encoding: chunked\r\n\r\n"
            );
            assert_eq!(status(head.as_bytes()), 400, "{cl}");
        }
        assert_eq!(status(b"POST / HTTP/1.0\r\n\r\n"), 411);
        // The head limit is exact: 64 bytes pass, 65 do not.
        let ok = b"GET / HTTP/1.0\r\nX: 01234567890123456789012345678901234567890\r\n\r\n";
        assert_eq!(ok.len(), 64);
        assert!(parse_with(ok, &limits).is_ok());
        let over = b"GET / HTTP/1.0\r\nX: 012345678901234567890123456789012345678901\r\n\r\n";
        assert_eq!(
            parse_with(over, &limits),
            Err(Status::HEADER_FIELDS_TOO_LARGE)
        );
    }

    #[test]
    fn failure_is_sticky() {
        let mut p = Parser::new();
        let l = Limits::default();
        // An unserved method fails at the end of its request line.
        assert!(p.feed(b"PUT ", &l, &mut |_| {}).is_ok());
        assert_eq!(
            p.feed(b"/ HTTP/1.1\r\n", &l, &mut |_| {}),
            Err(Status::METHOD_NOT_ALLOWED)
        );
        assert_eq!(
            p.feed(b"GET / HTTP/1.0\r\n\r\n", &l, &mut |_| {}),
            Err(Status::METHOD_NOT_ALLOWED)
        );
    }

    #[test]
    fn an_unserved_method_reports_its_target_then_fails() {
        // (No path of the site: whatever of it is reported routes nowhere.)
        for (req, target, path) in [
            (&b"PUT /about HTTP/1.1\r\n"[..], Some(&b"/about"[..]), true),
            (b"PUT http://h/about HTTP/1.1\r\n", Some(b"/about"), true),
            (b"DELETE HTTP://h HTTP/1.1\r\n", Some(b"/"), true),
            (b"OPTIONS * HTTP/1.1\r\n", Some(b"*"), false),
            (b"CONNECT example.com:443 HTTP/1.1\r\n", None, false),
            (b"CONNECT h HTTP/1.1\r\n", None, false),
            (b"PUT ftp://h/about HTTP/1.1\r\n", None, false),
        ] {
            let mut seen = Seen::default();
            let mut p = Parser::new();
            let r = p.feed(req, &Limits::default(), &mut |e| record(&mut seen, e));
            assert_eq!(r, Err(Status::METHOD_NOT_ALLOWED));
            assert_eq!(seen.method, None);
            if let Some(target) = target {
                assert_eq!(seen.target, target);
            }
            assert_eq!(p.target_is_path(), path, "{req:?}");
        }
        assert_eq!(status(b"PUT / HTTP/2.0\r\n\r\n"), 505, "the version first");
    }

    #[test]
    fn partial_request_stays_incomplete() {
        let req = b"GET /x HTTP/1.1\r\nHost: h\r\n\r\n";
        for cut in 0..req.len() {
            let mut p = Parser::new();
            let pr = p
                .feed(&req[..cut], &Limits::default(), &mut |_| {})
                .unwrap();
            assert_eq!(
                pr,
                Progress {
                    consumed: cut,
                    complete: false
                }
            );
        }
    }

    #[test]
    fn state_is_small() {
        std::println!(
            "http::request::Parser: {} bytes",
            core::mem::size_of::<Parser>()
        );
        assert!(core::mem::size_of::<Parser>() <= 24);
    }

    /// Everything a parser reports while fed `pieces` in turn: each call's result, its
    /// events (consecutive pieces of one kind joined), and whether it ended idle or in a body.
    type Trace = Vec<(Result<Progress, Status>, Vec<(u8, Vec<u8>)>, bool, bool)>;

    fn trace<const FAST: bool, const QUIET: bool>(pieces: &[&[u8]], limits: &Limits) -> Trace {
        let mut p = Parser::new();
        let mut out = Vec::new();
        for piece in pieces {
            let mut rest: &[u8] = piece;
            loop {
                let mut events: Vec<(u8, Vec<u8>)> = Vec::new();
                let r = p.feed_with::<FAST, QUIET, _>(rest, limits, &mut |e| {
                    let (kind, bytes): (u8, &[u8]) = match e {
                        Event::Method(m) => (10 + m as u8, &[]),
                        Event::Target(t) => (1, t),
                        Event::Header(Header::Host, v) => (2, v),
                        Event::Header(Header::IfNoneMatch, v) => (3, v),
                        Event::Header(Header::IfMatch, v) => (5, v),
                        Event::Head(h) => {
                            events.push((20, std::format!("{h:?}").into_bytes()));
                            return;
                        }
                        Event::Body(b) => (4, b),
                    };
                    match events.last_mut() {
                        Some((k, v)) if *k == kind && kind < 10 => v.extend_from_slice(bytes),
                        _ => events.push((kind, bytes.to_vec())),
                    }
                });
                out.push((r, events, p.is_idle(), p.in_body()));
                match r {
                    Ok(pr) if pr.complete && pr.consumed < rest.len() => {
                        rest = &rest[pr.consumed..]
                    }
                    _ => break,
                }
            }
        }
        out
    }

    /// The fast path and the byte-by-byte state machine agree on `input` whole, byte by
    /// byte, and split at every position.
    fn same_as_state_machine(input: &[u8], limits: &Limits) {
        // Without the method and the Host values, consecutive pieces of a kind joined.
        let routing = |t: Trace| -> Trace {
            t.into_iter()
                .map(|(r, events, idle, body)| {
                    let mut kept: Vec<(u8, Vec<u8>)> = Vec::new();
                    for (k, v) in events {
                        if k == 2 || (10..20).contains(&k) {
                            continue;
                        }
                        match kept.last_mut() {
                            Some((lk, lv)) if *lk == k && k < 10 => lv.extend_from_slice(&v),
                            _ => kept.push((k, v)),
                        }
                    }
                    (r, kept, idle, body)
                })
                .collect()
        };
        let check = |pieces: &[&[u8]]| {
            let slow = trace::<false, false>(pieces, limits);
            assert_eq!(
                trace::<true, false>(pieces, limits),
                slow,
                "{:?} in {} pieces",
                std::string::String::from_utf8_lossy(input),
                pieces.len()
            );
            assert_eq!(
                routing(trace::<true, true>(pieces, limits)),
                routing(slow),
                "routing: {:?} in {} pieces",
                std::string::String::from_utf8_lossy(input),
                pieces.len()
            );
        };
        check(&[input]);
        let bytes: Vec<&[u8]> = input.chunks(1).collect();
        check(&bytes);
        for cut in 1..input.len() {
            check(&[&input[..cut], &input[cut..]]);
        }
    }

    /// Every request the tests above use, and then some.
    const CORPUS: &[&[u8]] = &[
        b"POST /e HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc",
        b"POST /e HTTP/1.1\r\nHost: h\r\nexpect: x=y, 100-Continue\r\nContent-Length: 1\r\n\r\na",
        b"POST /e HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\na",
        b"GET / HTTP/1.1\r\nHost: h\r\nExpect: 100-continued\r\nExpect: 100-continue=1\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: h\r\nEXPECT:\t100-continue \t\r\nExpectation: 100-continue\r\n\r\n",
        b"GET /3:1f HTTP/1.1\r\nHost: example\r\nIf-None-Match: \"abc\"\r\n\r\n",
        b"HEAD / HTTP/1.0\r\n\r\n",
        b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: h\r\nConnection: upgrade, close\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive,close\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: h\r\nConnection: closed\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: h\r\nConnection: CLOSE\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: h\r\nConnection: \t close \t\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: h\r\nConnection:\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: h\r\nConnection: Keep-Alive\r\n\r\n",
        b"GET / HTTP/1.0\r\nConnection:keep-alive \r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: h\r\nConnection: close\t\r\nAccept_Language: x\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For-A-Long-Name.9: 1\r\n\r\n",
        b"POST /P5 HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello world",
        b"GET /a HTTP/1.1\r\nHost: h\r\n\r\nPOST /b HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nokGET /c HTTP/1.1\r\nHost: h\r\n\r\n",
        b"\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost:  a \t b  \r\nIf-None-Match:\t\"x\", W/\"y\" \r\n\r\n",
        b"GET / HTTP/1.1\r\nHost:  [::1]:80 \t\r\nIf-None-Match: \"x\"\r\nIf-None-Match: \"y\"\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked ,gzip\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: CHUNKED\r\nTransfer-Encoding:\r\n\r\n",
        b"GET / HTTP/1.5\r\nHost: h\r\n\r\n",
        b"GET http://example.com/a?b HTTP/1.1\r\nHost: h\r\n\r\n",
        b"GET HTTPS://h:80?q HTTP/1.1\r\nHost: h\r\n\r\n",
        b"GET http://h HTTP/1.0\r\n\r\n",
        b"GET http://u@h/ HTTP/1.1\r\nHost: h\r\n\r\n",
        b"GET http:///x HTTP/1.1\r\nHost: h\r\n\r\n",
        b"GET * HTTP/1.1\r\nHost: h\r\n\r\n",
        b"GET / HTTP/1.1\r\nhOsT: h\r\nX-Content-Length: zz\r\nContent-Lengthy: 5\r\nAccept: */*\r\n\r\n",
        b"PUT / HTTP/1.1\r\n\r\n",
        b"BREW / HTTP/1.1\r\n\r\n",
        b"VERYLONGMETHOD / HTTP/1.1\r\n\r\n",
        b"get / HTTP/1.1\r\n\r\n",
        b"G(T / HTTP/1.1\r\n\r\n",
        b" GET / HTTP/1.1\r\n\r\n",
        b"GET  / HTTP/1.1\r\n\r\n",
        b"GET / HTTP/1.1 \r\n\r\n",
        b"GET /\x01 HTTP/1.1\r\n\r\n",
        b"GET / http/1.1\r\n\r\n",
        b"GET / HTTP/1.x\r\n\r\n",
        b"GET / HTTP/11\r\n\r\n",
        b"GET / HTTP/1.1\n\r\n",
        b"GET / HTTP/1.1\rX\n\r\n",
        b"\nGET / HTTP/1.1\r\n\r\n",
        b"GET /\xff HTTP/1.1\r\n\r\n",
        b"GET / HTTP/2.0\r\n\r\n",
        b"GET / HTTP/1.2\r\n\r\n",
        b"GET / HTTP/0.9\r\n\r\n",
        b"GET / HTTP/1.1\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 1, 1\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 1 2\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: +1\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: \r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 2 \r\n\r\nab",
        b"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 00000000000000000000002\r\n\r\nab",
        b"GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3;x\r\nabc\r\n0\r\nT: 1\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: h\r\nIf-Match: \"a\"\r\nif-match: W/\"b\", *\r\nIF-MATCH:\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: h\r\nIf-Match: \"a\"\tx\r\nIf-Matc: 1\r\nIf-Match : 1\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabc\r\n0\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n0\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: h\r\nContent-Length : 1\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: h\r\n: 1\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: h\r\nX: a\nY: b\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: h\r\nX: a\x00b\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: h\r\nX: a\x7fb\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: h\r\nHost: again\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: h\r\nX-(y): 1\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: h\r\nX: caf\xc3\xa9\r\n\r\n",
        b"POST / HTTP/1.0\r\nContent-Length: 99999999999999999999999\r\n\r\n",
        b"POST / HTTP/1.0\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: 10.9.0.1\r\nUser-Agent: gigahttpd-netbench/1\r\nAccept: */*\r\nConnection: close\r\n\r\n",
        b"GET / HTTP/1.1\r\nHOST: h\r\nCONNECTION: close\r\nContent-length: 0\r\nif-none-match: x\r\nTransfer-Encodinq: y\r\n\r\n",
        b"GET / HTTP/1.0\r\nHost:\r\nConnection:close\r\nIf-None-Match:\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: h\r\nConnectio: close\r\nContent-Lengt: 5\r\nHosts: x\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: h\r\ncontent-LENGTH:3\r\n\r\nabc",
    ];

    #[test]
    fn fast_path_agrees_with_the_state_machine_on_the_corpus() {
        let tight = Limits {
            max_target: 8,
            max_head: 64,
            max_body: 4,
        };
        for input in CORPUS {
            same_as_state_machine(input, &Limits::default());
            same_as_state_machine(input, &tight);
        }
        // More held whitespace inside a value than a byte counts.
        let spaces = " ".repeat(300);
        for field in ["Host: a", "If-None-Match: \"x\",", "X: a"] {
            let req = std::format!("GET / HTTP/1.1\r\n{field}{spaces}b\r\nHost: h\r\n\r\n");
            same_as_state_machine(req.as_bytes(), &Limits::default());
        }
        for input in [
            &b"GET /2345678 HTTP/1.0\r\n\r\n"[..],
            b"GET /23456789 HTTP/1.0\r\n\r\n",
            b"GET / HTTP/1.0\r\nX: 01234567890123456789012345678901234567890\r\n\r\n",
            b"GET / HTTP/1.0\r\nX: 012345678901234567890123456789012345678901\r\n\r\n",
            b"POST / HTTP/1.0\r\nContent-Length: 5\r\n\r\nhello",
        ] {
            same_as_state_machine(input, &tight);
        }
    }

    #[test]
    fn fast_path_agrees_with_the_state_machine_on_random_requests() {
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        let mut next = move |n: usize| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 16) as usize % n
        };
        let methods: [&[u8]; 6] = [b"GET", b"HEAD", b"POST", b"PUT", b"GE", b"G T"];
        let targets: [&[u8]; 6] = [b"/", b"/echo", b"/a?b=c", b"*", b"/\x7f", b"/x\ty"];
        let versions: [&[u8]; 5] = [
            b"HTTP/1.1",
            b"HTTP/1.0",
            b"HTTP/1.2",
            b"HTTP/1.",
            b"HTTP/1.1 ",
        ];
        let names: [&[u8]; 22] = [
            b"If-Match",
            b"if-matcH",
            b"Expect",
            b"EXPECT",
            b"Accept-Encoding",
            b"x_forwarded.for",
            b"X-Forwarded-For-Something-Long",
            b"If-None-Matc\xe8",
            b"CONNECTION",
            b"Content-Length2",
            b"Host",
            b"hOST",
            b"Connection",
            b"Content-Length",
            b"content-length",
            b"Transfer-Encoding",
            b"If-None-Match",
            b"User-Agent",
            b"X",
            b"Hos",
            b"Host ",
            b"Connectionx",
        ];
        let value_bytes = b"ab \t,\"0123456789closekeep-alive/\x80\x00\x7f\r\n";
        let words: [&[u8]; 4] = [b"100-continue", b"100-Continue", b"close", b"chunked"];
        for _ in 0..3000 {
            let mut req: Vec<u8> = Vec::new();
            if next(20) == 0 {
                req.extend_from_slice(b"\r\n");
            }
            req.extend_from_slice(methods[next(methods.len())]);
            req.push(b' ');
            req.extend_from_slice(targets[next(targets.len())]);
            req.push(b' ');
            req.extend_from_slice(versions[next(versions.len())]);
            req.extend_from_slice(b"\r\n");
            for _ in 0..next(5) {
                req.extend_from_slice(names[next(names.len())]);
                req.push(b':');
                if next(3) == 0 {
                    req.extend_from_slice(words[next(words.len())]);
                }
                for _ in 0..next(12) {
                    // Mostly plain bytes; now and then a control byte.
                    let k = if next(6) == 0 {
                        value_bytes.len()
                    } else {
                        value_bytes.len() - 5
                    };
                    req.push(value_bytes[next(k)]);
                }
                req.extend_from_slice(b"\r\n");
            }
            req.extend_from_slice(b"\r\n");
            // A body for either framing.
            let bodies: [&[u8]; 2] = [b"hello, body", b"5\r\nhello\r\n6;x\r\n, body\r\n0\r\n\r\n"];
            req.extend_from_slice(bodies[next(2)]);
            let limits = Limits {
                max_target: 1 + next(8) as u16,
                max_head: 20 + next(120) as u16,
                max_body: next(12) as u32,
            };
            same_as_state_machine(&req, &limits);
            same_as_state_machine(&req, &Limits::default());
        }
    }

    #[test]
    fn word_wise_name_comparison_is_ascii_case_insensitive_equality() {
        for known in NAMES {
            for at in 0..known.len() {
                for c in 0..=255u8 {
                    if !is_tchar(c) {
                        continue;
                    }
                    let mut name = known.to_vec();
                    name[at] = c;
                    assert_eq!(
                        eq_lowercase(&name, known),
                        name.eq_ignore_ascii_case(known),
                        "{name:?}"
                    );
                    assert_eq!(
                        field_of(&name) != Field::Other,
                        name.eq_ignore_ascii_case(known)
                    );
                }
            }
            let upper = known.to_ascii_uppercase();
            assert!(eq_lowercase(&upper, known));
            assert!(!eq_lowercase(&known[1..], known));
        }
        // `Connection` values: any byte but CR.
        for known in TOKENS {
            for at in 0..known.len() {
                for c in (0..=255u8).filter(|&c| c != b'\r') {
                    let mut value = known.to_vec();
                    value[at] = c;
                    assert_eq!(
                        eq_lowercase(&value, known),
                        value.eq_ignore_ascii_case(known),
                        "{value:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn known_names_are_the_general_scans() {
        // What the general path finds: the name's field, when a colon follows a token.
        let general = |b: &[u8]| {
            let n = token_len(b);
            (n > 0 && b.get(n) == Some(&b':')).then(|| (field_of(&b[..n]), n))
        };
        let check = |b: &[u8]| match known_name(b) {
            Lookup::Known(k) => assert_eq!(general(b), Some((k.field, k.len)), "{b:?}"),
            // Not a known name: whatever the general scan takes is another field.
            Lookup::Other => {
                assert!(general(b).is_none_or(|(f, _)| f == Field::Other), "{b:?}")
            }
            Lookup::Unsure => assert!(b.len() < 24, "{b:?}"),
        };
        for name in NAMES {
            for value in [&b" v\r\n"[..], b"\r\n", b" 0123456789abcdefghijkl\r\n"] {
                let line = |name: &[u8]| {
                    let mut b = name.to_vec();
                    b.push(b':');
                    b.extend_from_slice(value);
                    b
                };
                let mut b = line(name);
                check(&b);
                b = line(&name.to_ascii_uppercase());
                check(&b);
                for cut in 0..b.len() {
                    check(&b[..cut]);
                }
                // Every byte value in every position of the name and its colon.
                for at in 0..=name.len() {
                    for c in 0..=255u8 {
                        let mut b = line(name);
                        b[at] = c;
                        check(&b);
                    }
                }
            }
        }
    }

    #[test]
    fn word_wise_token_scan_is_the_table_scan() {
        let table = |b: &[u8]| b.iter().position(|&c| !is_tchar(c)).unwrap_or(b.len());
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        // Every byte value at every position of a name of up to 19 bytes, after a run of
        // letters, digits and `-`.
        for len in 0..20 {
            for at in 0..=len {
                for c in 0..=255u8 {
                    let mut b: Vec<u8> = (0..len).map(|k| b"aZ-09Qz"[k % 7]).collect();
                    if at < len {
                        b[at] = c;
                    }
                    b.extend_from_slice(b": v\r\n");
                    assert_eq!(token_len(&b), table(&b), "{b:?}");
                    assert_eq!(token_len(&b[..at]), table(&b[..at]), "{b:?}");
                }
            }
        }
        // Random words, each byte drawn from all 256 values or from the name bytes.
        for _ in 0..20_000 {
            let r = next();
            let len = (r % 24) as usize;
            let b: Vec<u8> = (0..len)
                .map(|_| {
                    let r = next();
                    if r % 4 == 0 {
                        (r >> 8) as u8
                    } else {
                        b"abzAZ09-_.!~:@[`{/"[(r >> 8) as usize % 18]
                    }
                })
                .collect();
            assert_eq!(token_len(&b), table(&b), "{b:?}");
        }
    }

    #[test]
    fn trimming_is_the_state_machines() {
        for v in [
            &b""[..],
            b" ",
            b"\t \t",
            b"a",
            b" a",
            b"a ",
            b" \t a b \t ",
            b"\ta\tb\t",
        ] {
            let ws = |c: &u8| *c == b' ' || *c == b'\t';
            let start = v.iter().position(|c| !ws(c)).unwrap_or(v.len());
            let end = v.iter().rposition(|c| !ws(c)).map_or(start, |e| e + 1);
            assert_eq!(trim_ws(v), &v[start..end]);
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        // A deterministic pseudo-random walk over inputs made of HTTP-ish bytes.
        let alphabet = b"GETPOSH /:\r\n\t,1aW\"*Content-Length: Host\x00\xff";
        let mut x: u32 = 12345;
        for _ in 0..2000 {
            let mut buf = [0u8; 48];
            for b in buf.iter_mut() {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                *b = alphabet[(x >> 16) as usize % alphabet.len()];
            }
            let mut p = Parser::new();
            let _ = p.feed(&buf, &Limits::default(), &mut |_| {});
        }
    }
}

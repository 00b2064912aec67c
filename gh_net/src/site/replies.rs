//! The site's responses, prepared once: each is a head template in the arena (everything
//! but the date and the connection field) plus a body, and is sent as a handle that also
//! carries the date it was first sent with. A retransmission therefore renders the same
//! bytes, and the only per-connection cost of a response is its 32-bit handle.

use super::super::http::date;
use super::super::http::response::{self, ResponseHead};
use super::super::http::Status;
use super::super::tcp::conn::MAX_RESPONSE_LEN;
use super::echo::{self, Task, MAX_ANSWER};
use super::Page;

/// The responses every site has; the table continues with two per page (200, then 304).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fixed {
    /// 404 for a path that is not routed.
    NotFound,
    /// 405 for a method a page does not take.
    PageMethod,
    /// 405 for a method `/echo` does not take.
    EchoMethod,
    /// 405 for a method no resource takes.
    Method,
    /// 400.
    BadRequest,
    /// 411.
    LengthRequired,
    /// 413.
    TooLarge,
    /// 414.
    UriTooLong,
    /// 431.
    HeadersTooLarge,
    /// 501.
    NotImplemented,
    /// 505.
    VersionNotSupported,
    /// 503: a bounded resource is exhausted.
    Unavailable,
    /// 412: an `If-Match` does not hold.
    PreconditionFailed,
}

/// Number of [`Fixed`] responses.
pub const FIXED: usize = 13;

const ALL_FIXED: [Fixed; FIXED] = [
    Fixed::NotFound,
    Fixed::PageMethod,
    Fixed::EchoMethod,
    Fixed::Method,
    Fixed::BadRequest,
    Fixed::LengthRequired,
    Fixed::TooLarge,
    Fixed::UriTooLong,
    Fixed::HeadersTooLarge,
    Fixed::NotImplemented,
    Fixed::VersionNotSupported,
    Fixed::Unavailable,
    Fixed::PreconditionFailed,
];

impl Fixed {
    fn status(self) -> Status {
        match self {
            Fixed::NotFound => Status::NOT_FOUND,
            Fixed::PageMethod | Fixed::EchoMethod | Fixed::Method => Status::METHOD_NOT_ALLOWED,
            Fixed::BadRequest => Status::BAD_REQUEST,
            Fixed::LengthRequired => Status::LENGTH_REQUIRED,
            Fixed::TooLarge => Status::CONTENT_TOO_LARGE,
            Fixed::UriTooLong => Status::URI_TOO_LONG,
            Fixed::HeadersTooLarge => Status::HEADER_FIELDS_TOO_LARGE,
            Fixed::NotImplemented => Status::NOT_IMPLEMENTED,
            Fixed::VersionNotSupported => Status::VERSION_NOT_SUPPORTED,
            Fixed::Unavailable => Status::SERVICE_UNAVAILABLE,
            Fixed::PreconditionFailed => Status::PRECONDITION_FAILED,
        }
    }

    fn allow(self) -> Option<&'static str> {
        match self {
            Fixed::PageMethod => Some("GET, HEAD"),
            Fixed::EchoMethod => Some("POST"),
            Fixed::Method => Some("GET, HEAD, POST"),
            _ => None,
        }
    }

    /// The response for a request the parser refused with `status`.
    pub fn for_error(status: Status) -> Fixed {
        match status.0 {
            405 => Fixed::Method,
            411 => Fixed::LengthRequired,
            413 => Fixed::TooLarge,
            414 => Fixed::UriTooLong,
            431 => Fixed::HeadersTooLarge,
            501 => Fixed::NotImplemented,
            505 => Fixed::VersionNotSupported,
            _ => Fixed::BadRequest,
        }
    }
}

/// What a connection does after a response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Conn {
    /// HTTP/1.1 keep-alive: nothing to say.
    Keep = 0,
    /// HTTP/1.0 keep-alive: said in a `Connection` field.
    KeepAnnounced = 1,
    /// Closes after the response.
    Close = 2,
}

impl Conn {
    /// The connection behaviour a request asked for.
    pub fn of(keep_alive: bool, minor_version: u8) -> Conn {
        match (keep_alive, minor_version) {
            (false, _) => Conn::Close,
            (true, 0) => Conn::KeepAnnounced,
            (true, _) => Conn::Keep,
        }
    }

    fn ending(self) -> &'static [u8] {
        match self {
            Conn::Keep => response::connection(true, 1),
            Conn::KeepAnnounced => response::connection(true, 0),
            Conn::Close => response::connection(false, 1),
        }
    }
}

/// A response as TCP carries it: which response, for which connection behaviour, and the
/// low 16 bits of the Unix second of its `Date`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Handle(pub u32);

impl Handle {
    const INDEX_SHIFT: u32 = 16;
    const INDEX_MASK: u32 = 0x7ff;
    const HEAD_ONLY: u32 = 1 << 27;
    const CONN_SHIFT: u32 = 28;
    const TASK: u32 = 1 << 30;

    /// The interim 100 (Continue) that asks for a request's body
    /// ([`response::CONTINUE`]), sent ahead of the request's own response.
    pub const CONTINUE: Handle = Handle(1 << 31);

    /// Table response `index` (at most [`MAX_REPLIES`] - 1).
    pub fn reply(index: usize, conn: Conn, head_only: bool) -> Handle {
        let mut h = ((index as u32) & Self::INDEX_MASK) << Self::INDEX_SHIFT;
        h |= (conn as u32) << Self::CONN_SHIFT;
        if head_only {
            h |= Self::HEAD_ONLY;
        }
        Handle(h)
    }

    /// The answer of task `index`.
    pub fn task(index: usize, conn: Conn, head_only: bool) -> Handle {
        Handle(Self::reply(index, conn, head_only).0 | Self::TASK)
    }

    /// The same response dated `unix_seconds`.
    pub fn dated(self, unix_seconds: u64) -> Handle {
        Handle((self.0 & !0xffff) | (unix_seconds & 0xffff) as u32)
    }

    /// The full date, given a clock within 18 hours after it.
    pub fn date(self, now_unix: u64) -> u64 {
        let back = (now_unix as u16).wrapping_sub(self.0 as u16);
        now_unix.saturating_sub(u64::from(back))
    }

    /// The table index or task index.
    pub fn index(self) -> usize {
        ((self.0 >> Self::INDEX_SHIFT) & Self::INDEX_MASK) as usize
    }

    /// The connection behaviour.
    pub fn conn(self) -> Conn {
        match (self.0 >> Self::CONN_SHIFT) & 3 {
            0 => Conn::Keep,
            1 => Conn::KeepAnnounced,
            _ => Conn::Close,
        }
    }

    /// True for a HEAD request: no body.
    pub fn head_only(self) -> bool {
        self.0 & Self::HEAD_ONLY != 0
    }

    /// True for a task's answer.
    pub fn is_task(self) -> bool {
        self.0 & Self::TASK != 0
    }

    /// True for [`Handle::CONTINUE`].
    pub fn is_continue(self) -> bool {
        self.0 & Self::CONTINUE.0 != 0
    }
}

/// Most table responses a handle can name.
pub const MAX_REPLIES: usize = Handle::INDEX_MASK as usize + 1;

/// Where a response's body comes from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Body {
    #[default]
    None,
    Page(u16),
    Arena {
        start: u32,
        len: u32,
    },
}

/// One prepared response: its head template in the arena and its body.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Reply {
    start: u32,
    date_at: u32,
    end: u32,
    body: Body,
    /// The head's length with its date, before the `Connection` ending, and the body's:
    /// measured once when the table is built, since TCP asks for the length of the
    /// response it is sending.
    head_len: u32,
    body_len: u32,
}

/// Length of an ETag with its quotes.
pub const ETAG_LEN: usize = 18;

/// Table entries a site with `pages` pages needs.
pub const fn table_len(pages: usize) -> usize {
    FIXED + 2 * pages
}

/// Arena bytes a site with `pages` needs (an upper bound): the head templates, then the
/// [`path::Routes`](super::path::Routes) table of its paths (the pages and the echo
/// task), then the [`assembled`](super::assembled) responses' entries.
pub fn arena_len(pages: &[Page<'_>]) -> usize {
    let per_page: usize = pages
        .iter()
        .map(|p| ETAG_LEN + 2 * (HEAD_MAX + p.content_type.len()))
        .sum();
    per_page
        + FIXED * (HEAD_MAX + 48)
        + super::path::routes_len(pages.len() + 1)
        + super::assembled::BYTES
}

/// A head template's length without its content type: status line, `Server`,
/// `Content-Length`, `ETag` and `Allow` fields.
const HEAD_MAX: usize = 160;

/// The prepared responses of a site.
#[derive(Clone, Copy, Debug)]
pub struct Replies<'a> {
    table: &'a [Reply],
    arena: &'a [u8],
    pages: &'a [Page<'a>],
}

/// The lengths of `r`'s head with its date (without the `Connection` ending) and of its
/// body, as [`Replies::pieces`] assembles them.
fn measure(r: &Reply, arena: &[u8], pages: &[Page<'_>]) -> (usize, usize) {
    let span = |a: u32, b: u32| arena.get(a as usize..b as usize).map_or(0, <[u8]>::len);
    let body = match r.body {
        Body::None => 0,
        Body::Page(p) => pages.get(usize::from(p)).map_or(0, |p| p.body.len()),
        Body::Arena { start, len } => span(start, start.saturating_add(len)),
    };
    (
        span(r.start, r.date_at) + date::LEN + span(r.date_at, r.end),
        body,
    )
}

/// Writes `head` as a template at `arena[at..]` and moves `at` past it.
fn template(arena: &mut [u8], at: &mut usize, head: &ResponseHead<'_>) -> Option<Reply> {
    let t = response::write_template(arena.get_mut(*at..)?, head).ok()?;
    let start = u32::try_from(*at).ok()?;
    *at = at.checked_add(t.len)?;
    Some(Reply {
        start,
        date_at: start.checked_add(u32::try_from(t.date_at).ok()?)?,
        end: start.checked_add(u32::try_from(t.len).ok()?)?,
        body: Body::None,
        head_len: 0,
        body_len: 0,
    })
}

/// Fills `arena[at..]` through `write` and moves `at` past what it wrote.
fn append(
    arena: &mut [u8],
    at: &mut usize,
    write: impl FnOnce(&mut [u8]) -> Option<usize>,
) -> Option<(u32, u32)> {
    let n = write(arena.get_mut(*at..)?)?;
    let start = u32::try_from(*at).ok()?;
    *at = at.checked_add(n)?;
    Some((start, u32::try_from(n).ok()?))
}

impl<'a> Replies<'a> {
    /// Prepares every response of `pages` into `table` ([`table_len`] entries) and `arena`
    /// ([`arena_len`] bytes). `None` if either is too small or there are too many pages.
    pub fn build(
        pages: &'a [Page<'a>],
        table: &'a mut [Reply],
        arena: &'a mut [u8],
    ) -> Option<Replies<'a>> {
        let n = table_len(pages.len());
        if n > MAX_REPLIES || table.len() < n {
            return None;
        }
        let mut at = 0;
        for page in pages {
            let hex = echo::fnv1a(echo::FNV_OFFSET, page.body);
            append(arena, &mut at, |out| {
                let e = out.get_mut(..ETAG_LEN)?;
                e.fill(b'"');
                for (i, d) in e.iter_mut().skip(1).take(16).enumerate() {
                    let nibble = (hex >> (60 - 4 * i)) & 0xf;
                    *d = *b"0123456789abcdef".get(nibble as usize)?;
                }
                Some(ETAG_LEN)
            })?;
        }
        for (f, slot) in ALL_FIXED.iter().zip(table.iter_mut()) {
            let status = f.status();
            let reason = status.reason().as_bytes();
            let (bstart, blen) = append(arena, &mut at, |out| {
                let mut n = echo::decimal(u64::from(status.0), out);
                for &b in [b" ".as_slice(), reason, b"\n"]
                    .iter()
                    .flat_map(|s| s.iter())
                {
                    *out.get_mut(n)? = b;
                    n += 1;
                }
                Some(n)
            })?;
            let mut reply = template(
                arena,
                &mut at,
                &ResponseHead {
                    status,
                    date: 0,
                    content_length: u64::from(blen),
                    content_type: Some("text/plain"),
                    etag: None,
                    allow: f.allow(),
                    keep_alive: true,
                    minor_version: 1,
                },
            )?;
            reply.body = Body::Arena {
                start: bstart,
                len: blen,
            };
            *slot = reply;
        }
        for (i, page) in pages.iter().enumerate() {
            let etag_at = i * ETAG_LEN;
            let etag: [u8; ETAG_LEN] = arena.get(etag_at..etag_at + ETAG_LEN)?.try_into().ok()?;
            let index = u16::try_from(i).ok()?;
            let ok = ResponseHead {
                status: Status::OK,
                date: 0,
                content_length: page.body.len() as u64,
                content_type: Some(page.content_type),
                etag: Some(&etag),
                allow: None,
                keep_alive: true,
                minor_version: 1,
            };
            let mut full = template(arena, &mut at, &ok)?;
            full.body = Body::Page(index);
            let not_modified = template(
                arena,
                &mut at,
                &ResponseHead {
                    status: Status::NOT_MODIFIED,
                    content_type: None,
                    ..ok
                },
            )?;
            *table.get_mut(FIXED + 2 * i)? = full;
            *table.get_mut(FIXED + 2 * i + 1)? = not_modified;
        }
        for r in table.iter_mut() {
            let (head, body) = measure(r, arena, pages);
            r.head_len = u32::try_from(head).ok()?;
            r.body_len = u32::try_from(body).ok()?;
            // `len` adds any `Connection` ending without overflow, and TCP takes every
            // response a connection may be sent.
            for conn in [Conn::Keep, Conn::KeepAnnounced, Conn::Close] {
                let len = r
                    .head_len
                    .checked_add(r.body_len)?
                    .checked_add(u32::try_from(conn.ending().len()).ok()?)?;
                if len > MAX_RESPONSE_LEN {
                    return None;
                }
            }
        }
        Some(Replies {
            table,
            arena,
            pages,
        })
    }

    /// Page `i`'s ETag, quotes included.
    pub fn etag(&self, page: usize) -> &'a [u8] {
        let at = page.saturating_mul(ETAG_LEN);
        self.arena
            .get(at..at.saturating_add(ETAG_LEN))
            .unwrap_or(&[])
    }

    /// The pieces of table response `h` as sent, `date` in place.
    fn pieces<'d>(&self, h: Handle, date: &'d [u8]) -> [&'d [u8]; 5]
    where
        'a: 'd,
    {
        let Some(r) = self.table.get(h.index()) else {
            return [&[]; 5];
        };
        let span = |a: u32, b: u32| self.arena.get(a as usize..b as usize).unwrap_or(&[]);
        let body: &[u8] = match (h.head_only(), r.body) {
            (true, _) | (_, Body::None) => &[],
            (false, Body::Page(p)) => self.pages.get(usize::from(p)).map_or(&[], |p| p.body),
            (false, Body::Arena { start, len }) => span(start, start.saturating_add(len)),
        };
        [
            span(r.start, r.date_at),
            date,
            span(r.date_at, r.end),
            h.conn().ending(),
            body,
        ]
    }

    /// Length of response `h` (a table response; task answers need their task).
    ///
    /// TCP asks for it on every segment of the connection: it is summed from the lengths
    /// of [`Replies::pieces`] without assembling them.
    #[inline]
    pub fn len(&self, h: Handle) -> u32 {
        let Some(r) = self.table.get(h.index()) else {
            return 0;
        };
        let body = if h.head_only() { 0 } else { r.body_len };
        // `build` checked that the sum fits.
        r.head_len
            .wrapping_add(body)
            .wrapping_add(h.conn().ending().len() as u32)
    }

    /// Writes bytes `off..off + out.len()` of response `h` into `out`, with `date` (`h`'s
    /// date, formatted) in its place.
    pub fn fill(&self, h: Handle, date: &[u8; date::LEN], off: u32, out: &mut [u8]) {
        copy_range(&self.pieces(h, date), off as usize, out);
    }
}

/// The answer of `task` as sent, a 200 whose body is the task's answer, dated `date`
/// (`h`'s date, formatted): writes bytes `off..off + out.len()` into `out` and returns
/// the answer's whole length.
pub fn task_answer(
    task: &Task,
    h: Handle,
    date: &[u8; date::LEN],
    off: u32,
    out: &mut [u8],
) -> u32 {
    let mut body = [0u8; MAX_ANSWER];
    let body_len = task.answer(&mut body);
    let mut digits = [0u8; 20];
    let d = echo::decimal(body_len as u64, &mut digits);
    let pieces: [&[u8]; 7] = [
        b"HTTP/1.1 200 OK\r\nDate: ",
        date,
        b"\r\nServer: GigaHttpd\r\nContent-Length: ",
        digits.get(..d).unwrap_or(&[]),
        b"\r\nContent-Type: text/plain\r\n",
        h.conn().ending(),
        if h.head_only() {
            &[]
        } else {
            body.get(..body_len).unwrap_or(&[])
        },
    ];
    copy_range(&pieces, off as usize, out);
    let n: usize = pieces.iter().map(|p| p.len()).sum();
    u32::try_from(n).unwrap_or(0)
}

/// Copies bytes `off..off + out.len()` of the concatenation of `pieces` into `out`.
fn copy_range(pieces: &[&[u8]], mut off: usize, out: &mut [u8]) {
    let mut at = 0;
    for piece in pieces {
        if at >= out.len() {
            return;
        }
        let Some(src) = piece.get(off..) else {
            off -= piece.len();
            continue;
        };
        off = 0;
        let n = src.len().min(out.len() - at);
        if let (Some(d), Some(s)) = (out.get_mut(at..at + n), src.get(..n)) {
            super::super::bytes::copy(d, s);
        }
        at += n;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    extern crate std;
    use super::*;
    use std::string::String;
    use std::vec;
    use std::vec::Vec;

    const PAGES: [Page<'static>; 2] = [
        Page {
            path: "/",
            content_type: "text/html",
            body: b"<p>hi</p>\n",
        },
        Page {
            path: "/a.txt",
            content_type: "text/plain; charset=utf-8",
            body: b"",
        },
    ];

    fn render(r: &Replies<'_>, h: Handle, now: u64) -> Vec<u8> {
        let len = r.len(h) as usize;
        let mut whole = vec![0u8; len];
        r.fill(h, &date::format(h.date(now)), 0, &mut whole);
        // Any split renders the same bytes (a retransmission starts anywhere).
        for cut in [1, 7, len / 2, len.saturating_sub(1)] {
            if cut == 0 || cut >= len {
                continue;
            }
            let mut a = vec![0u8; len];
            r.fill(h, &date::format(h.date(now)), 0, &mut a[..cut]);
            r.fill(h, &date::format(h.date(now)), cut as u32, &mut a[cut..]);
            assert_eq!(a, whole);
        }
        whole
    }

    #[test]
    fn pages_and_fixed_responses() {
        let mut table = [Reply::default(); table_len(2)];
        let mut arena = vec![0u8; arena_len(&PAGES)];
        let r = Replies::build(&PAGES, &mut table, &mut arena).unwrap();
        let date = 784_111_777;
        let etag = r.etag(0).to_vec();
        assert_eq!(etag.len(), ETAG_LEN);
        let ok = Handle::reply(FIXED, Conn::Keep, false).dated(date);
        let got = render(&r, ok, date + 5);
        let want = [
            b"HTTP/1.1 200 OK\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n".as_slice(),
            b"Server: GigaHttpd\r\nContent-Length: 10\r\nContent-Type: text/html\r\n",
            b"ETag: ",
            &etag,
            b"\r\n\r\n<p>hi</p>\n",
        ]
        .concat();
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(&want)
        );
        let head = render(
            &r,
            Handle::reply(FIXED, Conn::Close, true).dated(date),
            date,
        );
        assert!(head.ends_with(b"\r\nConnection: close\r\n\r\n"));
        let nm = render(
            &r,
            Handle::reply(FIXED + 1, Conn::KeepAnnounced, false),
            date,
        );
        assert!(nm.starts_with(b"HTTP/1.1 304 Not Modified\r\n"));
        assert!(!nm.windows(14).any(|w| w == b"Content-Length"));
        assert!(nm.ends_with(b"\r\nConnection: keep-alive\r\n\r\n"));
        let nf = render(
            &r,
            Handle::reply(Fixed::NotFound as usize, Conn::Keep, false),
            date,
        );
        assert!(nf.starts_with(b"HTTP/1.1 404 Not Found\r\n"));
        assert!(
            nf.ends_with(b"Content-Length: 14\r\nContent-Type: text/plain\r\n\r\n404 Not Found\n")
        );
        let m = render(
            &r,
            Handle::reply(Fixed::PageMethod as usize, Conn::Close, false),
            date,
        );
        assert!(m.windows(17).any(|w| w == b"Allow: GET, HEAD\r"));
        let empty = render(&r, Handle::reply(FIXED + 2, Conn::Keep, false), date);
        assert!(empty.ends_with(b"Content-Length: 0\r\nContent-Type: text/plain; charset=utf-8\r\nETag: \"cbf29ce484222325\"\r\n\r\n"));
    }

    #[test]
    fn len_is_the_length_of_the_pieces() {
        let mut table = [Reply::default(); table_len(2)];
        let mut arena = vec![0u8; arena_len(&PAGES)];
        let r = Replies::build(&PAGES, &mut table, &mut arena).unwrap();
        for index in 0..table_len(2) + 3 {
            for conn in [Conn::Keep, Conn::KeepAnnounced, Conn::Close] {
                for head_only in [false, true] {
                    let h = Handle::reply(index, conn, head_only).dated(12_345);
                    let pieces = r.pieces(h, &[0; date::LEN]);
                    let want: usize = pieces.iter().map(|p| p.len()).sum();
                    assert_eq!(r.len(h) as usize, want, "{index} {conn:?} {head_only}");
                }
            }
        }
    }

    #[test]
    fn dates_survive_wrapping_low_bits() {
        let h = Handle::reply(3, Conn::Close, true);
        for d in [0u64, 65_535, 65_536, 1_700_000_000] {
            for later in [0, 1, 3_600, 65_535] {
                assert_eq!(h.dated(d).date(d + later), d);
            }
        }
        assert_eq!(h.dated(9).index(), 3);
        assert_eq!(h.dated(9).conn(), Conn::Close);
        assert!(h.head_only() && !h.is_task());
    }

    #[test]
    fn too_little_memory_is_refused() {
        let mut table = [Reply::default(); table_len(2)];
        let mut arena = vec![0u8; 100];
        assert!(Replies::build(&PAGES, &mut table, &mut arena).is_none());
        let mut short = [Reply::default(); table_len(1)];
        let mut arena = vec![0u8; arena_len(&PAGES)];
        assert!(Replies::build(&PAGES, &mut short, &mut arena).is_none());
    }

    #[test]
    fn task_answers() {
        let mut t = Task::FREE;
        t.feed(b"foobar");
        let h = Handle::task(0, Conn::Keep, false).dated(784_111_777);
        let mut out = [0u8; 256];
        let n = task_answer(&t, h, &date::format(784_111_777), 0, &mut []) as usize;
        task_answer(&t, h, &date::format(784_111_777), 0, &mut out[..n]);
        let want = b"HTTP/1.1 200 OK\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nServer: GigaHttpd\r\nContent-Length: 19\r\nContent-Type: text/plain\r\n\r\n6 85944171f73967e8\n";
        assert_eq!(
            String::from_utf8_lossy(&out[..n]),
            String::from_utf8_lossy(want)
        );
    }
}

//! Writes response heads into a caller buffer (the TX frame), no formatting machinery.

use super::super::bytes::copy;
use super::date;
use super::Status;

/// What a response head says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResponseHead<'a> {
    /// Status code.
    pub status: Status,
    /// Unix seconds for the `Date` header.
    pub date: u64,
    /// Body length; sent for every status except 304.
    pub content_length: u64,
    /// `Content-Type`, if any.
    pub content_type: Option<&'a str>,
    /// `ETag` including its quotes, if any.
    pub etag: Option<&'a [u8]>,
    /// `Allow` (the methods a 405 resource takes), if any.
    pub allow: Option<&'a str>,
    /// Whether the connection stays open.
    pub keep_alive: bool,
    /// 0 if the request was HTTP/1.0: keep-alive must then be announced.
    pub minor_version: u8,
}

/// The output buffer is too small for the head.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BufferTooSmall;

/// Appends bytes to a fixed buffer.
struct Cursor<'a> {
    buf: &'a mut [u8],
    len: usize,
}

impl Cursor<'_> {
    fn put(&mut self, bytes: &[u8]) -> Result<(), BufferTooSmall> {
        let end = self.len.checked_add(bytes.len()).ok_or(BufferTooSmall)?;
        copy(
            self.buf.get_mut(self.len..end).ok_or(BufferTooSmall)?,
            bytes,
        );
        self.len = end;
        Ok(())
    }

    fn put_decimal(&mut self, mut v: u64) -> Result<(), BufferTooSmall> {
        let mut digits = [0u8; 20];
        let mut start = digits.len();
        loop {
            start -= 1;
            if let Some(d) = digits.get_mut(start) {
                *d = b'0' + (v % 10) as u8;
            }
            v /= 10;
            if v == 0 || start == 0 {
                break;
            }
        }
        self.put(digits.get(start..).unwrap_or(&[]))
    }
}

/// Writes the status line and headers, ending with the empty line; returns the length.
pub fn write_head(buf: &mut [u8], head: &ResponseHead<'_>) -> Result<usize, BufferTooSmall> {
    let mut c = Cursor { buf, len: 0 };
    write_status(&mut c, head.status)?;
    c.put(&date::format(head.date))?;
    write_fields(&mut c, head)?;
    c.put(connection(head.keep_alive, head.minor_version))?;
    Ok(c.len)
}

/// A head written without its date and ending: `date_at` is where the 29-byte date goes,
/// `len` the length written (the fields end in CRLF; [`connection`] follows them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Template {
    /// Offset of the date.
    pub date_at: usize,
    /// Bytes written.
    pub len: usize,
}

/// Writes `head` as a [`Template`], to be sent many times with the date of each sending.
pub fn write_template(buf: &mut [u8], head: &ResponseHead<'_>) -> Result<Template, BufferTooSmall> {
    let mut c = Cursor { buf, len: 0 };
    write_status(&mut c, head.status)?;
    let date_at = c.len;
    write_fields(&mut c, head)?;
    Ok(Template {
        date_at,
        len: c.len,
    })
}

/// The interim response that asks a client waiting with `Expect: 100-continue` for the
/// body (RFC 9110 section 15.2.1): no body, and no `Content-Length` (section 8.6).
pub const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";

/// The end of a head: the `Connection` field when it must be said, and the empty line.
pub fn connection(keep_alive: bool, minor_version: u8) -> &'static [u8] {
    match (keep_alive, minor_version) {
        (false, _) => b"Connection: close\r\n\r\n",
        (true, 0) => b"Connection: keep-alive\r\n\r\n",
        (true, _) => b"\r\n",
    }
}

/// Status line and the `Date` field name.
fn write_status(c: &mut Cursor<'_>, status: Status) -> Result<(), BufferTooSmall> {
    c.put(b"HTTP/1.1 ")?;
    c.put_decimal(u64::from(status.0))?;
    c.put(b" ")?;
    c.put(status.reason().as_bytes())?;
    c.put(b"\r\nDate: ")
}

/// Everything after the date but the connection field.
fn write_fields(c: &mut Cursor<'_>, head: &ResponseHead<'_>) -> Result<(), BufferTooSmall> {
    c.put(b"\r\nServer: GigaHttpd\r\n")?;
    if !head.status.has_no_body() {
        c.put(b"Content-Length: ")?;
        c.put_decimal(head.content_length)?;
        c.put(b"\r\n")?;
    }
    if let Some(t) = head.content_type {
        c.put(b"Content-Type: ")?;
        c.put(t.as_bytes())?;
        c.put(b"\r\n")?;
    }
    if let Some(e) = head.etag {
        c.put(b"ETag: ")?;
        c.put(e)?;
        c.put(b"\r\n")?;
    }
    if let Some(a) = head.allow {
        c.put(b"Allow: ")?;
        c.put(a.as_bytes())?;
        c.put(b"\r\n")?;
    }
    Ok(())
}

/// True if an `If-None-Match` value matches `etag` (weak comparison, RFC 9110 section 13.1.2).
///
/// `value` is the whole field value: `*` or a comma-separated list of entity tags.
pub fn if_none_match_matches(value: &[u8], etag: &[u8]) -> bool {
    let strip_weak = |t: &[u8]| -> usize {
        if t.starts_with(b"W/") {
            2
        } else {
            0
        }
    };
    let ours = etag.get(strip_weak(etag)..).unwrap_or(&[]);
    value.split(|&b| b == b',').any(|item| {
        let item = item.trim_ascii();
        item == b"*" || item.get(strip_weak(item)..) == Some(ours)
    })
}

/// True if an `If-Match` value matches `etag` (strong comparison, RFC 9110 section
/// 13.1.1): `*`, or a listed tag equal to `etag` with neither of them weak.
pub fn if_match_matches(value: &[u8], etag: &[u8]) -> bool {
    value.split(|&b| b == b',').any(|item| {
        let item = item.trim_ascii();
        item == b"*" || (item == etag && !etag.starts_with(b"W/"))
    })
}

/// An incremental [`if_none_match_matches`] (`feed`, `finish`) or [`if_match_matches`]
/// (`feed_strong`, `finish_strong`) for a value that arrives in pieces: it keeps only a
/// position in the ETag and a few flags, never the value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EtagMatcher {
    /// Bytes of the current list item matched so far; `DEAD` once it cannot match.
    pos: u8,
    /// `MATCHED`, `STAR`, `STARTED`, `W_SEEN`, `PREFIX_DONE`, `WEAK`, `SPACED`.
    flags: u8,
}

/// `EtagMatcher::pos` of an item that cannot match.
const DEAD: u8 = u8::MAX;
/// An earlier list item matched.
const MATCHED: u8 = 1;
/// The current item is `*`.
const STAR: u8 = 2;
/// The current item has a visible byte.
const STARTED: u8 = 4;
/// The current item began with `W`: a weak prefix if `/` follows.
const W_SEEN: u8 = 8;
/// The current item's prefix is decided (`W/` skipped, or none).
const PREFIX_DONE: u8 = 16;
/// The current item is a weak tag.
const WEAK: u8 = 32;
/// Whitespace followed the current item's bytes: only a comma may come next.
const SPACED: u8 = 64;

impl EtagMatcher {
    /// Feeds the next piece of an `If-None-Match` value. Whitespace may surround an
    /// item; inside one (`W/ "x"`, `"a" "b"`) it leaves no tag to match.
    pub fn feed(&mut self, piece: &[u8], etag: &[u8]) {
        self.feed_as(piece, etag, false);
    }

    /// Feeds the next piece of an `If-Match` value.
    pub fn feed_strong(&mut self, piece: &[u8], etag: &[u8]) {
        self.feed_as(piece, etag, true);
    }

    fn feed_as(&mut self, piece: &[u8], etag: &[u8], strong: bool) {
        let ours = etag.strip_prefix(b"W/").unwrap_or(etag);
        for &b in piece {
            match b {
                b',' => self.end_item(etag, strong),
                b' ' | b'\t' if self.flags & STARTED != 0 => self.flags |= SPACED,
                b' ' | b'\t' => {}
                _ if self.flags & SPACED != 0 => {
                    self.flags &= !STAR;
                    self.pos = DEAD;
                }
                _ => {
                    let fresh = self.pos == 0 && self.flags & (W_SEEN | PREFIX_DONE) == 0;
                    self.flags |= STARTED;
                    if fresh && b == b'W' {
                        self.flags |= W_SEEN;
                        continue;
                    }
                    if self.flags & W_SEEN != 0 {
                        self.flags = (self.flags & !W_SEEN) | PREFIX_DONE;
                        if b == b'/' {
                            self.flags |= WEAK;
                            continue;
                        }
                        // Not a weak prefix after all: the `W` was the item's first byte.
                        self.step(b'W', ours);
                    }
                    if fresh && b == b'*' {
                        self.flags |= STAR;
                        self.pos = DEAD;
                        continue;
                    }
                    self.step(b, ours);
                }
            }
        }
    }

    fn step(&mut self, b: u8, ours: &[u8]) {
        self.flags = (self.flags & !STAR) | PREFIX_DONE;
        if self.pos != DEAD && ours.get(usize::from(self.pos)) == Some(&b) {
            self.pos = self.pos.saturating_add(1).min(DEAD - 1);
        } else {
            self.pos = DEAD;
        }
    }

    fn end_item(&mut self, etag: &[u8], strong: bool) {
        let ours = etag.strip_prefix(b"W/").unwrap_or(etag);
        let weak = self.flags & WEAK != 0 || ours.len() != etag.len();
        let whole =
            self.flags & STARTED != 0 && usize::from(self.pos) == ours.len() && !(strong && weak);
        let matched = self.flags & (MATCHED | STAR) != 0 || whole;
        *self = EtagMatcher {
            pos: 0,
            flags: if matched { MATCHED } else { 0 },
        };
    }

    /// True if the `If-None-Match` value seen so far (as a whole) matches.
    pub fn finish(mut self, etag: &[u8]) -> bool {
        self.end_item(etag, false);
        self.flags & MATCHED != 0
    }

    /// True if the `If-Match` value seen so far (as a whole) matches.
    pub fn finish_strong(mut self, etag: &[u8]) -> bool {
        self.end_item(etag, true);
        self.flags & MATCHED != 0
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    extern crate std;
    use super::*;

    fn head() -> ResponseHead<'static> {
        ResponseHead {
            status: Status::OK,
            date: 784_111_777,
            content_length: 1234,
            content_type: Some("text/html"),
            etag: Some(b"\"3:1f-7\""),
            allow: None,
            keep_alive: true,
            minor_version: 1,
        }
    }

    #[test]
    fn full_head() {
        let mut buf = [0u8; 256];
        let n = write_head(&mut buf, &head()).unwrap();
        assert_eq!(
            &buf[..n],
            &b"HTTP/1.1 200 OK\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nServer: GigaHttpd\r\nContent-Length: 1234\r\nContent-Type: text/html\r\nETag: \"3:1f-7\"\r\n\r\n"[..]
        );
    }

    #[test]
    fn not_modified_close_and_http10() {
        let mut buf = [0u8; 256];
        let h = ResponseHead {
            status: Status::NOT_MODIFIED,
            content_type: None,
            keep_alive: false,
            ..head()
        };
        let n = write_head(&mut buf, &h).unwrap();
        let text = core::str::from_utf8(&buf[..n]).unwrap();
        assert!(text.starts_with("HTTP/1.1 304 Not Modified\r\n"));
        assert!(!text.contains("Content-Length"));
        assert!(text.ends_with("ETag: \"3:1f-7\"\r\nConnection: close\r\n\r\n"));
        let h = ResponseHead {
            minor_version: 0,
            content_length: 0,
            etag: None,
            allow: None,
            content_type: None,
            ..head()
        };
        let n = write_head(&mut buf, &h).unwrap();
        let text = core::str::from_utf8(&buf[..n]).unwrap();
        assert!(text.ends_with("Content-Length: 0\r\nConnection: keep-alive\r\n\r\n"));
    }

    #[test]
    fn every_short_buffer_fails_cleanly() {
        let mut big = [0u8; 256];
        let n = write_head(&mut big, &head()).unwrap();
        for len in 0..n {
            let mut buf = [0u8; 256];
            assert_eq!(write_head(&mut buf[..len], &head()), Err(BufferTooSmall));
        }
    }

    #[test]
    fn large_content_length() {
        let mut buf = [0u8; 256];
        let h = ResponseHead {
            content_length: u64::MAX,
            ..head()
        };
        let n = write_head(&mut buf, &h).unwrap();
        assert!(core::str::from_utf8(&buf[..n])
            .unwrap()
            .contains("Content-Length: 18446744073709551615\r\n"));
    }

    #[test]
    fn if_none_match_whole_and_incremental() {
        let etag = b"\"v1\"";
        for (value, expect) in [
            (&b"\"v1\""[..], true),
            (b"W/\"v1\"", true),
            (b"\"v0\", \"v1\"", true),
            (b"*", true),
            (b"\"v1", false),
            (b"\"v10\"", false),
            (b"\"v0\"", false),
            (b"", false),
            (b"**", false),
            (b"Wx\"v1\"", false),
        ] {
            assert_eq!(if_none_match_matches(value, etag), expect, "{value:?}");
            for cut in 0..=value.len() {
                let mut m = EtagMatcher::default();
                m.feed(&value[..cut], etag);
                m.feed(&value[cut..], etag);
                assert_eq!(m.finish(etag), expect, "{value:?} cut {cut}");
            }
        }
        assert!(if_none_match_matches(b"\"v1\"", b"W/\"v1\""));
    }

    #[test]
    fn if_match_whole_and_incremental() {
        for (etag, value, expect) in [
            (&b"\"v1\""[..], &b"\"v1\""[..], true),
            (b"\"v1\"", b"W/\"v1\"", false),
            (b"\"v1\"", b"\"v0\", \"v1\"", true),
            (b"\"v1\"", b"W/\"v1\", \"v1\"", true),
            (b"\"v1\"", b"*", true),
            (b"\"v1\"", b"\"v0\"", false),
            (b"\"v1\"", b"\"v1", false),
            (b"\"v1\"", b"", false),
            (b"\"v1\"", b"W\"v1\"", false),
            (b"W/\"v1\"", b"W/\"v1\"", false),
            (b"W/\"v1\"", b"\"v1\"", false),
            (b"W/\"v1\"", b"*", true),
            (b"\"Wv\"", b"\"Wv\"", true),
        ] {
            assert_eq!(if_match_matches(value, etag), expect, "{value:?}");
            for cut in 0..=value.len() {
                let mut m = EtagMatcher::default();
                m.feed_strong(&value[..cut], etag);
                m.feed_strong(&value[cut..], etag);
                assert_eq!(m.finish_strong(etag), expect, "{value:?} cut {cut}");
            }
        }
    }

    #[test]
    fn etag_matchers_hold_to_the_whole_value_functions() {
        let etag = b"\"0123456789abcdef\"";
        let parts: [&[u8]; 9] = [
            b"\"0123456789abcdef\"",
            b"W/",
            b"W",
            b"*",
            b",",
            b" ",
            b"\"x\"",
            b"\"0123",
            b"/",
        ];
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            let mut value = std::vec::Vec::new();
            for _ in 0..(x % 5) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                value.extend_from_slice(parts[(x % parts.len() as u64) as usize]);
            }
            x = x.wrapping_mul(0x2545_f491_4f6c_dd1d).wrapping_add(1);
            let (mut weak, mut strong) = (EtagMatcher::default(), EtagMatcher::default());
            weak.feed(&value, etag);
            strong.feed_strong(&value, etag);
            let v: &[u8] = &value;
            assert_eq!(weak.finish(etag), if_none_match_matches(v, etag), "{v:?}");
            assert_eq!(
                strong.finish_strong(etag),
                if_match_matches(v, etag),
                "{v:?}"
            );
        }
        assert_eq!(core::mem::size_of::<EtagMatcher>(), 2);
    }
}

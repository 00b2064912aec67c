//! A request body in the chunked transfer coding (RFC 9112 section 7.1), decoded in
//! place: each chunk's data is reported as body pieces of the segments it arrived in,
//! and between segments only the parser's place in the framing survives.
//!
//! While such a body is read, `Parser::acc` holds two counts: the body's length so far,
//! its current chunk included (high half, bounded by `Limits::max_body`), and what is
//! left of the current chunk, or its size as its digits arrive (low half). `line_len`
//! bounds a chunk's size line; `head_len` goes on counting what the framing carries
//! besides sizes and data (extensions, leading zeros, trailer fields), so that all of it
//! together shares the head's limit, however many chunks it is spread over.

use super::{is_field_vchar, is_tchar, Event, Limits, Parser, State, Status};

/// Longest chunk-size line, extensions included (400 beyond). Extensions are ignored,
/// so a longer one only costs time.
const MAX_SIZE_LINE: u16 = 1024;

/// The place in a chunk's extensions (RFC 9112 section 7.1.1: `*( BWS ";" BWS
/// chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )`), kept in `Parser::pos` in
/// `State::ChunkExt`.
mod ext {
    /// Whitespace after the size or a value: a `;` must come.
    pub const SPACE: u8 = 0;
    /// After a `;`: a name comes, perhaps after whitespace.
    pub const BEFORE_NAME: u8 = 1;
    /// In a name: the line may end.
    pub const NAME: u8 = 2;
    /// Whitespace after a name: a `;` or `=` must come.
    pub const AFTER_NAME: u8 = 3;
    /// After `=`: a token or a quoted string comes, perhaps after whitespace.
    pub const BEFORE_VALUE: u8 = 4;
    /// In a token value: the line may end.
    pub const TOKEN: u8 = 5;
    /// Inside a quoted string.
    pub const QUOTED: u8 = 6;
    /// After a backslash inside a quoted string.
    pub const ESCAPED: u8 = 7;
    /// After a quoted string's closing quote: the line may end.
    pub const QUOTE_END: u8 = 8;
}

/// The place in a chunk's extensions after byte `c` at `pos`, or `None` if the
/// extensions' grammar has no place for it. A CR, which ends the line, is not taken here.
fn ext_step(pos: u8, c: u8) -> Option<u8> {
    let space = c == b' ' || c == b'\t';
    Some(match pos {
        ext::SPACE if space => ext::SPACE,
        ext::BEFORE_NAME if space => ext::BEFORE_NAME,
        ext::AFTER_NAME if space => ext::AFTER_NAME,
        ext::BEFORE_VALUE if space => ext::BEFORE_VALUE,
        ext::NAME | ext::TOKEN | ext::QUOTE_END if space => {
            if pos == ext::NAME {
                ext::AFTER_NAME
            } else {
                ext::SPACE
            }
        }
        ext::SPACE | ext::NAME | ext::AFTER_NAME | ext::TOKEN | ext::QUOTE_END if c == b';' => {
            ext::BEFORE_NAME
        }
        ext::NAME | ext::AFTER_NAME if c == b'=' => ext::BEFORE_VALUE,
        ext::BEFORE_NAME | ext::NAME if is_tchar(c) => ext::NAME,
        ext::BEFORE_VALUE | ext::TOKEN if is_tchar(c) => ext::TOKEN,
        ext::BEFORE_VALUE if c == b'"' => ext::QUOTED,
        ext::QUOTED if c == b'"' => ext::QUOTE_END,
        ext::QUOTED if c == b'\\' => ext::ESCAPED,
        // qdtext and a quoted pair's byte: HTAB, SP, VCHAR and obs-text (RFC 9110
        // section 5.6.4); a quoted pair takes `"` and `\` too.
        ext::QUOTED | ext::ESCAPED if space || is_field_vchar(c) => ext::QUOTED,
        _ => return None,
    })
}

/// True if a chunk's size line may end (its CR) at extension place `pos`.
fn ext_may_end(pos: u8) -> bool {
    matches!(pos, ext::NAME | ext::TOKEN | ext::QUOTE_END)
}

impl Parser {
    /// Starts a chunked body after its head.
    pub(super) fn begin_chunked(&mut self) {
        self.state = State::ChunkSize;
        self.acc = 0;
        self.line_len = 0;
    }

    /// The body's length so far, its current chunk included.
    fn body_len(&self) -> u32 {
        (self.acc >> 32) as u32
    }

    /// What is left of the current chunk (or its size while its digits arrive).
    fn chunk_left(&self) -> u32 {
        self.acc as u32
    }

    fn set_counts(&mut self, body_len: u32, chunk_left: u32) {
        self.acc = (u64::from(body_len) << 32) | u64::from(chunk_left);
    }

    /// Takes the chunked body from `input[at..]`: returns where it stopped, and true if
    /// the body ended there (the rest of `input` is the next request's). Out of line:
    /// most requests have no body, and the head's fast path keeps its registers.
    #[inline(never)]
    pub(super) fn feed_chunked<F: FnMut(Event<'_>)>(
        &mut self,
        input: &[u8],
        mut at: usize,
        limits: &Limits,
        on: &mut F,
    ) -> Result<(usize, bool), Status> {
        while let Some(rest) = input.get(at..).filter(|r| !r.is_empty()) {
            if self.state == State::ChunkData {
                let left = self.chunk_left();
                let n = usize::try_from(left).map_or(rest.len(), |l| l.min(rest.len()));
                on(Event::Body(rest.get(..n).unwrap_or(&[])));
                at += n;
                // `n` is at most `left`, a u32.
                let left = left - n as u32;
                self.set_counts(self.body_len(), left);
                if left == 0 {
                    self.state = State::ChunkDataCr;
                }
                continue;
            }
            let c = rest.first().copied().unwrap_or(0);
            at += 1;
            if self.framing_byte(c, limits)? {
                return Ok((at, true));
            }
        }
        Ok((at, false))
    }

    /// One byte of the framing around the chunks' data; true for the LF of the empty
    /// line that ends the body.
    fn framing_byte(&mut self, c: u8, limits: &Limits) -> Result<bool, Status> {
        match self.state {
            State::ChunkSize | State::ChunkExt => self.size_line_byte(c, limits)?,
            State::ChunkSizeLf => {
                expect(c, b'\n')?;
                let size = self.chunk_left();
                // The digits kept the body within `max_body`, a u32.
                self.set_counts(self.body_len().saturating_add(size), size);
                self.state = if size == 0 {
                    State::TrailerStart
                } else {
                    State::ChunkData
                };
            }
            State::ChunkDataCr => {
                expect(c, b'\r')?;
                self.state = State::ChunkDataLf;
            }
            State::ChunkDataLf => {
                expect(c, b'\n')?;
                self.state = State::ChunkSize;
                self.line_len = 0;
            }
            _ => return self.trailer_byte(c, limits),
        }
        Ok(false)
    }

    /// `chunk-size [ chunk-ext ] CR`: hex digits, then extensions, which are held to
    /// their grammar and otherwise ignored.
    fn size_line_byte(&mut self, c: u8, limits: &Limits) -> Result<(), Status> {
        self.line_len = self.line_len.saturating_add(1);
        if self.line_len > MAX_SIZE_LINE {
            return Err(Status::BAD_REQUEST);
        }
        // Bytes that carry no size: extensions, and zeros before a size's first digit.
        let padding = match (self.state, c) {
            (State::ChunkSize, b'0') => self.line_len > 1 && self.chunk_left() == 0,
            (State::ChunkSize, c) => !c.is_ascii_hexdigit() && c != b'\r',
            (_, c) => c != b'\r',
        };
        if padding {
            self.count_head(limits, Status::BAD_REQUEST)?;
        }
        match (self.state, c) {
            (State::ChunkSize, c) if c.is_ascii_hexdigit() => {
                let digit = char::from(c).to_digit(16).unwrap_or(0);
                let size = u64::from(self.chunk_left()) * 16 + u64::from(digit);
                let room = u64::from(limits.max_body).saturating_sub(u64::from(self.body_len()));
                let size = u32::try_from(size)
                    .ok()
                    .filter(|&s| u64::from(s) <= room)
                    .ok_or(Status::CONTENT_TOO_LARGE)?;
                self.set_counts(self.body_len(), size);
            }
            // A size needs a digit first.
            (State::ChunkSize, _) if self.line_len == 1 => return Err(Status::BAD_REQUEST),
            (State::ChunkSize, b'\r') => self.state = State::ChunkSizeLf,
            (State::ChunkSize, c) => {
                self.state = State::ChunkExt;
                self.pos = ext_step(ext::SPACE, c).ok_or(Status::BAD_REQUEST)?;
            }
            (_, b'\r') if ext_may_end(self.pos) => self.state = State::ChunkSizeLf,
            (_, c) => self.pos = ext_step(self.pos, c).ok_or(Status::BAD_REQUEST)?,
        }
        Ok(())
    }

    /// The trailer section: field lines, which are checked and ignored (RFC 9110
    /// section 6.5.1), then an empty line. Its fields count against `max_head` with the
    /// head.
    fn trailer_byte(&mut self, c: u8, limits: &Limits) -> Result<bool, Status> {
        let end = matches!(
            (self.state, c),
            (State::TrailerStart, b'\r') | (State::TrailerEndLf, _)
        );
        if !end {
            self.count_head(limits, Status::HEADER_FIELDS_TOO_LARGE)?;
        }
        self.state = match (self.state, c) {
            (State::TrailerStart, b'\r') => State::TrailerEndLf,
            (State::TrailerStart | State::TrailerName, c) if is_tchar(c) => State::TrailerName,
            (State::TrailerName, b':') => State::TrailerValue,
            (State::TrailerValue, b'\r') => State::TrailerLf,
            (State::TrailerValue, b' ' | b'\t') => State::TrailerValue,
            (State::TrailerValue, c) if is_field_vchar(c) => State::TrailerValue,
            (State::TrailerLf, b'\n') => State::TrailerStart,
            (State::TrailerEndLf, b'\n') => return Ok(true),
            _ => return Err(Status::BAD_REQUEST),
        };
        Ok(false)
    }
}

/// 400 unless `c` is the byte the framing requires here.
fn expect(c: u8, wanted: u8) -> Result<(), Status> {
    if c == wanted {
        Ok(())
    } else {
        Err(Status::BAD_REQUEST)
    }
}

//! Matches a request target, which may arrive in pieces, against the site's paths
//! without keeping the target: only the best candidate and how far it matched survive.
//!
//! A target nearly always arrives whole, and then one lookup in [`Routes`], a hash table
//! of the paths built with the site, finds its path in a few dozen instructions however
//! many pages there are. A piece that is not a whole path (a target split across
//! segments, a prefix of a longer path, a miss) goes through the byte-by-byte matcher,
//! which gives the same answers.

/// Where matching stands, in the top bits of `PathMatch::candidate`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Every byte so far matched the candidate.
    Matching = 0,
    /// A `?` ended the path; the query is ignored.
    Query = 1,
    /// No path starts with the bytes seen.
    NoMatch = 2,
}

const STATE_SHIFT: u32 = 14;
const INDEX_MASK: u16 = (1 << STATE_SHIFT) - 1;

/// An incremental path matcher: four bytes per connection.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PathMatch {
    /// The candidate path's index, and the [`State`] above it.
    candidate: u16,
    len: u16,
}

impl PathMatch {
    fn state(&self) -> State {
        match self.candidate >> STATE_SHIFT {
            0 => State::Matching,
            1 => State::Query,
            _ => State::NoMatch,
        }
    }

    fn set_state(&mut self, s: State) {
        self.candidate = (self.candidate & INDEX_MASK) | ((s as u16) << STATE_SHIFT);
    }

    fn index(&self) -> usize {
        usize::from(self.candidate & INDEX_MASK)
    }

    /// Feeds the next piece of the target. `paths` names every routable path; the
    /// candidate always shares the matched prefix, so a mismatch only needs a path with
    /// the same prefix and the new byte.
    pub fn feed<'p>(
        &mut self,
        piece: &[u8],
        paths: &impl Fn(usize) -> Option<&'p [u8]>,
        routes: &Routes<'_>,
    ) {
        if *self == PathMatch::default() && self.route(piece, paths, routes) {
            return;
        }
        self.feed_bytes(piece, paths);
    }

    /// The first piece of a target, by one lookup: true if it was a whole path (with or
    /// without a query after it), and the matcher now stands where feeding its bytes one
    /// by one would have left it; false if the bytes must be fed.
    fn route<'p>(
        &mut self,
        piece: &[u8],
        paths: &impl Fn(usize) -> Option<&'p [u8]>,
        routes: &Routes<'_>,
    ) -> bool {
        let (path, query) = match piece.iter().position(|&b| b == b'?') {
            Some(q) => (piece.get(..q).unwrap_or(&[]), true),
            None => (piece, false),
        };
        let Ok(len) = u16::try_from(path.len()) else {
            return false;
        };
        let Some(i) = routes
            .find(path, paths)
            .and_then(|i| u16::try_from(i).ok())
            .filter(|&i| i <= INDEX_MASK)
        else {
            return false;
        };
        self.candidate = i;
        self.len = len;
        if query {
            self.set_state(State::Query);
        }
        true
    }

    fn feed_bytes<'p>(&mut self, piece: &[u8], paths: &impl Fn(usize) -> Option<&'p [u8]>) {
        for &b in piece {
            if self.state() != State::Matching {
                return;
            }
            if b == b'?' {
                self.set_state(State::Query);
                return;
            }
            let len = usize::from(self.len);
            let prefix = paths(self.index()).and_then(|p| p.get(..len));
            let extends = |p: &[u8]| p.get(len) == Some(&b) && p.get(..len) == prefix;
            if !paths(self.index()).is_some_and(extends) {
                let mut next = None;
                let mut i = 0;
                while let Some(p) = paths(i) {
                    if extends(p) {
                        next = Some(i);
                        break;
                    }
                    i += 1;
                }
                match next
                    .and_then(|n| u16::try_from(n).ok())
                    .filter(|&n| n <= INDEX_MASK)
                {
                    Some(n) => self.candidate = n,
                    None => {
                        self.set_state(State::NoMatch);
                        return;
                    }
                }
            }
            self.len = self.len.saturating_add(1);
        }
    }

    /// The path the whole target named, if any: the first of that path's indices.
    pub fn finish<'p>(
        &self,
        paths: &impl Fn(usize) -> Option<&'p [u8]>,
        routes: &Routes<'_>,
    ) -> Option<usize> {
        if self.state() == State::NoMatch {
            return None;
        }
        let candidate = paths(self.index())?;
        let len = usize::from(self.len);
        // A candidate as long as the target is the target, and no path before it is the
        // same: a candidate is chosen as the first path holding the bytes matched so far.
        if candidate.len() == len {
            return Some(self.index());
        }
        // The candidate may be longer than the target ("/about" for "/a").
        routes.find(candidate.get(..len)?, paths)
    }
}

/// FNV-1a of a path, the table's hash.
fn hash(path: &[u8]) -> u32 {
    let mut h = 0x811c_9dc5u32;
    for &b in path {
        h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
    }
    h
}

/// Bytes of the table for `paths` paths: a power of two of two-byte entries, at least
/// twice as many as paths, so that a probe meets an empty entry soon.
pub fn routes_len(paths: usize) -> usize {
    2 * paths.saturating_mul(2).max(2).next_power_of_two()
}

/// The site's paths in an open-addressed hash table: each entry holds a path's index plus
/// one, little-endian (0: empty), at the slot its hash names or after it.
#[derive(Clone, Copy, Debug)]
pub struct Routes<'a> {
    table: &'a [u8],
}

impl<'a> Routes<'a> {
    /// Files every path `paths` names into `table` ([`routes_len`] bytes for them); `None`
    /// if it is too small or an index does not fit an entry.
    pub fn build<'p>(
        table: &'a mut [u8],
        paths: &impl Fn(usize) -> Option<&'p [u8]>,
    ) -> Option<Routes<'a>> {
        let mut count = 0;
        while paths(count).is_some() {
            count += 1;
        }
        let table = table.get_mut(..routes_len(count))?;
        table.fill(0);
        let mask = table.len() / 2 - 1;
        for i in 0..count {
            let entry = u16::try_from(i + 1).ok()?.to_le_bytes();
            let mut at = hash(paths(i)?) as usize & mask;
            // At most half the entries are taken: an empty one is always found.
            while table.get(2 * at..2 * at + 2)? != [0, 0] {
                at = (at + 1) & mask;
            }
            super::super::bytes::copy(table.get_mut(2 * at..2 * at + 2)?, &entry);
        }
        Some(Routes { table })
    }

    /// The index of the first path equal to `path`.
    #[inline]
    pub fn find<'p>(
        &self,
        path: &[u8],
        paths: &impl Fn(usize) -> Option<&'p [u8]>,
    ) -> Option<usize> {
        let mask = (self.table.len() / 2).checked_sub(1)?;
        let mut at = hash(path) as usize & mask;
        for _ in 0..=mask {
            let entry = self.table.get(2 * at..2 * at + 2)?;
            let i = usize::from(u16::from_le_bytes([*entry.first()?, *entry.get(1)?]));
            let i = i.checked_sub(1)?;
            if paths(i) == Some(path) {
                return Some(i);
            }
            at = (at + 1) & mask;
        }
        None
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec;
    use std::vec::Vec;

    const PATHS: [&[u8]; 4] = [b"/", b"/about", b"/a", b"/echo"];

    fn route(pieces: &[&[u8]]) -> Option<usize> {
        let paths = |i: usize| PATHS.get(i).copied();
        let mut table = vec![0u8; routes_len(PATHS.len())];
        let routes = Routes::build(&mut table, &paths).unwrap();
        let mut m = PathMatch::default();
        for p in pieces {
            m.feed(p, &paths, &routes);
        }
        m.finish(&paths, &routes)
    }

    /// The byte-by-byte matcher alone, and the first path equal to what it matched found
    /// by a scan: the reference.
    fn route_bytes(paths: &[&[u8]], pieces: &[&[u8]]) -> Option<usize> {
        let lookup = |i: usize| paths.get(i).copied();
        let mut m = PathMatch::default();
        for p in pieces {
            m.feed_bytes(p, &lookup);
        }
        if m.state() == State::NoMatch {
            return None;
        }
        let target = lookup(m.index())?.get(..usize::from(m.len))?;
        paths.iter().position(|&p| p == target)
    }

    #[test]
    fn the_table_routes_as_the_bytes_do() {
        // Prefixes of one another, a duplicate, a path with a '?', and many pages.
        let mut owned: Vec<Vec<u8>> = [
            &b"/"[..],
            b"/a",
            b"/about",
            b"/about/team",
            b"/a",
            b"/echo",
            b"/q?x",
            b"/index.html",
            b"/team/all",
            b"/team",
        ]
        .iter()
        .map(|p| p.to_vec())
        .collect();
        for i in 0..300 {
            owned.push(std::format!("/page/{i}.html").into_bytes());
        }
        let paths: Vec<&[u8]> = owned.iter().map(|p| &p[..]).collect();
        let lookup = |i: usize| paths.get(i).copied();
        let mut table = vec![0u8; routes_len(paths.len())];
        let routes = Routes::build(&mut table, &lookup).unwrap();
        let mut targets: Vec<Vec<u8>> = owned.clone();
        for t in [
            &b""[..],
            b"/ab",
            b"/about/",
            b"/?",
            b"/about?x=1",
            b"/a?",
            b"/q?x",
            b"/q",
            b"*",
            b"/page/299.html?v=2",
            b"/page/3",
            b"/page/3000.html",
            b"/index.htm",
            b"//",
        ] {
            targets.push(t.to_vec());
        }
        for t in &targets {
            for cut in 0..=t.len() {
                let (a, b) = t.split_at(cut);
                // Whole, in two pieces, and followed by more bytes.
                for pieces in [&[a, b][..], &[a, b, b"/all"], &[a, b, b"?"]] {
                    let mut m = PathMatch::default();
                    for p in pieces {
                        m.feed(p, &lookup, &routes);
                    }
                    let want = route_bytes(&paths, pieces);
                    assert_eq!(m.finish(&lookup, &routes), want, "{pieces:?}");
                }
            }
        }
        // Every path is found at its first index.
        for (i, p) in paths.iter().enumerate() {
            let first = paths.iter().position(|q| q == p).unwrap();
            assert_eq!(routes.find(p, &lookup), Some(first), "{i}");
        }
    }

    #[test]
    fn a_table_too_small_is_refused() {
        let paths = |i: usize| PATHS.get(i).copied();
        let mut table = vec![0u8; routes_len(PATHS.len()) - 1];
        assert!(Routes::build(&mut table, &paths).is_none());
    }

    #[test]
    fn exact_paths_in_any_split() {
        for (i, path) in PATHS.iter().enumerate() {
            for cut in 0..=path.len() {
                let (a, b) = path.split_at(cut);
                assert_eq!(route(&[a, b]), Some(i), "{:?} cut {cut}", path);
            }
        }
    }

    #[test]
    fn query_ignored_and_misses() {
        assert_eq!(route(&[b"/about?x=1"]), Some(1));
        assert_eq!(route(&[b"/?"]), Some(0));
        assert_eq!(route(&[b"/abo"]), None);
        assert_eq!(route(&[b"/aboutx"]), None);
        assert_eq!(route(&[b"/x"]), None);
        assert_eq!(route(&[b"*"]), None);
        assert_eq!(route(&[b"http://h/"]), None);
        assert_eq!(route(&[]), None);
    }
}

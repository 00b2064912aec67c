//! Matches a request target, which may arrive in pieces, against the site's paths
//! without keeping the target: only the best candidate and how far it matched survive.

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
    pub fn feed<'p>(&mut self, piece: &[u8], paths: &impl Fn(usize) -> Option<&'p [u8]>) {
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

    /// The path the whole target named, if any.
    pub fn finish<'p>(&self, paths: &impl Fn(usize) -> Option<&'p [u8]>) -> Option<usize> {
        if self.state() == State::NoMatch {
            return None;
        }
        // The candidate may be longer than the target ("/about" for "/a").
        let target = paths(self.index())?.get(..usize::from(self.len))?;
        let mut i = 0;
        while let Some(p) = paths(i) {
            if p == target {
                return Some(i);
            }
            i += 1;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PATHS: [&[u8]; 4] = [b"/", b"/about", b"/a", b"/echo"];

    fn route(pieces: &[&[u8]]) -> Option<usize> {
        let paths = |i: usize| PATHS.get(i).copied();
        let mut m = PathMatch::default();
        for p in pieces {
            m.feed(p, &paths);
        }
        m.finish(&paths)
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

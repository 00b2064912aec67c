//! Login sessions: 128-bit random tokens, up to 10 per user in a ring, each
//! with its own expiry. In URLs a token is `s` + 32 lowercase hex digits.

use core::fmt;

/// Sessions one user may hold; the oldest is replaced by the 11th login.
pub const SESSIONS_PER_USER: usize = 10;
/// Hex digits of a token in a URL.
pub const TOKEN_HEX_LEN: usize = 32;

/// A session token: 16 bytes from the platform's random source.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Token(pub [u8; 16]);

/// The token text is not 32 hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MalformedToken;

impl Token {
    /// Parses exactly 32 hex digits (either case).
    pub fn parse(text: &[u8]) -> Result<Self, MalformedToken> {
        if text.len() != TOKEN_HEX_LEN {
            return Err(MalformedToken);
        }
        let mut bytes = [0u8; 16];
        for (index, byte) in bytes.iter_mut().enumerate() {
            let high = text.get(2 * index).and_then(|&c| hex_value(c));
            let low = text.get(2 * index + 1).and_then(|&c| hex_value(c));
            let (Some(high), Some(low)) = (high, low) else {
                return Err(MalformedToken);
            };
            *byte = (high << 4) | low;
        }
        Ok(Self(bytes))
    }

    /// Equality in time independent of where the tokens differ.
    pub fn matches(&self, other: &Token) -> bool {
        self.0
            .iter()
            .zip(other.0.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }
}

/// Tokens are secrets: debug output does not show them.
impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(..)")
    }
}

/// The URL form: 32 lowercase hex digits.
impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for byte in self.0 {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// One open session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Session {
    /// Its token.
    pub token: Token,
    /// Time (platform seconds) after which it is refused.
    pub expires: u64,
}

/// A user's sessions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SessionRing {
    slots: [Option<Session>; SESSIONS_PER_USER],
    next: usize,
}

impl SessionRing {
    /// Opens a session, replacing the oldest when all 10 are taken.
    pub fn open(&mut self, token: Token, now: u64, lifetime: u64) {
        if let Some(slot) = self.slots.get_mut(self.next) {
            *slot = Some(Session {
                token,
                expires: now.saturating_add(lifetime),
            });
        }
        self.next = (self.next + 1) % SESSIONS_PER_USER;
    }

    /// Whether `token` names a session alive at `now`. Every slot is
    /// compared so timing does not tell which one matched.
    pub fn check(&self, token: &Token, now: u64) -> bool {
        self.slots.iter().fold(false, |found, slot| {
            let hit = slot.is_some_and(|s| s.token.matches(token) && now < s.expires);
            found | hit
        })
    }

    /// Closes the session `token` (logout); returns whether it was open.
    pub fn close(&mut self, token: &Token) -> bool {
        let mut closed = false;
        for slot in self.slots.iter_mut() {
            if slot.is_some_and(|s| s.token.matches(token)) {
                *slot = None;
                closed = true;
            }
        }
        closed
    }

    /// Closes every session (password change, account lock).
    pub fn close_all(&mut self) {
        self.slots = [None; SESSIONS_PER_USER];
    }

    /// Sessions alive at `now`.
    pub fn live(&self, now: u64) -> usize {
        self.slots
            .iter()
            .filter(|s| s.is_some_and(|s| now < s.expires))
            .count()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    extern crate std;
    use super::*;
    use std::format;
    use std::string::ToString;

    fn token(n: u8) -> Token {
        let mut bytes = [0xa5u8; 16];
        bytes[15] = n;
        Token(bytes)
    }

    #[test]
    fn url_form_round_trips_and_is_strict() {
        let t = token(0x3c);
        let text = t.to_string();
        assert_eq!(text, "a5a5a5a5a5a5a5a5a5a5a5a5a5a5a53c");
        assert_eq!(Token::parse(text.as_bytes()), Ok(t));
        assert_eq!(Token::parse(text.to_uppercase().as_bytes()), Ok(t));
        assert_eq!(Token::parse(&text.as_bytes()[..31]), Err(MalformedToken));
        let mut bad = text.into_bytes();
        bad[5] = b'g';
        assert_eq!(Token::parse(&bad), Err(MalformedToken));
        assert_eq!(format!("{t:?}"), "Token(..)");
    }

    #[test]
    fn eleventh_login_replaces_the_oldest() {
        let mut ring = SessionRing::default();
        for n in 0..10 {
            ring.open(token(n), 100, 60);
        }
        assert_eq!(ring.live(100), 10);
        ring.open(token(10), 100, 60);
        assert!(!ring.check(&token(0), 100));
        for n in 1..=10 {
            assert!(ring.check(&token(n), 100), "session {n}");
        }
        assert_eq!(ring.live(100), 10);
    }

    #[test]
    fn each_session_expires_on_its_own() {
        let mut ring = SessionRing::default();
        ring.open(token(1), 0, 10);
        ring.open(token(2), 5, 10);
        assert!(ring.check(&token(1), 9));
        assert!(!ring.check(&token(1), 10));
        assert!(ring.check(&token(2), 14));
        assert!(!ring.check(&token(2), 15));
        assert!(!ring.check(&token(3), 0));
        ring.open(token(4), 0, u64::MAX);
        assert!(ring.check(&token(4), u64::MAX - 1));
    }

    #[test]
    fn logout_and_close_all() {
        let mut ring = SessionRing::default();
        ring.open(token(1), 0, 100);
        ring.open(token(2), 0, 100);
        assert!(ring.close(&token(1)));
        assert!(!ring.close(&token(1)));
        assert!(!ring.check(&token(1), 1));
        assert!(ring.check(&token(2), 1));
        ring.close_all();
        assert_eq!(ring.live(1), 0);
    }
}

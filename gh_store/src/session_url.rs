//! The part of a URL that names a logged-in user's session:
//! `/u<user>/s<token>`, where `<user>` is the address of the user's block
//! (9 hex digits or `cpu:index`) and `<token>` the session's 32 hex digits.
//! It follows the data address (`/<block>/u<user>/s<token>`) or a task
//! (`/P<task>/u<user>/s<token>`), so the first frame routes by itself.

use super::addr::{AddrError, BlockAddr};
use super::session::Token;
use core::fmt;

/// A user and one of their session tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionUrl {
    /// The user's block.
    pub user: BlockAddr,
    /// The session's token.
    pub token: Token,
}

impl SessionUrl {
    /// Parses exactly `/u<user>/s<token>`. A wrong shape or token is
    /// `Malformed` (400); a well-formed user address outside the address
    /// space is `OutOfRange` (404).
    pub fn parse(text: &str) -> Result<Self, AddrError> {
        let rest = text.strip_prefix("/u").ok_or(AddrError::Malformed)?;
        let (user, token) = rest.split_once("/s").ok_or(AddrError::Malformed)?;
        let token = Token::parse(token.as_bytes()).map_err(|_| AddrError::Malformed)?;
        let user = BlockAddr::parse(user)?;
        Ok(Self { user, token })
    }
}

/// Writes `/u<user in the long form>/s<token>`.
impl fmt::Display for SessionUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "/u{}/s{}", self.user, self.token)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    extern crate std;
    use super::*;
    use std::format;
    use std::string::ToString;

    fn url() -> SessionUrl {
        let mut bytes = [0u8; 16];
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = (i * 17) as u8;
        }
        SessionUrl {
            user: BlockAddr::new(3, 0x222).unwrap(),
            token: Token(bytes),
        }
    }

    #[test]
    fn written_and_parsed_in_both_address_forms() {
        let u = url();
        let text = u.to_string();
        assert_eq!(text, "/u000300222/s00112233445566778899aabbccddeeff");
        assert_eq!(SessionUrl::parse(&text), Ok(u));
        assert_eq!(
            SessionUrl::parse("/u3:222/s00112233445566778899AABBCCDDEEFF"),
            Ok(u)
        );
    }

    #[test]
    fn strict_about_shape_and_range() {
        let token = "00112233445566778899aabbccddeeff";
        for bad in [
            "",
            "/u",
            "u3:222/s00112233445566778899aabbccddeeff",
            "/u3:222/00112233445566778899aabbccddeeff",
            "/u3:222/s00112233445566778899aabbccddeef",
            "/u3:222/s00112233445566778899aabbccddeeff/",
            "/u3:222/s00112233445566778899aabbccddeefg",
            "/u/s00112233445566778899aabbccddeeff",
            "/u3:222/x/s00112233445566778899aabbccddeeff",
        ] {
            assert_eq!(SessionUrl::parse(bad), Err(AddrError::Malformed), "{bad:?}");
        }
        assert_eq!(
            SessionUrl::parse(&format!("/u4000:0/s{token}")),
            Err(AddrError::OutOfRange)
        );
        assert_eq!(
            SessionUrl::parse(&format!("/u400000000/s{token}")),
            Err(AddrError::OutOfRange)
        );
    }

    #[test]
    fn round_trips_over_many_users_and_tokens() {
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..2_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let user = BlockAddr::from_raw(x >> 30).unwrap();
            let mut bytes = [0u8; 16];
            bytes[..8].copy_from_slice(&x.to_le_bytes());
            bytes[8..].copy_from_slice(&x.rotate_left(29).to_be_bytes());
            let u = SessionUrl {
                user,
                token: Token(bytes),
            };
            assert_eq!(SessionUrl::parse(&u.to_string()), Ok(u));
        }
    }
}

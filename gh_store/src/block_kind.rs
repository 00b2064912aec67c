//! What a block holds. The listing shows it (the design's simple browse
//! names each block's type), and GH routes by it: a package block is sent
//! as the blocks it lists, a task block is run, not sent.
//!
//! Stored as a u16 in the block header and in the block-info record.
//! Numbers below `FIRST_APP` are GH's own; from `FIRST_APP` on they belong
//! to applications (images, blog posts, goods, trade records, ...).

use core::fmt;

/// A block's type.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BlockKind(u16);

/// GH's own kinds, in number order, with their listing names.
const GH_KINDS: [&str; 6] = ["data", "package", "user", "group", "task", "system-user"];

impl BlockKind {
    /// Static data served as it is (a page, an image, ...).
    pub const DATA: Self = Self(0);
    /// A package: lists other blocks, sent in order on one response.
    pub const PACKAGE: Self = Self(1);
    /// An ordinary (website) user's account.
    pub const USER: Self = Self(2);
    /// A group of users, kept by the application.
    pub const GROUP: Self = Self(3);
    /// A compute task.
    pub const TASK: Self = Self(4);
    /// A system user's record.
    pub const SYSTEM_USER: Self = Self(5);
    /// First number left to applications.
    pub const FIRST_APP: u16 = 0x100;

    /// Application kind `number` (0 is `FIRST_APP`), if it fits.
    pub fn app(number: u16) -> Option<Self> {
        number.checked_add(Self::FIRST_APP).map(Self)
    }

    /// The kind stored as `raw`, or `None` for a number GH reserves but
    /// does not define (a corrupt or newer record).
    pub fn from_raw(raw: u16) -> Option<Self> {
        if usize::from(raw) < GH_KINDS.len() || raw >= Self::FIRST_APP {
            Some(Self(raw))
        } else {
            None
        }
    }

    /// The stored number.
    pub fn raw(self) -> u16 {
        self.0
    }

    /// Whether an application defined this kind.
    pub fn is_app(self) -> bool {
        self.0 >= Self::FIRST_APP
    }
}

/// GH's kinds by name (`package`), an application's as `app:<n>` (hex).
impl fmt::Display for BlockKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match GH_KINDS.get(usize::from(self.0)) {
            Some(name) => f.write_str(name),
            None => write!(f, "app:{:x}", self.0.saturating_sub(Self::FIRST_APP)),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    extern crate std;
    use super::*;
    use std::string::ToString;

    #[test]
    fn gh_kinds_have_names_and_reserved_numbers_are_refused() {
        assert_eq!(BlockKind::default(), BlockKind::DATA);
        assert_eq!(BlockKind::PACKAGE.to_string(), "package");
        assert_eq!(BlockKind::SYSTEM_USER.to_string(), "system-user");
        assert_eq!(BlockKind::from_raw(4), Some(BlockKind::TASK));
        assert_eq!(BlockKind::from_raw(6), None);
        assert_eq!(BlockKind::from_raw(0xff), None);
        assert!(!BlockKind::USER.is_app());
    }

    #[test]
    fn application_kinds_round_trip() {
        let image = BlockKind::app(0x2a).unwrap();
        assert!(image.is_app());
        assert_eq!(image.raw(), 0x12a);
        assert_eq!(BlockKind::from_raw(image.raw()), Some(image));
        assert_eq!(image.to_string(), "app:2a");
        assert_eq!(BlockKind::app(0xfeff), BlockKind::from_raw(u16::MAX));
        assert_eq!(BlockKind::app(0xff00), None);
    }
}

//! The permission word on every block: 64 bits, 32 two-bit flags.
//!
//! Flag `i` uses bit `2i+1` (must-obey) and bit `2i` (value). GH enforces a
//! flag only when its must-obey bit is set; flags 5..32 belong to
//! applications, which read them with `get`.

/// Flags GH itself defines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flag {
    /// Anyone may read; only the owner may change or delete.
    Unprotected = 0,
    /// Only the owner may read, change or delete.
    OwnerReadWrite = 1,
    /// Non-owners' reads are decided by the read-authorization function.
    ReadAuthorizer = 2,
    /// Changes are decided by the modify-authorization function.
    ModifyAuthorizer = 3,
    /// Deletes are decided by the delete-authorization function.
    DeleteAuthorizer = 4,
}

/// First flag number left to applications.
pub const FIRST_APP_FLAG: u32 = 5;
/// Number of flags in a word.
pub const FLAG_COUNT: u32 = 32;

/// One flag's two bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlagBits {
    /// GH (or the application) must obey the flag.
    pub must_obey: bool,
    /// The flag's value.
    pub value: bool,
}

/// What is being done to a block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// Reading its data.
    Read,
    /// Changing it.
    Modify,
    /// Deleting it.
    Delete,
}

/// Which of the block's authorization functions to call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Authorizer {
    /// The read-authorization function.
    Read,
    /// The modify-authorization function.
    Modify,
    /// The delete-authorization function.
    Delete,
}

/// The decision for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Go ahead.
    Allow,
    /// Refuse.
    Deny,
    /// Call this function (owner, requester, block) for the answer.
    AskAuthorizer(Authorizer),
}

/// A block's permission word.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Permissions(pub u64);

impl Permissions {
    /// The two bits of flag `number`, or `None` past flag 31.
    pub fn get(self, number: u32) -> Option<FlagBits> {
        if number >= FLAG_COUNT {
            return None;
        }
        let bits = self.0 >> (2 * number);
        Some(FlagBits {
            must_obey: bits & 0b10 != 0,
            value: bits & 0b01 != 0,
        })
    }

    /// The word with flag `number` set to `bits`; unchanged past flag 31.
    pub fn with(self, number: u32, bits: FlagBits) -> Self {
        if number >= FLAG_COUNT {
            return self;
        }
        let shift = 2 * number;
        let field = (u64::from(bits.must_obey) << 1) | u64::from(bits.value);
        Self((self.0 & !(0b11 << shift)) | (field << shift))
    }

    /// The word with a GH flag enforced and on (`true`) or removed.
    pub fn enforce(self, flag: Flag, on: bool) -> Self {
        self.with(
            flag as u32,
            FlagBits {
                must_obey: on,
                value: on,
            },
        )
    }

    /// Whether a GH flag is enforced and on.
    pub fn is_on(self, flag: Flag) -> bool {
        self.get(flag as u32)
            .is_some_and(|bits| bits.must_obey && bits.value)
    }

    /// Decides `operation` by a requester who is (or is not) the owner.
    ///
    /// Reads: the owner always; others if unprotected, else by the read
    /// function if set, else never. Changes and deletes: by the matching
    /// function if set (for the owner too, so an application can take a
    /// right away from the owner), else the owner only.
    pub fn decide(self, operation: Operation, is_owner: bool) -> Access {
        let (authorizer_flag, authorizer) = match operation {
            Operation::Read => {
                return if is_owner || self.is_on(Flag::Unprotected) {
                    Access::Allow
                } else if self.is_on(Flag::ReadAuthorizer) {
                    Access::AskAuthorizer(Authorizer::Read)
                } else {
                    Access::Deny
                };
            }
            Operation::Modify => (Flag::ModifyAuthorizer, Authorizer::Modify),
            Operation::Delete => (Flag::DeleteAuthorizer, Authorizer::Delete),
        };
        if self.is_on(authorizer_flag) {
            Access::AskAuthorizer(authorizer)
        } else if is_owner {
            Access::Allow
        } else {
            Access::Deny
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_pack_two_bits_each() {
        let word = Permissions(0).with(
            7,
            FlagBits {
                must_obey: true,
                value: false,
            },
        );
        assert_eq!(word.0, 0b10 << 14);
        assert_eq!(
            word.get(7),
            Some(FlagBits {
                must_obey: true,
                value: false
            })
        );
        let all = (0..FLAG_COUNT).fold(Permissions(0), |w, n| {
            w.with(
                n,
                FlagBits {
                    must_obey: true,
                    value: true,
                },
            )
        });
        assert_eq!(all.0, u64::MAX);
        assert_eq!(all.get(32), None);
        assert_eq!(
            all.with(
                40,
                FlagBits {
                    must_obey: false,
                    value: false
                }
            ),
            all
        );
        assert_eq!(
            Permissions(0).enforce(Flag::DeleteAuthorizer, true).0,
            0b11 << 8
        );
    }

    #[test]
    fn advisory_flags_are_not_enforced() {
        let advisory = Permissions(0).with(
            Flag::Unprotected as u32,
            FlagBits {
                must_obey: false,
                value: true,
            },
        );
        assert_eq!(advisory.decide(Operation::Read, false), Access::Deny);
    }

    #[test]
    fn unprotected_news_anyone_reads_owner_changes() {
        let p = Permissions(0).enforce(Flag::Unprotected, true);
        assert_eq!(p.decide(Operation::Read, false), Access::Allow);
        assert_eq!(p.decide(Operation::Modify, false), Access::Deny);
        assert_eq!(p.decide(Operation::Delete, false), Access::Deny);
        assert_eq!(p.decide(Operation::Modify, true), Access::Allow);
    }

    #[test]
    fn private_post_owner_only() {
        let p = Permissions(0).enforce(Flag::OwnerReadWrite, true);
        for op in [Operation::Read, Operation::Modify, Operation::Delete] {
            assert_eq!(p.decide(op, true), Access::Allow);
            assert_eq!(p.decide(op, false), Access::Deny);
        }
    }

    /// The design's news lifecycle: submitted, reviewed, published.
    #[test]
    fn news_lifecycle() {
        let submitted = Permissions(0).enforce(Flag::OwnerReadWrite, true);
        assert_eq!(submitted.decide(Operation::Delete, true), Access::Allow);
        let reviewed = submitted
            .enforce(Flag::OwnerReadWrite, false)
            .enforce(Flag::ReadAuthorizer, true)
            .enforce(Flag::ModifyAuthorizer, true)
            .enforce(Flag::DeleteAuthorizer, true);
        assert_eq!(
            reviewed.decide(Operation::Read, false),
            Access::AskAuthorizer(Authorizer::Read)
        );
        assert_eq!(reviewed.decide(Operation::Read, true), Access::Allow);
        assert_eq!(
            reviewed.decide(Operation::Delete, true),
            Access::AskAuthorizer(Authorizer::Delete)
        );
        assert_eq!(
            reviewed.decide(Operation::Modify, false),
            Access::AskAuthorizer(Authorizer::Modify)
        );
        let published = reviewed.enforce(Flag::Unprotected, true);
        assert_eq!(published.decide(Operation::Read, false), Access::Allow);
        assert_eq!(
            published.decide(Operation::Delete, true),
            Access::AskAuthorizer(Authorizer::Delete)
        );
    }

    #[test]
    fn no_flags_means_owner_only() {
        let p = Permissions(0);
        assert_eq!(p.decide(Operation::Read, false), Access::Deny);
        assert_eq!(p.decide(Operation::Read, true), Access::Allow);
    }
}

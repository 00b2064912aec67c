//! Ordinary (website) user accounts: the registered name with its
//! uniqueness suffix, the salted slow password hash, lockout and sessions.

use super::crypto::pbkdf2::{constant_time_eq, pbkdf2_hmac_sha256};
use super::crypto::sha256::DIGEST_LEN;
use super::lockout::{FailureCounter, LockoutPolicy};
use super::session::{SessionRing, Token};

/// Longest registered name in bytes (UTF-8), suffix included.
pub const NAME_CAPACITY: usize = 64;
/// Bytes of password salt.
pub const SALT_LEN: usize = 16;
/// PBKDF2 rounds for new passwords: slow enough to make guessing costly.
pub const DEFAULT_ITERATIONS: u32 = 100_000;

/// Why a name or account operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserError {
    /// Empty, too long, or containing a control character or `/`.
    BadName,
    /// Zero iterations.
    BadHashParameters,
}

/// Writes `base-<cpu name><index in hex>` into `out`: no two cores can
/// hand out the same name, so registration needs no global lock.
pub fn registered_name<'o>(
    base: &str,
    cpu_name: &str,
    index: u32,
    out: &'o mut [u8; NAME_CAPACITY],
) -> Result<&'o str, UserError> {
    if base.is_empty() || cpu_name.is_empty() || !name_chars_ok(base) || !name_chars_ok(cpu_name) {
        return Err(UserError::BadName);
    }
    let mut digits = [0u8; 8];
    let mut len = 0usize;
    let mut value = index;
    loop {
        if let Some(d) = digits.get_mut(len) {
            *d = b"0123456789abcdef"
                .get((value & 0xf) as usize)
                .copied()
                .unwrap_or(b'0');
        }
        len += 1;
        value >>= 4;
        if value == 0 || len == digits.len() {
            break;
        }
    }
    let total = base
        .len()
        .saturating_add(cpu_name.len())
        .saturating_add(1 + len);
    if total > NAME_CAPACITY {
        return Err(UserError::BadName);
    }
    let mut at = 0usize;
    for part in [base.as_bytes(), b"-", cpu_name.as_bytes()] {
        if let Some(dst) = out.get_mut(at..at + part.len()) {
            dst.copy_from_slice(part);
        }
        at += part.len();
    }
    for d in digits.iter().take(len).rev() {
        if let Some(slot) = out.get_mut(at) {
            *slot = *d;
        }
        at += 1;
    }
    let bytes = out.get(..total).ok_or(UserError::BadName)?;
    core::str::from_utf8(bytes).map_err(|_| UserError::BadName)
}

/// The index in `name` if it ends with `-<cpu_name><hex index>` as
/// `registered_name` writes it: how a core finds its own users by name
/// alone, and tells them from other cores' users. `cpu_name` must not
/// contain `-`, so the split is unambiguous.
pub fn registered_index(name: &str, cpu_name: &str) -> Option<u32> {
    if cpu_name.is_empty() || cpu_name.contains('-') {
        return None;
    }
    let digits_start = name
        .bytes()
        .rev()
        .take_while(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        .count();
    // The CPU name may itself end in hex digits: try each split point.
    (1..=digits_start.min(8)).find_map(|len| {
        let split = name.len().checked_sub(len)?;
        let (rest, digits) = (name.get(..split)?, name.get(split..)?);
        let base = rest.strip_suffix(cpu_name)?.strip_suffix('-')?;
        if base.is_empty() || (digits.len() > 1 && digits.starts_with('0')) {
            return None;
        }
        u32::from_str_radix(digits, 16).ok()
    })
}

fn name_chars_ok(text: &str) -> bool {
    text.chars()
        .all(|c| !c.is_control() && c != '/' && c != ' ')
}

/// Result of a login attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginOutcome {
    /// Accepted; the session `Token` is open.
    Accepted(Token),
    /// Wrong password (the caller also counts it for the client address).
    Refused,
    /// The account is locked; the password was not even checked.
    Locked,
}

/// An account's stored secrets and state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserAccount {
    salt: [u8; SALT_LEN],
    hash: [u8; DIGEST_LEN],
    iterations: u32,
    failures: FailureCounter,
    /// The open sessions.
    pub sessions: SessionRing,
}

impl UserAccount {
    /// An account whose password is `password`, hashed with `salt` (from
    /// the platform's random source) and `iterations` PBKDF2 rounds.
    pub fn new(password: &[u8], salt: [u8; SALT_LEN], iterations: u32) -> Result<Self, UserError> {
        let mut hash = [0u8; DIGEST_LEN];
        pbkdf2_hmac_sha256(password, &salt, iterations, &mut hash)
            .map_err(|_| UserError::BadHashParameters)?;
        Ok(Self {
            salt,
            hash,
            iterations,
            failures: FailureCounter::default(),
            sessions: SessionRing::default(),
        })
    }

    /// Checks `password`; on success opens a session with `new_token`
    /// (random bytes from the platform) lasting `lifetime` seconds. Failures
    /// lock the account under `lockout`.
    pub fn login(
        &mut self,
        password: &[u8],
        now: u64,
        new_token: Token,
        lifetime: u64,
        lockout: &LockoutPolicy,
    ) -> LoginOutcome {
        if self.failures.is_locked(now) {
            return LoginOutcome::Locked;
        }
        let mut hash = [0u8; DIGEST_LEN];
        if pbkdf2_hmac_sha256(password, &self.salt, self.iterations, &mut hash).is_err()
            || !constant_time_eq(&hash, &self.hash)
        {
            if self.failures.fail(now, lockout) {
                self.sessions.close_all();
            }
            return LoginOutcome::Refused;
        }
        self.failures.succeed();
        self.sessions.open(new_token, now, lifetime);
        LoginOutcome::Accepted(new_token)
    }

    /// Replaces the password and closes every session.
    pub fn set_password(&mut self, password: &[u8], salt: [u8; SALT_LEN]) -> Result<(), UserError> {
        let replacement = Self::new(password, salt, self.iterations)?;
        self.salt = replacement.salt;
        self.hash = replacement.hash;
        self.sessions.close_all();
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::lockout::{LockoutPolicy, LOCK_TIME, MAX_FAILURES};
    use super::*;

    #[test]
    fn names_get_the_core_suffix() {
        let mut out = [0u8; NAME_CAPACITY];
        assert_eq!(
            registered_name("张王李", "黄山", 0x12345, &mut out),
            Ok("张王李-黄山12345")
        );
        assert_eq!(registered_name("ann", "c3", 0, &mut out), Ok("ann-c30"));
        assert_eq!(
            registered_name("ann", "c3", u32::MAX, &mut out),
            Ok("ann-c3ffffffff")
        );
        for bad in ["", "a/b", "a b", "a\nb"] {
            assert_eq!(
                registered_name(bad, "c3", 1, &mut out),
                Err(UserError::BadName)
            );
        }
        let fits = "x".repeat(60);
        assert_eq!(
            registered_name(&fits, "c3", 1, &mut out).map(str::len),
            Ok(64)
        );
        let long = "x".repeat(61);
        assert_eq!(
            registered_name(&long, "c3", 1, &mut out),
            Err(UserError::BadName)
        );
    }

    #[test]
    fn index_read_back_from_a_registered_name() {
        let mut out = [0u8; NAME_CAPACITY];
        for (base, cpu, index) in [("ann", "c3", 0x1f), ("a-b", "黄山", 0), ("x", "3", 0x33)] {
            let name = registered_name(base, cpu, index, &mut out).unwrap();
            assert_eq!(registered_index(name, cpu), Some(index), "{name}");
        }
        let max = registered_name("ann", "c3", u32::MAX, &mut out).unwrap();
        assert_eq!(registered_index(max, "c3"), Some(u32::MAX));
        // Another core's suffix, no base, leading zeros, no digits, a bad CPU name.
        for (name, cpu) in [
            ("ann-c41", "c3"),
            ("-c31", "c3"),
            ("ann-c301", "c3"),
            ("ann-c3", "c3"),
            ("ann-c3g", "c3"),
            ("ann-c3123456789", "c3"),
            ("ann-c-31", "c-3"),
            ("ann-1", ""),
        ] {
            assert_eq!(registered_index(name, cpu), None, "{name} on {cpu}");
        }
    }

    #[test]
    fn login_checks_the_hash_and_opens_sessions() {
        let mut account = UserAccount::new(b"s3cret", [7; SALT_LEN], 2).unwrap();
        let t = Token([1; 16]);
        assert_eq!(
            account.login(b"wrong", 10, t, 60, &LockoutPolicy::DEFAULT),
            LoginOutcome::Refused
        );
        assert_eq!(
            account.login(b"s3cret", 10, t, 60, &LockoutPolicy::DEFAULT),
            LoginOutcome::Accepted(t)
        );
        assert!(account.sessions.check(&t, 69));
        assert!(!account.sessions.check(&t, 70));
        account.set_password(b"new", [8; SALT_LEN]).unwrap();
        assert!(!account.sessions.check(&t, 11));
        assert_eq!(
            account.login(b"s3cret", 11, t, 60, &LockoutPolicy::DEFAULT),
            LoginOutcome::Refused
        );
        assert_eq!(
            account.login(b"new", 11, t, 60, &LockoutPolicy::DEFAULT),
            LoginOutcome::Accepted(t)
        );
        assert_eq!(
            UserAccount::new(b"p", [0; SALT_LEN], 0),
            Err(UserError::BadHashParameters)
        );
    }

    #[test]
    fn repeated_failures_lock_even_the_right_password_out() {
        let mut account = UserAccount::new(b"pw", [1; SALT_LEN], 1).unwrap();
        let t = Token([2; 16]);
        account.login(b"pw", 0, t, 1_000_000, &LockoutPolicy::DEFAULT);
        for i in 0..u64::from(MAX_FAILURES) {
            assert_eq!(
                account.login(b"guess", 100 + i, t, 60, &LockoutPolicy::DEFAULT),
                LoginOutcome::Refused
            );
        }
        assert!(!account.sessions.check(&t, 200), "lock closes sessions");
        assert_eq!(
            account.login(b"pw", 200, t, 60, &LockoutPolicy::DEFAULT),
            LoginOutcome::Locked
        );
        let after = 104 + LOCK_TIME;
        assert_eq!(
            account.login(b"pw", after, t, 60, &LockoutPolicy::DEFAULT),
            LoginOutcome::Accepted(t)
        );
    }
}

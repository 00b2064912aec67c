//! Lockout after repeated failed logins, for accounts and client addresses.
//!
//! A `LockoutPolicy` (configurable; `MAX_FAILURES` failures with less than
//! `WINDOW` seconds between them lock for `LOCK_TIME` seconds unless
//! configured otherwise). Client addresses live in a fixed table the caller
//! provides; when it is full the entry idle longest is reused.

/// Failures that trigger a lock, by default.
pub const MAX_FAILURES: u32 = 5;
/// By default, a failure this long after the previous one starts a new count.
pub const WINDOW: u64 = 15 * 60;
/// How long a lock lasts, by default.
pub const LOCK_TIME: u64 = 15 * 60;

/// When repeated failures lock an account or a client, and for how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// Failures that trigger a lock (0 behaves as 1).
    pub max_failures: u32,
    /// A failure this many seconds after the previous one starts a new count.
    pub window: u64,
    /// Seconds a lock lasts.
    pub lock_time: u64,
}

impl LockoutPolicy {
    /// The defaults: 5 failures within 15 minutes lock for 15 minutes.
    pub const DEFAULT: Self = Self {
        max_failures: MAX_FAILURES,
        window: WINDOW,
        lock_time: LOCK_TIME,
    };
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Failure count of one account or client.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FailureCounter {
    failures: u32,
    last_failure: u64,
    locked_until: u64,
}

impl FailureCounter {
    /// Whether logins are refused at `now`.
    pub fn is_locked(&self, now: u64) -> bool {
        now < self.locked_until
    }

    /// Counts a failed login under `policy`; returns whether this locked it.
    pub fn fail(&mut self, now: u64, policy: &LockoutPolicy) -> bool {
        if now.saturating_sub(self.last_failure) >= policy.window {
            self.failures = 0;
        }
        self.failures = self.failures.saturating_add(1);
        self.last_failure = now;
        if self.failures >= policy.max_failures {
            self.failures = 0;
            self.locked_until = now.saturating_add(policy.lock_time);
            return true;
        }
        false
    }

    /// A successful login clears the count.
    pub fn succeed(&mut self) {
        self.failures = 0;
    }
}

/// A client address (IPv4 mapped into IPv6 form, or IPv6).
pub type ClientAddr = [u8; 16];

/// One client's entry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientEntry {
    addr: ClientAddr,
    counter: FailureCounter,
    in_use: bool,
}

/// Failure counters of client addresses over caller-provided entries.
pub struct ClientLockouts<'a> {
    entries: &'a mut [ClientEntry],
    policy: LockoutPolicy,
}

impl<'a> ClientLockouts<'a> {
    /// An empty table over `entries`, locking clients under `policy`.
    pub fn new(entries: &'a mut [ClientEntry], policy: LockoutPolicy) -> Self {
        entries.fill(ClientEntry::default());
        Self { entries, policy }
    }

    /// Whether `addr` may not try to log in at `now`.
    pub fn is_locked(&self, addr: &ClientAddr, now: u64) -> bool {
        self.entries
            .iter()
            .any(|e| e.in_use && e.addr == *addr && e.counter.is_locked(now))
    }

    /// Counts a failure from `addr`; returns whether this locked it.
    pub fn fail(&mut self, addr: &ClientAddr, now: u64) -> bool {
        if let Some(entry) = self
            .entries
            .iter_mut()
            .find(|e| e.in_use && e.addr == *addr)
        {
            return entry.counter.fail(now, &self.policy);
        }
        // Reuse a free entry, else the one idle longest that is not locked,
        // else the one idle longest.
        let victim = self
            .entries
            .iter_mut()
            .min_by_key(|e| (e.in_use, e.counter.is_locked(now), e.counter.last_failure));
        match victim {
            Some(entry) => {
                *entry = ClientEntry {
                    addr: *addr,
                    counter: FailureCounter::default(),
                    in_use: true,
                };
                entry.counter.fail(now, &self.policy)
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_quick_failures_lock_for_a_while() {
        let mut c = FailureCounter::default();
        for t in 0..4 {
            assert!(!c.fail(1_000 + t, &LockoutPolicy::DEFAULT));
        }
        assert!(c.fail(1_004, &LockoutPolicy::DEFAULT));
        assert!(c.is_locked(1_004));
        assert!(c.is_locked(1_004 + LOCK_TIME - 1));
        assert!(!c.is_locked(1_004 + LOCK_TIME));
    }

    #[test]
    fn slow_failures_and_success_reset_the_count() {
        let mut c = FailureCounter::default();
        for i in 0..10u64 {
            assert!(!c.fail(1_000 + i * WINDOW, &LockoutPolicy::DEFAULT));
        }
        for _ in 0..4 {
            c.fail(50_000, &LockoutPolicy::DEFAULT);
        }
        c.succeed();
        assert!(!c.fail(50_001, &LockoutPolicy::DEFAULT));
        assert!(!c.is_locked(50_001));
    }

    #[test]
    fn client_table_locks_per_address_and_reuses_idle_entries() {
        let mut entries = [ClientEntry::default(); 2];
        let mut table = ClientLockouts::new(&mut entries, LockoutPolicy::DEFAULT);
        let a = [1u8; 16];
        let b = [2u8; 16];
        let c = [3u8; 16];
        for t in 0..5 {
            table.fail(&a, 100 + t);
        }
        assert!(table.is_locked(&a, 105));
        assert!(!table.is_locked(&b, 105));
        table.fail(&b, 106);
        // Full: `c` takes `b`'s entry, not the locked `a`.
        table.fail(&c, 107);
        assert!(table.is_locked(&a, 107));
        for t in 0..4 {
            table.fail(&c, 108 + t);
        }
        assert!(table.is_locked(&c, 112));
        let mut none: [ClientEntry; 0] = [];
        assert!(!ClientLockouts::new(&mut none, LockoutPolicy::DEFAULT).fail(&a, 0));
    }

    #[test]
    fn the_policy_sets_count_window_and_lock_time() {
        let strict = LockoutPolicy {
            max_failures: 2,
            window: 10,
            lock_time: 30,
        };
        let mut c = FailureCounter::default();
        assert!(!c.fail(100, &strict));
        assert!(!c.fail(110, &strict), "outside the window: a new count");
        assert!(c.fail(119, &strict));
        assert!(c.is_locked(148));
        assert!(!c.is_locked(149));
        let mut entries = [ClientEntry::default(); 1];
        let mut table = ClientLockouts::new(&mut entries, strict);
        let a = [9u8; 16];
        table.fail(&a, 0);
        assert!(table.fail(&a, 1));
        assert!(table.is_locked(&a, 30));
        assert!(!table.is_locked(&a, 31));
    }
}

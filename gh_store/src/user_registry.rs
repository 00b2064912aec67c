//! One core's registered (website) users over caller-provided slots.
//!
//! Registration hands out this core's next index and names the user
//! `base-<cpu name><index>`, so names are unique across cores without any
//! shared table. The index in a name also picks its slot (index modulo the
//! slot count), so a name is found without a search; indexes are never
//! handed out twice, and a removed user's slot is free again.

use super::crypto::pbkdf2::pbkdf2_hmac_sha256;
use super::crypto::sha256::DIGEST_LEN;
use super::lockout::{ClientAddr, ClientEntry, ClientLockouts, LockoutPolicy};
use super::session::Token;
use super::user::{
    registered_index, registered_name, LoginOutcome, UserAccount, UserError, NAME_CAPACITY,
    SALT_LEN,
};

/// Why a registry operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistryError {
    /// The base name or the CPU name is not allowed, or the result is too long.
    BadName,
    /// Zero PBKDF2 iterations configured.
    BadHashParameters,
    /// Every slot holds a user.
    Full,
    /// This core has handed out every index a name can carry.
    IndexesExhausted,
    /// The name carries this core's suffix but no such user is registered.
    NotFound,
    /// The name carries another core's suffix (or none): ask that core.
    NotMine,
}

impl From<UserError> for RegistryError {
    fn from(error: UserError) -> Self {
        match error {
            UserError::BadName => Self::BadName,
            UserError::BadHashParameters => Self::BadHashParameters,
        }
    }
}

/// How a core's registry names users and treats their passwords.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegistryConfig<'c> {
    /// This core's name in user names (no `-`).
    pub cpu_name: &'c str,
    /// PBKDF2 rounds for new passwords.
    pub iterations: u32,
    /// Seconds a login session lasts.
    pub session_lifetime: u64,
    /// When failed logins lock an account or a client, and for how long.
    pub lockout: LockoutPolicy,
}

/// A registered user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegisteredUser {
    name: [u8; NAME_CAPACITY],
    name_len: u8,
    index: u32,
    /// When the user registered (platform seconds).
    pub registered: u64,
    /// Password, lockout and sessions.
    pub account: UserAccount,
}

impl RegisteredUser {
    /// The full name, suffix included.
    pub fn name(&self) -> &str {
        self.name
            .get(..usize::from(self.name_len))
            .and_then(|bytes| core::str::from_utf8(bytes).ok())
            .unwrap_or("")
    }

    /// The index this core gave the user.
    pub fn index(&self) -> u32 {
        self.index
    }
}

/// One core's users.
pub struct UserRegistry<'a> {
    config: RegistryConfig<'a>,
    slots: &'a mut [Option<RegisteredUser>],
    clients: ClientLockouts<'a>,
    /// Next index to hand out; `None` once every u32 was used.
    next_index: Option<u32>,
}

impl<'a> UserRegistry<'a> {
    /// An empty registry over `slots`, counting failed logins per client
    /// address in `client_entries`.
    pub fn new(
        config: RegistryConfig<'a>,
        slots: &'a mut [Option<RegisteredUser>],
        client_entries: &'a mut [ClientEntry],
    ) -> Result<Self, RegistryError> {
        if config.iterations == 0 {
            return Err(RegistryError::BadHashParameters);
        }
        let mut probe = [0u8; NAME_CAPACITY];
        registered_name("x", config.cpu_name, 0, &mut probe)?;
        if config.cpu_name.contains('-') {
            return Err(RegistryError::BadName);
        }
        slots.fill(None);
        Ok(Self {
            config,
            slots,
            clients: ClientLockouts::new(client_entries, config.lockout),
            next_index: Some(0),
        })
    }

    /// Users registered now.
    pub fn len(&self) -> usize {
        self.slots.iter().filter(|s| s.is_some()).count()
    }

    /// Whether no user is registered.
    pub fn is_empty(&self) -> bool {
        self.slots.iter().all(Option::is_none)
    }

    fn slot_of(&self, index: u32) -> Option<usize> {
        let count = u32::try_from(self.slots.len()).unwrap_or(u32::MAX);
        index.checked_rem(count).map(|s| s as usize)
    }

    /// The first index from `next_index` whose slot is free.
    fn free_index(&self) -> Result<u32, RegistryError> {
        let first = self.next_index.ok_or(RegistryError::IndexesExhausted)?;
        for step in 0..self.slots.len() {
            let step = u32::try_from(step).map_err(|_| RegistryError::Full)?;
            let index = first
                .checked_add(step)
                .ok_or(RegistryError::IndexesExhausted)?;
            let slot = self.slot_of(index).ok_or(RegistryError::Full)?;
            if self.slots.get(slot).is_some_and(Option::is_none) {
                return Ok(index);
            }
        }
        Err(RegistryError::Full)
    }

    /// Registers `base_name` with `password` (hashed with `salt` from the
    /// platform's random source); returns the user with its unique name.
    pub fn register(
        &mut self,
        base_name: &str,
        password: &[u8],
        salt: [u8; SALT_LEN],
        now: u64,
    ) -> Result<&RegisteredUser, RegistryError> {
        let index = self.free_index()?;
        let mut name = [0u8; NAME_CAPACITY];
        let name_len = registered_name(base_name, self.config.cpu_name, index, &mut name)?.len();
        let account = UserAccount::new(password, salt, self.config.iterations)?;
        let slot = self.slot_of(index).ok_or(RegistryError::Full)?;
        let entry = self.slots.get_mut(slot).ok_or(RegistryError::Full)?;
        self.next_index = index.checked_add(1);
        Ok(entry.insert(RegisteredUser {
            name,
            name_len: u8::try_from(name_len).map_err(|_| RegistryError::BadName)?,
            index,
            registered: now,
            account,
        }))
    }

    /// The slot holding exactly `name`.
    fn slot_named(&self, name: &str) -> Result<usize, RegistryError> {
        let index = registered_index(name, self.config.cpu_name).ok_or(RegistryError::NotMine)?;
        let slot = self.slot_of(index).ok_or(RegistryError::NotFound)?;
        match self.slots.get(slot) {
            Some(Some(user)) if user.name() == name => Ok(slot),
            _ => Err(RegistryError::NotFound),
        }
    }

    /// The user named exactly `name`.
    pub fn find(&self, name: &str) -> Result<&RegisteredUser, RegistryError> {
        let slot = self.slot_named(name)?;
        self.slots
            .get(slot)
            .and_then(Option::as_ref)
            .ok_or(RegistryError::NotFound)
    }

    /// The user named exactly `name`, to change its account.
    pub fn find_mut(&mut self, name: &str) -> Result<&mut RegisteredUser, RegistryError> {
        let slot = self.slot_named(name)?;
        self.slots
            .get_mut(slot)
            .and_then(Option::as_mut)
            .ok_or(RegistryError::NotFound)
    }

    /// Checks a login from `client`; on success opens a session with
    /// `new_token` (random bytes from the platform). A locked client is
    /// refused before any check; an unknown name of this core costs the
    /// same hash as a real one and is refused alike, so answers do not
    /// tell which names exist. A name of another core is `NotMine`.
    pub fn login(
        &mut self,
        name: &str,
        password: &[u8],
        client: &ClientAddr,
        now: u64,
        new_token: Token,
    ) -> Result<LoginOutcome, RegistryError> {
        if self.clients.is_locked(client, now) {
            return Ok(LoginOutcome::Locked);
        }
        let lifetime = self.config.session_lifetime;
        let rounds = self.config.iterations;
        let lockout = self.config.lockout;
        let outcome = match self.find_mut(name) {
            Ok(user) => user
                .account
                .login(password, now, new_token, lifetime, &lockout),
            Err(RegistryError::NotFound) => {
                let mut wasted = [0u8; DIGEST_LEN];
                let _ = pbkdf2_hmac_sha256(password, name.as_bytes(), rounds, &mut wasted);
                LoginOutcome::Refused
            }
            Err(other) => return Err(other),
        };
        if outcome == LoginOutcome::Refused {
            self.clients.fail(client, now);
        }
        Ok(outcome)
    }

    /// Removes the user named `name`; its index is not handed out again.
    pub fn remove(&mut self, name: &str) -> Result<(), RegistryError> {
        let slot = self.slot_named(name)?;
        if let Some(entry) = self.slots.get_mut(slot) {
            *entry = None;
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    extern crate std;
    use super::super::lockout::{LOCK_TIME, MAX_FAILURES};
    use super::*;
    use std::string::String;

    const CONFIG: RegistryConfig<'static> = RegistryConfig {
        cpu_name: "c3",
        iterations: 2,
        session_lifetime: 60,
        lockout: LockoutPolicy::DEFAULT,
    };
    const CLIENT: ClientAddr = [9; 16];

    fn registry<'a>(
        slots: &'a mut [Option<RegisteredUser>],
        clients: &'a mut [ClientEntry],
    ) -> UserRegistry<'a> {
        UserRegistry::new(CONFIG, slots, clients).unwrap()
    }

    #[test]
    fn registration_names_with_this_cores_next_index() {
        let mut slots = [None; 4];
        let mut clients = [ClientEntry::default(); 2];
        let mut users = registry(&mut slots, &mut clients);
        assert!(users.is_empty());
        let first = users.register("ann", b"pw", [1; SALT_LEN], 100).unwrap();
        assert_eq!(
            (first.name(), first.index(), first.registered),
            ("ann-c30", 0, 100)
        );
        // The same base name again is a different user.
        let second = String::from(
            users
                .register("ann", b"pw2", [2; SALT_LEN], 101)
                .unwrap()
                .name(),
        );
        assert_eq!(second, "ann-c31");
        assert_eq!(users.find("ann-c30").unwrap().index(), 0);
        assert_eq!(users.find(&second).unwrap().index(), 1);
        assert_eq!(users.len(), 2);
        assert_eq!(
            users.register("a/b", b"pw", [1; SALT_LEN], 0).err(),
            Some(RegistryError::BadName)
        );
        assert_eq!(users.len(), 2, "a refused name takes no slot");
    }

    #[test]
    fn other_cores_names_are_told_from_unknown_ones() {
        let mut slots = [None; 4];
        let mut clients = [ClientEntry::default(); 2];
        let mut users = registry(&mut slots, &mut clients);
        users.register("bob", b"pw", [1; SALT_LEN], 0).unwrap();
        assert_eq!(users.find("bob-c40").err(), Some(RegistryError::NotMine));
        assert_eq!(users.find("bob").err(), Some(RegistryError::NotMine));
        assert_eq!(users.find("bob-c31").err(), Some(RegistryError::NotFound));
        assert_eq!(users.find("eve-c30").err(), Some(RegistryError::NotFound));
        assert_eq!(users.remove("bob-c40"), Err(RegistryError::NotMine));
        let token = Token([5; 16]);
        assert_eq!(
            users.login("bob-c40", b"pw", &CLIENT, 1, token),
            Err(RegistryError::NotMine)
        );
    }

    #[test]
    fn full_registry_is_an_error_until_a_user_leaves() {
        let mut slots = [None; 2];
        let mut clients = [ClientEntry::default(); 2];
        let mut users = registry(&mut slots, &mut clients);
        users.register("a", b"pw", [1; SALT_LEN], 0).unwrap();
        users.register("b", b"pw", [1; SALT_LEN], 0).unwrap();
        assert_eq!(
            users.register("c", b"pw", [1; SALT_LEN], 0).err(),
            Some(RegistryError::Full)
        );
        users.remove("a-c30").unwrap();
        assert_eq!(users.remove("a-c30"), Err(RegistryError::NotFound));
        assert_eq!(users.find("a-c30").err(), Some(RegistryError::NotFound));
        // The freed slot takes a new index; the old name is never reissued.
        let c = users.register("c", b"pw", [1; SALT_LEN], 0).unwrap();
        assert_eq!((c.name(), c.index()), ("c-c32", 2));
        assert_eq!(users.find("b-c31").unwrap().index(), 1);
        assert_eq!(users.find("c-c32").unwrap().index(), 2);
        let mut none: [Option<RegisteredUser>; 0] = [];
        let mut no_clients: [ClientEntry; 0] = [];
        let mut empty = registry(&mut none, &mut no_clients);
        assert_eq!(
            empty.register("a", b"pw", [1; SALT_LEN], 0).err(),
            Some(RegistryError::Full)
        );
    }

    #[test]
    fn indexes_run_out_without_reuse() {
        let mut slots = [None; 2];
        let mut clients = [ClientEntry::default(); 2];
        let mut users = registry(&mut slots, &mut clients);
        users.next_index = Some(u32::MAX);
        let last = users.register("z", b"pw", [1; SALT_LEN], 0).unwrap();
        assert_eq!(last.name(), "z-c3ffffffff");
        assert_eq!(
            users.register("y", b"pw", [1; SALT_LEN], 0).err(),
            Some(RegistryError::IndexesExhausted)
        );
    }

    #[test]
    fn bad_configuration_refused() {
        let mut slots = [None; 2];
        let mut clients = [ClientEntry::default(); 2];
        for (cpu_name, iterations, error) in [
            ("c-3", 2, RegistryError::BadName),
            ("", 2, RegistryError::BadName),
            ("c 3", 2, RegistryError::BadName),
            ("c3", 0, RegistryError::BadHashParameters),
        ] {
            let config = RegistryConfig {
                cpu_name,
                iterations,
                ..CONFIG
            };
            assert_eq!(
                UserRegistry::new(config, &mut slots, &mut clients).err(),
                Some(error),
                "{cpu_name}"
            );
        }
    }

    #[test]
    fn login_opens_sessions_and_locks_accounts_and_clients() {
        let mut slots = [None; 4];
        let mut clients = [ClientEntry::default(); 2];
        let mut users = registry(&mut slots, &mut clients);
        users.register("ann", b"right", [1; SALT_LEN], 0).unwrap();
        users.register("bob", b"bobs", [2; SALT_LEN], 0).unwrap();
        let token = Token([7; 16]);
        assert_eq!(
            users.login("ann-c30", b"right", &CLIENT, 10, token),
            Ok(LoginOutcome::Accepted(token))
        );
        assert!(users
            .find("ann-c30")
            .unwrap()
            .account
            .sessions
            .check(&token, 69));
        assert!(!users
            .find("ann-c30")
            .unwrap()
            .account
            .sessions
            .check(&token, 70));
        // Unknown names of this core are refused like wrong passwords and
        // count against the client.
        let other = [1u8; 16];
        for t in 0..u64::from(MAX_FAILURES) {
            assert_eq!(
                users.login("nobody-c39", b"x", &other, 100 + t, token),
                Ok(LoginOutcome::Refused)
            );
        }
        assert_eq!(
            users.login("bob-c31", b"bobs", &other, 105, token),
            Ok(LoginOutcome::Locked),
            "a locked client is refused even with the right password"
        );
        assert_eq!(
            users.login("bob-c31", b"bobs", &CLIENT, 105, token),
            Ok(LoginOutcome::Accepted(token))
        );
        let after = 104 + LOCK_TIME;
        assert_eq!(
            users.login("bob-c31", b"bobs", &other, after, token),
            Ok(LoginOutcome::Accepted(token))
        );
        // The account itself locks after repeated wrong passwords from
        // changing clients.
        for t in 0..u64::from(MAX_FAILURES) {
            let client = [t as u8 + 100; 16];
            users
                .login("ann-c30", b"wrong", &client, 200 + t, token)
                .unwrap();
        }
        assert_eq!(
            users.login("ann-c30", b"right", &CLIENT, 210, token),
            Ok(LoginOutcome::Locked)
        );
    }

    #[test]
    fn the_configured_lockout_applies_to_accounts_and_clients() {
        let mut slots = [None; 4];
        let mut clients = [ClientEntry::default(); 4];
        let config = RegistryConfig {
            lockout: LockoutPolicy {
                max_failures: 2,
                window: 60,
                lock_time: 5,
            },
            ..CONFIG
        };
        let mut users = UserRegistry::new(config, &mut slots, &mut clients).unwrap();
        users.register("ann", b"right", [1; SALT_LEN], 0).unwrap();
        let token = Token([7; 16]);
        let (a, b, c) = ([1u8; 16], [2u8; 16], [3u8; 16]);
        assert_eq!(
            users.login("ann-c30", b"x", &a, 10, token),
            Ok(LoginOutcome::Refused)
        );
        assert_eq!(
            users.login("ann-c30", b"x", &b, 11, token),
            Ok(LoginOutcome::Refused)
        );
        // Two failures lock the account (from any client) for 5 seconds.
        assert_eq!(
            users.login("ann-c30", b"right", &c, 15, token),
            Ok(LoginOutcome::Locked)
        );
        assert_eq!(
            users.login("ann-c30", b"right", &c, 16, token),
            Ok(LoginOutcome::Accepted(token))
        );
        // Two failures from one client lock that client for 5 seconds.
        let d = [4u8; 16];
        users.login("nobody-c39", b"x", &d, 20, token).unwrap();
        users.login("nobody-c39", b"x", &d, 21, token).unwrap();
        assert_eq!(
            users.login("ann-c30", b"right", &d, 25, token),
            Ok(LoginOutcome::Locked)
        );
        assert_eq!(
            users.login("ann-c30", b"right", &d, 26, token),
            Ok(LoginOutcome::Accepted(token))
        );
    }
}

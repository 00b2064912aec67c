//! System users (administrators): at most 32, the first is `root`, whose
//! name never changes; only root manages the others; every change goes to
//! an append-only audit log first.

use super::user::UserAccount;

/// Most system users.
pub const MAX_SYSTEM_USERS: usize = 32;
/// Longest system user name.
pub const SYSTEM_NAME_LEN: usize = 32;
/// Slot of root.
pub const ROOT: usize = 0;

/// What an audit entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditAction {
    /// A user was added.
    Add,
    /// A user was removed.
    Remove,
    /// A user was renamed.
    Rename,
    /// A password was set.
    SetPassword,
}

/// One audit record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditEntry {
    /// Position in the log, from 0.
    pub sequence: u64,
    /// When (platform seconds).
    pub time: u64,
    /// Slot of the user who acted.
    pub actor: u8,
    /// What was done.
    pub action: AuditAction,
    /// Slot acted on.
    pub target: u8,
}

/// Why a change was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SystemUserError {
    /// Only root may manage system users.
    NotRoot,
    /// Root's name cannot change and root cannot be removed.
    RootIsFixed,
    /// All 32 slots are taken.
    Full,
    /// No user in that slot.
    NoSuchUser,
    /// Empty, too long, or a taken name.
    BadName,
    /// The audit log is full: no change may happen unrecorded.
    AuditFull,
}

/// An append-only audit log over caller-provided entries.
pub struct AuditLog<'a> {
    entries: &'a mut [Option<AuditEntry>],
    len: usize,
}

impl<'a> AuditLog<'a> {
    /// An empty log.
    pub fn new(entries: &'a mut [Option<AuditEntry>]) -> Self {
        entries.fill(None);
        Self { entries, len: 0 }
    }

    /// The entries so far, oldest first.
    pub fn entries(&self) -> impl Iterator<Item = &AuditEntry> {
        self.entries.iter().take(self.len).flatten()
    }

    fn has_room(&self) -> bool {
        self.len < self.entries.len()
    }

    fn append(&mut self, time: u64, actor: usize, action: AuditAction, target: usize) {
        let entry = AuditEntry {
            sequence: self.len as u64,
            time,
            actor: actor as u8,
            action,
            target: target as u8,
        };
        if let Some(slot) = self.entries.get_mut(self.len) {
            *slot = Some(entry);
            self.len += 1;
        }
    }
}

/// A system user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SystemUser {
    name: [u8; SYSTEM_NAME_LEN],
    name_len: u8,
    /// Password and sessions.
    pub account: UserAccount,
}

impl SystemUser {
    /// The user's name.
    pub fn name(&self) -> &[u8] {
        self.name.get(..usize::from(self.name_len)).unwrap_or(&[])
    }
}

/// The system users of this machine.
pub struct SystemUsers {
    slots: [Option<SystemUser>; MAX_SYSTEM_USERS],
}

fn pack_name(name: &[u8]) -> Result<([u8; SYSTEM_NAME_LEN], u8), SystemUserError> {
    if name.is_empty() || name.iter().any(|b| !b.is_ascii_graphic() || *b == b'/') {
        return Err(SystemUserError::BadName);
    }
    let mut packed = [0u8; SYSTEM_NAME_LEN];
    packed
        .get_mut(..name.len())
        .ok_or(SystemUserError::BadName)?
        .copy_from_slice(name);
    Ok((packed, name.len() as u8))
}

impl SystemUsers {
    /// Only `root`, with `root_account` as its password.
    pub fn new(root_account: UserAccount) -> Self {
        let mut slots = [None; MAX_SYSTEM_USERS];
        if let (Some(slot), Ok((name, name_len))) = (slots.first_mut(), pack_name(b"root")) {
            *slot = Some(SystemUser {
                name,
                name_len,
                account: root_account,
            });
        }
        Self { slots }
    }

    /// The user in `slot`.
    pub fn get(&self, slot: usize) -> Option<&SystemUser> {
        self.slots.get(slot)?.as_ref()
    }

    /// The slot of the user named `name`.
    pub fn find(&self, name: &[u8]) -> Option<usize> {
        self.slots
            .iter()
            .position(|s| s.as_ref().is_some_and(|u| u.name() == name))
    }

    fn check(&self, actor: usize, audit: &AuditLog<'_>) -> Result<(), SystemUserError> {
        if actor != ROOT {
            return Err(SystemUserError::NotRoot);
        }
        if !audit.has_room() {
            return Err(SystemUserError::AuditFull);
        }
        Ok(())
    }

    /// Adds a user; returns its slot.
    pub fn add(
        &mut self,
        actor: usize,
        name: &[u8],
        account: UserAccount,
        audit: &mut AuditLog<'_>,
        now: u64,
    ) -> Result<usize, SystemUserError> {
        self.check(actor, audit)?;
        let (packed, name_len) = pack_name(name)?;
        if self.find(name).is_some() {
            return Err(SystemUserError::BadName);
        }
        let slot = self
            .slots
            .iter()
            .position(Option::is_none)
            .ok_or(SystemUserError::Full)?;
        audit.append(now, actor, AuditAction::Add, slot);
        if let Some(entry) = self.slots.get_mut(slot) {
            *entry = Some(SystemUser {
                name: packed,
                name_len,
                account,
            });
        }
        Ok(slot)
    }

    /// Removes a user other than root.
    pub fn remove(
        &mut self,
        actor: usize,
        target: usize,
        audit: &mut AuditLog<'_>,
        now: u64,
    ) -> Result<(), SystemUserError> {
        self.check(actor, audit)?;
        if target == ROOT {
            return Err(SystemUserError::RootIsFixed);
        }
        let slot = self
            .slots
            .get_mut(target)
            .filter(|s| s.is_some())
            .ok_or(SystemUserError::NoSuchUser)?;
        audit.append(now, actor, AuditAction::Remove, target);
        *slot = None;
        Ok(())
    }

    /// Renames a user other than root.
    pub fn rename(
        &mut self,
        actor: usize,
        target: usize,
        name: &[u8],
        audit: &mut AuditLog<'_>,
        now: u64,
    ) -> Result<(), SystemUserError> {
        self.check(actor, audit)?;
        if target == ROOT {
            return Err(SystemUserError::RootIsFixed);
        }
        let (packed, name_len) = pack_name(name)?;
        if self.find(name).is_some_and(|s| s != target) {
            return Err(SystemUserError::BadName);
        }
        let user = self
            .slots
            .get_mut(target)
            .and_then(Option::as_mut)
            .ok_or(SystemUserError::NoSuchUser)?;
        audit.append(now, actor, AuditAction::Rename, target);
        user.name = packed;
        user.name_len = name_len;
        Ok(())
    }

    /// Replaces a user's account (password); root may do it for anyone,
    /// a user for themself.
    pub fn set_account(
        &mut self,
        actor: usize,
        target: usize,
        account: UserAccount,
        audit: &mut AuditLog<'_>,
        now: u64,
    ) -> Result<(), SystemUserError> {
        if actor != ROOT && actor != target {
            return Err(SystemUserError::NotRoot);
        }
        if !audit.has_room() {
            return Err(SystemUserError::AuditFull);
        }
        let user = self
            .slots
            .get_mut(target)
            .and_then(Option::as_mut)
            .ok_or(SystemUserError::NoSuchUser)?;
        audit.append(now, actor, AuditAction::SetPassword, target);
        user.account = account;
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    extern crate std;
    use super::super::user::SALT_LEN;
    use super::*;
    use std::format;
    use std::vec::Vec;

    fn account() -> UserAccount {
        UserAccount::new(b"pw", [0; SALT_LEN], 1).unwrap()
    }

    #[test]
    fn root_first_and_fixed() {
        let mut entries = [None; 8];
        let mut audit = AuditLog::new(&mut entries);
        let mut users = SystemUsers::new(account());
        assert_eq!(users.get(ROOT).unwrap().name(), b"root");
        assert_eq!(
            users.rename(ROOT, ROOT, b"admin", &mut audit, 1),
            Err(SystemUserError::RootIsFixed)
        );
        assert_eq!(
            users.remove(ROOT, ROOT, &mut audit, 1),
            Err(SystemUserError::RootIsFixed)
        );
        assert_eq!(audit.entries().count(), 0);
    }

    #[test]
    fn only_root_manages_and_everything_is_audited() {
        let mut entries = [None; 8];
        let mut audit = AuditLog::new(&mut entries);
        let mut users = SystemUsers::new(account());
        let ops = users.add(ROOT, b"ops", account(), &mut audit, 10).unwrap();
        assert_eq!(
            users.add(ops, b"eve", account(), &mut audit, 11),
            Err(SystemUserError::NotRoot)
        );
        assert_eq!(
            users.add(ROOT, b"ops", account(), &mut audit, 11),
            Err(SystemUserError::BadName)
        );
        assert_eq!(
            users.add(ROOT, b"a b", account(), &mut audit, 11),
            Err(SystemUserError::BadName)
        );
        users.rename(ROOT, ops, b"ops2", &mut audit, 12).unwrap();
        assert_eq!(users.find(b"ops2"), Some(ops));
        users
            .set_account(ops, ops, account(), &mut audit, 13)
            .unwrap();
        assert_eq!(
            users.set_account(ops, ROOT, account(), &mut audit, 13),
            Err(SystemUserError::NotRoot)
        );
        users.remove(ROOT, ops, &mut audit, 14).unwrap();
        assert_eq!(users.get(ops), None);
        let log: Vec<_> = audit
            .entries()
            .map(|e| (e.sequence, e.time, e.action, e.target))
            .collect();
        assert_eq!(
            format!("{log:?}"),
            "[(0, 10, Add, 1), (1, 12, Rename, 1), (2, 13, SetPassword, 1), (3, 14, Remove, 1)]"
        );
    }

    #[test]
    fn thirty_two_at_most_and_full_audit_stops_changes() {
        let mut entries = [None; 40];
        let mut audit = AuditLog::new(&mut entries);
        let mut users = SystemUsers::new(account());
        for i in 1..MAX_SYSTEM_USERS {
            let name = format!("u{i}");
            users
                .add(ROOT, name.as_bytes(), account(), &mut audit, 0)
                .unwrap();
        }
        assert_eq!(
            users.add(ROOT, b"extra", account(), &mut audit, 0),
            Err(SystemUserError::Full)
        );
        let mut small = [None; 1];
        let mut tiny_audit = AuditLog::new(&mut small);
        users.remove(ROOT, 5, &mut tiny_audit, 0).unwrap();
        assert_eq!(
            users.remove(ROOT, 6, &mut tiny_audit, 0),
            Err(SystemUserError::AuditFull)
        );
        assert!(users.get(6).is_some());
    }
}

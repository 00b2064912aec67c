//! System users (administrators): at most 32, the first is `root`, whose
//! name never changes; only root manages the others; every change is first
//! appended to the audit log on disk (who, what, when) and made only once
//! that record is written.

use super::disk::audit_log::{AuditError, AuditLog, AuditName};
use super::disk::device::SectorDevice;
use super::user::UserAccount;

pub use super::disk::audit_log::{AuditAction, AuditEntry};

/// Most system users.
pub const MAX_SYSTEM_USERS: usize = 32;
/// Longest system user name.
pub const SYSTEM_NAME_LEN: usize = 32;
/// Slot of root.
pub const ROOT: usize = 0;

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
    /// The audit record could not be written, so the change was not made.
    Audit(AuditError),
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

    fn check<D: SectorDevice>(
        &self,
        actor: usize,
        audit: &AuditLog<D>,
    ) -> Result<(), SystemUserError> {
        if actor != ROOT {
            return Err(SystemUserError::NotRoot);
        }
        if !audit.has_room() {
            return Err(SystemUserError::AuditFull);
        }
        Ok(())
    }

    /// Writes who did what to whom, and when, before the change is made.
    fn record<D: SectorDevice>(
        &self,
        audit: &mut AuditLog<D>,
        time: u64,
        actor: usize,
        action: AuditAction,
        target: usize,
        target_name: &[u8],
    ) -> Result<(), SystemUserError> {
        let actor_name = self.get(actor).map_or(&[][..], SystemUser::name);
        let entry = AuditEntry {
            time,
            actor: u8::try_from(actor).map_err(|_| SystemUserError::NoSuchUser)?,
            actor_name: AuditName::new(actor_name).ok_or(SystemUserError::BadName)?,
            action,
            target: u8::try_from(target).map_err(|_| SystemUserError::NoSuchUser)?,
            target_name: AuditName::new(target_name).ok_or(SystemUserError::BadName)?,
        };
        match audit.append(&entry) {
            Ok(_) => Ok(()),
            Err(AuditError::Full) => Err(SystemUserError::AuditFull),
            Err(error) => Err(SystemUserError::Audit(error)),
        }
    }

    /// Adds a user; returns its slot.
    pub fn add<D: SectorDevice>(
        &mut self,
        actor: usize,
        name: &[u8],
        account: UserAccount,
        audit: &mut AuditLog<D>,
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
        self.record(audit, now, actor, AuditAction::Add, slot, name)?;
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
    pub fn remove<D: SectorDevice>(
        &mut self,
        actor: usize,
        target: usize,
        audit: &mut AuditLog<D>,
        now: u64,
    ) -> Result<(), SystemUserError> {
        self.check(actor, audit)?;
        if target == ROOT {
            return Err(SystemUserError::RootIsFixed);
        }
        let old = self.get(target).ok_or(SystemUserError::NoSuchUser)?;
        let (old_name, old_len) = (old.name, old.name_len);
        let old_name = old_name.get(..usize::from(old_len)).unwrap_or(&[]);
        self.record(audit, now, actor, AuditAction::Remove, target, old_name)?;
        if let Some(slot) = self.slots.get_mut(target) {
            *slot = None;
        }
        Ok(())
    }

    /// Renames a user other than root.
    pub fn rename<D: SectorDevice>(
        &mut self,
        actor: usize,
        target: usize,
        name: &[u8],
        audit: &mut AuditLog<D>,
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
        self.get(target).ok_or(SystemUserError::NoSuchUser)?;
        self.record(audit, now, actor, AuditAction::Rename, target, name)?;
        let user = self
            .slots
            .get_mut(target)
            .and_then(Option::as_mut)
            .ok_or(SystemUserError::NoSuchUser)?;
        user.name = packed;
        user.name_len = name_len;
        Ok(())
    }

    /// Replaces a user's account (password); root may do it for anyone,
    /// a user for themself.
    pub fn set_account<D: SectorDevice>(
        &mut self,
        actor: usize,
        target: usize,
        account: UserAccount,
        audit: &mut AuditLog<D>,
        now: u64,
    ) -> Result<(), SystemUserError> {
        if actor != ROOT && actor != target {
            return Err(SystemUserError::NotRoot);
        }
        if !audit.has_room() {
            return Err(SystemUserError::AuditFull);
        }
        let user = self.get(target).ok_or(SystemUserError::NoSuchUser)?;
        let (name, name_len) = (user.name, user.name_len);
        let name = name.get(..usize::from(name_len)).unwrap_or(&[]);
        self.record(audit, now, actor, AuditAction::SetPassword, target, name)?;
        let user = self
            .slots
            .get_mut(target)
            .and_then(Option::as_mut)
            .ok_or(SystemUserError::NoSuchUser)?;
        user.account = account;
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    extern crate std;
    use super::super::disk::device::{MemDevice, SECTOR_SIZE};
    use super::super::user::SALT_LEN;
    use super::*;
    use std::format;
    use std::string::String;
    use std::vec;
    use std::vec::Vec;

    fn account() -> UserAccount {
        UserAccount::new(b"pw", [0; SALT_LEN], 1).unwrap()
    }

    fn region(records: usize) -> Vec<u8> {
        vec![0u8; records * SECTOR_SIZE]
    }

    /// Every record of the log on `disk`, as "time actor-name action target:target-name".
    fn read_back(disk: &mut [u8]) -> Vec<String> {
        let (mut log, _) = AuditLog::recover(MemDevice::new(disk)).unwrap();
        (0..log.len())
            .map(|n| {
                let e = log.get(n).unwrap();
                format!(
                    "{} {} {:?} {}:{}",
                    e.time,
                    String::from_utf8_lossy(e.actor_name.as_bytes()),
                    e.action,
                    e.target,
                    String::from_utf8_lossy(e.target_name.as_bytes())
                )
            })
            .collect()
    }

    #[test]
    fn root_first_and_fixed() {
        let mut disk = region(8);
        let mut audit = AuditLog::format(MemDevice::new(&mut disk)).unwrap();
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
        assert!(audit.is_empty());
    }

    #[test]
    fn only_root_manages_and_every_change_is_on_disk() {
        let mut disk = region(8);
        {
            let mut audit = AuditLog::format(MemDevice::new(&mut disk)).unwrap();
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
        }
        assert_eq!(
            read_back(&mut disk),
            [
                "10 root Add 1:ops",
                "12 root Rename 1:ops2",
                "13 ops2 SetPassword 1:ops2",
                "14 root Remove 1:ops2",
            ]
        );
    }

    #[test]
    fn thirty_two_at_most_and_full_audit_stops_changes() {
        let mut disk = region(40);
        let mut audit = AuditLog::format(MemDevice::new(&mut disk)).unwrap();
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
        let mut small = region(1);
        let mut tiny_audit = AuditLog::format(MemDevice::new(&mut small)).unwrap();
        users.remove(ROOT, 5, &mut tiny_audit, 0).unwrap();
        assert_eq!(
            users.remove(ROOT, 6, &mut tiny_audit, 0),
            Err(SystemUserError::AuditFull)
        );
        assert!(users.get(6).is_some());
    }
}

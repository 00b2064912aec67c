//! Power cuts while system users change: at every write of a scripted
//! series of changes, the cut write lands none, part or all of its sector
//! and every later write fails. After recovery every acknowledged change is
//! in the audit log, in order, nothing else is except possibly the change
//! in flight, and the log keeps taking changes.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

extern crate std;

use super::super::system_users::{SystemUserError, SystemUsers, ROOT};
use super::super::user::{UserAccount, SALT_LEN};
use super::audit_log::{AuditAction, AuditLog};
use super::test_device::{FaultDevice, PowerCut};
use std::vec::Vec;

const SECTORS: u64 = 16;

/// A change as the script names it: its time and action.
type Change = (u64, AuditAction);

fn account() -> UserAccount {
    UserAccount::new(b"pw", [0; SALT_LEN], 1).unwrap()
}

fn formatted() -> Vec<u8> {
    let mut dev = FaultDevice::new(SECTORS);
    AuditLog::format(&mut dev).unwrap();
    dev.bytes
}

/// Runs the script until the device dies; returns the (time, action)
/// pairs acknowledged, and the one in flight when the cut came.
fn run_script(dev: &mut FaultDevice) -> (Vec<Change>, Option<Change>) {
    let (mut audit, _) = AuditLog::recover(&mut *dev).unwrap();
    let mut users = SystemUsers::new(account());
    let mut acknowledged = Vec::new();
    let steps: [Change; 6] = [
        (1, AuditAction::Add),
        (2, AuditAction::Add),
        (3, AuditAction::Rename),
        (4, AuditAction::SetPassword),
        (5, AuditAction::Remove),
        (6, AuditAction::Add),
    ];
    for (time, action) in steps {
        let before = users.find(b"ops");
        let result = match action {
            AuditAction::Add if time == 2 => users.add(ROOT, b"dev", account(), &mut audit, time),
            AuditAction::Add => users.add(ROOT, b"ops", account(), &mut audit, time),
            AuditAction::Rename => users
                .rename(ROOT, 1, b"ops-a", &mut audit, time)
                .map(|()| 1),
            AuditAction::SetPassword => users
                .set_account(ROOT, 2, account(), &mut audit, time)
                .map(|()| 2),
            AuditAction::Remove => users.remove(ROOT, 1, &mut audit, time).map(|()| 1),
        };
        match result {
            Ok(_) => acknowledged.push((time, action)),
            Err(SystemUserError::Audit(_)) => {
                // Refused: the user table did not change.
                assert_eq!(users.find(b"ops"), before);
                return (acknowledged, Some((time, action)));
            }
            Err(other) => panic!("step {time}: {other:?}"),
        }
    }
    (acknowledged, None)
}

#[test]
fn every_cut_point_keeps_every_acknowledged_change() {
    let clean = formatted();
    let mut baseline = FaultDevice::from_bytes(clean.clone());
    let (all, pending) = run_script(&mut baseline);
    assert!(pending.is_none() && all.len() == 6);
    let sizes = baseline.write_sizes.clone();
    let mut cut_points = 0;
    for (at_write, &size) in sizes.iter().enumerate() {
        for landed_sectors in 0..=size {
            let mut dev = FaultDevice::from_bytes(clean.clone());
            dev.cut = Some(PowerCut {
                at_write,
                landed_sectors,
            });
            let (acknowledged, pending) = run_script(&mut dev);
            assert!(dev.dead);
            cut_points += 1;
            let mut restarted = FaultDevice::from_bytes(dev.bytes.clone());
            let (mut audit, report) = AuditLog::recover(&mut restarted).unwrap();
            let mut found = Vec::new();
            for n in 0..audit.len() {
                let entry = audit.get(n).unwrap();
                found.push((entry.time, entry.action));
            }
            assert_eq!(
                found[..acknowledged.len()],
                acknowledged[..],
                "cut {at_write}"
            );
            let extra = &found[acknowledged.len()..];
            assert!(
                extra.is_empty() || (extra.len() == 1 && Some(extra[0]) == pending),
                "cut {at_write}/{landed_sectors}: {extra:?}"
            );
            assert!(!report.torn_tail || extra.is_empty());
            // The log keeps working after recovery.
            let mut users = SystemUsers::new(account());
            users.add(ROOT, b"late", account(), &mut audit, 99).unwrap();
            let (mut again, _) = AuditLog::recover(&mut restarted).unwrap();
            let last = again.get(again.len() - 1).unwrap();
            assert_eq!((last.time, last.action), (99, AuditAction::Add));
        }
    }
    std::println!("audit-log power cuts tried: {cut_points}");
    assert_eq!(cut_points, 12);
}

//! The system users' audit log on disk: who changed what, and when.
//!
//! The design keeps system users' data in a disk partition of its own, so
//! the log is a whole `SectorDevice` (a region set aside for it). Record
//! `n` is the 128-byte record at the start of sector `n`, the rest of the
//! sector zero: an append writes one fresh sector and never rewrites an
//! older one, so a power cut can only lose the append in flight. The record
//! sequence number is its position, so a stale or misplaced record never
//! passes for the next one. Formatting zeroes the whole region.
//!
//! Recovery reads from sector 0 up to the first sector that is not the next
//! good record. If that sector is not empty, it is the torn last append,
//! never acknowledged: it is dropped and overwritten by the next append.
//! Every sector after it must be zero, as formatting left it; anything else
//! there is damage, and the log is refused rather than trusted.

use super::super::system_users::SYSTEM_NAME_LEN;
use super::device::{DeviceError, SectorDevice, SECTOR_SIZE};
use super::record::{Record, RecordError, RecordKind, RECORD_LEN};

/// Payload offsets (relative to the payload start, byte 16 of the record).
const TIME: usize = 0;
const ACTOR: usize = 8;
const ACTION: usize = 9;
const TARGET: usize = 10;
const ACTOR_NAME_LEN: usize = 11;
const TARGET_NAME_LEN: usize = 12;
const ACTOR_NAME: usize = 16;
const TARGET_NAME: usize = 48;
/// Slots of system users: at most 32.
const MAX_SLOT: u8 = 31;

/// What was done.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditAction {
    /// A user was added.
    Add = 1,
    /// A user was removed.
    Remove = 2,
    /// A user was renamed.
    Rename = 3,
    /// A password was set.
    SetPassword = 4,
}

impl AuditAction {
    fn from_raw(raw: u8) -> Option<Self> {
        match raw {
            1 => Some(Self::Add),
            2 => Some(Self::Remove),
            3 => Some(Self::Rename),
            4 => Some(Self::SetPassword),
            _ => None,
        }
    }
}

/// A system user's name as recorded (names change, so the log keeps them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditName {
    bytes: [u8; SYSTEM_NAME_LEN],
    len: u8,
}

impl AuditName {
    /// `name`, if it fits.
    pub fn new(name: &[u8]) -> Option<Self> {
        let mut bytes = [0u8; SYSTEM_NAME_LEN];
        bytes.get_mut(..name.len())?.copy_from_slice(name);
        Some(Self {
            bytes,
            len: u8::try_from(name.len()).ok()?,
        })
    }

    /// The name's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or(&[])
    }
}

/// One change: who (actor), what (action on target), when (time).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditEntry {
    /// When (platform seconds).
    pub time: u64,
    /// Slot of the user who acted.
    pub actor: u8,
    /// The actor's name at the time.
    pub actor_name: AuditName,
    /// What was done.
    pub action: AuditAction,
    /// Slot acted on.
    pub target: u8,
    /// The target's name after the change (before it, for a removal).
    pub target_name: AuditName,
}

impl AuditEntry {
    /// Writes the entry as record `sequence` into `buf`.
    pub fn encode(&self, buf: &mut [u8], sequence: u64) -> Result<(), RecordError> {
        let mut record = Record::new_unchecked_contents(buf)?;
        record.clear();
        record.set_payload_u64(TIME, self.time);
        record.set_payload_bytes(ACTOR, &[self.actor]);
        record.set_payload_bytes(ACTION, &[self.action as u8]);
        record.set_payload_bytes(TARGET, &[self.target]);
        record.set_payload_bytes(ACTOR_NAME_LEN, &[self.actor_name.len]);
        record.set_payload_bytes(TARGET_NAME_LEN, &[self.target_name.len]);
        record.set_payload_bytes(ACTOR_NAME, &self.actor_name.bytes);
        record.set_payload_bytes(TARGET_NAME, &self.target_name.bytes);
        record.seal(RecordKind::Audit, sequence);
        Ok(())
    }

    /// Reads a sealed record; returns the entry and its sequence number.
    pub fn decode(buf: &[u8]) -> Result<(Self, u64), RecordError> {
        let record = Record::new_checked(buf, RecordKind::Audit)?;
        let byte = |offset: usize| {
            let [value] = record.payload_bytes::<1>(offset);
            value
        };
        let (actor, action, target) = (byte(ACTOR), byte(ACTION), byte(TARGET));
        let (actor_len, target_len) = (byte(ACTOR_NAME_LEN), byte(TARGET_NAME_LEN));
        let action = AuditAction::from_raw(action).ok_or(RecordError::BadField)?;
        if actor > MAX_SLOT || target > MAX_SLOT {
            return Err(RecordError::BadField);
        }
        let name = |offset: usize, len: u8| {
            let bytes = record.payload_bytes::<SYSTEM_NAME_LEN>(offset);
            let used = bytes.get(..usize::from(len)).ok_or(RecordError::BadField)?;
            AuditName::new(used).ok_or(RecordError::BadField)
        };
        let entry = Self {
            time: record.payload_u64(TIME),
            actor,
            actor_name: name(ACTOR_NAME, actor_len)?,
            action,
            target,
            target_name: name(TARGET_NAME, target_len)?,
        };
        // Bytes past the name must be zero, or the record is not one GH wrote.
        if entry.actor_name.bytes != record.payload_bytes::<SYSTEM_NAME_LEN>(ACTOR_NAME)
            || entry.target_name.bytes != record.payload_bytes::<SYSTEM_NAME_LEN>(TARGET_NAME)
        {
            return Err(RecordError::BadField);
        }
        Ok((entry, record.sequence()))
    }
}

/// Why the audit log failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditError {
    /// The device failed; the log must be recovered before further use.
    Device(DeviceError),
    /// An earlier device failure stopped the log.
    Stopped,
    /// Every sector holds a record: no change may happen unrecorded.
    Full,
    /// Record `at` fails its checks though later records are good: the
    /// region is damaged, and its log is not trusted.
    Corrupt {
        /// Position of the bad record.
        at: u64,
    },
    /// No record at that position.
    NotFound,
}

impl From<DeviceError> for AuditError {
    fn from(error: DeviceError) -> Self {
        Self::Device(error)
    }
}

/// What recovery found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditRecovery {
    /// Records in the log.
    pub entries: u64,
    /// Whether a torn last append (never acknowledged) was dropped.
    pub torn_tail: bool,
}

/// The append-only audit log over its own device.
pub struct AuditLog<D: SectorDevice> {
    device: D,
    len: u64,
    stopped: bool,
}

impl<D: SectorDevice> AuditLog<D> {
    /// Writes an empty log over the whole of `device`.
    pub fn format(mut device: D) -> Result<Self, AuditError> {
        let zero = [0u8; SECTOR_SIZE];
        for sector in 0..device.sector_count() {
            device.write(sector, &zero)?;
        }
        Ok(Self {
            device,
            len: 0,
            stopped: false,
        })
    }

    /// Reopens the log on `device` after a restart or power cut.
    pub fn recover(mut device: D) -> Result<(Self, AuditRecovery), AuditError> {
        let capacity = device.sector_count();
        let mut len = 0;
        let mut torn_tail = false;
        while len < capacity {
            match read_record(&mut device, len)? {
                Slot::Empty => break,
                Slot::Good(_, sequence) if sequence == len => len += 1,
                Slot::Good(..) | Slot::Bad => {
                    torn_tail = true;
                    break;
                }
            }
        }
        let mut buf = [0u8; SECTOR_SIZE];
        for sector in len.saturating_add(1)..capacity {
            device.read(sector, &mut buf)?;
            if buf.iter().any(|&b| b != 0) {
                let at = if torn_tail { len } else { sector };
                return Err(AuditError::Corrupt { at });
            }
        }
        let log = Self {
            device,
            len,
            stopped: false,
        };
        Ok((
            log,
            AuditRecovery {
                entries: len,
                torn_tail,
            },
        ))
    }

    /// Records in the log.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the log holds no record.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Whether another record fits.
    pub fn has_room(&self) -> bool {
        self.len < self.device.sector_count()
    }

    /// Appends `entry`; returns its position once it is on disk. Only then
    /// may the change it records be made.
    pub fn append(&mut self, entry: &AuditEntry) -> Result<u64, AuditError> {
        if self.stopped {
            return Err(AuditError::Stopped);
        }
        if !self.has_room() {
            return Err(AuditError::Full);
        }
        let mut buf = [0u8; SECTOR_SIZE];
        let position = self.len;
        entry
            .encode(&mut buf, position)
            .map_err(|_| AuditError::Corrupt { at: position })?;
        if let Err(error) = self.device.write(position, &buf) {
            self.stopped = true;
            return Err(AuditError::Device(error));
        }
        self.len += 1;
        Ok(position)
    }

    /// Reads record `position` back from disk.
    pub fn get(&mut self, position: u64) -> Result<AuditEntry, AuditError> {
        if position >= self.len {
            return Err(AuditError::NotFound);
        }
        match read_record(&mut self.device, position)? {
            Slot::Good(entry, sequence) if sequence == position => Ok(entry),
            _ => Err(AuditError::Corrupt { at: position }),
        }
    }
}

/// What one sector of the region holds.
enum Slot {
    Empty,
    Good(AuditEntry, u64),
    Bad,
}

fn read_record<D: SectorDevice>(device: &mut D, sector: u64) -> Result<Slot, AuditError> {
    let mut buf = [0u8; SECTOR_SIZE];
    device.read(sector, &mut buf)?;
    let (record, rest) = buf.split_at(RECORD_LEN);
    if rest.iter().any(|&b| b != 0) {
        return Ok(Slot::Bad);
    }
    Ok(match AuditEntry::decode(record) {
        Ok((entry, sequence)) => Slot::Good(entry, sequence),
        Err(RecordError::Empty) => Slot::Empty,
        Err(_) => Slot::Bad,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    extern crate std;
    use super::super::device::MemDevice;
    use super::*;
    use std::vec;

    pub(crate) fn entry(time: u64, action: AuditAction, target: u8, name: &[u8]) -> AuditEntry {
        AuditEntry {
            time,
            actor: 0,
            actor_name: AuditName::new(b"root").unwrap(),
            action,
            target,
            target_name: AuditName::new(name).unwrap(),
        }
    }

    #[test]
    fn record_layout_byte_by_byte() {
        let mut buf = [0u8; RECORD_LEN];
        let e = entry(0x0102_0304_0506_0708, AuditAction::Rename, 3, b"ops2");
        e.encode(&mut buf, 9).unwrap();
        assert_eq!(&buf[4..8], b"GHAU");
        assert_eq!(&buf[8..16], &9u64.to_le_bytes());
        assert_eq!(&buf[16..24], &0x0102_0304_0506_0708u64.to_le_bytes());
        assert_eq!(&buf[24..29], &[0, 3, 3, 4, 4]);
        assert_eq!(&buf[29..32], &[0; 3]);
        assert_eq!(&buf[32..36], b"root");
        assert_eq!(&buf[64..68], b"ops2");
        assert!(buf[96..].iter().all(|&b| b == 0));
        assert_eq!(AuditEntry::decode(&buf), Ok((e, 9)));
    }

    #[test]
    fn impossible_fields_are_refused_even_with_a_good_checksum() {
        let good = entry(1, AuditAction::Add, 1, b"ops");
        for (offset, value) in [(25usize, 9u8), (26, 32), (24, 40), (28, 33), (70, b'x')] {
            let mut buf = [0u8; RECORD_LEN];
            good.encode(&mut buf, 0).unwrap();
            buf[offset] = value;
            let mut record = Record::new_unchecked_contents(&mut buf[..]).unwrap();
            record.seal(RecordKind::Audit, 0);
            assert_eq!(
                AuditEntry::decode(&buf),
                Err(RecordError::BadField),
                "byte {offset}"
            );
        }
    }

    #[test]
    fn appended_entries_come_back_after_a_restart() {
        let mut disk = vec![0xeeu8; 8 * SECTOR_SIZE];
        let script = [
            entry(10, AuditAction::Add, 1, b"ops"),
            entry(12, AuditAction::Rename, 1, b"ops2"),
            entry(13, AuditAction::SetPassword, 1, b"ops2"),
        ];
        {
            let mut log = AuditLog::format(MemDevice::new(&mut disk)).unwrap();
            for (n, e) in script.iter().enumerate() {
                assert_eq!(log.append(e), Ok(n as u64));
            }
        }
        let (mut log, report) = AuditLog::recover(MemDevice::new(&mut disk)).unwrap();
        assert_eq!(
            report,
            AuditRecovery {
                entries: 3,
                torn_tail: false
            }
        );
        for (n, e) in script.iter().enumerate() {
            assert_eq!(log.get(n as u64), Ok(*e));
        }
        assert_eq!(log.get(3), Err(AuditError::NotFound));
        for n in 3..8 {
            log.append(&script[0]).unwrap();
            assert_eq!(log.len(), n + 1);
        }
        assert_eq!(log.append(&script[0]), Err(AuditError::Full));
    }

    #[test]
    fn damage_before_good_records_is_refused_and_a_torn_tail_dropped() {
        let mut disk = vec![0u8; 8 * SECTOR_SIZE];
        {
            let mut log = AuditLog::format(MemDevice::new(&mut disk)).unwrap();
            for t in 0..3 {
                log.append(&entry(t, AuditAction::Add, 1, b"a")).unwrap();
            }
        }
        let mut damaged = disk.clone();
        damaged[SECTOR_SIZE + 40] ^= 1;
        assert_eq!(
            AuditLog::recover(MemDevice::new(&mut damaged)).err(),
            Some(AuditError::Corrupt { at: 1 })
        );
        // The same damage to the last record is a torn append.
        let mut torn = disk.clone();
        torn[2 * SECTOR_SIZE + 40] ^= 1;
        let (mut log, report) = AuditLog::recover(MemDevice::new(&mut torn)).unwrap();
        assert_eq!(
            report,
            AuditRecovery {
                entries: 2,
                torn_tail: true
            }
        );
        assert_eq!(log.append(&entry(9, AuditAction::Remove, 1, b"a")), Ok(2));
        // A record copied to the wrong position is not the next one.
        let mut moved = disk.clone();
        moved.copy_within(0..SECTOR_SIZE, 3 * SECTOR_SIZE);
        let (_, report) = AuditLog::recover(MemDevice::new(&mut moved)).unwrap();
        assert_eq!((report.entries, report.torn_tail), (3, true));
        // Anything past the end of the log is damage, even a good record.
        let mut stale = disk.clone();
        stale.copy_within(0..SECTOR_SIZE, 5 * SECTOR_SIZE);
        assert_eq!(
            AuditLog::recover(MemDevice::new(&mut stale)).err(),
            Some(AuditError::Corrupt { at: 5 })
        );
    }
}

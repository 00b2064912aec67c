// SPDX-License-Identifier: GPL-2.0

//! GigaHttpd's polled driver for virtio-net over modern (1.x) PCI.
//!
//! [`VirtioNet::new`] runs in Linux, on a device taken from its Linux driver: it finds the
//! virtio structures through the vendor capabilities, negotiates VERSION_1 (and MAC), and
//! sets up one receive and one transmit split virtqueue in whole pages, with interrupts
//! suppressed and no MSI-X vector. From then on only the GigaHttpd core that owns the NIC
//! touches the queues ([`VirtioNet::poll`]): it reads the used rings, hands each frame to
//! the engine, reposts the buffer, and queues replies, all without calling into Linux.
//! Dropping the driver resets the device.

use core::mem::offset_of;
use core::sync::atomic::{fence, Ordering};

use kernel::prelude::*;

use crate::bindings::{self, virtio_pci_common_cfg as CommonCfg};
use crate::nic_stats::{bump, count_sent, deliver, NicStats, SendFrame};
use crate::pages::Pages;
use crate::pci::{PciDev, TakenPci};

/// Most descriptors per queue; the device may offer fewer.
const MAX_QUEUE: u16 = 256;
/// Receive and transmit buffer size: the 12-byte header and a full Ethernet frame fit.
const BUF_SIZE: usize = 2048;
/// `struct virtio_net_hdr_v1`, which precedes every frame once VERSION_1 is negotiated.
const NET_HDR: usize = core::mem::size_of::<bindings::virtio_net_hdr_v1>();
/// Buffer pages per queue: MAX_QUEUE * BUF_SIZE = 512 KiB.
const BUF_ORDER: u32 = 7;
/// Ring pages per queue: descriptors, driver ring and device ring in 16 KiB.
const RING_ORDER: u32 = 2;
const RX: u16 = 0;
const TX: u16 = 1;

/// Where a virtio structure lives: a BAR mapping plus an offset.
#[derive(Clone, Copy)]
struct Region {
    base: *mut u8,
    len: usize,
}

impl Region {
    fn read<T: Copy>(&self, offset: usize) -> T {
        if offset + core::mem::size_of::<T>() > self.len {
            // SAFETY: an all-zero value is valid for the integer types read here.
            return unsafe { core::mem::zeroed() };
        }
        // SAFETY: in bounds of the mapped structure (checked above); MMIO is read with
        // a single volatile access, as readb/readw/readl do.
        unsafe { core::ptr::read_volatile(self.base.add(offset).cast::<T>()) }
    }

    fn write<T: Copy>(&self, offset: usize, value: T) {
        if offset + core::mem::size_of::<T>() > self.len {
            return;
        }
        // SAFETY: as for `read`.
        unsafe { core::ptr::write_volatile(self.base.add(offset).cast::<T>(), value) }
    }
}

/// One split virtqueue in memory the driver owns.
struct Queue {
    /// A power of two, at most `MAX_QUEUE`: ring slots are indices masked with `size - 1`.
    size: u16,
    ring: Pages,
    bufs: Pages,
    notify: Region,
    /// Next device-ring slot to look at.
    last_used: u16,
    /// Next driver-ring slot to fill.
    next_avail: u16,
}

impl Queue {
    const DESC: usize = 0;
    const AVAIL: usize = 4096;
    const USED: usize = 8192;

    fn new(size: u16, notify: Region) -> Result<Self> {
        Ok(Self {
            size,
            ring: Pages::new(RING_ORDER)?,
            bufs: Pages::new(BUF_ORDER)?,
            notify,
            last_used: 0,
            next_avail: 0,
        })
    }

    fn ring_ptr<T>(&self, offset: usize) -> *mut T {
        (self.ring.addr() + offset) as *mut T
    }

    fn set_desc(&self, id: u16, len: u32, flags: u16) {
        let desc = bindings::vring_desc {
            addr: self.bufs.phys() + u64::from(id) * BUF_SIZE as u64,
            len,
            flags,
            next: 0,
        };
        let slot = self
            .ring_ptr::<bindings::vring_desc>(Self::DESC)
            .wrapping_add(id.into());
        // SAFETY: `id < size <= MAX_QUEUE`, and the table of MAX_QUEUE 16-byte entries fits
        // in the 4 KiB before the driver ring.
        unsafe { core::ptr::write_volatile(slot, desc) };
    }

    /// Offers descriptor `id` to the device (visible after `publish`).
    fn push_avail(&mut self, id: u16) {
        let slot = 4 + 2 * usize::from(self.next_avail & self.size.wrapping_sub(1));
        // SAFETY: the driver ring (4 + 2 * MAX_QUEUE bytes) fits its 4 KiB.
        unsafe { core::ptr::write_volatile(self.ring_ptr::<u16>(Self::AVAIL + slot), id) };
        self.next_avail = self.next_avail.wrapping_add(1);
    }

    /// Makes pushed descriptors visible to the device and notifies it.
    fn publish(&self, queue_index: u16) {
        fence(Ordering::Release);
        let idx = Self::AVAIL + offset_of!(bindings::vring_avail, idx);
        // SAFETY: the driver ring's index field, in the ring pages.
        unsafe { core::ptr::write_volatile(self.ring_ptr::<u16>(idx), self.next_avail) };
        self.kick(queue_index);
    }

    /// Notifies the device that the queue may have new descriptors.
    fn kick(&self, queue_index: u16) {
        fence(Ordering::SeqCst);
        self.notify.write::<u16>(0, queue_index);
    }

    /// The driver ring's index as last published: what the device has been offered.
    fn avail_idx(&self) -> u16 {
        let idx = Self::AVAIL + offset_of!(bindings::vring_avail, idx);
        // SAFETY: the driver ring's index field, in the ring pages.
        unsafe { core::ptr::read_volatile(self.ring_ptr::<u16>(idx)) }
    }

    /// The device ring's index: what the device has given back.
    fn used_idx(&self) -> u16 {
        let idx = Self::USED + offset_of!(bindings::vring_used, idx);
        // SAFETY: the device ring's index field, in the ring pages.
        unsafe { core::ptr::read_volatile(self.ring_ptr::<u16>(idx)) }
    }

    /// The next completed descriptor, taken off the used ring.
    fn pop_used(&mut self) -> Option<(u16, u32)> {
        let next = self.peek_used()?;
        self.advance_used();
        Some(next)
    }

    /// Moves past the descriptor [`Self::peek_used`] returned.
    fn advance_used(&mut self) {
        self.last_used = self.last_used.wrapping_add(1);
    }

    /// The next completed descriptor: (id, bytes written by the device), left on the used
    /// ring until [`Self::advance_used`].
    fn peek_used(&self) -> Option<(u16, u32)> {
        if self.used_idx() == self.last_used {
            return None;
        }
        fence(Ordering::Acquire);
        let slot = 4 + 8 * usize::from(self.last_used & self.size.wrapping_sub(1));
        // SAFETY: the device ring (4 + 8 * MAX_QUEUE bytes) fits its 8 KiB.
        let elem = unsafe {
            core::ptr::read_volatile(self.ring_ptr::<bindings::vring_used_elem>(Self::USED + slot))
        };
        Some((elem.id as u16, elem.len))
    }

    fn buf(&mut self, id: u16) -> Option<&mut [u8]> {
        if id >= self.size {
            return None;
        }
        let start = self.bufs.addr() + usize::from(id) * BUF_SIZE;
        // SAFETY: `id < size`, so the buffer lies in `bufs`; the device writes it only while
        // the descriptor is offered, and it is used here only after the device returned it.
        Some(unsafe { core::slice::from_raw_parts_mut(start as *mut u8, BUF_SIZE) })
    }
}

/// A virtio-net device driven by GigaHttpd.
pub(crate) struct VirtioNet {
    // Held for what dropping them does. The BARs are unmapped first, after `drop` has
    // reset the device through them; then (still before the rings are freed) Linux gets
    // the function back, and the reset guarantees no DMA into the rings.
    #[allow(dead_code)]
    maps: BarMaps,
    #[allow(dead_code)]
    pci: TakenPci,
    common: Region,
    mac: [u8; 6],
    rx: Queue,
    tx: Queue,
    /// Transmit descriptors not offered to the device.
    tx_free: [u16; MAX_QUEUE as usize],
    tx_free_len: usize,
}

/// The BARs `VirtioNet::new` mapped, unmapped when dropped: also when `new` fails half
/// way.
struct BarMaps {
    pci: *mut bindings::pci_dev,
    maps: [*mut u8; 6],
}

impl Drop for BarMaps {
    fn drop(&mut self) {
        for map in self.maps.iter().filter(|m| !m.is_null()) {
            // SAFETY: mapped by `pci_iomap` for this device in `VirtioNet::new`, unmapped
            // once; the device outlives this (its `TakenPci` is dropped after).
            unsafe { bindings::pci_iounmap(self.pci, map.cast()) };
        }
    }
}

// SAFETY: the MMIO and ring pointers are only used by whoever holds `&mut VirtioNet`
// (setup and teardown in Linux, polling on the core in between, never both at once).
unsafe impl Send for VirtioNet {}

/// Location of one virtio structure from its vendor capability.
#[derive(Clone, Copy, Default)]
struct CapInfo {
    bar: u8,
    offset: u32,
    length: u32,
    notify_multiplier: u32,
}

impl VirtioNet {
    /// Sets up a taken virtio-net device for polling.
    pub(crate) fn new(pci: TakenPci) -> Result<Self> {
        let caps = find_caps(&pci)?;
        let mut maps = BarMaps {
            pci: pci_raw(&pci),
            maps: [core::ptr::null_mut::<u8>(); 6],
        };
        let mut region = |cap: CapInfo| -> Result<Region> {
            let (_, bar_len) = pci.bar(cap.bar).ok_or(ENODEV)?;
            if u64::from(cap.offset) + u64::from(cap.length) > bar_len {
                return Err(ENODEV);
            }
            let slot = maps.maps.get_mut(usize::from(cap.bar)).ok_or(ENODEV)?;
            if slot.is_null() {
                // SAFETY: maps the whole BAR of a device this driver has enabled.
                *slot = unsafe { bindings::pci_iomap(pci_raw(&pci), cap.bar.into(), 0) }.cast();
                if slot.is_null() {
                    return Err(ENOMEM);
                }
            }
            Ok(Region {
                // SAFETY: in bounds of the BAR (checked above).
                base: unsafe { slot.add(cap.offset as usize) },
                len: cap.length as usize,
            })
        };
        let common = region(caps[0])?;
        let notify = region(caps[1])?;
        let device = region(caps[2])?;

        // Reset, then ACKNOWLEDGE and DRIVER.
        let status = offset_of!(CommonCfg, device_status);
        reset(&common)?;
        common.write::<u8>(status, bindings::VIRTIO_CONFIG_S_ACKNOWLEDGE as u8);
        common.write::<u8>(
            status,
            (bindings::VIRTIO_CONFIG_S_ACKNOWLEDGE | bindings::VIRTIO_CONFIG_S_DRIVER) as u8,
        );

        let offered = features(&common);
        let version_1 = 1u64 << bindings::VIRTIO_F_VERSION_1;
        let mac_feature = 1u64 << bindings::VIRTIO_NET_F_MAC;
        if offered & version_1 == 0 {
            pr_err!("virtio-net device offers no VERSION_1: not a modern device\n");
            return Err(ENODEV);
        }
        let wanted = version_1 | (offered & mac_feature);
        for half in 0..2u32 {
            common.write::<u32>(offset_of!(CommonCfg, guest_feature_select), half);
            common.write::<u32>(
                offset_of!(CommonCfg, guest_feature),
                (wanted >> (32 * half)) as u32,
            );
        }
        let features_ok = bindings::VIRTIO_CONFIG_S_ACKNOWLEDGE
            | bindings::VIRTIO_CONFIG_S_DRIVER
            | bindings::VIRTIO_CONFIG_S_FEATURES_OK;
        common.write::<u8>(status, features_ok as u8);
        if common.read::<u8>(status) & bindings::VIRTIO_CONFIG_S_FEATURES_OK as u8 == 0 {
            pr_err!("virtio-net device refused the features\n");
            return Err(ENODEV);
        }

        let mut mac = [0u8; 6];
        if wanted & mac_feature != 0 {
            for (i, byte) in mac.iter_mut().enumerate() {
                *byte = device.read::<u8>(i);
            }
        }

        let rx = setup_queue(&common, &notify, caps[1].notify_multiplier, RX)?;
        let tx = setup_queue(&common, &notify, caps[1].notify_multiplier, TX)?;
        let mut nic = Self {
            maps,
            pci,
            common,
            mac,
            rx,
            tx,
            tx_free: [0; MAX_QUEUE as usize],
            tx_free_len: 0,
        };
        nic.start();
        common.write::<u8>(
            status,
            (features_ok | bindings::VIRTIO_CONFIG_S_DRIVER_OK) as u8,
        );
        nic.rx.publish(RX);
        Ok(nic)
    }

    /// Offers every receive buffer and marks every transmit descriptor free.
    fn start(&mut self) {
        for id in 0..self.rx.size {
            self.rx
                .set_desc(id, BUF_SIZE as u32, bindings::VRING_DESC_F_WRITE as u16);
            self.rx.push_avail(id);
        }
        for id in 0..self.tx.size {
            if let Some(slot) = self.tx_free.get_mut(usize::from(id)) {
                *slot = id;
                self.tx_free_len += 1;
            }
        }
    }

    /// The NIC's MAC address.
    pub(crate) fn mac(&self) -> [u8; 6] {
        self.mac
    }

    /// Takes the queues up where the device sees them, at the start of every run of the
    /// owning core. The previous run may have been stopped by INIT (the watchdog, a stop
    /// that timed out) or an exception between any two stores of `poll` or `send`, and
    /// the compiler may keep the indices below in registers for a while: of the driver's
    /// own state nothing is trusted, only the published driver-ring indices and the
    /// device-ring index. No device reset, no waiting, nothing on the hot path.
    pub(crate) fn resync(&mut self) {
        // Receive: `poll` publishes only after reposting every frame it took, so at the
        // last publish `last_used + size == next_avail == avail.idx`. Frames taken after
        // it are met again: their buffers were never offered back (their driver-ring
        // slots lie past avail.idx, and are rewritten with the same ids), and their
        // replies were not published either (see below). So is the frame the engine was
        // handling, as before.
        let avail = self.rx.avail_idx();
        self.rx.next_avail = avail;
        self.rx.last_used = avail.wrapping_sub(self.rx.size);
        // Transmit: frames built but not published belonged to the engine that is gone
        // and are dropped. The free list and the used entries already taken are
        // forgotten; buffers the device gives back from now on are reclaimed as usual,
        // and `refill_tx` frees all of them once nothing is outstanding: here already if
        // the device has sent everything published, else at the first idle poll after
        // it has.
        self.tx.next_avail = self.tx.avail_idx();
        self.tx.last_used = self.tx.used_idx();
        self.tx_free_len = 0;
        refill_tx(&self.tx, &mut self.tx_free, &mut self.tx_free_len);
        // A run stopped between publishing an index and notifying leaves a device that
        // may wait for a notification (with no receive buffer left, forever): notify.
        self.rx.kick(RX);
        self.tx.kick(TX);
    }

    /// Takes back the transmit buffers the device is done with. An id the ring never
    /// gave out is ignored: on the free list it would stop every later send.
    fn reclaim_tx(&mut self) {
        while let Some((id, _)) = self.tx.pop_used() {
            if id >= self.tx.size {
                continue;
            }
            if let Some(slot) = self.tx_free.get_mut(self.tx_free_len) {
                *slot = id;
                self.tx_free_len += 1;
            }
        }
    }

    /// Receives every waiting frame, hands it to `handle` with a way to send replies, and
    /// reclaims sent buffers; counts into `stats`. Returns the number of frames received.
    pub(crate) fn poll(
        &mut self,
        stats: &NicStats,
        handle: &mut dyn FnMut(&[u8], &mut SendFrame<'_>),
    ) -> usize {
        self.reclaim_tx();
        let mut received = 0;
        let mut sent = 0;
        // A frame leaves the used ring only once handled, and counts as taken only once
        // its buffer is published again: if the core is reset while it handles one (the
        // watchdog), its next run (`resync`) finds the same frame again, after any frame
        // taken since the last publish.
        while let Some((id, len)) = self.rx.peek_used() {
            let len = len as usize;
            let Self {
                rx,
                tx,
                tx_free,
                tx_free_len,
                ..
            } = self;
            match rx.buf(id).and_then(|b| b.get(NET_HDR..len)) {
                Some(frame) => {
                    received += 1;
                    sent += deliver(stats, frame, handle, &mut |len, build| {
                        send(tx, tx_free, tx_free_len, len, build)
                    });
                }
                None => bump(&stats.rx_drops, 1),
            }
            rx.advance_used();
            if id < rx.size {
                rx.push_avail(id);
            }
        }
        if received > 0 {
            self.rx.publish(RX);
        } else if self.tx_free_len < usize::from(self.tx.size) {
            // Idle, and transmit buffers missing (a reset lost them; see `resync`): they
            // come back once none is outstanding. Frames never wait for this.
            refill_tx(&self.tx, &mut self.tx_free, &mut self.tx_free_len);
        }
        if sent > 0 {
            self.tx.publish(TX);
        }
        received
    }
}

impl VirtioNet {
    /// Sends one frame of `len` bytes outside of `poll` (timers), built in place by
    /// `build`; counts it into `stats`.
    pub(crate) fn send(
        &mut self,
        stats: &NicStats,
        len: usize,
        build: &mut dyn FnMut(&mut [u8]),
    ) -> bool {
        self.reclaim_tx();
        let Self {
            tx,
            tx_free,
            tx_free_len,
            ..
        } = self;
        let ok = send(tx, tx_free, tx_free_len, len, build);
        count_sent(stats, ok, len);
        if ok {
            self.tx.publish(TX);
        }
        ok
    }
}

/// Has `build` write a frame of `len` bytes into a free transmit buffer, behind a zero
/// header, and offers it; false (nothing built) when no buffer is free.
fn send(
    tx: &mut Queue,
    free: &mut [u16],
    free_len: &mut usize,
    len: usize,
    build: &mut dyn FnMut(&mut [u8]),
) -> bool {
    if len > BUF_SIZE - NET_HDR || *free_len == 0 {
        return false;
    }
    let Some(&id) = free.get(*free_len - 1) else {
        return false;
    };
    let Some(buf) = tx.buf(id) else { return false };
    let (hdr, body) = buf.split_at_mut(NET_HDR);
    hdr.fill(0);
    let Some(frame) = body.get_mut(..len) else {
        return false;
    };
    // A builder may leave padding untouched: no byte of an earlier frame goes out.
    frame.fill(0);
    build(frame);
    *free_len -= 1;
    tx.set_desc(id, (NET_HDR + len) as u32, 0);
    tx.push_avail(id);
    true
}

/// With nothing outstanding (every buffer offered has come back and been reclaimed,
/// nothing is pushed unpublished) every transmit buffer is free, whatever a reset lost:
/// puts them all on the free list.
#[cold]
fn refill_tx(tx: &Queue, free: &mut [u16], free_len: &mut usize) {
    if tx.last_used != tx.next_avail {
        return;
    }
    *free_len = 0;
    for id in 0..tx.size {
        if let Some(slot) = free.get_mut(usize::from(id)) {
            *slot = id;
            *free_len += 1;
        }
    }
}

impl Drop for VirtioNet {
    fn drop(&mut self) {
        // A reset stops all DMA; afterwards the rings may be freed, and not before.
        if reset(&self.common).is_err() {
            pr_err!("virtio-net device did not reset: its ring pages are left allocated\n");
            for queue in [&mut self.rx, &mut self.tx] {
                queue.ring.leak();
                queue.bufs.leak();
            }
        }
        // The BARs are unmapped as `maps` drops, first of the fields.
    }
}

fn pci_raw(pci: &PciDev) -> *mut bindings::pci_dev {
    pci.as_raw()
}

/// PCI IDs of the devices this driver takes: modern (1.x only) virtio-net.
pub(crate) const PCI_IDS: (u16, u16) = (0x1af4, 0x1041);

fn reset(common: &Region) -> Result {
    let status = offset_of!(CommonCfg, device_status);
    common.write::<u8>(status, 0);
    for _ in 0..1000 {
        if common.read::<u8>(status) == 0 {
            return Ok(());
        }
        // SAFETY: process context.
        unsafe { bindings::msleep(1) };
    }
    Err(EIO)
}

fn features(common: &Region) -> u64 {
    let mut features = 0u64;
    for half in 0..2u32 {
        common.write::<u32>(offset_of!(CommonCfg, device_feature_select), half);
        features |=
            u64::from(common.read::<u32>(offset_of!(CommonCfg, device_feature))) << (32 * half);
    }
    features
}

fn setup_queue(common: &Region, notify: &Region, multiplier: u32, index: u16) -> Result<Queue> {
    common.write::<u16>(offset_of!(CommonCfg, queue_select), index);
    let offered = common.read::<u16>(offset_of!(CommonCfg, queue_size));
    if offered == 0 || !offered.is_power_of_two() {
        return Err(ENODEV);
    }
    let size = offered.min(MAX_QUEUE);
    common.write::<u16>(offset_of!(CommonCfg, queue_size), size);
    common.write::<u16>(
        offset_of!(CommonCfg, queue_msix_vector),
        bindings::VIRTIO_MSI_NO_VECTOR as u16,
    );
    let notify_off = common.read::<u16>(offset_of!(CommonCfg, queue_notify_off));
    let at = usize::from(notify_off) * multiplier as usize;
    if at + 2 > notify.len {
        return Err(ENODEV);
    }
    let queue = Queue::new(
        size,
        Region {
            // SAFETY: in bounds of the notify structure (checked above).
            base: unsafe { notify.base.add(at) },
            len: 2,
        },
    )?;
    let no_interrupt = Queue::AVAIL + offset_of!(bindings::vring_avail, flags);
    // SAFETY: the driver ring's flags field, in the ring pages.
    unsafe {
        core::ptr::write_volatile(
            queue.ring_ptr::<u16>(no_interrupt),
            bindings::VRING_AVAIL_F_NO_INTERRUPT as u16,
        )
    };
    let base = queue.ring.phys();
    for (lo, hi, addr) in [
        (
            offset_of!(CommonCfg, queue_desc_lo),
            offset_of!(CommonCfg, queue_desc_hi),
            base + Queue::DESC as u64,
        ),
        (
            offset_of!(CommonCfg, queue_avail_lo),
            offset_of!(CommonCfg, queue_avail_hi),
            base + Queue::AVAIL as u64,
        ),
        (
            offset_of!(CommonCfg, queue_used_lo),
            offset_of!(CommonCfg, queue_used_hi),
            base + Queue::USED as u64,
        ),
    ] {
        common.write::<u32>(lo, addr as u32);
        common.write::<u32>(hi, (addr >> 32) as u32);
    }
    common.write::<u16>(offset_of!(CommonCfg, queue_enable), 1);
    Ok(queue)
}

/// Finds the common, notify and device configuration structures.
fn find_caps(pci: &PciDev) -> Result<[CapInfo; 3]> {
    let mut found: [Option<CapInfo>; 3] = [None; 3];
    let mut pos = pci.config_u8(bindings::PCI_CAPABILITY_LIST as u8) & !3;
    // A capability list has at most 48 entries in 256 bytes; bound the walk.
    for _ in 0..48 {
        if pos < 0x40 {
            break;
        }
        let id = pci.config_u8(pos);
        let next = pci.config_u8(pos + 1);
        if u32::from(id) == bindings::PCI_CAP_ID_VNDR && pos <= 0xff - 20 {
            let cfg_type = u32::from(pci.config_u8(pos + 3));
            let cap = CapInfo {
                bar: pci.config_u8(pos + 4),
                offset: pci.config_u32(pos + 8),
                length: pci.config_u32(pos + 12),
                notify_multiplier: pci.config_u32(pos + 16),
            };
            let slot = match cfg_type {
                bindings::VIRTIO_PCI_CAP_COMMON_CFG => found.get_mut(0),
                bindings::VIRTIO_PCI_CAP_NOTIFY_CFG => found.get_mut(1),
                bindings::VIRTIO_PCI_CAP_DEVICE_CFG => found.get_mut(2),
                _ => None,
            };
            // The first of each kind in a memory BAR: a device may offer one in an I/O
            // port BAR first (QEMU's `modern-pio-notify`), which this driver cannot use.
            if let Some(slot @ None) = slot {
                if pci.bar(cap.bar).is_some() {
                    *slot = Some(cap);
                }
            }
        }
        pos = next & !3;
    }
    match found {
        [Some(common), Some(notify), Some(device)] => Ok([common, notify, device]),
        _ => {
            pr_err!("virtio-net device lacks the modern PCI capabilities\n");
            Err(ENODEV)
        }
    }
}

// SPDX-License-Identifier: GPL-2.0

//! GigaHttpd's polled driver for the Intel 82540EM (e1000), as QEMU emulates it.
//!
//! Register offsets and descriptor layouts are the hardware's (82540EM datasheet).
//! [`E1000::new`] runs in Linux on a device taken from its Linux driver: reset, all
//! interrupts masked, link up, one receive and one transmit ring of 256 legacy
//! descriptors in whole pages. Afterwards only the owning core touches it
//! ([`E1000::poll`]). Dropping the driver resets the device, which stops its DMA.

use core::sync::atomic::{fence, Ordering};

use kernel::prelude::*;

use crate::bindings;
use crate::gh_net::bytes::copy;
use crate::nic_stats::{bump, count_sent, deliver, NicStats, SendFrame};
use crate::pages::Pages;
use crate::pci::TakenPci;

/// PCI IDs of the devices this driver takes: the 82540EM.
pub(crate) const PCI_IDS: (u16, u16) = (0x8086, 0x100e);

const CTRL: usize = 0x0000;
const STATUS: usize = 0x0008;
const IMC: usize = 0x00d8;
const RCTL: usize = 0x0100;
const TCTL: usize = 0x0400;
const TIPG: usize = 0x0410;
const RDBAL: usize = 0x2800;
const RDBAH: usize = 0x2804;
const RDLEN: usize = 0x2808;
const RDH: usize = 0x2810;
const RDT: usize = 0x2818;
const TDBAL: usize = 0x3800;
const TDBAH: usize = 0x3804;
const TDLEN: usize = 0x3808;
const TDH: usize = 0x3810;
const TDT: usize = 0x3818;
const RAL0: usize = 0x5400;
const RAH0: usize = 0x5404;

const CTRL_RST: u32 = 1 << 26;
const CTRL_ASDE: u32 = 1 << 5;
const CTRL_SLU: u32 = 1 << 6;
const RCTL_EN: u32 = 1 << 1;
const RCTL_BAM: u32 = 1 << 15;
const RCTL_SECRC: u32 = 1 << 26;
const TCTL_EN: u32 = 1 << 1;
const TCTL_PSP: u32 = 1 << 3;
const TCTL_CT: u32 = 0x10 << 4;
const TCTL_COLD: u32 = 0x40 << 12;
const TIPG_82540: u32 = 10 | (8 << 10) | (6 << 20);
/// Descriptor status: the device is done with it.
const DESC_DD: u8 = 1;
/// Transmit command: end of packet, insert FCS, report status.
const TX_CMD: u8 = 0x01 | 0x02 | 0x08;

const RING: u16 = 256;
/// Frames one poll takes at most (Linux's NAPI weight): the rest wait in the ring.
const POLL_BUDGET: usize = 64;
const BUF_SIZE: usize = 2048;
/// 256 buffers of 2 KiB: 512 KiB.
const BUF_ORDER: u32 = 7;
/// 256 descriptors of 16 bytes: one page.
const DESC_ORDER: u32 = 0;
const DESC_SIZE: usize = 16;

/// One legacy descriptor ring and its buffers.
struct Ring {
    desc: Pages,
    bufs: Pages,
    /// Next descriptor to look at (receive) or to fill (transmit).
    next: u16,
    /// Transmit: oldest descriptor not yet reclaimed.
    clean: u16,
}

impl Ring {
    fn new() -> Result<Self> {
        Ok(Self {
            desc: Pages::new(DESC_ORDER)?,
            bufs: Pages::new(BUF_ORDER)?,
            next: 0,
            clean: 0,
        })
    }

    /// Descriptor `i` as 16 bytes.
    fn desc(&self, i: u16) -> *mut [u8; DESC_SIZE] {
        (self.desc.addr() + usize::from(i % RING) * DESC_SIZE) as *mut [u8; DESC_SIZE]
    }

    fn buf_phys(&self, i: u16) -> u64 {
        self.bufs.phys() + u64::from(i % RING) * BUF_SIZE as u64
    }

    fn buf(&mut self, i: u16) -> &mut [u8] {
        let start = self.bufs.addr() + usize::from(i % RING) * BUF_SIZE;
        // SAFETY: `i % RING` selects one of the ring's buffers inside `bufs`; the device
        // writes it only while its descriptor is owned by the device.
        unsafe { core::slice::from_raw_parts_mut(start as *mut u8, BUF_SIZE) }
    }
}

/// An e1000 driven by GigaHttpd.
pub(crate) struct E1000 {
    // Dropped after `drop` has reset the device; then Linux gets the function back, and
    // only after that are the rings freed.
    pci: TakenPci,
    regs: *mut u8,
    mac: [u8; 6],
    rx: Ring,
    tx: Ring,
}

// SAFETY: the MMIO and ring pointers are used only by whoever holds `&mut E1000` (setup
// and teardown in Linux, polling on the owning core in between, never both).
unsafe impl Send for E1000 {}

impl E1000 {
    /// Sets up a taken e1000 for polling.
    pub(crate) fn new(pci: TakenPci) -> Result<Self> {
        let (_, len) = pci.bar(0).ok_or(ENODEV)?;
        if len < 0x6000 {
            return Err(ENODEV);
        }
        // The rings first: from the mapping on, `Drop` undoes everything.
        let (rx, tx) = (Ring::new()?, Ring::new()?);
        // SAFETY: maps BAR 0 of a device this driver has enabled.
        let regs: *mut u8 = unsafe { bindings::pci_iomap(pci.as_raw(), 0, 0) }.cast();
        if regs.is_null() {
            return Err(ENOMEM);
        }
        let mut nic = Self {
            pci,
            regs,
            mac: [0; 6],
            rx,
            tx,
        };
        nic.reset()?;
        nic.write(IMC, u32::MAX);
        nic.write(CTRL, nic.read(CTRL) | CTRL_SLU | CTRL_ASDE);
        let (low, high) = (nic.read(RAL0), nic.read(RAH0));
        nic.mac = [
            low as u8,
            (low >> 8) as u8,
            (low >> 16) as u8,
            (low >> 24) as u8,
            high as u8,
            (high >> 8) as u8,
        ];

        for i in 0..RING {
            let addr = nic.rx.buf_phys(i);
            // SAFETY: the descriptor lies in the ring page; the device is not running yet.
            unsafe { write_desc(nic.rx.desc(i), addr, 0, 0, 0) };
        }
        nic.program_ring(RDBAL, RDBAH, RDLEN, RDH, &nic.rx.desc);
        // All but one descriptor go to the device (head == tail means none).
        nic.write(RDT, u32::from(RING - 1));
        nic.write(RCTL, RCTL_EN | RCTL_BAM | RCTL_SECRC);
        nic.program_ring(TDBAL, TDBAH, TDLEN, TDH, &nic.tx.desc);
        nic.write(TDT, 0);
        nic.write(TIPG, TIPG_82540);
        nic.write(TCTL, TCTL_EN | TCTL_PSP | TCTL_CT | TCTL_COLD);
        Ok(nic)
    }

    fn read(&self, reg: usize) -> u32 {
        // SAFETY: every register used is inside BAR 0 (checked to be at least 0x6000 long).
        unsafe { core::ptr::read_volatile(self.regs.add(reg).cast::<u32>()) }
    }

    fn write(&self, reg: usize, value: u32) {
        // SAFETY: as for `read`.
        unsafe { core::ptr::write_volatile(self.regs.add(reg).cast::<u32>(), value) }
    }

    fn program_ring(&self, bal: usize, bah: usize, len: usize, head: usize, desc: &Pages) {
        self.write(bal, desc.phys() as u32);
        self.write(bah, (desc.phys() >> 32) as u32);
        self.write(len, u32::from(RING) * DESC_SIZE as u32);
        self.write(head, 0);
    }

    fn reset(&self) -> Result {
        self.write(IMC, u32::MAX);
        self.write(CTRL, self.read(CTRL) | CTRL_RST);
        for _ in 0..1000 {
            // SAFETY: process context.
            unsafe { bindings::msleep(1) };
            if self.read(CTRL) & CTRL_RST == 0 {
                self.write(IMC, u32::MAX);
                // A read flushes the posted writes.
                let _ = self.read(STATUS);
                return Ok(());
            }
        }
        Err(EIO)
    }

    /// The NIC's MAC address.
    pub(crate) fn mac(&self) -> [u8; 6] {
        self.mac
    }

    /// Takes the rings up where the device sees them, at the start of every run of the
    /// owning core: the previous run may have been stopped (INIT, an exception) between
    /// any two stores of `poll` or `send`. The tail registers are the truth; no device
    /// reset, no waiting, nothing on the hot path.
    pub(crate) fn resync(&mut self) {
        // Receive: the descriptor at RDT is the hole, never the device's; `poll` moves
        // RDT onto a frame's descriptor once the frame is handled, so the next frame is
        // the one after it (the frame a reset interrupted, if any, is met again). The
        // hole may still carry the DD bit of the frame it held: clean it.
        let hole = (self.read(RDT) % u32::from(RING)) as u16;
        let addr = self.rx.buf_phys(hole);
        // SAFETY: the descriptor at RDT lies in the ring page, outside the device's part.
        unsafe { write_desc(self.rx.desc(hole), addr, 0, 0, 0) };
        self.rx.next = (hole + 1) % RING;
        // Transmit: descriptors filled past TDT were never handed over; they are
        // dropped (their DD is clear, and `reclaim_tx` stops at TDT until they are
        // filled again). `clean` stays: it only ever passes descriptors the device
        // completed, so it never passes TDT, and an older value only reclaims again
        // descriptors whose DD is still set (DD is cleared only by a refill at `next`).
        self.tx.next = (self.read(TDT) % u32::from(RING)) as u16;
    }

    /// Receives waiting frames, up to [`POLL_BUDGET`], hands each to `handle` with a way
    /// to send replies, and reclaims sent descriptors; counts into `stats`.
    pub(crate) fn poll(
        &mut self,
        stats: &NicStats,
        handle: &mut dyn FnMut(&[u8], &mut SendFrame<'_>),
    ) -> usize {
        self.reclaim_tx();
        let mut received = 0;
        let mut sent = false;
        // Bounded, so that a flood never keeps the core from its timers, its heartbeat
        // and the transmit doorbell below.
        for _ in 0..POLL_BUDGET {
            let i = self.rx.next;
            // The status first, then the rest: a descriptor the device completes between
            // two reads is never taken with the length it had before.
            // SAFETY: the status byte lies in the descriptor, in the ring page shared with
            // the device.
            let status = unsafe { core::ptr::read_volatile(self.rx.desc(i).cast::<u8>().add(12)) };
            if status & DESC_DD == 0 {
                break;
            }
            fence(Ordering::Acquire);
            // SAFETY: as above; the device wrote the descriptor before setting DD.
            let desc = unsafe { core::ptr::read_volatile(self.rx.desc(i)) };
            let len = usize::from(u16::from_le_bytes([desc[8], desc[9]]));
            let Self { rx, tx, regs, .. } = self;
            let regs = *regs;
            match rx.buf(i).get(..len).filter(|_| len >= 14) {
                Some(frame) => {
                    received += 1;
                    if deliver(stats, frame, handle, &mut |len, build| {
                        transmit(tx, len, build)
                    }) > 0
                    {
                        sent = true;
                    }
                }
                None => bump(&stats.rx_drops, 1),
            }
            // The tail moves onto `i`: the device gets the descriptor before it (the
            // hole, cleaned when it became the hole), and `i` becomes the hole, which the
            // device never owns, and is cleaned. RDT alone then says which frame is next,
            // whichever store a reset stops the core before (see `resync`).
            fence(Ordering::Release);
            // SAFETY: RDT lies in BAR 0.
            unsafe { core::ptr::write_volatile(regs.add(RDT).cast::<u32>(), u32::from(i)) };
            let addr = rx.buf_phys(i);
            // SAFETY: descriptor `i` is at RDT, outside the device's part of the ring.
            unsafe { write_desc(rx.desc(i), addr, 0, 0, 0) };
            rx.next = (i + 1) % RING;
        }
        if sent {
            fence(Ordering::Release);
            self.write(TDT, u32::from(self.tx.next));
        }
        received
    }

    /// Sends one frame of `len` bytes outside of `poll` (timers), built in place by
    /// `build`; counts it into `stats`.
    pub(crate) fn send(
        &mut self,
        stats: &NicStats,
        len: usize,
        build: &mut dyn FnMut(&mut [u8]),
    ) -> bool {
        self.reclaim_tx();
        let ok = transmit(&mut self.tx, len, build);
        count_sent(stats, ok, len);
        if ok {
            fence(Ordering::Release);
            self.write(TDT, u32::from(self.tx.next));
        }
        ok
    }

    fn reclaim_tx(&mut self) {
        while self.tx.clean != self.tx.next {
            // SAFETY: the descriptor lies in the ring page.
            let desc = unsafe { core::ptr::read_volatile(self.tx.desc(self.tx.clean)) };
            if desc[12] & DESC_DD == 0 {
                break;
            }
            self.tx.clean = (self.tx.clean + 1) % RING;
        }
    }
}

/// Has `build` write a frame of `len` bytes into the next free transmit buffer and fills
/// its descriptor (the caller moves the tail); false (nothing built) when the ring is full.
fn transmit(tx: &mut Ring, len: usize, build: &mut dyn FnMut(&mut [u8])) -> bool {
    let i = tx.next;
    let next = (i + 1) % RING;
    if next == tx.clean || len > BUF_SIZE {
        return false;
    }
    let Some(frame) = tx.buf(i).get_mut(..len) else {
        return false;
    };
    // A builder may leave padding untouched: no byte of an earlier frame goes out.
    frame.fill(0);
    build(frame);
    let addr = tx.buf_phys(i);
    // SAFETY: descriptor `i` is not owned by the device (it is between clean and tail).
    unsafe { write_desc(tx.desc(i), addr, len as u16, TX_CMD, 0) };
    tx.next = next;
    true
}

/// Writes a legacy descriptor: buffer address, length, command byte (transmit), status.
///
/// # Safety
///
/// `desc` must point at a descriptor the device does not own.
unsafe fn write_desc(desc: *mut [u8; DESC_SIZE], addr: u64, len: u16, cmd: u8, status: u8) {
    let mut d = [0u8; DESC_SIZE];
    copy(&mut d[..8], &addr.to_le_bytes());
    copy(&mut d[8..10], &len.to_le_bytes());
    d[11] = cmd;
    d[12] = status;
    // SAFETY: per the function's contract.
    unsafe { core::ptr::write_volatile(desc, d) };
}

impl Drop for E1000 {
    fn drop(&mut self) {
        // A reset stops all DMA; the rings are freed after the device is given back,
        // unless it would not reset.
        if self.reset().is_err() {
            pr_err!("e1000 did not reset: its ring pages are left allocated\n");
            for ring in [&mut self.rx, &mut self.tx] {
                ring.desc.leak();
                ring.bufs.leak();
            }
        }
        // SAFETY: mapped by `pci_iomap` in `new`, unmapped once.
        unsafe { bindings::pci_iounmap(self.pci.as_raw(), self.regs.cast()) };
    }
}

// SPDX-License-Identifier: GPL-2.0

//! A counted reference to a PCI function, and what GigaHttpd does with one: take it from
//! its Linux driver, enable it for polling, and give it back.

use core::ptr::NonNull;

use kernel::prelude::*;

use crate::bindings;
use crate::gh_proc::pci::PciAddr;

/// A PCI function GigaHttpd holds a reference to.
pub(crate) struct PciDev(NonNull<bindings::pci_dev>);

// SAFETY: a counted `pci_dev` reference may be used from any thread.
unsafe impl Send for PciDev {}
// SAFETY: `&PciDev` only reads immutable identification fields and config space.
unsafe impl Sync for PciDev {}

impl PciDev {
    /// The function at `addr`, if there is one.
    pub(crate) fn get(addr: &PciAddr) -> Option<Self> {
        // SAFETY: takes a reference on the device it returns, or returns null.
        let dev = unsafe {
            bindings::pci_get_domain_bus_and_slot(
                i32::from(addr.domain),
                u32::from(addr.bus),
                addr.devfn(),
            )
        };
        NonNull::new(dev).map(Self)
    }

    /// Walks all functions with this vendor and device ID.
    pub(crate) fn find_all(vendor: u16, device: u16, mut each: impl FnMut(PciDev)) {
        let mut from: *mut bindings::pci_dev = core::ptr::null_mut();
        loop {
            // SAFETY: `pci_get_device` drops the reference on `from` and returns the next
            // match with a new reference, or null at the end.
            let dev = unsafe { bindings::pci_get_device(vendor.into(), device.into(), from) };
            let Some(dev) = NonNull::new(dev) else { return };
            // SAFETY: `dev` is referenced; the extra reference is owned by the `PciDev`.
            unsafe { bindings::pci_dev_get(dev.as_ptr()) };
            each(PciDev(dev));
            from = dev.as_ptr();
        }
    }

    /// The C `struct pci_dev`, for calls that take one.
    pub(crate) fn as_raw(&self) -> *mut bindings::pci_dev {
        self.0.as_ptr()
    }

    fn raw(&self) -> &bindings::pci_dev {
        // SAFETY: the reference keeps the device alive while `self` exists.
        unsafe { self.0.as_ref() }
    }

    fn dev(&self) -> *mut bindings::device {
        // SAFETY: only the address of the embedded `struct device` is taken.
        unsafe { core::ptr::addr_of_mut!((*self.0.as_ptr()).dev) }
    }

    /// The function's address, from its device name (`0000:00:04.0`).
    pub(crate) fn addr(&self) -> PciAddr {
        // SAFETY: a registered PCI device's kobject name is its address, set before it
        // was added and not changed afterwards.
        let name = unsafe { (*self.dev()).kobj.name };
        if name.is_null() {
            return PciAddr::default();
        }
        // SAFETY: kobject names are NUL-terminated.
        let name = unsafe { CStr::from_char_ptr(name) };
        name.to_str()
            .ok()
            .and_then(PciAddr::parse)
            .unwrap_or_default()
    }

    /// Vendor and device ID.
    pub(crate) fn ids(&self) -> (u16, u16) {
        (self.raw().vendor, self.raw().device)
    }

    /// Whether `device` is this function's `struct device` or below it.
    pub(crate) fn is_parent_of(&self, mut device: *const bindings::device) -> bool {
        while !device.is_null() {
            if core::ptr::eq(device, self.dev()) {
                return true;
            }
            // SAFETY: device parents outlive their children.
            device = unsafe { (*device).parent };
        }
        false
    }

    /// Reads a byte of config space.
    pub(crate) fn config_u8(&self, offset: u8) -> u8 {
        let mut value = 0u8;
        // SAFETY: config reads of a live device; out-of-range offsets read as errors.
        unsafe { bindings::pci_read_config_byte(self.0.as_ptr(), offset.into(), &mut value) };
        value
    }

    /// Reads a 32-bit word of config space.
    pub(crate) fn config_u32(&self, offset: u8) -> u32 {
        let mut value = 0u32;
        // SAFETY: as for `config_u8`.
        unsafe { bindings::pci_read_config_dword(self.0.as_ptr(), offset.into(), &mut value) };
        value
    }

    /// Physical start and length of memory BAR `bar`; `None` for an I/O port BAR,
    /// whose `pci_iomap` cookie is no address to load from or store to.
    pub(crate) fn bar(&self, bar: u8) -> Option<(u64, u64)> {
        let res = self.raw().resource.get(usize::from(bar))?;
        let memory = res.flags as u64 & u64::from(bindings::IORESOURCE_MEM) != 0;
        (memory && res.start != 0 && res.end > res.start)
            .then(|| (res.start, res.end - res.start + 1))
    }

    /// Unbinds the Linux driver and keeps any driver from binding (driver_override),
    /// then enables the function for GigaHttpd: memory decoding, bus mastering, no
    /// interrupts. Dropping the result gives the function back to Linux.
    pub(crate) fn take(self) -> Result<TakenPci> {
        let name = kernel::c_str!("gigahttpd");
        // SAFETY: sets this device's override under its lock; the string is copied.
        let rc = unsafe {
            bindings::__device_set_driver_override(self.dev(), name.as_char_ptr(), name.len())
        };
        if rc != 0 {
            return Err(Error::from_errno(rc));
        }
        // SAFETY: unbinds whatever driver is bound, under the device lock.
        unsafe { bindings::device_release_driver(self.dev()) };
        // SAFETY: the device is unbound; enabling it is what a driver's probe would do.
        let rc = unsafe { bindings::pci_enable_device(self.0.as_ptr()) };
        if rc != 0 {
            self.give_back_driver();
            return Err(Error::from_errno(rc));
        }
        // SAFETY: as above.
        unsafe {
            bindings::pci_set_master(self.0.as_ptr());
            bindings::pci_intx(self.0.as_ptr(), 0);
        }
        Ok(TakenPci(self))
    }

    fn give_back_driver(&self) {
        let empty = kernel::c_str!("");
        // SAFETY: an empty override clears it; then Linux matches drivers as usual.
        unsafe {
            bindings::__device_set_driver_override(self.dev(), empty.as_char_ptr(), 0);
            // Less than 1 means no driver bound; Linux logs why, nothing more to do here.
            let _ = bindings::device_attach(self.dev());
        }
    }
}

impl Drop for PciDev {
    fn drop(&mut self) {
        // SAFETY: drops the reference this value owns.
        unsafe { bindings::pci_dev_put(self.0.as_ptr()) };
    }
}

/// A PCI function taken from Linux; dropping it disables the function and lets its Linux
/// driver bind again.
pub(crate) struct TakenPci(PciDev);

impl core::ops::Deref for TakenPci {
    type Target = PciDev;

    fn deref(&self) -> &PciDev {
        &self.0
    }
}

impl Drop for TakenPci {
    fn drop(&mut self) {
        // SAFETY: the device was enabled by `PciDev::take`.
        unsafe {
            bindings::pci_clear_master(self.0.as_raw());
            bindings::pci_disable_device(self.0.as_raw());
        }
        self.0.give_back_driver();
    }
}

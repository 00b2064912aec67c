// SPDX-License-Identifier: GPL-2.0

//! Choosing the data NICs and taking them from Linux.

use kernel::prelude::*;

use crate::bindings;
use crate::e1000::{self, E1000};
use crate::gh_proc::pci::{PciAddr, PciList};
use crate::nic_stats::{NicStats, SendFrame};
use crate::pci::PciDev;
use crate::virtio_net::{self, VirtioNet};

/// The NIC models GigaHttpd drives: modern virtio-net first, e1000 second.
const SUPPORTED: [(u16, u16); 2] = [virtio_net::PCI_IDS, e1000::PCI_IDS];

/// A data NIC's polled driver.
pub(crate) enum Driver {
    VirtioNet(VirtioNet),
    E1000(E1000),
}

impl Driver {
    /// Sets up the right driver for a taken PCI function.
    fn new(dev: PciDev) -> Result<Self> {
        let ids = dev.ids();
        let taken = dev.take()?;
        if ids == e1000::PCI_IDS {
            Ok(Self::E1000(E1000::new(taken)?))
        } else {
            Ok(Self::VirtioNet(VirtioNet::new(taken)?))
        }
    }

    /// The NIC's MAC address.
    pub(crate) fn mac(&self) -> [u8; 6] {
        match self {
            Self::VirtioNet(n) => n.mac(),
            Self::E1000(n) => n.mac(),
        }
    }

    /// Takes the rings up where the device sees them; the owning core calls it at the
    /// start of every run (see the drivers' `resync`).
    pub(crate) fn resync(&mut self) {
        match self {
            Self::VirtioNet(n) => n.resync(),
            Self::E1000(n) => n.resync(),
        }
    }

    /// Sends one frame of `len` bytes outside of `poll`, built in place by `build`.
    pub(crate) fn send(
        &mut self,
        stats: &NicStats,
        len: usize,
        build: &mut dyn FnMut(&mut [u8]),
    ) -> bool {
        match self {
            Self::VirtioNet(n) => n.send(stats, len, build),
            Self::E1000(n) => n.send(stats, len, build),
        }
    }

    /// Receives and answers every waiting frame (see the drivers' `poll`).
    pub(crate) fn poll(
        &mut self,
        stats: &NicStats,
        handle: &mut dyn FnMut(&[u8], &mut SendFrame<'_>),
    ) -> usize {
        match self {
            Self::VirtioNet(n) => n.poll(stats, handle),
            Self::E1000(n) => n.poll(stats, handle),
        }
    }
}

/// A data NIC set up for polling, not yet handed to a core.
pub(crate) struct DataNic {
    pub(crate) addr: PciAddr,
    pub(crate) mac: [u8; 6],
    pub(crate) driver: KBox<Driver>,
}

/// The PCI functions to take: the ones named in `nics`, or by default every supported
/// NIC that Linux's default route does not leave through. Named or not, the NIC of the
/// default route stays with Linux: taking it would cut the host off its network.
fn choose(nics: Option<&PciList>) -> Result<KVec<PciDev>> {
    let mut chosen = KVec::new();
    let route = DefaultRoute::get();
    match nics {
        Some(list) => {
            for addr in list.as_slice() {
                let Some(dev) = PciDev::get(addr) else {
                    pr_err!("invalid parameter nics: no PCI device {}\n", addr);
                    return Err(EINVAL);
                };
                if !SUPPORTED.contains(&dev.ids()) {
                    let (vendor, device) = dev.ids();
                    pr_err!(
                        "invalid parameter nics: {} is {:04x}:{:04x}, not a modern virtio-net \
                         or e1000 NIC\n",
                        addr,
                        vendor,
                        device
                    );
                    return Err(EINVAL);
                }
                if route.leaves_through(&dev) {
                    pr_err!(
                        "invalid parameter nics: {} carries Linux's default route\n",
                        addr
                    );
                    return Err(EINVAL);
                }
                chosen.push(dev, GFP_KERNEL)?;
            }
        }
        None => {
            let mut result = Ok(());
            for (vendor, device) in SUPPORTED {
                PciDev::find_all(vendor, device, |dev| {
                    if result.is_ok() && !route.leaves_through(&dev) {
                        result = chosen.push(dev, GFP_KERNEL).map_err(Error::from);
                    }
                });
            }
            result?;
        }
    }
    Ok(chosen)
}

/// Takes the chosen NICs from Linux, at most `most` (one per GigaHttpd CPU), and sets
/// each up for polling. More than that fails before any is taken; on a later error every
/// NIC taken so far goes back to Linux (by dropping).
pub(crate) fn take(nics: Option<&PciList>, most: usize) -> Result<KVec<DataNic>> {
    let chosen = choose(nics)?;
    if chosen.len() > most {
        pr_err!(
            "{} data NICs but only {} GigaHttpd CPUs\n",
            chosen.len(),
            most
        );
        return Err(EINVAL);
    }
    let mut taken = KVec::new();
    for dev in chosen {
        let addr = dev.addr();
        let driver = KBox::new(Driver::new(dev)?, GFP_KERNEL)?;
        let mac = driver.mac();
        taken.push(DataNic { addr, mac, driver }, GFP_KERNEL)?;
    }
    Ok(taken)
}

/// The device Linux's default route leaves through, held while it is compared.
struct DefaultRoute(*mut bindings::rtable);

impl DefaultRoute {
    fn get() -> Self {
        let mut flow = bindings::flowi4 {
            // Any address outside every local network: the route to it is the default one.
            daddr: u32::from_ne_bytes([192, 0, 2, 1]),
            ..Default::default()
        };
        // SAFETY: a route lookup in the initial namespace with no socket; it returns a
        // referenced route or an error pointer.
        let rt = unsafe {
            bindings::ip_route_output_flow(
                core::ptr::addr_of_mut!(bindings::init_net),
                &mut flow,
                core::ptr::null(),
            )
        };
        // Error pointers are the top 4095 addresses.
        if rt.is_null() || rt as usize >= usize::MAX - 4095 {
            return Self(core::ptr::null_mut());
        }
        Self(rt)
    }

    /// Whether the route's device is `dev` or sits on it.
    fn leaves_through(&self, dev: &PciDev) -> bool {
        if self.0.is_null() {
            return false;
        }
        // SAFETY: the route is referenced, so its device is alive.
        let netdev = unsafe { (*self.0).dst.__bindgen_anon_1.dev };
        if netdev.is_null() {
            return false;
        }
        // SAFETY: as above; only the embedded device's address is taken.
        dev.is_parent_of(unsafe { core::ptr::addr_of!((*netdev).dev) })
    }
}

impl Drop for DefaultRoute {
    fn drop(&mut self) {
        if !self.0.is_null() {
            // SAFETY: drops the reference the lookup returned.
            unsafe { bindings::dst_release(core::ptr::addr_of_mut!((*self.0).dst)) };
        }
    }
}

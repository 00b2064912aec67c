//! PCI addresses as Linux writes them: `0000:00:04.0` (domain:bus:device.function).

use core::fmt;

/// A PCI function's address.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct PciAddr {
    /// PCI segment (domain), 0 to 0xffff.
    pub domain: u16,
    /// Bus number.
    pub bus: u8,
    /// Device number, 0 to 31.
    pub device: u8,
    /// Function number, 0 to 7.
    pub function: u8,
}

impl PciAddr {
    /// Parses `dddd:bb:dd.f` (hex; the domain may be left out, meaning 0).
    pub fn parse(text: &str) -> Option<Self> {
        let (rest, function) = text.rsplit_once('.')?;
        let mut parts = rest.rsplit(':');
        let device = hex(parts.next()?, 2)?;
        let bus = hex(parts.next()?, 2)?;
        let domain = match parts.next() {
            Some(d) => hex(d, 4)?,
            None => 0,
        };
        let function = hex(function, 1)?;
        if parts.next().is_some() || device > 31 || function > 7 {
            return None;
        }
        Some(PciAddr {
            domain: domain as u16,
            bus: bus as u8,
            device: device as u8,
            function: function as u8,
        })
    }

    /// Device and function packed as Linux's `devfn`.
    pub fn devfn(&self) -> u32 {
        u32::from(self.device) << 3 | u32::from(self.function)
    }
}

fn hex(text: &str, max_digits: usize) -> Option<u32> {
    if text.is_empty() || text.len() > max_digits || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(text, 16).ok()
}

impl fmt::Display for PciAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04x}:{:02x}:{:02x}.{:x}",
            self.domain, self.bus, self.device, self.function
        )
    }
}

/// Most data NICs GigaHttpd drives.
pub const MAX_NICS: usize = 8;

/// A short list of PCI addresses (`0000:00:04.0,0000:00:05.0`).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct PciList {
    addrs: [PciAddr; MAX_NICS],
    len: usize,
}

impl PciList {
    /// Parses a comma-separated list of at most [`MAX_NICS`] distinct addresses.
    pub fn parse(text: &str) -> Option<Self> {
        let mut list = PciList::default();
        for item in text.split(',') {
            let addr = PciAddr::parse(item.trim())?;
            if list.as_slice().contains(&addr) {
                return None;
            }
            *list.addrs.get_mut(list.len)? = addr;
            list.len += 1;
        }
        Some(list)
    }

    /// The addresses, in the order given.
    pub fn as_slice(&self) -> &[PciAddr] {
        self.addrs.get(..self.len).unwrap_or(&[])
    }
}

impl fmt::Display for PciList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut sep = "";
        for addr in self.as_slice() {
            write!(f, "{sep}{addr}")?;
            sep = ",";
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::string::ToString;

    #[test]
    fn parses_linux_addresses() {
        let a = PciAddr::parse("0000:00:04.0");
        assert_eq!(a.map(|a| a.to_string()), Some("0000:00:04.0".into()));
        assert_eq!(a.map(|a| a.devfn()), Some(0x20));
        let b = PciAddr::parse("00:1f.7");
        assert_eq!(
            b.map(|b| (b.domain, b.bus, b.device, b.function)),
            Some((0, 0, 31, 7))
        );
        assert_eq!(
            PciAddr::parse("abcd:ff:1e.3").map(|a| a.to_string()),
            Some("abcd:ff:1e.3".into())
        );
    }

    #[test]
    fn rejects_malformed_addresses() {
        for bad in [
            "",
            "0000:00:04",
            "0000:00:20.0",
            "0000:00:04.8",
            "00000:00:04.0",
            "0000:000:04.0",
            "x:00:04.0",
            "1:0000:00:04.0",
            "0000:00:04.0.1",
            "0000:00:-4.0",
        ] {
            assert_eq!(PciAddr::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn lists() {
        let list = PciList::parse("0000:00:04.0, 0000:00:05.0");
        assert_eq!(list.map(|l| l.as_slice().len()), Some(2));
        assert_eq!(
            list.map(|l| l.to_string()),
            Some("0000:00:04.0,0000:00:05.0".into())
        );
        assert_eq!(PciList::parse("0000:00:04.0,0000:00:04.0"), None);
        assert_eq!(PciList::parse("0000:00:04.0,"), None);
        let nine = "0:00:01.0,0:00:02.0,0:00:03.0,0:00:04.0,0:00:05.0,0:00:06.0,0:00:07.0,0:00:08.0,0:00:09.0";
        assert_eq!(PciList::parse(nine), None);
    }
}

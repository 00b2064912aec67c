//! GigaHttpd's load-time parameters: parsing and validation of `insmod` values.
//!
//! Every parameter arrives as text (`name=value`); [`Params::set`] parses one and either
//! stores it or returns a [`ParamError`] that names the parameter and says what is
//! allowed, leaving the previous value in place. [`Params::resolve_cpus`] checks the CPU
//! choice against the CPUs Linux has online.

use core::fmt;

use super::cpuset::{CpuListError, CpuSet};
use super::pci::{PciList, MAX_NICS};

/// An IPv4 address as four octets in network order.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Ipv4(pub [u8; 4]);

impl Ipv4 {
    /// Parses a dotted quad (`10.0.3.15`): four decimal octets, no leading zeros.
    pub fn parse(text: &str) -> Option<Self> {
        let mut octets = [0u8; 4];
        let mut parts = text.split('.');
        for octet in octets.iter_mut() {
            let part = parts.next()?;
            let well_formed = !part.is_empty()
                && part.len() <= 3
                && part.bytes().all(|b| b.is_ascii_digit())
                && (part.len() == 1 || !part.starts_with('0'));
            if !well_formed {
                return None;
            }
            *octet = part.parse().ok()?;
        }
        parts.next().is_none().then_some(Ipv4(octets))
    }

    fn to_u32(self) -> u32 {
        u32::from_be_bytes(self.0)
    }

    /// Whether this may be a host's own address: not in 0.0.0.0/8 ("this network"),
    /// 127.0.0.0/8 (loopback), 224.0.0.0/4 (multicast) or 240.0.0.0/4 (reserved).
    fn is_unicast(self) -> bool {
        !matches!(self.0, [0 | 127 | 224..=255, ..])
    }
}

impl fmt::Display for Ipv4 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d] = self.0;
        write!(f, "{a}.{b}.{c}.{d}")
    }
}

/// An interface address with its prefix length (`10.0.3.15/24`).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Ipv4Cidr {
    /// The address itself.
    pub addr: Ipv4,
    /// Network prefix length, 1 to 32.
    pub prefix: u8,
}

impl Ipv4Cidr {
    /// Parses `a.b.c.d/len` with `len` from 1 to 32.
    pub fn parse(text: &str) -> Option<Self> {
        let (addr, prefix) = text.split_once('/')?;
        let prefix = parse_decimal(prefix, 1, 32)? as u8;
        Some(Ipv4Cidr {
            addr: Ipv4::parse(addr)?,
            prefix,
        })
    }

    /// Whether `other` is on this address's network.
    pub fn contains(&self, other: Ipv4) -> bool {
        let mask = self.mask();
        self.addr.to_u32() & mask == other.to_u32() & mask
    }

    /// The network bits, as a mask (none for /0, which `parse` refuses anyway).
    fn mask(&self) -> u32 {
        u32::MAX
            .checked_shl(32u32.saturating_sub(self.prefix.into()))
            .unwrap_or(0)
    }

    /// Why `addr` cannot be a host on this network if it is the network's own address
    /// (host bits all 0) or its directed broadcast (host bits all 1). A /31 (RFC 3021)
    /// and a /32 have no such addresses.
    fn reserved_host(&self, addr: Ipv4) -> Option<ParamProblem> {
        if self.prefix >= 31 {
            return None;
        }
        let host_bits = !self.mask();
        match addr.to_u32() & host_bits {
            0 => Some(ParamProblem::NetworkAddress),
            host if host == host_bits => Some(ParamProblem::BroadcastAddress),
            _ => None,
        }
    }
}

impl fmt::Display for Ipv4Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// Parses a plain decimal number in `min..=max` (no sign, no white space).
fn parse_decimal(text: &str, min: u64, max: u64) -> Option<u64> {
    if text.is_empty() || text.len() > 20 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse::<u64>()
        .ok()
        .filter(|value| (min..=max).contains(value))
}

/// Smallest and largest memory per core, in MiB.
pub const MEM_MIB_RANGE: (u64, u64) = (16, 65536);

/// The values of every load-time parameter.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Params {
    /// CPUs to take from Linux; `None` means every online CPU but CPU 0.
    pub cpus: Option<CpuSet>,
    /// Data NICs to take from Linux; `None` means every supported NIC that Linux's
    /// default route does not use.
    pub nics: Option<PciList>,
    /// Memory reserved for each GigaHttpd core, in MiB.
    pub mem_mib: u32,
    /// Data address and prefix served on the data NICs.
    pub ip: Ipv4Cidr,
    /// Next hop for clients outside the data network.
    pub gateway: Ipv4,
    /// TCP port of the HTTP server.
    pub port: u16,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            cpus: None,
            nics: None,
            mem_mib: 128,
            ip: Ipv4Cidr {
                addr: Ipv4([10, 0, 3, 15]),
                prefix: 24,
            },
            gateway: Ipv4([10, 0, 3, 2]),
            port: 80,
        }
    }
}

/// What is wrong with a parameter value.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ParamProblem {
    /// No parameter has that name.
    Unknown,
    /// The CPU list does not parse.
    CpuList(CpuListError),
    /// CPU 0 stays with Linux and cannot be taken.
    CpuZero,
    /// A CPU that is not online in Linux (the first such CPU).
    CpuOffline(usize),
    /// No CPU would be taken.
    NoCpus,
    /// Not a list of distinct PCI addresses.
    PciList,
    /// Not a number in the allowed range.
    Range(u64, u64),
    /// Not an IPv4 address with prefix (`a.b.c.d/len`).
    Cidr,
    /// Not an IPv4 address.
    Address,
    /// The gateway is not on the data network.
    GatewayOffNet,
    /// The gateway is the data address itself.
    GatewayIsOurs,
    /// The address is not a unicast host address (0.0.0.0/8, 127.0.0.0/8, multicast or
    /// reserved).
    NotUnicast,
    /// The address is its network's own address (host bits all 0).
    NetworkAddress,
    /// The address is its network's directed broadcast (host bits all 1).
    BroadcastAddress,
    /// A /32 data network has no other address for the gateway.
    NoRoomForGateway,
}

/// A rejected parameter: which one, and why. Displays as one line for `dmesg`.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct ParamError {
    /// The parameter's name.
    pub name: &'static str,
    /// What is wrong with its value.
    pub problem: ParamProblem,
}

impl fmt::Display for ParamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid parameter {}: ", self.name)?;
        match self.problem {
            ParamProblem::Unknown => f.write_str("no such parameter"),
            ParamProblem::CpuList(e) => write!(f, "{e}"),
            ParamProblem::CpuZero => f.write_str("CPU 0 stays with Linux"),
            ParamProblem::CpuOffline(cpu) => write!(f, "CPU {cpu} is not online"),
            ParamProblem::NoCpus => f.write_str("no CPU to take (Linux keeps CPU 0)"),
            ParamProblem::PciList => write!(
                f,
                "expected up to {MAX_NICS} distinct PCI addresses such as 0000:00:04.0"
            ),
            ParamProblem::Range(min, max) => write!(f, "expected a number from {min} to {max}"),
            ParamProblem::Cidr => f.write_str("expected an IPv4 address with prefix, a.b.c.d/len"),
            ParamProblem::Address => f.write_str("expected an IPv4 address, a.b.c.d"),
            ParamProblem::GatewayOffNet => f.write_str("gateway is not on the network of ip"),
            ParamProblem::GatewayIsOurs => f.write_str("gateway is the address of ip itself"),
            ParamProblem::NotUnicast => f.write_str(
                "expected a unicast address, not one in 0.0.0.0/8, 127.0.0.0/8, 224.0.0.0/4 \
                 (multicast) or 240.0.0.0/4 (reserved)",
            ),
            ParamProblem::NetworkAddress => write!(
                f,
                "{} is the address of the network itself (host bits all 0)",
                self.name
            ),
            ParamProblem::BroadcastAddress => write!(
                f,
                "{} is the broadcast address of the network (host bits all 1)",
                self.name
            ),
            ParamProblem::NoRoomForGateway => f.write_str(
                "a /32 network leaves no room for the gateway; the longest prefix is /31",
            ),
        }
    }
}

/// Names of the parameters, in the order they are shown.
pub const NAMES: [&str; 6] = ["cpus", "nics", "mem_mib", "ip", "gateway", "port"];

impl Params {
    /// Parses `value` for the parameter `name` and stores it. On error nothing changes.
    pub fn set(&mut self, name: &str, value: &str) -> Result<(), ParamError> {
        let value = value.trim();
        let fail = |name, problem| Err(ParamError { name, problem });
        match name {
            "cpus" => match CpuSet::parse(value) {
                Ok(set) => self.cpus = Some(set),
                Err(e) => return fail("cpus", ParamProblem::CpuList(e)),
            },
            "nics" => match PciList::parse(value) {
                Some(list) => self.nics = Some(list),
                None => return fail("nics", ParamProblem::PciList),
            },
            "mem_mib" => {
                let (min, max) = MEM_MIB_RANGE;
                match parse_decimal(value, min, max) {
                    Some(mib) => self.mem_mib = mib as u32,
                    None => return fail("mem_mib", ParamProblem::Range(min, max)),
                }
            }
            "ip" => {
                let Some(ip) = Ipv4Cidr::parse(value) else {
                    return fail("ip", ParamProblem::Cidr);
                };
                let problem = if !ip.addr.is_unicast() {
                    Some(ParamProblem::NotUnicast)
                } else if ip.prefix == 32 {
                    Some(ParamProblem::NoRoomForGateway)
                } else {
                    ip.reserved_host(ip.addr)
                };
                if let Some(problem) = problem {
                    return fail("ip", problem);
                }
                self.ip = ip;
            }
            "gateway" => {
                let Some(gw) = Ipv4::parse(value) else {
                    return fail("gateway", ParamProblem::Address);
                };
                if !gw.is_unicast() {
                    return fail("gateway", ParamProblem::NotUnicast);
                }
                self.gateway = gw;
            }
            "port" => match parse_decimal(value, 1, 65535) {
                Some(port) => self.port = port as u16,
                None => return fail("port", ParamProblem::Range(1, 65535)),
            },
            _ => return fail("parameter", ParamProblem::Unknown),
        }
        Ok(())
    }

    /// Checks the parameters against each other.
    pub fn validate(&self) -> Result<(), ParamError> {
        let problem = if !self.ip.contains(self.gateway) {
            Some(ParamProblem::GatewayOffNet)
        } else if self.gateway == self.ip.addr {
            Some(ParamProblem::GatewayIsOurs)
        } else {
            self.ip.reserved_host(self.gateway)
        };
        match problem {
            Some(problem) => Err(ParamError {
                name: "gateway",
                problem,
            }),
            None => Ok(()),
        }
    }

    /// The CPUs GigaHttpd takes, given the CPUs Linux has online: the `cpus` parameter,
    /// or by default every online CPU but CPU 0.
    pub fn resolve_cpus(&self, online: &CpuSet) -> Result<CpuSet, ParamError> {
        let fail = |problem| {
            Err(ParamError {
                name: "cpus",
                problem,
            })
        };
        let mut linux_keeps = CpuSet::new();
        linux_keeps.insert(0);
        let cpus = match self.cpus {
            Some(cpus) => {
                if cpus.contains(0) {
                    return fail(ParamProblem::CpuZero);
                }
                if let Some(cpu) = cpus.difference(online).iter().next() {
                    return fail(ParamProblem::CpuOffline(cpu));
                }
                cpus
            }
            None => online.difference(&linux_keeps),
        };
        if cpus.is_empty() {
            return fail(ParamProblem::NoCpus);
        }
        Ok(cpus)
    }

    /// Writes the value of parameter `name` as it would be given to `insmod`.
    pub fn write_value(&self, name: &str, w: &mut dyn fmt::Write) -> fmt::Result {
        match name {
            "cpus" => match &self.cpus {
                Some(cpus) => write!(w, "{cpus}"),
                None => w.write_str("default"),
            },
            "nics" => match &self.nics {
                Some(nics) => write!(w, "{nics}"),
                None => w.write_str("default"),
            },
            "mem_mib" => write!(w, "{}", self.mem_mib),
            "ip" => write!(w, "{}", self.ip),
            "gateway" => write!(w, "{}", self.gateway),
            "port" => write!(w, "{}", self.port),
            _ => Err(fmt::Error),
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::string::{String, ToString};

    fn cpus(list: &str) -> CpuSet {
        CpuSet::parse(list).unwrap_or_default()
    }

    #[test]
    fn sets_every_parameter() {
        let mut p = Params::default();
        assert_eq!(p.set("cpus", "1-2"), Ok(()));
        assert_eq!(p.set("nics", "0000:00:04.0"), Ok(()));
        assert_eq!(p.set("mem_mib", "64"), Ok(()));
        assert_eq!(p.set("ip", "192.168.7.9/16"), Ok(()));
        assert_eq!(p.set("gateway", "192.168.0.1"), Ok(()));
        assert_eq!(p.set("port", " 8080\n"), Ok(()));
        assert_eq!(p.cpus, Some(cpus("1-2")));
        assert_eq!(p.mem_mib, 64);
        assert_eq!(p.ip.to_string(), "192.168.7.9/16");
        assert_eq!(p.gateway, Ipv4([192, 168, 0, 1]));
        assert_eq!(p.port, 8080);
        assert_eq!(p.validate(), Ok(()));
    }

    #[test]
    fn a_rejected_value_changes_nothing() {
        let mut p = Params::default();
        let before = p;
        for (name, value) in [
            ("cpus", "1-x"),
            ("nics", "00:04"),
            ("nics", ""),
            ("mem_mib", "15"),
            ("mem_mib", "65537"),
            ("mem_mib", "-1"),
            ("mem_mib", "18446744073709551616"),
            ("ip", "10.0.3.15"),
            ("ip", "10.0.3.15/0"),
            ("ip", "10.0.3.15/33"),
            ("ip", "10.0.3.256/24"),
            ("ip", "010.0.3.1/24"),
            ("gateway", "10.0.3"),
            ("gateway", "10.0.3.2.1"),
            ("gateway", "10..3.2"),
            ("port", "0"),
            ("port", "65536"),
            ("port", "80a"),
            ("colour", "red"),
        ] {
            assert!(p.set(name, value).is_err(), "{name}={value}");
            assert_eq!(p, before, "{name}={value}");
        }
    }

    #[test]
    fn errors_read_well() {
        let mut p = Params::default();
        let msg = |e: Result<(), ParamError>| e.err().map(|e| e.to_string()).unwrap_or_default();
        assert_eq!(
            msg(p.set("port", "99999")),
            "invalid parameter port: expected a number from 1 to 65535"
        );
        assert_eq!(
            msg(p.set("cpus", "5-1")),
            "invalid parameter cpus: range ends below its start"
        );
        let _ = p.set("gateway", "10.9.9.9");
        assert_eq!(
            msg(p.validate()),
            "invalid parameter gateway: gateway is not on the network of ip"
        );
        let _ = p.set("ip", "10.9.9.9/24");
        assert_eq!(
            msg(p.validate()),
            "invalid parameter gateway: gateway is the address of ip itself"
        );
    }

    #[test]
    fn resolves_cpus_against_online_set() {
        let online = cpus("0-3");
        let mut p = Params::default();
        assert_eq!(p.resolve_cpus(&online), Ok(cpus("1-3")));
        assert_eq!(
            p.resolve_cpus(&cpus("0")).map_err(|e| e.problem),
            Err(ParamProblem::NoCpus)
        );
        let _ = p.set("cpus", "2");
        assert_eq!(p.resolve_cpus(&online), Ok(cpus("2")));
        let _ = p.set("cpus", "0-1");
        assert_eq!(
            p.resolve_cpus(&online).map_err(|e| e.problem),
            Err(ParamProblem::CpuZero)
        );
        let _ = p.set("cpus", "2-5");
        assert_eq!(
            p.resolve_cpus(&online).map_err(|e| e.problem),
            Err(ParamProblem::CpuOffline(4))
        );
    }

    #[test]
    fn values_print_as_given() {
        let mut p = Params::default();
        let _ = p.set("cpus", "3,1,2");
        let mut out = String::new();
        for name in NAMES {
            let _ = p.write_value(name, &mut out);
            out.push(' ');
        }
        assert_eq!(out, "1-3 default 128 10.0.3.15/24 10.0.3.2 80 ");
        assert!(p.write_value("nope", &mut out).is_err());
    }

    #[test]
    fn cidr_contains() {
        let net = Ipv4Cidr::parse("10.0.3.15/24");
        assert!(net.is_some_and(|n| n.contains(Ipv4([10, 0, 3, 2]))));
        assert!(net.is_some_and(|n| !n.contains(Ipv4([10, 0, 4, 2]))));
        let host = Ipv4Cidr::parse("10.0.3.15/32");
        assert!(host.is_some_and(|n| n.contains(Ipv4([10, 0, 3, 15]))));
        assert!(host.is_some_and(|n| !n.contains(Ipv4([10, 0, 3, 16]))));
    }

    #[test]
    fn refuses_ip_that_is_not_a_host_address() {
        let mut p = Params::default();
        let before = p;
        for (value, problem) in [
            ("0.0.0.1/8", ParamProblem::NotUnicast),
            ("0.1.2.3/24", ParamProblem::NotUnicast),
            ("127.0.0.1/8", ParamProblem::NotUnicast),
            ("127.1.2.3/24", ParamProblem::NotUnicast),
            ("224.0.0.1/24", ParamProblem::NotUnicast),
            ("239.255.255.250/24", ParamProblem::NotUnicast),
            ("240.0.0.1/24", ParamProblem::NotUnicast),
            ("255.255.255.255/24", ParamProblem::NotUnicast),
            ("10.0.3.0/24", ParamProblem::NetworkAddress),
            ("10.0.3.255/24", ParamProblem::BroadcastAddress),
            ("10.0.0.0/8", ParamProblem::NetworkAddress),
            ("10.255.255.255/8", ParamProblem::BroadcastAddress),
            ("10.0.3.4/30", ParamProblem::NetworkAddress),
            ("10.0.3.7/30", ParamProblem::BroadcastAddress),
            ("128.0.0.0/1", ParamProblem::NetworkAddress),
            ("10.0.3.15/32", ParamProblem::NoRoomForGateway),
            ("10.0.3.0/32", ParamProblem::NoRoomForGateway),
        ] {
            assert_eq!(
                p.set("ip", value),
                Err(ParamError {
                    name: "ip",
                    problem
                }),
                "{value}"
            );
            assert_eq!(p, before, "{value}");
        }
    }

    #[test]
    fn refuses_gateway_that_is_not_unicast() {
        let mut p = Params::default();
        let before = p;
        for value in [
            "0.0.0.0",
            "0.0.3.2",
            "127.0.0.1",
            "224.0.0.1",
            "239.255.255.255",
            "240.0.0.1",
            "255.255.255.255",
        ] {
            assert_eq!(
                p.set("gateway", value),
                Err(ParamError {
                    name: "gateway",
                    problem: ParamProblem::NotUnicast
                }),
                "{value}"
            );
            assert_eq!(p, before, "{value}");
        }
    }

    #[test]
    fn refuses_gateway_that_is_not_a_host_of_the_network() {
        for (ip, gateway, problem) in [
            ("10.0.3.15/24", "10.0.3.0", ParamProblem::NetworkAddress),
            ("10.0.3.15/24", "10.0.3.255", ParamProblem::BroadcastAddress),
            ("10.0.3.1/30", "10.0.3.0", ParamProblem::NetworkAddress),
            ("10.0.3.1/30", "10.0.3.3", ParamProblem::BroadcastAddress),
            ("10.1.2.3/8", "10.0.0.0", ParamProblem::NetworkAddress),
            (
                "10.1.2.3/8",
                "10.255.255.255",
                ParamProblem::BroadcastAddress,
            ),
        ] {
            let mut p = Params::default();
            assert_eq!(p.set("ip", ip), Ok(()), "{ip}");
            assert_eq!(p.set("gateway", gateway), Ok(()), "{gateway}");
            assert_eq!(
                p.validate(),
                Err(ParamError {
                    name: "gateway",
                    problem
                }),
                "{ip} {gateway}"
            );
        }
    }

    #[test]
    fn accepts_host_addresses_at_the_edges() {
        for (ip, gateway) in [
            ("10.0.3.1/24", "10.0.3.254"),
            ("10.0.3.254/24", "10.0.3.1"),
            ("10.0.3.0/31", "10.0.3.1"),
            ("10.0.3.1/31", "10.0.3.0"),
            ("10.0.3.1/30", "10.0.3.2"),
            ("1.0.0.1/8", "1.255.255.254"),
            ("126.255.255.254/8", "126.0.0.1"),
            ("223.255.255.254/24", "223.255.255.1"),
            ("128.0.0.1/1", "223.255.255.254"),
        ] {
            let mut p = Params::default();
            assert_eq!(p.set("ip", ip), Ok(()), "{ip}");
            assert_eq!(p.set("gateway", gateway), Ok(()), "{gateway}");
            assert_eq!(p.validate(), Ok(()), "{ip} {gateway}");
        }
    }

    #[test]
    fn address_errors_read_well() {
        let mut p = Params::default();
        let msg = |e: Result<(), ParamError>| e.err().map(|e| e.to_string()).unwrap_or_default();
        assert_eq!(
            msg(p.set("ip", "127.0.0.1/8")),
            "invalid parameter ip: expected a unicast address, not one in 0.0.0.0/8, \
             127.0.0.0/8, 224.0.0.0/4 (multicast) or 240.0.0.0/4 (reserved)"
        );
        assert_eq!(
            msg(p.set("ip", "10.0.3.0/24")),
            "invalid parameter ip: ip is the address of the network itself (host bits all 0)"
        );
        assert_eq!(
            msg(p.set("ip", "10.0.3.15/32")),
            "invalid parameter ip: a /32 network leaves no room for the gateway; the longest \
             prefix is /31"
        );
        let _ = p.set("gateway", "10.0.3.255");
        assert_eq!(
            msg(p.validate()),
            "invalid parameter gateway: gateway is the broadcast address of the network \
             (host bits all 1)"
        );
    }
}

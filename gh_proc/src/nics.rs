//! `/proc/gigahttpd/nics`: one line per data NIC, after a header line.

use core::fmt;

use super::pci::PciAddr;

/// One data NIC as the module reads it.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default)]
pub struct NicView {
    /// PCI address.
    pub pci: PciAddr,
    /// MAC address.
    pub mac: [u8; 6],
    /// The CPU whose GigaHttpd core drives it.
    pub cpu: u32,
    /// Frames received.
    pub rx_packets: u64,
    /// Bytes received (Ethernet frames, without the device's header).
    pub rx_bytes: u64,
    /// Received frames dropped as malformed.
    pub rx_drops: u64,
    /// Frames sent.
    pub tx_packets: u64,
    /// Bytes sent.
    pub tx_bytes: u64,
    /// Frames not sent because the transmit ring was full.
    pub tx_drops: u64,
    /// ARP requests for the data address answered.
    pub arp_replies: u64,
    /// ICMP echo requests answered.
    pub echo_replies: u64,
    /// TCP resets sent: to a closed port or a segment for no connection, and for
    /// connections ended (timed out, refused, quarantined).
    pub tcp_resets: u64,
    /// Frames the engine dropped (the sum of its `drop_*` counters): for another host, of
    /// a kind not handled, malformed, or out of window or order (some of those are
    /// answered with an ACK).
    pub rx_ignored: u64,
    /// HTTP requests read whole, answered or refused.
    pub http_requests: u64,
}

struct Mac<'a>(&'a [u8; 6]);

impl fmt::Display for Mac<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{g:02x}")
    }
}

/// The columns of the `nics` file, in order.
const COLUMNS: [&str; 14] = [
    "pci",
    "mac",
    "cpu",
    "rx_packets",
    "rx_bytes",
    "rx_drops",
    "tx_packets",
    "tx_bytes",
    "tx_drops",
    "arp",
    "echo",
    "tcp_rst",
    "rx_ignored",
    "http",
];

/// Writes the `nics` file: a header line, then one line per NIC, columns separated by
/// single spaces.
pub fn render(w: &mut dyn fmt::Write, nics: &mut dyn Iterator<Item = NicView>) -> fmt::Result {
    let mut sep = "";
    for column in COLUMNS {
        write!(w, "{sep}{column}")?;
        sep = " ";
    }
    w.write_char('\n')?;
    for n in nics {
        write!(w, "{} {} {}", n.pci, Mac(&n.mac), n.cpu)?;
        for value in [
            n.rx_packets,
            n.rx_bytes,
            n.rx_drops,
            n.tx_packets,
            n.tx_bytes,
            n.tx_drops,
            n.arp_replies,
            n.echo_replies,
            n.tcp_resets,
            n.rx_ignored,
            n.http_requests,
        ] {
            write!(w, " {value}")?;
        }
        w.write_char('\n')?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::string::String;

    #[test]
    fn renders_a_line_per_nic() {
        let nic = NicView {
            pci: PciAddr::parse("0000:00:04.0").unwrap_or_default(),
            mac: [0x52, 0x54, 0, 0x12, 0x34, 2],
            cpu: 1,
            rx_packets: 3,
            rx_bytes: 180,
            tx_packets: 2,
            tx_bytes: 120,
            arp_replies: 1,
            rx_ignored: 2,
            http_requests: 5,
            ..NicView::default()
        };
        let mut out = String::new();
        assert_eq!(render(&mut out, &mut [nic].into_iter()), Ok(()));
        let lines: std::vec::Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 2);
        let fields: std::vec::Vec<&str> = lines.get(1).unwrap_or(&"").split_whitespace().collect();
        assert_eq!(
            fields,
            [
                "0000:00:04.0",
                "52:54:00:12:34:02",
                "1",
                "3",
                "180",
                "0",
                "2",
                "120",
                "0",
                "1",
                "0",
                "0",
                "2",
                "5"
            ]
        );
        let header: std::vec::Vec<&str> = lines.first().unwrap_or(&"").split_whitespace().collect();
        assert_eq!(header.len(), fields.len());
    }
}

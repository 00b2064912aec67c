//! Per-core counters of everything the engine dropped, rejected, parked, retransmitted or reset.
//!
//! One plain `#[repr(C)]` struct of `u64`s per core, written only by its own core and read by
//! the `/proc` layer as a snapshot; names are stable so scripts can rely on them.

/// True for the name of a counter of dropped frames (`drop_*`).
// Indices below both lengths, checked by the loop: no index can fail.
#[allow(clippy::indexing_slicing)]
const fn is_drop(name: &str) -> bool {
    let (n, p) = (name.as_bytes(), b"drop_");
    if n.len() < p.len() {
        return false;
    }
    let mut k = 0;
    while k < p.len() {
        if n[k] != p[k] {
            return false;
        }
        k += 1;
    }
    true
}

macro_rules! counters {
    ($( $(#[doc = $doc:literal])* $name:ident, )*) => {
        /// The counters of one GigaHttpd core.
        #[repr(C)]
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
        pub struct Counters {
            $( $(#[doc = $doc])* pub $name: u64, )*
        }

        impl Counters {
            /// Number of counters.
            pub const COUNT: usize = [$(stringify!($name)),*].len();

            /// The counters' names, in declaration order.
            pub const NAMES: [&'static str; Self::COUNT] = [$(stringify!($name)),*];

            /// The counters' values, in declaration order.
            pub fn values(&self) -> [u64; Self::COUNT] {
                [$(self.$name),*]
            }

            /// Calls `f` with each counter's name and value, in declaration order.
            pub fn for_each(&self, f: &mut dyn FnMut(&'static str, u64)) {
                $( f(stringify!($name), self.$name); )*
            }

            /// Frames dropped, for every reason: the sum of the `drop_*` counters.
            pub fn dropped(&self) -> u64 {
                let mut sum = 0u64;
                // Each test is on a constant name: the compiler keeps only the additions.
                $( if is_drop(stringify!($name)) {
                    sum = sum.wrapping_add(self.$name);
                } )*
                sum
            }
            /// Adds another core's counters into these (for totals).
            pub fn accumulate(&mut self, other: &Counters) {
                $( self.$name = self.$name.wrapping_add(other.$name); )*
            }
        }
    };
}

counters! {
    /// Frames received from the NIC.
    rx_frames,
    /// Frames handed to the NIC.
    tx_frames,
    /// Frames shorter than an Ethernet header.
    drop_eth_truncated,
    /// Frames addressed to another station.
    drop_eth_not_ours,
    /// Frames of an EtherType GigaHttpd does not handle.
    drop_eth_unknown_type,
    /// Frames from a group (multicast, broadcast) or all-zero hardware address.
    drop_eth_bad_source,
    /// ARP packets truncated, not Ethernet/IPv4, of an operation other than request and
    /// reply, or from a group or zero hardware address.
    drop_arp_malformed,
    /// ARP packets (requests, replies, announcements) whose target address is not ours;
    /// a sender already known is still updated from them (RFC 826).
    drop_arp_not_ours,
    /// ARP replies sent.
    arp_replies_sent,
    /// ARP requests sent (gateway resolution).
    arp_requests_sent,
    /// ARP packets from another host that claims our address; each is answered with a
    /// broadcast announcement of ours, at most one every 10 s (RFC 5227 section 2.4).
    arp_conflicts,
    /// IPv4 packets truncated, with inconsistent lengths, or with an option that runs
    /// past the header.
    drop_ipv4_malformed,
    /// IPv4 headers whose checksum failed.
    drop_ipv4_checksum,
    /// IPv4 fragments (not reassembled).
    drop_ipv4_fragment,
    /// IPv4 packets with a loose or strict source route option, dropped (as Linux does
    /// by default) rather than answered along a route their sender chose.
    drop_ipv4_source_routed,
    /// IPv4 packets for another address.
    drop_ipv4_not_ours,
    /// IPv4 packets from an address no host sends from (0/8, 127/8, multicast, the
    /// limited broadcast, our network's own address and directed broadcast) or from
    /// ours.
    drop_ipv4_bad_source,
    /// IPv4 packets of a protocol other than ICMP and TCP.
    drop_ipv4_unknown_protocol,
    /// ICMP messages malformed, with a bad checksum, neither echo requests nor
    /// "fragmentation needed", or "fragmentation needed" for no TCP segment in flight.
    drop_icmp,
    /// Frames sent once and never again (ARP and ICMP replies, RSTs, SYN-ACKs with a
    /// cookie, quarantine answers) that found the TX ring full.
    tx_full_drops,
    /// TCP segments not sent because the hardware address of their next hop was not
    /// known (a neighbour is then asked for with ARP); TCP sends them again on its timer.
    tx_no_route,
    /// ICMP echo replies sent.
    icmp_echo_replies,
    /// TCP segments malformed or with bad options.
    drop_tcp_malformed,
    /// TCP segments whose checksum failed.
    drop_tcp_checksum,
    /// TCP segments outside the receive window (answered with an ACK when required, as
    /// are a peer's keep-alive probes, which lie just before it), RSTs among them.
    drop_tcp_out_of_window,
    /// TCP segments in the receive window that start past the next byte expected: with
    /// no reassembly buffer their data and FIN are not kept, and a duplicate ACK asks for
    /// what is missing.
    drop_tcp_out_of_order,
    /// TCP segments RFC 9293 drops without an answer in their state: a RST for no
    /// connection, a segment with none of SYN, ACK and RST for no connection, one
    /// without ACK for a connection, and data or a FIN after the peer's FIN; and a new
    /// SYN for a half-open connection, which is forgotten (its slot freed) so that the
    /// peer's next SYN opens it afresh.
    drop_tcp_unexpected,
    /// TCP segments to a port with no listener (answered with RST).
    tcp_no_listener,
    /// Connections opened (handshake completed).
    tcp_opened,
    /// Connections closed in an orderly way (either side first).
    tcp_closed,
    /// Connections reset by the peer.
    tcp_resets_received,
    /// RST segments sent.
    tcp_resets_sent,
    /// Challenge ACKs called for (RFC 5961), with those the limit held back.
    tcp_challenge_acks,
    /// Challenge ACKs held back: over this second's per-core budget (about 1,000).
    tcp_challenge_acks_limited,
    /// Segments retransmitted after a timeout, and SYN-ACKs sent again for the peer's SYN
    /// sent again.
    tcp_retransmits,
    /// Lost segments sent again at once, not at a timeout: on the third duplicate ACK
    /// (RFC 5681 fast retransmit) or a partial ACK in fast recovery (RFC 6582).
    tcp_fast_retransmits,
    /// Connections dropped after too many retransmissions.
    tcp_timeouts,
    /// Zero-window probes sent.
    tcp_window_probes,
    /// Connections whose segment size a router's "fragmentation needed" report lowered
    /// (RFC 1191; reports that match no segment in flight count in `drop_icmp`).
    tcp_path_mtu_reductions,
    /// SYN cookies sent because the half-open table was full.
    tcp_syn_cookies_sent,
    /// Connections opened from a valid SYN cookie.
    tcp_syn_cookies_accepted,
    /// ACKs for no connection, while SYN cookies are out, that carried no valid cookie
    /// (answered with RST; other ACKs for no connection only count in `tcp_resets_sent`).
    tcp_syn_cookies_rejected,
    /// Handshake ACKs with a valid SYN cookie left unanswered because every slot was
    /// taken: the peer sends again (each also counts in `qos_parked_pool`).
    tcp_pool_full,
    /// Connections in TIME-WAIT ended early to give their slot to a new connection when
    /// every slot was taken.
    tcp_time_wait_recycled,
    /// HTTP requests whose head was read whole, answered or refused (those the parser
    /// refused also count in `http_rejected`).
    http_requests,
    /// HTTP requests rejected with a 4xx/5xx status by the parser.
    http_rejected,
    /// HTTP responses 304 Not Modified.
    http_not_modified,
    /// HTTP responses 404 Not Found.
    http_not_found,
    /// Segments of a quarantined flow refused instead of being run: its request (or the
    /// peer's FIN after it) answered 500, or the flow reset where a 500 could not follow
    /// what it was sent before.
    http_quarantined,
    /// Requests parked because the TX ring was full.
    qos_parked_tx,
    /// Requests parked because the connection pool was empty.
    qos_parked_pool,
    /// Requests parked because the peer's window was closed.
    qos_parked_window,
    /// Requests refused with 503 because no echo task was free (the task pool has no
    /// wait list).
    qos_refused_503,
    /// Requests left unacknowledged, for the peer to send again, because the responses
    /// ahead of them filled the connection's pipeline (16) or the core's queue, or a
    /// task's answer was still ahead of a POST for a task.
    qos_deferred_pipeline,
    /// Connections ended because the TX wait list was over its bound. No RST can leave
    /// the full ring then: the peer's next segment meets no connection and gets one.
    qos_refused_rst,
}

/// Adds one to a counter without ever overflowing into a panic.
pub fn bump(c: &mut u64) {
    *c = c.wrapping_add(1);
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn names_values_and_layout() {
        let mut c = Counters::default();
        bump(&mut c.drop_ipv4_fragment);
        bump(&mut c.tcp_retransmits);
        bump(&mut c.tcp_retransmits);
        let mut seen = 0;
        let mut sum = 0;
        c.for_each(&mut |name, v| {
            seen += 1;
            sum += v;
            if name == "tcp_retransmits" {
                assert_eq!(v, 2);
            }
        });
        assert_eq!(seen, Counters::COUNT);
        assert_eq!(sum, 3);
        assert_eq!(core::mem::size_of::<Counters>(), Counters::COUNT * 8);
        // `NAMES` and `values` list the same counters in the same order as `for_each`.
        let (names, values) = (Counters::NAMES, c.values());
        let mut k = 0;
        c.for_each(&mut |name, v| {
            assert_eq!((names[k], values[k]), (name, v));
            k += 1;
        });
        assert_eq!(k, Counters::COUNT);
    }

    #[test]
    fn dropped_sums_every_drop_counter() {
        for name in Counters::NAMES {
            assert_eq!(is_drop(name), name.starts_with("drop_"), "{name}");
        }
        let mut c = Counters {
            drop_eth_truncated: 1,
            drop_ipv4_bad_source: 20,
            drop_tcp_out_of_window: 300,
            rx_frames: 4000,
            tx_full_drops: 50000,
            ..Counters::default()
        };
        assert_eq!(c.dropped(), 321);
        c.drop_arp_not_ours = u64::MAX;
        assert_eq!(c.dropped(), 320, "wrapping");
    }

    #[test]
    fn accumulate_and_wrap() {
        let mut a = Counters {
            rx_frames: u64::MAX,
            ..Counters::default()
        };
        bump(&mut a.rx_frames);
        assert_eq!(a.rx_frames, 0);
        let b = Counters {
            rx_frames: 5,
            qos_refused_503: 1,
            ..Counters::default()
        };
        a.accumulate(&b);
        a.accumulate(&b);
        assert_eq!((a.rx_frames, a.qos_refused_503), (10, 2));
    }
}

//! The comparison point: smoltcp's `Interface` and one listening TCP socket over the
//! same in-memory frames, with a small application that answers every complete request
//! with the bytes GigaHttpd sent, then closes.

use std::mem::size_of;

use smoltcp::iface::{
    Config, Interface, PollIngressSingleResult, PollResult, SocketHandle, SocketSet, SocketStorage,
};
use smoltcp::phy::{self, Device, DeviceCapabilities, Medium};
use smoltcp::socket::tcp;
use smoltcp::time::Instant;
use smoltcp::wire::{EthernetAddress, HardwareAddress, IpAddress, IpCidr};

use crate::client::Target;
use crate::wire::{Wire, FRAME_CAP, HTTP_PORT, SERVER_IP, SERVER_MAC};
use crate::{server_work, Work};

/// Receive buffer: holds a request of up to 1 KiB, the first segment GigaHttpd's
/// SYN-ACK window admits.
pub const RX_BUFFER: usize = 1024;
/// Transmit buffer: holds a response of up to 1 KiB.
pub const TX_BUFFER: usize = 1024;

/// What one connection costs: its socket (held in a socket-set entry) and its buffers,
/// with the buffers at `rx` and `tx` bytes.
pub fn per_connection(rx: usize, tx: usize) -> Vec<(String, usize)> {
    vec![
        (
            format!(
                "SocketStorage (tcp::Socket is {} of it)",
                size_of::<tcp::Socket<'static>>()
            ),
            size_of::<SocketStorage<'static>>(),
        ),
        ("rx buffer".into(), rx),
        ("tx buffer".into(), tx),
    ]
}

/// The device: one received frame at a time, and the transmit ring.
struct Dev {
    rx: Box<[u8; FRAME_CAP]>,
    rx_len: Option<usize>,
    wire: Wire,
}

/// A received frame, in place.
struct RxToken<'a>(&'a [u8]);

/// A place in the transmit ring.
struct TxToken<'a>(&'a mut Wire);

impl phy::RxToken for RxToken<'_> {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(self.0)
    }
}

impl phy::TxToken for TxToken<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        self.0
            .push(len, f)
            .expect("smoltcp frame does not fit the ring")
    }
}

impl Device for Dev {
    type RxToken<'a> = RxToken<'a>;
    type TxToken<'a> = TxToken<'a>;

    fn receive(&mut self, _: Instant) -> Option<(RxToken<'_>, TxToken<'_>)> {
        // A full ring leaves the frame waiting, as a NIC's RX ring would.
        if self.wire.is_full() {
            return None;
        }
        let len = self.rx_len.take()?;
        Some((RxToken(&self.rx[..len]), TxToken(&mut self.wire)))
    }

    fn transmit(&mut self, _: Instant) -> Option<TxToken<'_>> {
        (!self.wire.is_full()).then_some(TxToken(&mut self.wire))
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ethernet;
        caps.max_transmission_unit = 1514;
        caps
    }
}

/// A smoltcp server under test.
pub struct Smol {
    iface: Interface,
    dev: Dev,
    sockets: SocketSet<'static>,
    handle: SocketHandle,
    response: &'static [u8],
    /// Requests answered.
    pub served: u64,
}

impl Smol {
    /// A server answering every request with `response`, with `rx` and `tx` bytes of
    /// socket buffers, started at `now_ms`. The socket's storage and buffers live as long
    /// as the process, as static buffers do on the targets smoltcp is made for.
    pub fn new(response: &'static [u8], rx: usize, tx: usize, now_ms: u64) -> Self {
        let mut dev = Dev {
            rx: Box::new([0; FRAME_CAP]),
            rx_len: None,
            wire: Wire::new(),
        };
        let mut config = Config::new(HardwareAddress::Ethernet(EthernetAddress(SERVER_MAC.0)));
        config.random_seed = 0x2545_f491_4f6c_dd1d;
        let mut iface = Interface::new(config, &mut dev, instant(now_ms));
        iface.update_ip_addrs(|addrs| {
            let [a, b, c, d] = SERVER_IP.0;
            addrs
                .push(IpCidr::new(IpAddress::v4(a, b, c, d), 24))
                .expect("one address fits");
        });
        let rx: &'static mut [u8] = Box::leak(vec![0; rx].into_boxed_slice());
        let tx: &'static mut [u8] = Box::leak(vec![0; tx].into_boxed_slice());
        let mut socket = tcp::Socket::new(tcp::SocketBuffer::new(rx), tcp::SocketBuffer::new(tx));
        // GigaHttpd acknowledges at once; so does this socket, so that both answer the
        // client's FIN within the same turn.
        socket.set_ack_delay(None);
        let storage: &'static mut [SocketStorage<'static>] =
            Box::leak(Box::new([SocketStorage::EMPTY]));
        let mut sockets = SocketSet::new(storage);
        let handle = sockets.add(socket);
        Self {
            iface,
            dev,
            sockets,
            handle,
            response,
            served: 0,
        }
    }

    /// One turn of the server's loop: `Interface::poll` with the application between
    /// its ingress and egress halves, so a response leaves in the turn its request
    /// arrived, as with GigaHttpd.
    #[inline(never)]
    fn turn(&mut self, now: Instant) {
        let Self {
            iface,
            dev,
            sockets,
            handle,
            response,
            served,
        } = self;
        // Accept: once the last connection is over (closed, or in TIME-WAIT with its
        // final ACK sent in an earlier turn), the socket listens again.
        let socket = sockets.get_mut::<tcp::Socket>(*handle);
        if !socket.is_open() {
            socket.listen(HTTP_PORT).expect("listen");
        }
        iface.poll_maintenance(now);
        while iface.poll_ingress_single(now, dev, sockets) != PollIngressSingleResult::None {}
        let socket = sockets.get_mut::<tcp::Socket>(*handle);
        if socket.can_recv() {
            // A request is complete when its head ends; until then it stays buffered.
            let complete = socket
                .recv(|buf| {
                    if buf.ends_with(b"\r\n\r\n") {
                        (buf.len(), true)
                    } else {
                        (0, false)
                    }
                })
                .unwrap_or(false);
            if complete {
                let sent = socket.send_slice(response).unwrap_or(0);
                assert_eq!(
                    sent,
                    response.len(),
                    "smoltcp: response exceeds the tx buffer"
                );
                socket.close();
                *served += 1;
            }
        }
        while iface.poll_egress(now, dev, sockets) != PollResult::None {}
    }
}

/// The shared clock in smoltcp's terms.
fn instant(now_ms: u64) -> Instant {
    Instant::from_millis(i64::try_from(now_ms).unwrap_or(i64::MAX))
}

impl Target for Smol {
    fn deliver(&mut self, frame: &[u8], now_ms: u64, measured: bool) {
        self.dev.rx[..frame.len()].copy_from_slice(frame);
        self.dev.rx_len = Some(frame.len());
        let now = instant(now_ms);
        if measured {
            server_work(Work::of_frame(frame), || self.turn(now));
        } else {
            self.turn(now);
        }
    }

    fn wire(&mut self) -> &mut Wire {
        &mut self.dev.wire
    }
}

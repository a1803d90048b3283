//! The RTP generator of `bench relay`: both ends of every call, on one
//! thread of the bench process (its own CPU is measured and reported), so
//! the relay under test runs in a process of its own.
//!
//! Each side of all calls shares one socket (a relay sends each leg's
//! packets to the address its SDP named; several legs may name the same
//! one), with a receive buffer large enough for a second of traffic, so
//! what the generator counts as lost is what the relay lost.

use std::net::{SocketAddr, UdpSocket};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

/// Receive buffer asked for each side's socket.
const RECV_BUFFER: usize = 64 << 20;

/// Both ends of every call.
pub struct Endpoints {
    /// Callers' socket.
    pub a: UdpSocket,
    /// Callees' socket.
    pub b: UdpSocket,
}

fn socket() -> anyhow::Result<UdpSocket> {
    let s = UdpSocket::bind("127.0.0.1:0")?;
    s.set_nonblocking(true)?;
    let size = RECV_BUFFER as libc::c_int;
    // SAFETY: setsockopt on a socket we own, with a pointer to a c_int that
    // outlives the call and its exact size. SO_RCVBUFFORCE needs
    // CAP_NET_ADMIN; without it, fall back to SO_RCVBUF (capped by rmem_max).
    unsafe {
        let fd = s.as_raw_fd();
        let ptr = &size as *const libc::c_int as *const libc::c_void;
        let len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        if libc::setsockopt(fd, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, ptr, len) != 0 {
            libc::setsockopt(fd, libc::SOL_SOCKET, libc::SO_RCVBUF, ptr, len);
        }
    }
    Ok(s)
}

impl Endpoints {
    /// Two fresh sockets on loopback.
    pub fn new() -> anyhow::Result<Endpoints> {
        Ok(Endpoints {
            a: socket()?,
            b: socket()?,
        })
    }

    /// Port of the callers' socket.
    pub fn a_port(&self) -> u16 {
        self.a.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    /// Port of the callees' socket.
    pub fn b_port(&self) -> u16 {
        self.b.local_addr().map(|a| a.port()).unwrap_or(0)
    }
}

/// What one measurement saw.
#[derive(Debug, Clone, Copy, Default)]
pub struct Load {
    /// Packets sent during the measurement.
    pub sent: u64,
    /// Audio packets received back during it (plus a short linger).
    pub received: u64,
    /// Measurement length.
    pub seconds: f64,
    /// The generator thread's own CPU seconds during it.
    pub cpu_secs: f64,
    /// Relay CPU ticks (10 ms) during it, as read by the caller's closure.
    pub relay_ticks: u64,
}

impl Load {
    /// Percentage of sent packets that did not come back.
    pub fn loss_percent(&self) -> f64 {
        if self.sent == 0 {
            return 0.0;
        }
        100.0 * self.sent.saturating_sub(self.received) as f64 / self.sent as f64
    }
}

/// User+system CPU seconds of the calling thread.
fn thread_cpu_secs() -> f64 {
    std::fs::read_to_string("/proc/thread-self/stat")
        .ok()
        .and_then(|s| {
            let rest = s.rsplit_once(')')?.1.to_string();
            let f: Vec<&str> = rest.split_whitespace().collect();
            Some(f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?)
        })
        .unwrap_or(0.0)
        / 100.0
}

fn drain(sock: &UdpSocket, buf: &mut [u8]) -> u64 {
    let mut n = 0;
    while let Ok(len) = sock.recv(buf) {
        // Count audio (PT 0) only, not RTCP or anything else a relay sends.
        if len >= 12 && buf[1] & 0x7f == 0 {
            n += 1;
        }
    }
    n
}

/// Send 20 ms PCMU packets both ways on every call (`(where A sends,
/// where B sends)`) for `warmup`, then measure for `measure`.
pub fn run(
    ep: &Endpoints,
    calls: &[(SocketAddr, SocketAddr)],
    warmup: Duration,
    measure: Duration,
    relay_ticks: impl Fn() -> u64,
) -> Load {
    let mut pkt = [0u8; 172];
    pkt[0] = 0x80;
    for (i, b) in pkt[12..].iter_mut().enumerate() {
        // A 500 Hz square wave in µ-law: audible, never silence.
        *b = if (i / 8) % 2 == 0 { 0x20 } else { 0xa0 };
    }
    let mut rbuf = [0u8; 2048];
    let start = Instant::now();
    let warm_ticks = (warmup.as_millis() / 20) as u32;
    let ticks = warm_ticks + (measure.as_millis() / 20) as u32;
    let mut load = Load::default();
    let (mut cpu0, mut relay0, mut t0) = (0.0, 0, start);
    for t in 0..ticks {
        if t == warm_ticks {
            cpu0 = thread_cpu_secs();
            relay0 = relay_ticks();
            t0 = Instant::now();
            load.received = 0;
        }
        let measuring = t >= warm_ticks;
        pkt[2..4].copy_from_slice(&(t as u16).to_be_bytes());
        pkt[4..8].copy_from_slice(&(t.wrapping_mul(160)).to_be_bytes());
        for (i, (to_a, to_b)) in calls.iter().enumerate() {
            for (side, sock, to) in [(0u32, &ep.a, to_a), (1, &ep.b, to_b)] {
                pkt[8..12].copy_from_slice(&(2 * i as u32 + side + 1).to_be_bytes());
                if sock.send_to(&pkt, to).is_ok() && measuring {
                    load.sent += 1;
                }
            }
        }
        load.received += drain(&ep.a, &mut rbuf) + drain(&ep.b, &mut rbuf);
        let next = start + Duration::from_millis(20 * (u64::from(t) + 1));
        if let Some(wait) = next.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
    }
    load.seconds = t0.elapsed().as_secs_f64();
    load.cpu_secs = thread_cpu_secs() - cpu0;
    load.relay_ticks = relay_ticks().saturating_sub(relay0);
    let linger = Instant::now() + Duration::from_millis(200);
    while Instant::now() < linger {
        load.received += drain(&ep.a, &mut rbuf) + drain(&ep.b, &mut rbuf);
        std::thread::sleep(Duration::from_millis(5));
    }
    load
}

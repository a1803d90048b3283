//! RTP/RTCP port pair allocation inside the configured range.
//!
//! RTP takes an even port and RTCP the odd port above it (RFC 3550). Pairs
//! are handed out round-robin so a just-freed port is not reused at once
//! (late packets of the old call would land in the new one). Ports taken
//! by other processes are skipped.

use std::io::ErrorKind;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;

use tokio::net::UdpSocket;

use super::lock;
use crate::MediaError;

/// Round-robin allocator of even/odd port pairs.
#[derive(Debug)]
pub(crate) struct PortAllocator {
    min: u16,
    max: u16,
    first: u16,
    pairs: u32,
    cursor: Mutex<u32>,
}

impl PortAllocator {
    /// Validate the range; it must hold at least one even/odd pair.
    pub(crate) fn new(min: u16, max: u16) -> Result<PortAllocator, MediaError> {
        let first = min as u32 + (min as u32 & 1);
        if min == 0 || max < min || first + 1 > max as u32 {
            return Err(MediaError::InvalidPortRange { min, max });
        }
        // Pairs (p, p + 1) with p = first + 2k and p + 1 <= max.
        let pairs = (max as u32 - first).div_ceil(2);
        Ok(PortAllocator {
            min,
            max,
            first: first as u16,
            pairs,
            cursor: Mutex::new(0),
        })
    }

    /// Bind the next free pair on `ip`; returns (rtp, rtcp) sockets.
    /// Synchronous (binding a UDP socket never blocks) so callers that cannot
    /// await can use it; needs a tokio runtime context.
    pub(crate) fn bind_pair(&self, ip: IpAddr) -> Result<(UdpSocket, UdpSocket), MediaError> {
        let bind = |port: u16| -> std::io::Result<UdpSocket> {
            let s = std::net::UdpSocket::bind(SocketAddr::new(ip, port))?;
            s.set_nonblocking(true)?;
            UdpSocket::from_std(s)
        };
        for _ in 0..self.pairs {
            let index = {
                let mut c = lock(&self.cursor);
                let i = *c;
                *c = (i + 1) % self.pairs;
                i
            };
            let port = self.first + (index * 2) as u16;
            let rtp = match bind(port) {
                Ok(s) => s,
                Err(e) if e.kind() == ErrorKind::AddrInUse => continue,
                Err(e) => return Err(e.into()),
            };
            match bind(port + 1) {
                Ok(rtcp) => return Ok((rtp, rtcp)),
                Err(e) if e.kind() == ErrorKind::AddrInUse => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(MediaError::NoFreePort {
            min: self.min,
            max: self.max,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[test]
    fn validates_range() {
        assert!(PortAllocator::new(0, 100).is_err());
        assert!(PortAllocator::new(5000, 4000).is_err());
        assert!(PortAllocator::new(5001, 5002).is_err());
        assert_eq!(PortAllocator::new(5001, 5003).unwrap().pairs, 1);
        assert_eq!(PortAllocator::new(5000, 5009).unwrap().pairs, 5);
    }

    #[tokio::test]
    async fn allocates_even_pairs_and_skips_busy_ports() {
        let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let alloc = PortAllocator::new(41900, 41905).unwrap();
        let mut held = Vec::new();
        loop {
            match alloc.bind_pair(ip) {
                Ok((rtp, rtcp)) => {
                    let p = rtp.local_addr().unwrap().port();
                    assert_eq!(p % 2, 0);
                    assert_eq!(rtcp.local_addr().unwrap().port(), p + 1);
                    held.push((rtp, rtcp));
                }
                Err(MediaError::NoFreePort { .. }) => break,
                Err(e) => panic!("{e}"),
            }
            assert!(held.len() <= 3);
        }
        // Some ports may be busy on a shared machine, but never more pairs
        // than exist, and freeing one makes it available again.
        if let Some(pair) = held.pop() {
            let port = pair.0.local_addr().unwrap().port();
            drop(pair);
            let (rtp, _rtcp) = alloc.bind_pair(ip).unwrap();
            assert_eq!(rtp.local_addr().unwrap().port(), port);
        }
    }
}

//! SRTP at a leg's socket edge: what the receive tasks read is checked and
//! decrypted before anything else sees it, and every RTP or RTCP packet
//! the leg sends is protected just before the send. Rooms, forwarding,
//! recording, music and DTMF only ever see plain RTP, so an SRTP phone
//! bridges to a plain one without anything else knowing.
//!
//! Lock order: a sender holds the leg's `tx` lock, then takes `srtp`;
//! nothing takes `tx` or `rx` while holding `srtp`.

use std::net::SocketAddr;

use tracing::debug;

use super::leg::Leg;
use super::lock;
use crate::srtp::{SrtpContext, SrtpError, SrtpParams};

/// Largest packet protected (an RTP or RTCP packet plus the SRTCP trailer).
const MAX_PROTECTED: usize = 1500;

/// The SRTP state of a leg: none for plain RTP.
#[derive(Debug, Default)]
pub(crate) struct LegSrtp {
    params: Option<SrtpParams>,
    /// The peer's key: what we receive.
    inbound: Option<SrtpContext>,
    /// Our key: what we send.
    outbound: Option<SrtpContext>,
    /// Packets dropped: failed authentication or replayed.
    pub(crate) dropped: u64,
}

impl Leg {
    /// Switch SRTP on (or to new keys), or off with `None`. A direction
    /// whose key did not change keeps its context (ROC, replay list), as a
    /// re-INVITE that keeps the keys must (RFC 4568 §7.1.4).
    pub(crate) fn set_srtp(&self, params: Option<SrtpParams>) {
        let mut s = lock(&self.srtp);
        let Some(p) = params else {
            *s = LegSrtp {
                dropped: s.dropped,
                ..LegSrtp::default()
            };
            return;
        };
        let same_suite = s.params.as_ref().is_some_and(|o| o.profile == p.profile);
        if !same_suite || s.params.as_ref().is_some_and(|o| o.remote != p.remote) {
            s.inbound = Some(SrtpContext::new(p.profile, &p.remote));
        }
        if !same_suite || s.params.as_ref().is_some_and(|o| o.local != p.local) {
            s.outbound = Some(SrtpContext::new(p.profile, &p.local));
        }
        s.params = Some(p);
    }

    /// Send one RTP packet to `addr`, protected when the leg is SRTP.
    pub(crate) fn send_rtp(&self, pkt: &[u8], addr: SocketAddr) -> std::io::Result<usize> {
        let mut s = lock(&self.srtp);
        let Some(ctx) = s.outbound.as_mut() else {
            drop(s);
            return self.socket.try_send_to(pkt, addr);
        };
        let mut buf = [0u8; MAX_PROTECTED];
        let Some(dst) = buf.get_mut(..pkt.len()) else {
            return Err(std::io::Error::other(SrtpError::NoRoom));
        };
        dst.copy_from_slice(pkt);
        let n = ctx
            .protect_rtp(&mut buf, pkt.len())
            .map_err(std::io::Error::other)?;
        drop(s);
        self.socket.try_send_to(&buf[..n], addr)
    }

    /// Check and decrypt a datagram received on the RTP port in place;
    /// its plain length, or `None` when it must be dropped (counted).
    pub(crate) fn unprotect_rtp(&self, data: &mut [u8]) -> Option<usize> {
        let mut s = lock(&self.srtp);
        let Some(ctx) = s.inbound.as_mut() else {
            return Some(data.len());
        };
        // RTCP multiplexed on the RTP port (payload types 72-76 with the
        // marker bit) is not ours to check here; the RTP path ignores it.
        if data.len() > 1 && (200..=204).contains(&data[1]) {
            return None;
        }
        match ctx.unprotect_rtp(data) {
            Ok(n) => Some(n),
            Err(e) => {
                s.dropped += 1;
                if s.dropped.is_power_of_two() {
                    debug!(leg = self.id, error = %e, dropped = s.dropped, "SRTP packet dropped");
                }
                None
            }
        }
    }

    /// Protect an RTCP packet built in `buf[..len]`; the length to send,
    /// or `None` when it cannot be protected.
    pub(crate) fn protect_rtcp(&self, buf: &mut [u8], len: usize) -> Option<usize> {
        let mut s = lock(&self.srtp);
        match s.outbound.as_mut() {
            None => Some(len),
            Some(ctx) => ctx.protect_rtcp(buf, len).ok(),
        }
    }

    /// Check and decrypt a datagram received on the RTCP port in place.
    pub(crate) fn unprotect_rtcp(&self, data: &mut [u8]) -> Option<usize> {
        let mut s = lock(&self.srtp);
        let Some(ctx) = s.inbound.as_mut() else {
            return Some(data.len());
        };
        match ctx.unprotect_rtcp(data) {
            Ok(n) => Some(n),
            Err(_) => {
                s.dropped += 1;
                None
            }
        }
    }

    /// Packets dropped by SRTP checks so far.
    pub(crate) fn srtp_dropped(&self) -> u64 {
        lock(&self.srtp).dropped
    }
}

//! The RTCP task of a leg: reads the phone's reports (its sender report
//! for round-trip timing, its report block about our stream) and sends
//! ours every interval (randomized 0.5-1.5x, RFC 3550 §6.3.1): a sender
//! report while we send media, else a receiver report, with a report
//! block about the phone's stream. Reports go where the phone's RTCP comes
//! from, else to its RTP address's port + 1.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::net::UdpSocket;

use super::leg::Leg;
use super::lock;
use crate::quality::RemoteReport;
use crate::rtcp::{self, SenderInfo};

/// Our CNAME (RFC 3550 §6.5.1: stable per endpoint).
const CNAME: &str = "switchboard";

/// Run until the leg's receive task is aborted.
pub(crate) async fn run(leg: Arc<Leg>, socket: UdpSocket, interval: Duration) {
    let mut buf = [0u8; 1500];
    let mut last_packets = 0u64;
    loop {
        let wait = interval.mul_f64(0.5 + rand::random::<f64>());
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            tokio::select! {
                r = socket.recv_from(&mut buf) => {
                    if let Ok((n, from)) = r {
                        if let Some(n) = leg.unprotect_rtcp(&mut buf[..n]) {
                            on_report(&leg, &buf[..n], from);
                        }
                    }
                }
                _ = tokio::time::sleep_until(deadline) => break,
            }
        }
        if let Some((to, len)) = report(&leg, &mut buf, &mut last_packets) {
            if let Some(len) = leg.protect_rtcp(&mut buf, len) {
                let _ = socket.send_to(&buf[..len], to).await;
            }
        }
    }
}

fn now_ms(leg: &Leg) -> u64 {
    leg.created.elapsed().as_millis() as u64
}

/// Take in a report from the phone.
fn on_report(leg: &Leg, data: &[u8], from: SocketAddr) {
    let ours = lock(&leg.tx).stream.ssrc();
    let Some(r) = rtcp::parse_report(data, ours) else {
        return;
    };
    let now_ntp = rtcp::ntp_middle(rtcp::ntp_time(SystemTime::now()));
    let mut rx = lock(&leg.rx);
    rx.rtcp_peer = Some(from);
    if let Some((ssrc, ntp)) = r.sender_report {
        if rx.receive.ssrc() == Some(ssrc) {
            let now = now_ms(leg);
            rx.receive.on_sender_report(ntp, now);
        }
    }
    if let Some(b) = r.about_us {
        rx.remote_report = Some(RemoteReport::from_block(&b, now_ntp));
    }
}

/// Build our report; returns where to send it and its length.
fn report(leg: &Leg, buf: &mut [u8], last_packets: &mut u64) -> Option<(SocketAddr, usize)> {
    let (to, block) = {
        let mut rx = lock(&leg.rx);
        let to = match rx.rtcp_peer {
            Some(peer) => peer,
            None => {
                let rtp = rx.latched.or(rx.remote)?;
                SocketAddr::new(rtp.ip(), rtp.port().checked_add(1)?)
            }
        };
        let now = now_ms(leg);
        (to, rx.receive.report_block(now))
    };
    let (ssrc, sender) = {
        let tx = lock(&leg.tx);
        let sending = tx.packets_out > *last_packets;
        *last_packets = tx.packets_out;
        let sender = sending.then(|| SenderInfo {
            ntp: rtcp::ntp_time(SystemTime::now()),
            rtp_ts: tx.stream.current_ts(),
            packets: tx.packets_out as u32,
            octets: tx.octets_out as u32,
        });
        (tx.stream.ssrc(), sender)
    };
    if sender.is_none() && block.is_none() {
        return None; // nothing to say yet
    }
    let len = rtcp::build_report(ssrc, sender, block, CNAME, buf)?;
    Some((to, len))
}

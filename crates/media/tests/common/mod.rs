//! Helpers shared by the media engine's end-to-end tests: test phones on
//! real UDP sockets, paced tone senders, receivers and a Goertzel filter.
#![allow(dead_code)]

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use switchboard_media::rtp::{RtpHeader, RtpPacket};
use switchboard_media::{Codec, LegId, MediaConfig, MediaEngine};
use tokio::net::UdpSocket;
use tokio::task::JoinHandle;
use tokio::time::{interval, timeout_at, Instant};

pub const LOCALHOST: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

pub async fn engine(port_min: u16) -> MediaEngine {
    MediaEngine::start(MediaConfig {
        bind_ip: LOCALHOST,
        port_min,
        port_max: port_min + 99,
        music_dir: None,
    })
    .await
    .expect("engine starts")
}

/// A test phone: a UDP socket on an ephemeral port.
pub struct Phone {
    pub sock: Arc<UdpSocket>,
    pub addr: SocketAddr,
}

pub async fn phone() -> Phone {
    let sock = UdpSocket::bind((LOCALHOST, 0)).await.unwrap();
    let addr = sock.local_addr().unwrap();
    Phone {
        sock: Arc::new(sock),
        addr,
    }
}

pub fn leg_addr(port: u16) -> SocketAddr {
    SocketAddr::new(LOCALHOST, port)
}

/// Send `dur` of a sine tone as 20 ms RTP packets.
pub fn send_tone(
    phone: &Phone,
    to: SocketAddr,
    codec: Codec,
    freq: f64,
    dur: Duration,
) -> JoinHandle<()> {
    let sock = phone.sock.clone();
    tokio::spawn(async move {
        let mut tick = interval(Duration::from_millis(20));
        let ssrc: u32 = rand::random();
        let packets = (dur.as_millis() / 20) as u32;
        let mut buf = [0u8; 172];
        for i in 0..packets {
            tick.tick().await;
            let mut pcm = [0i16; 160];
            for (j, s) in pcm.iter_mut().enumerate() {
                let n = (i * 160 + j as u32) as f64;
                *s = (6000.0 * (std::f64::consts::TAU * freq * n / 8000.0).sin()) as i16;
            }
            let h = RtpHeader {
                payload_type: codec.payload_type(),
                marker: i == 0,
                sequence: i as u16,
                timestamp: i * 160,
                ssrc,
            };
            h.write(&mut buf).unwrap();
            codec.encode(&pcm, &mut buf[12..]);
            let _ = sock.send_to(&buf, to).await;
        }
    })
}

/// A packet received by a test phone, decoded.
#[derive(Debug)]
#[allow(dead_code)]
pub struct Received {
    pub from: SocketAddr,
    pub pt: u8,
    pub marker: bool,
    pub seq: u16,
    pub ts: u32,
    pub ssrc: u32,
    pub pcm: Vec<i16>,
    /// Payload bytes as received.
    pub payload: Vec<u8>,
    /// When it arrived.
    pub at: Instant,
}

/// Receive and decode everything arriving for `dur`.
pub async fn collect(sock: Arc<UdpSocket>, dur: Duration) -> Vec<Received> {
    let deadline = Instant::now() + dur;
    let mut out = Vec::new();
    let mut buf = [0u8; 2048];
    while let Ok(r) = timeout_at(deadline, sock.recv_from(&mut buf)).await {
        let Ok((n, from)) = r else { continue };
        let p = RtpPacket::parse(&buf[..n]).expect("engine sends valid RTP");
        if p.is_rtcp() {
            continue; // a report meant for port+1 that landed on this phone
        }
        let codec = Codec::from_payload_type(p.payload_type).expect("G.711");
        let mut pcm = vec![0i16; p.payload.len()];
        codec.decode(p.payload, &mut pcm);
        out.push(Received {
            from,
            pt: p.payload_type,
            marker: p.marker,
            seq: p.sequence,
            ts: p.timestamp,
            ssrc: p.ssrc,
            pcm,
            payload: p.payload.to_vec(),
            at: Instant::now(),
        });
    }
    out
}

/// Discard everything already queued on the socket.
pub fn drain(sock: &UdpSocket) {
    let mut buf = [0u8; 2048];
    while sock.try_recv_from(&mut buf).is_ok() {}
}

pub fn spawn_collect(phone: &Phone, dur: Duration) -> JoinHandle<Vec<Received>> {
    tokio::spawn(collect(phone.sock.clone(), dur))
}

/// Goertzel power of `freq` in one block and the block's energy.
pub fn goertzel(block: &[i16], freq: f64) -> (f64, f64) {
    let coeff = 2.0 * (std::f64::consts::TAU * freq / 8000.0).cos();
    let (mut s1, mut s2, mut energy) = (0.0f64, 0.0f64, 0.0f64);
    for &x in block {
        let x = x as f64;
        let s = x + coeff * s1 - s2;
        s2 = s1;
        s1 = s;
        energy += x * x;
    }
    (s1 * s1 + s2 * s2 - coeff * s1 * s2, energy)
}

/// Fraction of the signal's energy at `freq` (1.0 = pure tone), measured
/// per 160-sample block so gaps and phase jumps don't matter.
pub fn tone_fraction(samples: &[i16], freq: f64) -> f64 {
    let (mut tone, mut total) = (0.0, 0.0);
    for block in samples.chunks_exact(160) {
        let (p, e) = goertzel(block, freq);
        tone += 2.0 * p / block.len() as f64;
        total += e;
    }
    if total == 0.0 {
        0.0
    } else {
        tone / total
    }
}

pub fn rms(samples: &[i16]) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    (samples.iter().map(|&v| (v as f64).powi(2)).sum::<f64>() / samples.len() as f64).sqrt()
}

pub fn pcm_of(packets: &[Received]) -> Vec<i16> {
    packets.iter().flat_map(|p| p.pcm.iter().copied()).collect()
}

pub async fn bridged_pair(e: &MediaEngine) -> (LegId, u16, LegId, u16) {
    let a = e.create_leg().await.unwrap();
    let b = e.create_leg().await.unwrap();
    let room = e.create_room();
    e.join(room, a.id);
    e.join(room, b.id);
    assert_eq!(e.room_members(room), vec![a.id, b.id]);
    (a.id, a.local_port, b.id, b.local_port)
}

/// Send prepared `(sequence, timestamp, payload)` packets, one every 20 ms,
/// with one SSRC and payload type.
pub fn send_packets(
    phone: &Phone,
    to: SocketAddr,
    pt: u8,
    ssrc: u32,
    packets: Vec<(u16, u32, Vec<u8>)>,
) -> JoinHandle<()> {
    let sock = phone.sock.clone();
    tokio::spawn(async move {
        let mut tick = interval(Duration::from_millis(20));
        let mut buf = [0u8; 1500];
        for (i, (sequence, timestamp, payload)) in packets.into_iter().enumerate() {
            tick.tick().await;
            let h = RtpHeader {
                payload_type: pt,
                marker: i == 0,
                sequence,
                timestamp,
                ssrc,
            };
            let n = h.write_packet(&mut buf, &payload).unwrap();
            let _ = sock.send_to(&buf[..n], to).await;
        }
    })
}

//! Forwarding in a two-party bridge: each packet one party sends goes to
//! the other as it arrives, payload untouched (transcoded PCMU<->PCMA only
//! when the two negotiated different codecs), renumbered onto the
//! receiving leg's own stream ([`crate::forward::OutStream`]). RFC 4733
//! events pass through with the receiver's payload type. No decoding, no
//! mixing, no tick: the receive task of the sending leg does the work, on
//! whichever runtime thread it runs, so the relay uses every core.
//! Recorded calls forward too: each packet's payload is also handed to the
//! recorders (decoded and placed on the recording's timeline by the
//! recording writer thread, off this path).

use std::time::{Duration, Instant};

use super::leg::{Leg, KEEPALIVE_TICKS};
use super::lock;
use super::tick::FORWARD_VISIT_EVERY;
use crate::g711::Codec;
use crate::rtp::{RtpHeader, RtpPacket, G711_PACKET_LEN, HEADER_LEN};
use crate::timeline::Channel;
use crate::FRAME_SAMPLES;

/// Largest payload forwarded (larger datagrams are not G.711 audio).
const MAX_PAYLOAD: usize = 1400;

impl Leg {
    /// Send `pkt`, received from leg `from`, to this leg's phone.
    pub(crate) fn forward_from(
        &self,
        from: u64,
        pkt: &RtpPacket<'_>,
        is_event: bool,
        now: Instant,
        pcm: &mut [i16],
    ) {
        if pkt.payload.len() > MAX_PAYLOAD {
            return;
        }
        let (dest, dtmf_pt) = {
            let rx = lock(&self.rx);
            (rx.dest(), rx.dtmf_pt)
        };
        let Some((addr, codec)) = dest else {
            return;
        };
        let mut buf = [0u8; HEADER_LEN + MAX_PAYLOAD];
        let len = HEADER_LEN + pkt.payload.len();
        let body = &mut buf[HEADER_LEN..len];
        let (payload_type, samples) = if is_event {
            let Some(pt) = dtmf_pt else {
                return;
            };
            body.copy_from_slice(pkt.payload);
            (pt, 0)
        } else {
            let Some(src) = Codec::from_payload_type(pkt.payload_type) else {
                return;
            };
            if src == codec {
                body.copy_from_slice(pkt.payload);
            } else {
                let n = src.decode(pkt.payload, pcm);
                codec.encode(&pcm[..n], body);
            }
            (codec.payload_type(), pkt.payload.len() as u32)
        };
        let mut tx = lock(&self.tx);
        let source = (from, pkt.ssrc);
        let stamp = tx
            .stream
            .forward(now, source, pkt.sequence, pkt.timestamp, samples);
        let header = RtpHeader {
            payload_type,
            marker: stamp.marker || pkt.marker,
            sequence: stamp.sequence,
            timestamp: stamp.timestamp,
            ssrc: tx.stream.ssrc(),
        };
        if header.write(&mut buf).is_err() {
            return;
        }
        if self.send_rtp(&buf[..len], addr).is_ok() {
            tx.packets_out += 1;
            tx.octets_out += pkt.payload.len() as u64;
            tx.ticks_since_audio = 0;
        }
        if !is_event && !tx.recorders.is_empty() {
            // What this leg hears, as the other party sent it (right channel).
            if let Some(src) = Codec::from_payload_type(pkt.payload_type) {
                let source = from << 32 | u64::from(pkt.ssrc);
                for (_, r) in tx.recorders.iter_mut() {
                    r.push_packet(Channel::Right, now, source, pkt.timestamp, src, pkt.payload);
                }
            }
        }
    }

    /// The tick's work for a leg whose audio is forwarded, every
    /// [`FORWARD_VISIT_EVERY`] ticks: the RTP timeout, and one silence
    /// packet a second while the other party sends nothing (so phones and
    /// carriers with a media timeout keep the call).
    /// Returns true when the RTP timeout just expired.
    pub(crate) fn forwarded_tick(
        &self,
        now: Instant,
        timeout: Option<Duration>,
        pkt: &mut [u8; G711_PACKET_LEN],
    ) -> bool {
        let (dest, timed_out) = {
            let mut rx = lock(&self.rx);
            // Nothing is mixed for this leg: whatever the buffer held is stale.
            rx.quiet_ticks = rx.quiet_ticks.saturating_add(FORWARD_VISIT_EVERY);
            (rx.dest(), rx.check_timeout(now, timeout))
        };
        let mut tx = lock(&self.tx);
        for (_, r) in tx.recorders.iter_mut() {
            r.flush_due(now);
        }
        tx.ticks_since_audio = tx.ticks_since_audio.saturating_add(FORWARD_VISIT_EVERY);
        if tx.ticks_since_audio < KEEPALIVE_TICKS {
            return timed_out;
        }
        let Some((addr, codec)) = dest else {
            return timed_out;
        };
        let stamp = tx.stream.mixed(now, FRAME_SAMPLES as u32);
        let header = RtpHeader {
            payload_type: codec.payload_type(),
            marker: true,
            sequence: stamp.sequence,
            timestamp: stamp.timestamp,
            ssrc: tx.stream.ssrc(),
        };
        if header.write(pkt).is_ok() {
            pkt[HEADER_LEN..].fill(codec.silence_byte());
            if self.send_rtp(&pkt[..], addr).is_ok() {
                tx.stream.sent();
                tx.packets_out += 1;
                tx.ticks_since_audio = 0;
            }
        }
        timed_out
    }
}

//! A call leg: one UDP port pair, its receive task and its send state.
//!
//! The receive task parses RTP, latches the source address (symmetric RTP)
//! and detects DTMF. Then, by the leg's [`Route`]: in a two-party bridge it
//! forwards the packet straight to the other party (see `relay.rs`); in a
//! room that mixes it decodes the audio into the jitter buffer, which the
//! tick pops. The two sides share the leg through two short-lived mutexes:
//! `rx` (fed by the receive task) and `tx` (the outgoing stream and the
//! recorders). A thread never holds one leg's lock while taking another's.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use tokio::net::UdpSocket;
use tokio::sync::broadcast;
use tokio::task::JoinHandle;
use tracing::debug;

use super::{lock, LegId, LegStats, MediaEvent, RecordingId};
use crate::dtmf::DtmfDetector;
use crate::forward::OutStream;
use crate::g711::Codec;
use crate::jitter::JitterBuffer;
use crate::quality::{Quality, ReceiveStats, RemoteReport};
use crate::recorder::Recorder;
use crate::rtp::{RtpHeader, RtpPacket, G711_PACKET_LEN, HEADER_LEN};
use crate::timeline::Channel;
use crate::{Frame, FRAME_SAMPLES};

/// A new source only replaces the latched one after this much silence from
/// it, so stray or spoofed packets cannot hijack a live stream.
const RELATCH_AFTER: Duration = Duration::from_secs(1);

/// Largest datagram we read.
const MAX_DATAGRAM: usize = 2048;

/// What the receive task does with a leg's audio.
#[derive(Debug, Clone, Default)]
pub(crate) enum Route {
    /// Decode into the jitter buffer for the tick to mix (music, conference,
    /// recording, or a leg alone).
    #[default]
    Mix,
    /// Forward each packet to the other party of a two-party bridge.
    Forward(Weak<Leg>),
}

/// State written by the receive task (and by signalling calls).
#[derive(Debug)]
pub(crate) struct RxState {
    pub(crate) jitter: JitterBuffer,
    pub(crate) route: Route,
    /// Address from SDP; `None` until `set_remote`.
    pub(crate) remote: Option<SocketAddr>,
    /// Source of the media actually received.
    pub(crate) latched: Option<SocketAddr>,
    latched_seen: Instant,
    pub(crate) codec: Codec,
    pub(crate) dtmf_pt: Option<u8>,
    pub(crate) sending: bool,
    pub(crate) muted: bool,
    dtmf: DtmfDetector,
    pub(crate) packets_in: u64,
    pub(crate) bytes_in: u64,
    pub(crate) last_source: Option<SocketAddr>,
    got_first_packet: bool,
    /// RFC 3550 statistics of what the phone sends.
    pub(crate) receive: ReceiveStats,
    /// The phone's last report about our stream.
    pub(crate) remote_report: Option<RemoteReport>,
    /// Where the phone's RTCP comes from (symmetric RTCP), once seen.
    pub(crate) rtcp_peer: Option<SocketAddr>,
    /// Last packet, or when the timeout was (re)armed.
    pub(crate) last_activity: Instant,
    pub(crate) timeout_reported: bool,
    /// Ticks since the leg last gave audio (saturating).
    pub(crate) quiet_ticks: u32,
    /// A digit received from this leg, to be relayed to the others of its room.
    pub(crate) dtmf_relay: Option<char>,
}

impl RxState {
    /// Where and in which codec to send, if sending is enabled.
    pub(crate) fn dest(&self) -> Option<(SocketAddr, Codec)> {
        match self.remote {
            Some(remote) if self.sending => Some((self.latched.unwrap_or(remote), self.codec)),
            _ => None,
        }
    }

    /// True once when no packet came for `timeout` while media is expected.
    pub(crate) fn check_timeout(&mut self, now: Instant, timeout: Option<Duration>) -> bool {
        let Some(limit) = timeout else {
            return false;
        };
        if self.remote.is_some()
            && self.sending
            && !self.timeout_reported
            && now.duration_since(self.last_activity) >= limit
        {
            self.timeout_reported = true;
            return true;
        }
        false
    }
}

/// The outgoing RTP stream (fed by the tick and by forwarding) and recordings.
#[derive(Debug)]
pub(crate) struct TxState {
    pub(crate) stream: OutStream,
    last_sig: Option<(u64, u64)>,
    sent_last_tick: bool,
    /// Ticks since the last audio packet went out (saturating).
    pub(crate) ticks_since_audio: u32,
    pub(crate) packets_out: u64,
    /// Payload octets sent (for sender reports).
    pub(crate) octets_out: u64,
    pub(crate) recorders: Vec<(RecordingId, Recorder)>,
    /// Digits relayed from other legs, waiting to be sent as RFC 4733 events.
    dtmf_queue: [u8; DTMF_QUEUE],
    dtmf_queued: usize,
    /// Event being sent: (event code, RTP timestamp of its start, packets sent).
    dtmf_active: Option<(u8, u32, u8)>,
}

/// Relayed digits waiting per leg (more are dropped: nobody types that fast).
const DTMF_QUEUE: usize = 16;
/// Telephone-event packets per relayed digit before its end (5 × 20 ms = 100 ms).
const DTMF_TONE_PACKETS: u8 = 5;
/// End packets per digit (RFC 4733 §2.5.1.4 recommends three).
const DTMF_END_PACKETS: u8 = 3;

/// What the tick needs from a leg's receive side for one frame.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TickInput {
    /// Audio the leg sent (silence if none buffered).
    pub(crate) frame: Frame,
    /// Whether others must not hear it.
    pub(crate) muted: bool,
    /// Where and how to send, if sending is enabled.
    pub(crate) dest: Option<(SocketAddr, Codec)>,
    /// telephone-event payload type the peer negotiated.
    pub(crate) dtmf_pt: Option<u8>,
    /// A digit this leg sent, to relay to the others.
    pub(crate) dtmf_in: Option<char>,
    /// True if the RTP timeout just expired.
    pub(crate) timed_out: bool,
    /// The leg is talking: it gave audio within the last [`TALKSPURT_HANGOVER`] ticks.
    pub(crate) active: bool,
}

/// Ticks (20 ms) a leg counts as talking after its last audio frame, so a
/// late packet or a short underrun does not cut what the others hear.
pub(crate) const TALKSPURT_HANGOVER: u32 = 25;

/// While nobody a leg hears is talking, one silence packet a second still
/// goes out: phones and carriers that hang up after some seconds without
/// RTP (linphone's `nortp_timeout`, SBC media timeouts) keep the call, and
/// the 49 packets in between are not sent at all.
pub(crate) const KEEPALIVE_TICKS: u32 = 50;

/// One call leg.
#[derive(Debug)]
pub(crate) struct Leg {
    pub(crate) id: LegId,
    pub(crate) local_port: u16,
    pub(crate) socket: UdpSocket,
    /// Origin of the arrival clock fed to the jitter buffer.
    pub(crate) created: Instant,
    pub(crate) rx: Mutex<RxState>,
    pub(crate) tx: Mutex<TxState>,
    /// Whether `tx.recorders` is non-empty, readable without the lock: the
    /// receive path of a forwarded call checks it for every packet.
    recorded: AtomicBool,
    task: Mutex<Option<JoinHandle<()>>>,
    /// SRTP keys and state (see `secure.rs`); plain RTP by default.
    pub(crate) srtp: Mutex<super::secure::LegSrtp>,
}

impl Leg {
    /// New leg around a bound RTP socket, with random SSRC/seq/timestamp.
    pub(crate) fn new(id: LegId, socket: UdpSocket) -> std::io::Result<Leg> {
        let local_port = socket.local_addr()?.port();
        let now = Instant::now();
        Ok(Leg {
            id,
            local_port,
            socket,
            created: now,
            rx: Mutex::new(RxState {
                jitter: JitterBuffer::new(),
                route: Route::Mix,
                remote: None,
                latched: None,
                latched_seen: now,
                codec: Codec::Pcmu,
                dtmf_pt: None,
                sending: true,
                muted: false,
                dtmf: DtmfDetector::new(),
                packets_in: 0,
                bytes_in: 0,
                last_source: None,
                got_first_packet: false,
                receive: ReceiveStats::default(),
                remote_report: None,
                rtcp_peer: None,
                last_activity: now,
                timeout_reported: false,
                quiet_ticks: u32::MAX,
                dtmf_relay: None,
            }),
            tx: Mutex::new(TxState {
                stream: OutStream::new(rand::random(), rand::random(), rand::random()),
                last_sig: None,
                sent_last_tick: false,
                ticks_since_audio: u32::MAX,
                packets_out: 0,
                octets_out: 0,
                recorders: Vec::new(),
                dtmf_queue: [0; DTMF_QUEUE],
                dtmf_queued: 0,
                dtmf_active: None,
            }),
            recorded: AtomicBool::new(false),
            task: Mutex::new(None),
            srtp: Mutex::new(Default::default()),
        })
    }

    /// Remember the receive task so it can be stopped.
    pub(crate) fn set_task(&self, task: JoinHandle<()>) {
        *lock(&self.task) = Some(task);
    }

    /// Stop the receive task; the sockets close once it is gone.
    pub(crate) fn abort_task(&self) {
        if let Some(t) = lock(&self.task).take() {
            t.abort();
        }
    }

    /// Change what the receive task does with this leg's audio. Audio
    /// buffered for mixing is stale once the leg has been forwarded.
    pub(crate) fn set_route(&self, route: Route) {
        let mut rx = lock(&self.rx);
        if matches!(route, Route::Mix) && !matches!(rx.route, Route::Mix) {
            rx.jitter.clear();
            rx.quiet_ticks = u32::MAX;
        }
        rx.route = route;
    }

    /// Give a forwarded packet this leg sent to its recorders (left channel).
    fn record_sent(&self, pkt: &RtpPacket<'_>, now: Instant) {
        if !self.recorded.load(Ordering::Relaxed) {
            return;
        }
        let mut tx = lock(&self.tx);
        if let Some(codec) = Codec::from_payload_type(pkt.payload_type) {
            let source = self.id << 32 | u64::from(pkt.ssrc);
            for (_, r) in tx.recorders.iter_mut() {
                r.push_packet(
                    Channel::Left,
                    now,
                    source,
                    pkt.timestamp,
                    codec,
                    pkt.payload,
                );
            }
        }
    }

    /// Start feeding a recorder.
    pub(crate) fn add_recorder(&self, id: RecordingId, recorder: Recorder) {
        let mut tx = lock(&self.tx);
        tx.recorders.push((id, recorder));
        self.recorded.store(true, Ordering::Relaxed);
    }

    /// Stop feeding recorder `id` and hand it back.
    pub(crate) fn remove_recorder(&self, id: RecordingId) -> Option<Recorder> {
        let mut tx = lock(&self.tx);
        let pos = tx.recorders.iter().position(|(r, _)| *r == id)?;
        let recorder = tx.recorders.swap_remove(pos).1;
        self.recorded
            .store(!tx.recorders.is_empty(), Ordering::Relaxed);
        Some(recorder)
    }

    /// Stop feeding every recorder and hand them back.
    pub(crate) fn take_recorders(&self) -> Vec<(RecordingId, Recorder)> {
        let mut tx = lock(&self.tx);
        self.recorded.store(false, Ordering::Relaxed);
        std::mem::take(&mut tx.recorders)
    }

    /// Counters for `MediaEngine::stats`.
    pub(crate) fn stats(&self) -> LegStats {
        let (packets_in, bytes_in, last_source, playout, quality) = {
            let rx = lock(&self.rx);
            (
                rx.packets_in,
                rx.bytes_in,
                rx.last_source,
                rx.jitter.stats(),
                Quality::of(&rx.receive, rx.remote_report),
            )
        };
        LegStats {
            srtp_dropped: self.srtp_dropped(),
            packets_in,
            packets_out: lock(&self.tx).packets_out,
            bytes_in,
            last_source,
            playout,
            quality,
        }
    }

    /// Handle one received datagram; returns events to publish.
    fn on_datagram(
        &self,
        data: &[u8],
        from: SocketAddr,
        pcm: &mut [i16; MAX_DATAGRAM],
    ) -> [Option<MediaEvent>; 2] {
        let mut events = [None, None];
        let Ok(pkt) = RtpPacket::parse(data) else {
            return events;
        };
        if pkt.is_rtcp() {
            return events;
        }
        let now = Instant::now();
        let mut rx = lock(&self.rx);
        match rx.latched {
            Some(addr) if addr != from => {
                if now.duration_since(rx.latched_seen) < RELATCH_AFTER {
                    return events;
                }
                debug!(leg = self.id, old = %addr, new = %from, "re-latching RTP source");
                rx.latched = Some(from);
            }
            Some(_) => {}
            None => rx.latched = Some(from),
        }
        rx.latched_seen = now;
        rx.last_activity = now;
        rx.timeout_reported = false;
        rx.packets_in += 1;
        rx.bytes_in += data.len() as u64;
        rx.last_source = Some(from);
        let arrival = (now.duration_since(self.created).as_micros() * 8 / 1000) as u32;
        rx.receive
            .on_packet(pkt.ssrc, pkt.sequence, pkt.timestamp, arrival);
        if !rx.got_first_packet {
            rx.got_first_packet = true;
            events[0] = Some(MediaEvent::FirstPacket { leg: self.id, from });
        }
        let is_event = rx.dtmf_pt == Some(pkt.payload_type);
        if is_event {
            if let Some(digit) = rx.dtmf.on_packet(pkt.timestamp, pkt.payload) {
                if matches!(rx.route, Route::Mix) {
                    rx.dtmf_relay = Some(digit);
                }
                events[1] = Some(MediaEvent::Dtmf {
                    leg: self.id,
                    digit,
                });
            }
        }
        match rx.route.clone() {
            Route::Forward(to) => {
                if rx.muted {
                    return events;
                }
                let Some(to) = to.upgrade() else {
                    return events;
                };
                drop(rx);
                to.forward_from(self.id, &pkt, is_event, now, pcm);
                if !is_event {
                    self.record_sent(&pkt, now);
                }
            }
            Route::Mix if !is_event => {
                if let Some(codec) = Codec::from_payload_type(pkt.payload_type) {
                    // Decode with the packet's own codec: PCMU in, PCMA out is fine.
                    let n = codec.decode(pkt.payload, pcm);
                    rx.jitter.push(pkt.ssrc, pkt.timestamp, arrival, &pcm[..n]);
                }
            }
            Route::Mix => {}
        }
        events
    }

    /// Pop this tick's input and read the send parameters.
    pub(crate) fn take_input(&self, now: Instant, timeout: Option<Duration>) -> TickInput {
        let mut rx = lock(&self.rx);
        let popped = rx.jitter.pop();
        rx.quiet_ticks = match popped {
            Some(_) => 0,
            None => rx.quiet_ticks.saturating_add(1),
        };
        let active = rx.quiet_ticks < TALKSPURT_HANGOVER;
        let frame = popped.unwrap_or([0; FRAME_SAMPLES]);
        let dest = rx.dest();
        let timed_out = rx.check_timeout(now, timeout);
        TickInput {
            frame,
            muted: rx.muted,
            dest,
            dtmf_pt: rx.dtmf_pt,
            dtmf_in: rx.dtmf_relay.take(),
            timed_out,
            active,
        }
    }

    /// Queue a digit (from another leg of the room) to send as telephone-events.
    pub(crate) fn queue_dtmf(&self, digit: char) {
        let Some(code) = crate::dtmf::char_to_event(digit) else {
            return;
        };
        let mut tx = lock(&self.tx);
        if tx.dtmf_queued < DTMF_QUEUE {
            let i = tx.dtmf_queued;
            tx.dtmf_queue[i] = code;
            tx.dtmf_queued += 1;
        }
    }

    /// Send this tick's output and feed recorders. `sig` identifies what
    /// the leg hears; a change sets the marker bit. `recording` is
    /// (what the leg sent, what it heard without music) for its recorders.
    /// `audio` is false when the leg's phone is silent, nobody it hears is
    /// talking and no music plays: then no audio packet goes out (silence
    /// suppression; the next talkspurt starts with the marker bit), while
    /// the RTP clock, DTMF and recorders go on.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn emit(
        &self,
        now: Instant,
        out: &Frame,
        audio: bool,
        dest: Option<(SocketAddr, Codec)>,
        dtmf_pt: Option<u8>,
        sig: (u64, u64),
        recording: (&Frame, &Frame),
        pkt: &mut [u8; G711_PACKET_LEN],
    ) {
        let mut tx = lock(&self.tx);
        if tx.last_sig != Some(sig) || !tx.sent_last_tick {
            tx.stream.mark();
        }
        tx.last_sig = Some(sig);
        // The RTP clock runs for the leg's whole life, sending or not.
        let stamp = tx.stream.mixed(now, FRAME_SAMPLES as u32);
        let mut sent = false;
        if let (Some((addr, _)), Some(pt)) = (dest, dtmf_pt) {
            if tx.dtmf_active.is_none() && tx.dtmf_queued > 0 {
                let code = tx.dtmf_queue[0];
                tx.dtmf_queue.copy_within(1.., 0);
                tx.dtmf_queued -= 1;
                tx.dtmf_active = Some((code, stamp.timestamp, 0));
            }
            if let Some((code, start, n)) = tx.dtmf_active {
                // RFC 4733: same timestamp for the whole event, growing duration,
                // marker on the first packet, then three end packets.
                let end = n >= DTMF_TONE_PACKETS;
                let duration = 160 * u16::from(n.min(DTMF_TONE_PACKETS - 1) + 1);
                let ev_stamp = tx.stream.event(start, n == 0);
                let header = RtpHeader {
                    payload_type: pt,
                    marker: ev_stamp.marker,
                    sequence: ev_stamp.sequence,
                    timestamp: ev_stamp.timestamp,
                    ssrc: tx.stream.ssrc(),
                };
                let mut ev = [0u8; 4];
                crate::dtmf::TelephoneEvent {
                    event: code,
                    end,
                    volume: 10,
                    duration,
                }
                .write(&mut ev);
                if header.write(pkt).is_ok() {
                    pkt[HEADER_LEN..HEADER_LEN + 4].copy_from_slice(&ev);
                    if self.send_rtp(&pkt[..HEADER_LEN + 4], addr).is_ok() {
                        tx.packets_out += 1;
                        tx.octets_out += 4;
                        sent = true;
                    }
                }
                tx.dtmf_active =
                    (n + 1 < DTMF_TONE_PACKETS + DTMF_END_PACKETS).then_some((code, start, n + 1));
            }
        }
        let keepalive = tx.ticks_since_audio >= KEEPALIVE_TICKS;
        if let (false, true, Some((addr, codec))) = (sent, audio || keepalive, dest) {
            let header = RtpHeader {
                payload_type: codec.payload_type(),
                marker: stamp.marker,
                sequence: stamp.sequence,
                timestamp: stamp.timestamp,
                ssrc: tx.stream.ssrc(),
            };
            if header.write(pkt).is_ok() {
                codec.encode(out, &mut pkt[HEADER_LEN..]);
                match self.send_rtp(&pkt[..], addr) {
                    Ok(_) => {
                        tx.stream.sent();
                        tx.packets_out += 1;
                        tx.octets_out += FRAME_SAMPLES as u64;
                        tx.ticks_since_audio = 0;
                        sent = true;
                    }
                    Err(e) => debug!(leg = self.id, %addr, error = %e, "RTP send failed"),
                }
            }
        }
        tx.sent_last_tick = sent;
        tx.ticks_since_audio = tx.ticks_since_audio.saturating_add(u32::from(!sent));
        let (left, right) = recording;
        for (_, r) in tx.recorders.iter_mut() {
            r.push(now, left, right);
        }
    }
}

/// Receive loop of one leg: RTP on its port, handled as it arrives, every
/// queued datagram per wake-up; RTCP on port+1 by a task of its own (it
/// wakes once every few seconds, not per RTP packet).
pub(crate) async fn receive_loop(
    leg: Arc<Leg>,
    rtcp: UdpSocket,
    rtcp_interval: Duration,
    events: broadcast::Sender<MediaEvent>,
) {
    let rtcp_task = tokio::spawn(super::rtcp_loop::run(leg.clone(), rtcp, rtcp_interval));
    let _rtcp_guard = AbortOnDrop(rtcp_task);
    let mut buf = [0u8; MAX_DATAGRAM];
    let mut pcm = [0i16; MAX_DATAGRAM];
    loop {
        if let Err(e) = leg.socket.readable().await {
            debug!(leg = leg.id, error = %e, "RTP socket error");
            tokio::time::sleep(Duration::from_millis(5)).await;
            continue;
        }
        // Drain what is queued; WouldBlock clears the readiness.
        loop {
            match leg.socket.try_recv_from(&mut buf) {
                Ok((n, from)) => {
                    // SRTP legs: checked and decrypted here, or dropped.
                    let Some(n) = leg.unprotect_rtp(&mut buf[..n]) else {
                        continue;
                    };
                    for ev in leg
                        .on_datagram(&buf[..n], from, &mut pcm)
                        .into_iter()
                        .flatten()
                    {
                        let _ = events.send(ev);
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) => {
                    debug!(leg = leg.id, error = %e, "RTP receive error");
                    break;
                }
            }
        }
    }
}

/// Aborts a task when dropped (the receive loop is aborted with its leg).
struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

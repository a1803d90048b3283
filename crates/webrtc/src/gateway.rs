//! The tokio driver of browser sessions: one UDP port for every browser
//! (sessions are told apart by their ICE credentials and addresses), a
//! timer for str0m's retransmissions and keep-alives, and per session a
//! media engine leg.
//!
//! The engine leg is an ordinary leg whose remote is a loopback socket of
//! the session: what the engine sends it (mixed or forwarded audio, music,
//! RFC 4733 digits) is encrypted to the browser, and what the browser sends
//! is written to the leg as plain RTP. So a browser leg is just another
//! leg to the engine: rooms, hold music, recording, DTMF detection and
//! relaying all work unchanged. The loopback hop costs one local datagram
//! per packet; an in-process hand-over can replace it later.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use switchboard_media::g711::Codec;
use switchboard_media::{LegId, MediaEngine};
use tokio::net::UdpSocket;
use tokio::sync::{broadcast, Notify};
use tokio::task::JoinHandle;
use tracing::{debug, info};

use crate::session::{BrowserSession, PlainRtp, SessionOutput, SessionState};
use crate::WebrtcError;

/// Longest sleep of the timer task (it also wakes for new sessions).
const MAX_SLEEP: Duration = Duration::from_millis(50);

/// A session that was set up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attached {
    /// Session id (to close it).
    pub session: u64,
    /// The media engine leg carrying the browser's audio.
    pub media_leg: LegId,
    /// The SDP answer for the browser.
    pub answer: String,
}

/// What happened to a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GatewayEvent {
    /// ICE and DTLS done: audio flows.
    Connected {
        /// Session id.
        session: u64,
        /// Who opened it (the agent).
        owner: String,
    },
    /// The session is over and its engine leg destroyed.
    Closed {
        /// Session id.
        session: u64,
        /// Who opened it.
        owner: String,
        /// Its engine leg (gone now).
        media_leg: LegId,
        /// Why.
        reason: String,
    },
}

struct Entry {
    owner: String,
    session: BrowserSession,
    loopback: Arc<UdpSocket>,
    /// Where the engine leg listens.
    engine_addr: SocketAddr,
    media_leg: LegId,
    task: JoinHandle<()>,
}

struct Inner {
    socket: UdpSocket,
    /// The address browsers reach us at (our ICE candidate).
    public: SocketAddr,
    /// Address loopback sockets bind to (where the engine legs listen).
    local_ip: IpAddr,
    engine: MediaEngine,
    sessions: Mutex<HashMap<u64, Entry>>,
    next_id: AtomicU64,
    events: broadcast::Sender<GatewayEvent>,
    wake: Notify,
}

/// Handle to the browser sessions; cheap to clone.
#[derive(Clone)]
pub struct Gateway {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway")
            .field("public", &self.inner.public)
            .finish()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Gateway {
    /// Bind the WebRTC UDP port (`bind`) and start the receive and timer
    /// tasks. `public_ip` is the address put in our ICE candidate; the
    /// engine's legs listen on `engine_ip` (unspecified: loopback).
    pub async fn start(
        bind: SocketAddr,
        public_ip: IpAddr,
        engine_ip: IpAddr,
        engine: MediaEngine,
    ) -> Result<Gateway, WebrtcError> {
        let socket = UdpSocket::bind(bind)
            .await
            .map_err(|e| WebrtcError::Internal(format!("binding WebRTC port {bind}: {e}")))?;
        let port = socket
            .local_addr()
            .map_err(|e| WebrtcError::Internal(e.to_string()))?
            .port();
        let local_ip = if engine_ip.is_unspecified() {
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        } else {
            engine_ip
        };
        let inner = Arc::new(Inner {
            socket,
            public: SocketAddr::new(public_ip, port),
            local_ip,
            engine,
            sessions: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
            events: broadcast::channel(256).0,
            wake: Notify::new(),
        });
        tokio::spawn(receive_loop(Arc::downgrade(&inner)));
        tokio::spawn(timer_loop(Arc::downgrade(&inner)));
        info!(addr = %inner.public, "WebRTC port ready");
        Ok(Gateway { inner })
    }

    /// The address browsers reach (our ICE candidate).
    pub fn public_addr(&self) -> SocketAddr {
        self.inner.public
    }

    /// Events about sessions (connected, closed).
    pub fn subscribe(&self) -> broadcast::Receiver<GatewayEvent> {
        self.inner.events.subscribe()
    }

    /// Answer a browser's offer for `owner`: a new session and its engine leg.
    pub fn open(&self, owner: &str, offer: &str) -> Result<Attached, WebrtcError> {
        let inner = &self.inner;
        let (session, answer) = BrowserSession::accept(Instant::now(), offer, inner.public)?;
        let neg = session.negotiated();
        let std_sock = std::net::UdpSocket::bind(SocketAddr::new(inner.local_ip, 0))
            .and_then(|s| s.set_nonblocking(true).map(|_| s))
            .map_err(|e| WebrtcError::Internal(format!("loopback socket: {e}")))?;
        let loopback = Arc::new(
            UdpSocket::from_std(std_sock).map_err(|e| WebrtcError::Internal(e.to_string()))?,
        );
        let loop_addr = loopback
            .local_addr()
            .map_err(|e| WebrtcError::Internal(e.to_string()))?;
        let leg = inner
            .engine
            .create_leg_now()
            .map_err(|e| WebrtcError::Media(e.to_string()))?;
        let codec = Codec::from_payload_type(neg.audio_pt).unwrap_or(Codec::Pcmu);
        inner
            .engine
            .set_remote(leg.id, loop_addr, codec, neg.dtmf_pt);
        let id = inner.next_id.fetch_add(1, Ordering::Relaxed);
        let task = tokio::spawn(loopback_loop(Arc::downgrade(inner), id, loopback.clone()));
        lock(&inner.sessions).insert(
            id,
            Entry {
                owner: owner.to_string(),
                session,
                loopback,
                engine_addr: SocketAddr::new(inner.local_ip, leg.local_port),
                media_leg: leg.id,
                task,
            },
        );
        inner.wake.notify_one();
        debug!(
            session = id,
            owner,
            media_leg = leg.id,
            "browser session opened"
        );
        Ok(Attached {
            session: id,
            media_leg: leg.id,
            answer,
        })
    }

    /// Close a session (idempotent): its engine leg is destroyed and a
    /// [`GatewayEvent::Closed`] published.
    pub fn close(&self, session: u64, reason: &str) {
        let mut sessions = lock(&self.inner.sessions);
        if let Some(e) = sessions.get_mut(&session) {
            e.session.close(reason.to_string());
        }
        flush(&self.inner, &mut sessions, session);
    }

    /// State of a session, `None` once closed.
    pub fn state(&self, session: u64) -> Option<SessionState> {
        lock(&self.inner.sessions)
            .get(&session)
            .map(|e| e.session.state().clone())
    }

    /// Echo the session's audio back to the browser (or stop): false when
    /// the session is unknown or its leg is in a call.
    pub fn set_echo(&self, session: u64, on: bool) -> bool {
        let leg = lock(&self.inner.sessions)
            .get(&session)
            .map(|e| e.media_leg);
        leg.is_some_and(|leg| self.inner.engine.set_echo(leg, on))
    }

    /// Live sessions opened by `owner`.
    pub fn sessions_of(&self, owner: &str) -> Vec<u64> {
        lock(&self.inner.sessions)
            .iter()
            .filter(|(_, e)| e.owner == owner)
            .map(|(id, _)| *id)
            .collect()
    }

    /// Number of live sessions.
    pub fn session_count(&self) -> usize {
        lock(&self.inner.sessions).len()
    }
}

/// Carry out a session's outputs; a closed session is removed with its leg.
fn flush(inner: &Inner, sessions: &mut HashMap<u64, Entry>, id: u64) {
    let Some(e) = sessions.get_mut(&id) else {
        return;
    };
    let mut buf = [0u8; 1500];
    while let Some(out) = e.session.poll() {
        match out {
            SessionOutput::Transmit { to, data, .. } => {
                let _ = inner.socket.try_send_to(&data, to);
            }
            SessionOutput::Rtp(p) => {
                if tracing::enabled!(tracing::Level::TRACE) {
                    let mut pcm = [0i16; 1500];
                    let n = Codec::Pcmu.decode(&p.payload, &mut pcm);
                    let level = pcm[..n].iter().map(|s| i64::from(*s).abs()).sum::<i64>()
                        / (n.max(1) as i64);
                    tracing::trace!(
                        session = id,
                        pt = p.pt,
                        seq = p.seq,
                        ts = p.ts,
                        level,
                        "browser RTP"
                    );
                }
                if let Some(n) = write_rtp(&p, &mut buf) {
                    let _ = e.loopback.try_send_to(&buf[..n], e.engine_addr);
                }
            }
            SessionOutput::StateChanged => match e.session.state() {
                SessionState::Connected { peer } => {
                    info!(session = id, owner = e.owner, %peer, "browser audio connected");
                    let _ = inner.events.send(GatewayEvent::Connected {
                        session: id,
                        owner: e.owner.clone(),
                    });
                }
                SessionState::Closed { .. } | SessionState::Connecting { .. } => {}
            },
        }
    }
    if let SessionState::Closed { reason } = e.session.state() {
        let reason = reason.clone();
        if let Some(e) = sessions.remove(&id) {
            e.task.abort();
            inner.engine.destroy_leg(e.media_leg);
            info!(
                session = id,
                owner = e.owner,
                reason,
                "browser audio closed"
            );
            let _ = inner.events.send(GatewayEvent::Closed {
                session: id,
                owner: e.owner,
                media_leg: e.media_leg,
                reason,
            });
        }
    }
}

/// Serialize a plain RTP packet (SSRC 1: the engine leg only latches on
/// the source address and keys its buffers by SSRC, the browser's own
/// SSRC stays inside the session).
fn write_rtp(p: &PlainRtp, buf: &mut [u8]) -> Option<usize> {
    let n = 12 + p.payload.len();
    if n > buf.len() {
        return None;
    }
    buf[0] = 0x80;
    buf[1] = (u8::from(p.marker) << 7) | (p.pt & 0x7f);
    buf[2..4].copy_from_slice(&p.seq.to_be_bytes());
    buf[4..8].copy_from_slice(&p.ts.to_be_bytes());
    buf[8..12].copy_from_slice(&1u32.to_be_bytes());
    buf[12..n].copy_from_slice(&p.payload);
    Some(n)
}

/// Parse the header of plain RTP from the engine (no CSRCs or extensions:
/// the engine writes none).
fn read_rtp(data: &[u8]) -> Option<PlainRtp> {
    if data.len() < 12 || data[0] >> 6 != 2 || (200..=204).contains(&data[1]) {
        return None;
    }
    let cc = usize::from(data[0] & 0x0f);
    let start = 12 + 4 * cc;
    Some(PlainRtp {
        pt: data[1] & 0x7f,
        marker: data[1] & 0x80 != 0,
        seq: u16::from_be_bytes([data[2], data[3]]),
        ts: u32::from_be_bytes([data[4], data[5], data[6], data[7]]),
        payload: data.get(start..)?.to_vec(),
    })
}

/// Datagrams on the shared WebRTC port, handed to the session they belong to.
async fn receive_loop(inner: std::sync::Weak<Inner>) {
    let mut buf = vec![0u8; 2048];
    // The session each browser address last reached: checked first, so a
    // media packet costs one lookup, not a scan of every session.
    let mut by_addr: HashMap<SocketAddr, u64> = HashMap::new();
    loop {
        let Some(gw) = inner.upgrade() else { return };
        let local = gw.public;
        let (n, from) = tokio::select! {
            r = gw.socket.recv_from(&mut buf) => match r {
                Ok(x) => x,
                Err(e) => {
                    debug!(error = %e, "WebRTC receive error");
                    continue;
                }
            },
            _ = tokio::time::sleep(Duration::from_secs(1)) => continue,
        };
        let now = Instant::now();
        let data = &buf[..n];
        let mut sessions = lock(&gw.sessions);
        let cached = by_addr.get(&from).copied().filter(|id| {
            sessions
                .get(id)
                .is_some_and(|e| e.session.accepts(now, from, local, data))
        });
        let id = cached.or_else(|| {
            sessions
                .iter()
                .find(|(_, e)| e.session.accepts(now, from, local, data))
                .map(|(id, _)| *id)
        });
        if by_addr.len() > 4 * sessions.len() + 64 {
            // Forget addresses of closed sessions now and then.
            by_addr.retain(|_, id| sessions.contains_key(id));
        }
        if let Some(id) = id {
            if cached.is_none() {
                by_addr.insert(from, id);
            }
            if let Some(e) = sessions.get_mut(&id) {
                e.session.handle_datagram(now, from, local, data);
            }
            flush(&gw, &mut sessions, id);
        }
    }
}

/// str0m's timeouts (STUN, DTLS retransmissions, RTCP, ICE liveness).
async fn timer_loop(inner: std::sync::Weak<Inner>) {
    loop {
        let Some(gw) = inner.upgrade() else { return };
        let now = Instant::now();
        let next = {
            let mut sessions = lock(&gw.sessions);
            let due: Vec<u64> = sessions
                .iter()
                .filter(|(_, e)| e.session.next_timeout() <= now)
                .map(|(id, _)| *id)
                .collect();
            for id in due {
                if let Some(e) = sessions.get_mut(&id) {
                    e.session.handle_timeout(now);
                }
                flush(&gw, &mut sessions, id);
            }
            sessions
                .values()
                .map(|e| e.session.next_timeout())
                .min()
                .unwrap_or(now + MAX_SLEEP)
                .min(now + MAX_SLEEP)
        };
        let sleep = tokio::time::sleep_until(next.into());
        tokio::select! {
            _ = sleep => {}
            _ = gw.wake.notified() => {}
        }
    }
}

/// RTP from a session's engine leg, encrypted to the browser.
async fn loopback_loop(inner: std::sync::Weak<Inner>, id: u64, socket: Arc<UdpSocket>) {
    let mut buf = vec![0u8; 2048];
    loop {
        let Ok((n, _)) = socket.recv_from(&mut buf).await else {
            tokio::time::sleep(Duration::from_millis(5)).await;
            continue;
        };
        let Some(rtp) = read_rtp(&buf[..n]) else {
            continue;
        };
        let Some(gw) = inner.upgrade() else { return };
        let mut sessions = lock(&gw.sessions);
        if let Some(e) = sessions.get_mut(&id) {
            e.session.send_rtp(Instant::now(), &rtp);
        }
        flush(&gw, &mut sessions, id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rtp_round_trips_through_the_loopback_format() {
        let p = PlainRtp {
            pt: 101,
            seq: 65535,
            ts: 0xdead_beef,
            marker: true,
            payload: vec![1, 2, 3, 4],
        };
        let mut buf = [0u8; 64];
        let n = write_rtp(&p, &mut buf).expect("fits");
        assert_eq!(read_rtp(&buf[..n]), Some(p));
        assert_eq!(read_rtp(&buf[..8]), None);
    }
}

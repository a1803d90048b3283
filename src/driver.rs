//! The switch's I/O: feeds the sans-IO [`Switch`] from the SIP transports,
//! the HTTP API, the media engine and its own deadline, and carries out what
//! it outputs (datagrams, storage writes, live events).

use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use switchboard_media::MediaEngine;
use switchboard_switch::{
    Codec, EngineRequest, LegInfo, MediaControl, MediaLeg, MediaRecording, MediaRoom, Output,
    Switch, SwitchConfig, Trunk,
};
use tokio::sync::{broadcast, mpsc};

use crate::config::Config;
use crate::events::EventSink;
use crate::transport::{Inbound, Outbound};

/// The switch's settings from the configuration file, or what is wrong in it.
pub fn switch_config(
    cfg: &Config,
    sip_port: u16,
    tls_port: Option<u16>,
) -> anyhow::Result<SwitchConfig> {
    let trunks = cfg
        .trunks
        .iter()
        .map(|t| t.to_trunk().map_err(anyhow::Error::msg))
        .collect::<anyhow::Result<Vec<Trunk>>>()?;
    Ok(SwitchConfig {
        public_ip: cfg.public_ip(),
        sip_port,
        tls_port,
        realm: cfg.server.realm.clone(),
        digest_algorithms: cfg.server.digest_algorithms.clone(),
        acw_secs: cfg.server.acw_secs,
        ring_timeout_secs: cfg.server.ring_timeout_secs,
        recordings_dir: cfg.server.data_dir.join("recordings"),
        trunks,
        nonce_secret: rand::random(),
        abuse: switchboard_switch::AbuseLimits {
            requests_per_window: cfg.server.sip_requests_per_second,
            rate_window_ms: 1_000,
            auth_failures_per_source: cfg.server.sip_auth_failures_per_source,
            auth_failures_per_user: cfg.server.sip_auth_failures_per_user,
            auth_window_ms: 60_000,
            ban_ms: cfg.server.sip_ban_secs.saturating_mul(1_000),
            ..Default::default()
        },
        nat_keepalive_secs: cfg.server.nat_keepalive_secs,
        browser_reconnect_secs: cfg.server.browser_reconnect_secs,
        nat_max_expires_secs: cfg.server.nat_max_expires_secs,
    })
}

/// Wall-clock milliseconds that never go backwards: the epoch time at start
/// plus a monotonic clock, so deadlines survive NTP steps.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    start: Instant,
    start_ms: u64,
}

impl Clock {
    /// Start the clock now.
    pub fn new() -> Clock {
        let start_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        Clock {
            start: Instant::now(),
            start_ms,
        }
    }

    /// Milliseconds since the Unix epoch.
    pub fn now(&self) -> u64 {
        self.start_ms + self.start.elapsed().as_millis() as u64
    }

    /// The instant of a time given in ms since the epoch.
    fn instant(&self, ms: u64) -> Instant {
        self.start + Duration::from_millis(ms.saturating_sub(self.start_ms))
    }
}

/// [`MediaControl`] over the real media engine.
pub struct MediaDriver(pub MediaEngine);

impl MediaControl for MediaDriver {
    fn create_leg(&mut self) -> Result<LegInfo, String> {
        self.0.create_leg_now().map_err(|e| e.to_string())
    }
    fn set_remote(
        &mut self,
        leg: MediaLeg,
        addr: std::net::SocketAddr,
        codec: Codec,
        dtmf_pt: Option<u8>,
    ) {
        self.0.set_remote(leg, addr, codec, dtmf_pt)
    }
    fn set_sending(&mut self, leg: MediaLeg, send: bool) {
        self.0.set_sending(leg, send)
    }
    fn set_srtp(&mut self, leg: MediaLeg, params: Option<switchboard_media::srtp::SrtpParams>) {
        self.0.set_srtp(leg, params)
    }
    fn create_room(&mut self) -> MediaRoom {
        self.0.create_room()
    }
    fn join(&mut self, room: MediaRoom, leg: MediaLeg) {
        self.0.join(room, leg)
    }
    fn leave(&mut self, leg: MediaLeg) {
        self.0.leave(leg)
    }
    fn set_music(&mut self, room: MediaRoom, class: Option<&str>) {
        self.0.set_music(room, class)
    }
    fn set_muted(&mut self, leg: MediaLeg, muted: bool) {
        self.0.set_muted(leg, muted)
    }
    fn set_unheard(&mut self, leg: MediaLeg, sources: &[MediaLeg]) {
        self.0.set_unheard(leg, sources)
    }
    fn quality(&self, leg: MediaLeg) -> Option<switchboard_switch::MediaQuality> {
        self.0.stats(leg).map(|s| s.quality)
    }
    fn destroy_leg(&mut self, leg: MediaLeg) {
        self.0.destroy_leg(leg)
    }
    fn destroy_room(&mut self, room: MediaRoom) {
        self.0.destroy_room(room)
    }
    fn start_recording(&mut self, leg: MediaLeg, path: &Path) -> Result<MediaRecording, String> {
        self.0
            .start_recording(leg, path)
            .map_err(|e| format!("cannot record to {}: {e}", path.display()))
    }
    fn set_recording_paused(&mut self, rec: MediaRecording, paused: bool) -> bool {
        self.0.set_recording_paused(rec, paused)
    }
    fn stop_recording(&mut self, rec: MediaRecording) -> Option<u64> {
        self.0.stop_recording(rec).map(|s| s.duration_ms)
    }
    fn music_classes(&self) -> Vec<String> {
        self.0.music_classes()
    }
}

/// Queueing delay of received SIP messages above which the switch refuses
/// new calls (503 with Retry-After) so established calls keep working.
const OVERLOAD_ON: Duration = Duration::from_millis(100);
/// Delay under which new calls are accepted again.
const OVERLOAD_OFF: Duration = Duration::from_millis(20);

/// What the driver listens to.
pub struct Inputs {
    /// SIP datagrams and stream messages.
    pub inbound: mpsc::Receiver<Inbound>,
    /// API requests.
    pub requests: mpsc::Receiver<EngineRequest>,
    /// "Tell me when every storage write so far is applied" (the web layer,
    /// before reading back what a request it made wrote). Handled here, in
    /// order with requests: a request's writes leave the switch before the
    /// next input is taken, so they are queued before the flush marker even
    /// when its reply reached the caller first.
    pub flushes: mpsc::Receiver<tokio::sync::oneshot::Sender<()>>,
    /// Media engine events.
    pub media_events: broadcast::Receiver<switchboard_switch::MediaEvent>,
    /// Trunk host names resolved (see [`crate::dns`]).
    pub trunk_targets: mpsc::Receiver<crate::dns::Resolved>,
    /// Shutdown requests (SIGTERM, Ctrl-C): the grace time each allows. The
    /// loop ends once the switch is drained.
    pub shutdown: mpsc::Receiver<Duration>,
    /// The media engine whose legs' quality is sampled every
    /// [`QUALITY_SAMPLE`] for the live call views (None: not sampled).
    pub media: Option<MediaEngine>,
}

/// How often the media quality of live legs is sampled for call views.
pub const QUALITY_SAMPLE: Duration = Duration::from_secs(2);

/// The current media figures of the switch's established legs.
fn sample_quality(
    switch: &Switch,
    media: &MediaEngine,
) -> Vec<(MediaLeg, switchboard_switch::MediaQuality)> {
    switch
        .media_legs()
        .into_iter()
        .filter_map(|leg| media.stats(leg).map(|s| (leg, s.quality)))
        .collect()
}

/// Run the switch until its inputs close or, after a shutdown request, until it is drained.
pub async fn run(mut switch: Switch, clock: Clock, inputs: Inputs, out: Outbound, sink: EventSink) {
    let Inputs {
        mut inbound,
        mut requests,
        mut flushes,
        mut media_events,
        mut trunk_targets,
        mut shutdown,
        media,
    } = inputs;
    let mut sample = tokio::time::interval(QUALITY_SAMPLE);
    sample.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while !switch.is_drained() {
        let deadline = tokio::time::Instant::from_std(clock.instant(switch.poll_timeout()));
        tokio::select! {
            m = inbound.recv() => match m {
                Some(m) => {
                    let lag = m.at.elapsed();
                    if lag > OVERLOAD_ON {
                        switch.set_overloaded(true);
                    } else if lag < OVERLOAD_OFF {
                        switch.set_overloaded(false);
                    }
                    if tracing::enabled!(tracing::Level::TRACE) {
                        tracing::trace!(from = %m.peer.addr, "SIP in:\n{}", switchboard_sip::sdes::redact_keys(&String::from_utf8_lossy(&m.data)));
                    }
                    switch.handle_datagram(clock.now(), m.peer, &m.data)
                }
                None => break,
            },
            r = requests.recv() => match r {
                Some(r) => switch.handle_request(clock.now(), r),
                None => break,
            },
            Some(done) = flushes.recv() => {
                let applied = sink.flush_marker();
                tokio::spawn(async move {
                    let _ = applied.await;
                    let _ = done.send(());
                });
            }
            e = media_events.recv() => {
                if let Ok(e) = e {
                    switch.handle_media_event(clock.now(), e);
                }
            }
            Some((trunk, resolved)) = trunk_targets.recv() => {
                switch.set_trunk_targets(clock.now(), &trunk, resolved);
            }
            Some(grace) = shutdown.recv() => {
                switch.shutdown(clock.now(), grace.as_millis() as u64);
            }
            _ = sample.tick(), if media.is_some() => {
                if let Some(m) = &media {
                    let samples = sample_quality(&switch, m);
                    switch.handle_media_quality(clock.now(), &samples);
                }
            }
            _ = tokio::time::sleep_until(deadline) => switch.handle_timeout(clock.now()),
        }
        while let Some(o) = switch.poll_output() {
            match o {
                Output::Send { peer, bytes } => {
                    if tracing::enabled!(tracing::Level::TRACE) {
                        tracing::trace!(to = %peer.addr, "SIP out:\n{}", switchboard_sip::sdes::redact_keys(&String::from_utf8_lossy(&bytes)));
                    } else if tracing::enabled!(tracing::Level::DEBUG) {
                        let first = bytes.split(|b| *b == b'\r').next().unwrap_or_default();
                        tracing::debug!(to = %peer.addr, "SIP out: {}", String::from_utf8_lossy(first));
                    }
                    out.send(peer, bytes)
                }
                Output::Store(op) => sink.store(op),
                Output::Publish(v) => sink.publish(v),
            }
        }
    }
}

//! The media engine as the switch sees it: create RTP legs, put them in
//! rooms (bridge, hold music, conference), record them.
//!
//! This is a trait rather than a stream of output commands because creating
//! a leg binds a port whose number goes into the SDP we are building, and
//! starting a recording can fail: both answers are needed synchronously.
//! The binary implements it over `switchboard_media::MediaEngine`; the test
//! harness implements it in memory and checks who hears whom.

use std::path::Path;

pub use switchboard_media::g711::Codec;
pub use switchboard_media::quality::Quality as MediaQuality;
pub use switchboard_media::srtp::SrtpParams;
pub use switchboard_media::{LegInfo, MediaEvent};

/// Media leg id.
pub type MediaLeg = u64;
/// Media room id.
pub type MediaRoom = u64;
/// Media recording id.
pub type MediaRecording = u64;

/// Control of the media engine.
pub trait MediaControl: Send {
    /// Bind a new RTP leg and return its id and local port.
    fn create_leg(&mut self) -> Result<LegInfo, String>;
    /// Where to send the leg's RTP, its codec and the peer's DTMF payload type.
    fn set_remote(
        &mut self,
        leg: MediaLeg,
        addr: std::net::SocketAddr,
        codec: Codec,
        dtmf_pt: Option<u8>,
    );
    /// Protect the leg's media with SRTP under these keys, or plain RTP
    /// (`None`). Unchanged keys keep their state (ROC, replay list).
    fn set_srtp(&mut self, leg: MediaLeg, params: Option<SrtpParams>);
    /// Send RTP to the leg or not (the phone put us on hold).
    fn set_sending(&mut self, leg: MediaLeg, send: bool);
    /// A new empty room.
    fn create_room(&mut self) -> MediaRoom;
    /// Move a leg into a room.
    fn join(&mut self, room: MediaRoom, leg: MediaLeg);
    /// Take a leg out of its room.
    fn leave(&mut self, leg: MediaLeg);
    /// Music class played in a room, or none.
    fn set_music(&mut self, room: MediaRoom, class: Option<&str>);
    /// Mute a leg towards the others of its room.
    fn set_muted(&mut self, leg: MediaLeg, muted: bool);
    /// The members of its room a leg does not hear (supervision); empty: all.
    fn set_unheard(&mut self, leg: MediaLeg, sources: &[MediaLeg]);
    /// Loss, jitter and MOS of a leg so far (`None` if unknown); asked once
    /// as a leg ends, for its CDR (live views use the sampled figures).
    fn quality(&self, leg: MediaLeg) -> Option<MediaQuality>;
    /// Close a leg (idempotent).
    fn destroy_leg(&mut self, leg: MediaLeg);
    /// Remove a room.
    fn destroy_room(&mut self, room: MediaRoom);
    /// Start recording a leg (left: what it sends; right: what it hears) to a WAV file.
    fn start_recording(&mut self, leg: MediaLeg, path: &Path) -> Result<MediaRecording, String>;
    /// Pause (the file gets silence) or resume a running recording; false
    /// when the recording is unknown or no longer running.
    fn set_recording_paused(&mut self, rec: MediaRecording, paused: bool) -> bool;
    /// Stop a recording; its duration in ms when known.
    fn stop_recording(&mut self, rec: MediaRecording) -> Option<u64>;
    /// Names of the available music classes.
    fn music_classes(&self) -> Vec<String>;
}

impl crate::Switch {
    /// An event from the media engine: a DTMF digit (logged, masked unless the
    /// campaign allows clear digits; a supervisor's keys change the mode) or
    /// a party whose phone stopped sending RTP (its leg is hung up).
    pub(crate) fn on_media_event(&mut self, e: switchboard_media::MediaEvent) {
        match e {
            switchboard_media::MediaEvent::Dtmf { leg, digit } => {
                let live =
                    |l: &&crate::Leg| l.media == leg && l.state != crate::LegState::Terminated;
                let found = self.legs.values().find(live);
                if let Some(l) = found.or_else(|| self.legs.values().find(|l| l.media == leg)) {
                    let call = l.call.clone();
                    // PCI DSS: consoles, the call log and the server log get `*`
                    // unless the call's campaign allows clear digits (the media
                    // engine still relays the real digit to the other parties).
                    let id = l.id;
                    // A supervisor's keys change the mode (never masked: no customer data).
                    if self.supervisor_key(&call, id, digit) {
                        return;
                    }
                    let detail = if self.dtmf_clear(&call) {
                        digit.to_string()
                    } else {
                        "*".to_string()
                    };
                    self.log_call(&call, "DTMF", &detail, None);
                }
            }
            switchboard_media::MediaEvent::RtpTimeout { leg } => {
                // A phone that vanished without BYE (crash, network loss): end its leg
                // so the call (and the agent) do not stay up forever.
                let found = self
                    .legs
                    .values()
                    .find(|l| {
                        l.media == leg
                            && l.state == crate::LegState::Confirmed
                            && l.remote_direction.receives()
                    })
                    .map(|l| (l.call.clone(), l.id));
                if let Some((call, id)) = found {
                    tracing::warn!(call, leg = id, "no RTP for too long: hanging up the leg");
                    self.log_call(&call, "RTP_TIMEOUT", "no media from the party", None);
                    self.end_leg_signalling(id);
                    self.pending_events
                        .push((call, switchboard_call::Event::HungUp(id)));
                }
            }
            switchboard_media::MediaEvent::FirstPacket { .. } => {}
        }
    }
}

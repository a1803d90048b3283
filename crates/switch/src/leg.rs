//! One SIP leg of a call: its dialog ([`switchboard_sip::Dialog`], RFC 3261 §12) and its media port.
//! The B2BUA terminates every dialog itself, so each leg is an ordinary UA dialog.

use switchboard_call::LegId;
use switchboard_sip::builder::new_branch;
use switchboard_sip::sdp::{Direction, MediaLine};
use switchboard_sip::{Dialog, Request};

/// Whether we received or placed the INVITE.
#[derive(Debug, Clone)]
pub enum Side {
    /// We are the UAS: the original INVITE and whether we answered finally.
    Incoming {
        /// The INVITE.
        invite: Request,
        /// Final response sent.
        answered: bool,
    },
    /// We are the UAC.
    Outgoing {
        /// The INVITE we sent.
        invite: Request,
        /// A provisional response arrived (CANCEL allowed).
        provisional: bool,
        /// The peer said it is alerting (180) or playing early media (183).
        ringing: bool,
        /// Hang up as soon as possible (CANCEL sent or pending).
        cancelled: bool,
    },
    /// An agent's browser audio session (see `browser.rs`): no SIP at all.
    /// Its `dialog` is a local placeholder that is never used nor indexed:
    /// every path that would signal (BYE, CANCEL, reject) ends it locally.
    Browser,
}

/// Lifecycle of a leg.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LegState {
    /// INVITE in progress.
    Setup,
    /// Established.
    Confirmed,
    /// Over.
    Terminated,
}

/// A leg.
#[derive(Debug, Clone)]
pub struct Leg {
    /// Id (from the call state machine).
    pub id: LegId,
    /// Call it belongs to.
    pub call: String,
    /// UAS or UAC.
    pub side: Side,
    /// State.
    pub state: LegState,
    /// Dialog.
    pub dialog: Dialog,
    /// Media engine leg.
    pub media: u64,
    /// Our RTP port.
    pub rtp_port: u16,
    /// Negotiated G.711 payload type.
    pub codec_pt: u8,
    /// telephone-event payload type of the peer.
    pub dtmf_pt: Option<u8>,
    /// SDP session id / version for our descriptions.
    pub sdp_session: u64,
    /// SDP version counter.
    pub sdp_version: u64,
    /// Who is on this leg (extension or number), for display.
    pub party: String,
    /// Agent whose phone this leg rings, if any.
    pub agent: Option<String>,
    /// Direction the peer last asked for (hold from the phone).
    pub remote_direction: Direction,
    /// The m= lines of the peer's last description and where audio is
    /// in them: our descriptions keep that layout, refusing the other
    /// streams (video...) with port 0. Empty: plain audio.
    pub remote_media: (Vec<MediaLine>, usize),
    /// Ring deadline for outgoing legs (ms).
    pub ring_deadline: Option<u64>,
    /// Trunk credentials (user, password) to answer a challenge once.
    pub trunk_auth: Option<(String, String)>,
    /// For a call to a number: the trunk address tried now and the ones
    /// left to try if it fails (503, no answer).
    pub route: Option<TrunkRoute>,
    /// The session timer negotiated on this leg (RFC 4028), if any.
    pub session_timer: Option<crate::SessionTimer>,
    /// Incoming legs whose INVITE required `100rel`: our reliable provisional responses (RFC 3262).
    pub reliable: Option<crate::Reliable>,
    /// SDES keys when the leg's media is SRTP (see `srtp.rs`); None: plain RTP.
    pub srtp: Option<crate::LegKeys>,
    /// Media quality: the latest sample, then the final figures once it ended.
    pub quality: Option<switchboard_center::LegQuality>,
    /// The side of the call the leg was last seen on (for its quality in the CDR).
    pub quality_side: Option<crate::QualitySide>,
}

/// Where a call to a number goes through the trunks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrunkRoute {
    /// The number dialled.
    pub number: String,
    /// Who calls (extension), for the From when the trunk has no caller ID.
    pub caller: String,
    /// The trunk (index in the configuration) and address tried now.
    pub current: (usize, std::net::SocketAddr),
    /// The next ones, in order.
    pub rest: Vec<(usize, std::net::SocketAddr)>,
    /// When the current address is given up if it has not answered at all (ms).
    pub failover_at: Option<u64>,
    /// The call's campaign caller ID, replacing the trunk's, if it has one.
    pub caller_id: Option<switchboard_center::CallerId>,
}

impl Leg {
    /// Build the next in-dialog request (BYE, NOTIFY, INFO...) with a fresh branch.
    pub fn request(&mut self, method: &str, via_host: &str, contact: &str) -> Request {
        self.dialog
            .request(method, via_host, contact, &new_branch())
    }
}

//! One SIP leg of a call: its dialog (RFC 3261 §12) and its media port.
//! The B2BUA terminates every dialog itself, so each leg is an ordinary UA dialog.

use switchboard_call::LegId;
use switchboard_sip::builder::new_branch;
use switchboard_sip::sdp::Direction;
use switchboard_sip::{Headers, NameAddr, Peer, Request, Uri};

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

/// A dialog's identifiers and routing.
#[derive(Debug, Clone)]
pub struct Dialog {
    /// Call-ID.
    pub call_id: String,
    /// Our tag.
    pub local_tag: String,
    /// Their tag (once known).
    pub remote_tag: Option<String>,
    /// Our URI (From of our requests).
    pub local_uri: NameAddr,
    /// Their URI (To of our requests).
    pub remote_uri: NameAddr,
    /// Their Contact (Request-URI of in-dialog requests).
    pub remote_target: Uri,
    /// Route set.
    pub route_set: Vec<String>,
    /// Our CSeq counter.
    pub local_cseq: u32,
    /// Where we send.
    pub peer: Peer,
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
    /// Ring deadline for outgoing legs (ms).
    pub ring_deadline: Option<u64>,
    /// Trunk credentials (user, password) to answer a challenge once.
    pub trunk_auth: Option<(String, String)>,
}

impl Leg {
    /// Build an in-dialog request (BYE, re-INVITE, INFO...).
    pub fn request(&mut self, method: &str, via_host: &str, contact: &str) -> Request {
        self.dialog.request(method, via_host, contact)
    }
}

impl Dialog {
    /// Build the next request of this dialog (the initial INVITE of an outgoing
    /// leg, or an in-dialog BYE/re-INVITE/NOTIFY...), bumping our CSeq.
    pub fn request(&mut self, method: &str, via_host: &str, contact: &str) -> Request {
        let d = self;
        d.local_cseq += 1;
        let mut h = Headers::default();
        h.push(
            "Via",
            format!(
                "SIP/2.0/{} {via_host};branch={};rport",
                d.peer.transport.as_str(),
                new_branch()
            ),
        );
        for r in &d.route_set {
            h.push("Route", r.clone());
        }
        h.push("Max-Forwards", "70");
        let mut from = d.local_uri.clone();
        from.set_param("tag", Some(&d.local_tag));
        h.push("From", from.to_string());
        let mut to = d.remote_uri.clone();
        if let Some(t) = &d.remote_tag {
            to.set_param("tag", Some(t));
        }
        h.push("To", to.to_string());
        h.push("Call-ID", d.call_id.clone());
        h.push("CSeq", format!("{} {method}", d.local_cseq));
        h.push("Contact", contact.to_string());
        h.push("User-Agent", "Switchboard");
        Request {
            method: method.into(),
            uri: d.remote_target.clone(),
            version: "SIP/2.0".into(),
            headers: h,
            body: Vec::new(),
        }
    }
}

//! Browser audio agent legs: an agent whose console opened a WebRTC audio
//! session (nailed up for the whole shift) gets calls bridged to that
//! session's media leg instead of an INVITE to a phone.
//!
//! A browser leg is an agent leg of [`Side::Browser`]: it "rings" in the
//! page (or is answered at once with auto-answer), and it is "hung up" by
//! taking the session's media leg out of the call's room; the media leg
//! itself lives as long as the browser session. Everything else (rooms,
//! hold music, conference, recording, DTMF) sees an ordinary leg.

use std::collections::HashMap;

use switchboard_call::{Event, LegId};
use switchboard_center::ApiError;
use switchboard_sip::builder::new_tag;
use switchboard_sip::{Dialog, NameAddr, Peer, Transport, Uri};

use super::leg::{Leg, LegState, Side};
use super::media::MediaLeg;
use super::Switch;

/// An agent's attached browser audio session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BrowserSeat {
    /// The session's media engine leg.
    pub(crate) media: MediaLeg,
    /// Calls are answered at once, without ringing in the page.
    pub(crate) auto_answer: bool,
}

/// Agents' browser audio sessions, by agent.
pub(crate) type BrowserSeats = HashMap<String, BrowserSeat>;

impl Switch {
    /// Attach (`Some`) or detach (`None`) an agent's browser audio session.
    /// Attached, the agent counts as reachable (like a registered phone);
    /// detached, a browser leg still on a call is hung up.
    pub(super) fn browser_audio(
        &mut self,
        agent: &str,
        media: Option<MediaLeg>,
        auto_answer: bool,
    ) -> Result<(), ApiError> {
        if !self.agents.exists(agent) {
            return Err(ApiError::new(404, format!("unknown agent {agent}")));
        }
        match media {
            Some(media) => {
                let old = self
                    .browser
                    .insert(agent.to_string(), BrowserSeat { media, auto_answer });
                if let Some(old) = old.filter(|o| o.media != media) {
                    self.end_browser_legs(agent, old.media);
                }
                self.agents_registration_changed(agent, true);
            }
            None => {
                if let Some(old) = self.browser.remove(agent) {
                    self.end_browser_legs(agent, old.media);
                }
                let registered = self.registrar.is_registered(agent, self.now);
                self.agents_registration_changed(agent, registered);
            }
        }
        Ok(())
    }

    /// Whether the agent's calls go to their browser.
    pub(super) fn browser_seat(&self, agent: &str) -> Option<BrowserSeat> {
        self.browser.get(agent).copied()
    }

    /// The agent clicked "answer": the browser leg ringing for them is answered.
    pub(super) fn browser_answer(&mut self, agent: &str) -> Result<String, ApiError> {
        let ringing = self
            .legs
            .values()
            .find(|l| {
                matches!(l.side, Side::Browser)
                    && l.state == LegState::Setup
                    && l.agent.as_deref() == Some(agent)
            })
            .map(|l| (l.call.clone(), l.id));
        let Some((call, leg)) = ringing else {
            return Err(ApiError::new(409, "no call is ringing for you"));
        };
        self.answer_browser_leg(&call, leg);
        Ok(call)
    }

    /// Bridge a call's agent leg to the agent's browser session: the leg
    /// rings in the page, or is answered at once with auto-answer.
    pub(super) fn dial_browser(&mut self, call: &str, leg: LegId, agent: &str, seat: BrowserSeat) {
        let local = Peer {
            addr: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
            transport: Transport::Udp,
        };
        let uri = Uri::sip(Some(agent), "browser.invalid", None);
        let ring_deadline = self.now + self.cfg.ring_timeout_secs * 1000;
        self.ring_timers.insert((ring_deadline, leg));
        self.insert_leg(Leg {
            id: leg,
            call: call.to_string(),
            side: Side::Browser,
            state: LegState::Setup,
            dialog: Dialog::uac(
                format!("browser-{leg}"),
                new_tag(),
                NameAddr::new(uri.clone()),
                NameAddr::new(uri.clone()),
                uri,
                local,
            ),
            media: seat.media,
            rtp_port: 0,
            codec_pt: 0,
            dtmf_pt: None,
            sdp_session: 0,
            sdp_version: 0,
            party: agent.to_string(),
            agent: Some(agent.to_string()),
            remote_direction: switchboard_sip::sdp::Direction::SendRecv,
            remote_media: (Vec::new(), 0),
            ring_deadline: Some(ring_deadline),
            trunk_auth: None,
            route: None,
            session_timer: None,
            reliable: None,
        });
        self.pending_events
            .push((call.to_string(), Event::Ringing(leg)));
        if seat.auto_answer {
            self.answer_browser_leg(call, leg);
        }
    }

    fn answer_browser_leg(&mut self, call: &str, leg: LegId) {
        let Some(l) = self.legs.get_mut(&leg) else {
            return;
        };
        if l.state != LegState::Setup {
            return;
        }
        l.state = LegState::Confirmed;
        l.ring_deadline = None;
        self.pending_events
            .push((call.to_string(), Event::Answered(leg)));
    }

    /// End a browser leg: no signalling, its media leg leaves the call's
    /// room (the browser session stays up for the next call).
    pub(super) fn end_browser_leg(&mut self, leg: LegId) {
        let Some(l) = self.legs.get_mut(&leg) else {
            return;
        };
        if l.state == LegState::Terminated {
            return;
        }
        l.state = LegState::Terminated;
        l.ring_deadline = None;
        let media = l.media;
        let shared = self
            .legs
            .values()
            .any(|o| o.id != leg && o.media == media && o.state != LegState::Terminated);
        if !shared {
            self.media.leave(media);
        }
    }

    /// The agent's browser session went away (or was replaced): the browser
    /// legs on it end as if the agent hung up.
    fn end_browser_legs(&mut self, agent: &str, media: MediaLeg) {
        let legs: Vec<(String, LegId)> = self
            .legs
            .values()
            .filter(|l| {
                matches!(l.side, Side::Browser)
                    && l.media == media
                    && l.agent.as_deref() == Some(agent)
                    && l.state != LegState::Terminated
            })
            .map(|l| (l.call.clone(), l.id))
            .collect();
        for (call, leg) in legs {
            let ringing = self
                .legs
                .get(&leg)
                .is_some_and(|l| l.state == LegState::Setup);
            self.end_browser_leg(leg);
            let ev = if ringing {
                Event::Failed(leg, 480)
            } else {
                Event::HungUp(leg)
            };
            self.pending_events.push((call, ev));
        }
    }
}

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

use super::agents::AgentAudio;
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

/// Calls of an agent whose browser session went away mid-call: they wait
/// (the customer on hold, hearing music) for the agent's console to come
/// back, until `until`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reconnecting {
    /// Deadline (ms): then the legs end as if the agent hung up.
    pub(crate) until: u64,
    /// The waiting browser legs.
    pub(crate) legs: Vec<LegId>,
    /// Calls we put on hold for the wait (taken off hold on return).
    pub(crate) held: Vec<String>,
}

/// Agents waited for, by agent.
pub(crate) type Waits = HashMap<String, Reconnecting>;

impl Switch {
    /// Attach an agent's browser audio session (its media leg): the agent
    /// counts as reachable (like a registered phone). Calls waiting for the
    /// agent's return, or on an older session, move to this one.
    pub(super) fn browser_audio(
        &mut self,
        agent: &str,
        media: MediaLeg,
        auto_answer: bool,
    ) -> Result<(), ApiError> {
        if !self.agents.exists(agent) {
            return Err(ApiError::new(404, format!("unknown agent {agent}")));
        }
        if self.agents.audio(agent) == AgentAudio::Phone {
            return Err(ApiError::new(
                403,
                "your administrator set you to take calls on a SIP phone: browser audio is off for you",
            ));
        }
        let old = self
            .browser
            .insert(agent.to_string(), BrowserSeat { media, auto_answer });
        if let Some(wait) = self.browser_waits.remove(agent) {
            // Back after a reload or a blip: the calls resume on the new session.
            self.move_browser_legs(&wait.legs, media, &wait.held);
        } else if let Some(old) = old.filter(|o| o.media != media) {
            // Another console took over: its session carries the calls on.
            let legs = self.live_browser_legs(agent, old.media);
            self.move_browser_legs(&legs, media, &[]);
        }
        self.agents_registration_changed(agent, true);
        Ok(())
    }

    /// An agent's browser session (media leg `media`) closed. Unless a newer
    /// session replaced it, the agent is detached: a call ringing there goes
    /// back, calls in progress wait (see `browser_lost`). Returns whether
    /// it was the attached session.
    pub(super) fn browser_detach(
        &mut self,
        agent: &str,
        media: MediaLeg,
    ) -> Result<bool, ApiError> {
        if !self.agents.exists(agent) {
            return Err(ApiError::new(404, format!("unknown agent {agent}")));
        }
        if self.browser.get(agent).is_none_or(|s| s.media != media) {
            return Ok(false);
        }
        self.browser.remove(agent);
        self.browser_lost(agent, media);
        let registered = self.registrar.is_registered(agent, self.now);
        self.agents_registration_changed(agent, registered);
        Ok(true)
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

    /// The agent put their browser "phone" down: their established browser
    /// leg ends as a phone's BYE would (in a conference the others go on).
    pub(super) fn browser_hangup(&mut self, agent: &str) -> Result<String, ApiError> {
        let live = self
            .legs
            .values()
            .find(|l| {
                matches!(l.side, Side::Browser)
                    && l.state == LegState::Confirmed
                    && l.agent.as_deref() == Some(agent)
            })
            .map(|l| (l.call.clone(), l.id));
        let Some((call, leg)) = live else {
            return Err(ApiError::new(409, "you are on no call in this page"));
        };
        self.end_browser_leg(leg);
        self.pending_events.push((call.clone(), Event::HungUp(leg)));
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
            srtp: None,
            quality: None,
            quality_side: None,
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

    /// The agent's live browser legs on `media`.
    fn live_browser_legs(&self, agent: &str, media: MediaLeg) -> Vec<LegId> {
        self.legs
            .values()
            .filter(|l| {
                matches!(l.side, Side::Browser)
                    && l.media == media
                    && l.agent.as_deref() == Some(agent)
                    && l.state != LegState::Terminated
            })
            .map(|l| l.id)
            .collect()
    }

    /// The agent's browser session went away: a call ringing there goes
    /// back to whoever placed it (the queue rings the next agent); calls
    /// in progress wait `browser_reconnect_secs` for the agent, the
    /// customer on hold, then end as if the agent hung up.
    fn browser_lost(&mut self, agent: &str, media: MediaLeg) {
        let mut wait = Reconnecting {
            until: self.now + self.cfg.browser_reconnect_secs * 1000,
            legs: Vec::new(),
            held: Vec::new(),
        };
        for leg in self.live_browser_legs(agent, media) {
            let Some(l) = self.legs.get(&leg) else {
                continue;
            };
            let call = l.call.clone();
            if l.state == LegState::Setup || self.cfg.browser_reconnect_secs == 0 {
                let ev = match l.state {
                    LegState::Setup => Event::Failed(leg, 480),
                    _ => Event::HungUp(leg),
                };
                self.end_browser_leg(leg);
                self.pending_events.push((call, ev));
                continue;
            }
            wait.legs.push(leg);
            self.log_call(
                &call,
                "AGENT_AUDIO_LOST",
                "waiting for the agent's browser",
                None,
            );
            let Some(entry) = self.calls.get_mut(&call) else {
                continue;
            };
            if entry.call.state() == switchboard_call::CallState::Connected {
                if let Ok(actions) = entry.call.command(switchboard_call::Command::Hold) {
                    wait.held.push(call.clone());
                    self.apply(&call, actions);
                }
            }
        }
        if !wait.legs.is_empty() {
            tracing::info!(
                agent,
                calls = wait.legs.len(),
                "browser audio lost mid-call: waiting"
            );
            self.browser_waits.insert(agent.to_string(), wait);
        }
    }

    /// Put waiting (or taken-over) browser legs on a new session's media
    /// leg and give them their audio again (unhold what the wait held).
    fn move_browser_legs(&mut self, legs: &[LegId], media: MediaLeg, held: &[String]) {
        for leg in legs {
            let Some(l) = self.legs.get_mut(leg) else {
                continue;
            };
            if l.state == LegState::Terminated {
                continue;
            }
            let old = std::mem::replace(&mut l.media, media);
            let call = l.call.clone();
            if old != media {
                self.media.leave(old);
            }
            self.log_call(
                &call,
                "AGENT_AUDIO_BACK",
                "the agent's browser is back",
                None,
            );
            let Some(entry) = self.calls.get_mut(&call) else {
                continue;
            };
            if held.contains(&call) && entry.call.state() == switchboard_call::CallState::Held {
                if let Ok(actions) = entry.call.command(switchboard_call::Command::Unhold) {
                    self.apply(&call, actions);
                    continue;
                }
            }
            let plan = entry.call.plan().clone();
            self.apply_plan(&call, &plan);
        }
    }

    /// The earliest end of a wait for an agent's browser.
    pub(super) fn browser_deadline(&self) -> Option<u64> {
        self.browser_waits.values().map(|w| w.until).min()
    }

    /// Waits that ran out: their legs end as if the agent hung up.
    pub(super) fn browser_tick(&mut self) {
        let now = self.now;
        let over: Vec<String> = self
            .browser_waits
            .iter()
            .filter(|(_, w)| w.until <= now)
            .map(|(a, _)| a.clone())
            .collect();
        for agent in over {
            let Some(wait) = self.browser_waits.remove(&agent) else {
                continue;
            };
            tracing::info!(
                agent,
                "the agent's browser did not come back: ending its calls"
            );
            for leg in wait.legs {
                let Some(l) = self.legs.get(&leg) else {
                    continue;
                };
                if l.state == LegState::Terminated {
                    continue;
                }
                let call = l.call.clone();
                self.end_browser_leg(leg);
                self.pending_events.push((call, Event::HungUp(leg)));
            }
        }
    }
}

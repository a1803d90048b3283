//! The agent's browser audio over the console's WebSocket: the page sends
//! an SDP offer, gets the answer (ICE-lite, one UDP port, DTLS-SRTP; no
//! trickle: our one candidate is in the answer) and the session's state;
//! while attached, the agent's calls are bridged to the session instead of
//! ringing a SIP phone. The newest session of an agent takes over: the
//! older page is told why its audio closed.

use serde::{Deserialize, Serialize};
use switchboard_center::EngineRequest;
use switchboard_webrtc::{Gateway, GatewayEvent};

use crate::AppState;

/// What the page sends on the WebSocket.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    /// Open browser audio: the page's SDP offer (audio, gathered candidates).
    AudioOffer {
        /// SDP offer.
        sdp: String,
        /// Answer calls at once instead of ringing in the page.
        #[serde(default)]
        auto_answer: bool,
    },
    /// Close browser audio (back to the SIP phone).
    AudioClose,
    /// Answer the call ringing in the page.
    AnswerCall,
    /// Leave the call (put the "phone" down; in a conference the others go on).
    LeaveCall,
    /// Start or stop hearing one's own audio back from the server (between calls).
    EchoTest {
        /// Start (true) or stop.
        on: bool,
    },
}

/// What the server sends about browser audio (besides the live events).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    /// The SDP answer to the page's offer.
    AudioAnswer {
        /// SDP answer.
        sdp: String,
    },
    /// The audio session's state: `connecting`, `connected` or `closed`.
    AudioState {
        /// State.
        state: String,
        /// Why it closed.
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    /// A request failed (bad SDP, browser audio disabled, nothing ringing).
    AudioError {
        /// What went wrong, for the agent.
        message: String,
    },
}

/// One console connection's browser audio.
#[derive(Debug, Default)]
pub(crate) struct Webphone {
    /// The session this page opened, if live: (session id, its media leg).
    session: Option<(u64, u64)>,
}

impl Webphone {
    /// Handle a message from the page; returns what to send back.
    pub(crate) async fn on_message(
        &mut self,
        st: &AppState,
        agent: &str,
        text: &str,
    ) -> Vec<ServerMessage> {
        let msg = match serde_json::from_str::<ClientMessage>(text) {
            Ok(m) => m,
            Err(e) => return vec![error(format!("unreadable message: {e}"))],
        };
        let Some(gw) = st.webphone.clone() else {
            return vec![error("browser audio is not enabled on this server".into())];
        };
        match msg {
            ClientMessage::AudioOffer { sdp, auto_answer } => {
                self.close(st, &gw, agent, "replaced by a new offer").await;
                let opened = match gw.open(agent, &sdp) {
                    Ok(a) => a,
                    Err(e) => return vec![error(e.to_string())],
                };
                // Newest takes over: the agent's other pages lose their audio.
                for old in gw.sessions_of(agent) {
                    if old != opened.session {
                        gw.close(old, "another console of this agent took over the audio");
                    }
                }
                let agent_name = agent.to_string();
                let attached = st
                    .ask(|reply| EngineRequest::BrowserAudio {
                        agent: agent_name,
                        media_leg: opened.media_leg,
                        auto_answer,
                        reply,
                    })
                    .await;
                if let Err(e) = attached {
                    gw.close(opened.session, "not attached");
                    return vec![error(e.message)];
                }
                self.session = Some((opened.session, opened.media_leg));
                vec![
                    ServerMessage::AudioAnswer { sdp: opened.answer },
                    state("connecting", None),
                ]
            }
            ClientMessage::AudioClose => {
                self.close(st, &gw, agent, "closed by the agent").await;
                vec![state("closed", Some("closed by the agent".into()))]
            }
            ClientMessage::AnswerCall => {
                let agent = agent.to_string();
                match st
                    .ask(|reply| EngineRequest::BrowserAnswer { agent, reply })
                    .await
                {
                    Ok(_) => Vec::new(),
                    Err(e) => vec![error(e.message)],
                }
            }
            ClientMessage::EchoTest { on } => {
                let echoed = self.session.is_some_and(|(s, _)| gw.set_echo(s, on));
                match (echoed, self.session) {
                    (true, _) => Vec::new(),
                    (false, None) => vec![error("connect the browser audio first".into())],
                    (false, Some(_)) => {
                        vec![error(
                            "the audio test works between calls, not during one".into(),
                        )]
                    }
                }
            }
            ClientMessage::LeaveCall => {
                let agent = agent.to_string();
                match st
                    .ask(|reply| EngineRequest::BrowserHangup { agent, reply })
                    .await
                {
                    Ok(_) => Vec::new(),
                    Err(e) => vec![error(e.message)],
                }
            }
        }
    }

    /// A gateway event: news about this page's session.
    pub(crate) async fn on_gateway(
        &mut self,
        st: &AppState,
        agent: &str,
        ev: GatewayEvent,
    ) -> Option<ServerMessage> {
        match ev {
            GatewayEvent::Connected { session, .. } if self.is(session) => {
                Some(state("connected", None))
            }
            GatewayEvent::Closed {
                session,
                reason,
                media_leg,
                ..
            } if self.is(session) => {
                self.session = None;
                detach(st, agent, media_leg).await;
                Some(state("closed", Some(reason)))
            }
            _ => None,
        }
    }

    fn is(&self, session: u64) -> bool {
        self.session.is_some_and(|(s, _)| s == session)
    }

    /// Close this page's session (the page left or sent a new offer).
    pub(crate) async fn close(&mut self, st: &AppState, gw: &Gateway, agent: &str, why: &str) {
        if let Some((s, media_leg)) = self.session.take() {
            gw.close(s, why);
            detach(st, agent, media_leg).await;
        }
    }
}

/// Tell the switch a session of the agent closed (a no-op there when a
/// newer session of theirs is attached already).
async fn detach(st: &AppState, agent: &str, media_leg: u64) {
    let agent = agent.to_string();
    let _ = st
        .ask(|reply| EngineRequest::BrowserDetach {
            agent,
            media_leg,
            reply,
        })
        .await;
}

fn state(state: &str, reason: Option<String>) -> ServerMessage {
    ServerMessage::AudioState {
        state: state.into(),
        reason,
    }
}

fn error(message: String) -> ServerMessage {
    ServerMessage::AudioError { message }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_have_a_type_tag() {
        let m: ClientMessage =
            serde_json::from_str(r#"{"type":"audio_offer","sdp":"v=0"}"#).expect("offer");
        assert_eq!(
            m,
            ClientMessage::AudioOffer {
                sdp: "v=0".into(),
                auto_answer: false
            }
        );
        let out = serde_json::to_value(state("closed", Some("gone".into()))).expect("json");
        assert_eq!(out["type"], "audio_state");
        assert_eq!(out["reason"], "gone");
        assert!(serde_json::from_str::<ClientMessage>(r#"{"type":"dance"}"#).is_err());
    }
}

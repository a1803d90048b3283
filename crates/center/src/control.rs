//! The control protocol between the HTTP layer and the switch engine:
//! requests answered on a oneshot channel with JSON or an [`ApiError`].

use serde_json::Value;
use switchboard_call::{Command, Target};
use tokio::sync::oneshot;

use crate::{AgentInfo, AgentStatus, CampaignInfo};

/// An API error: HTTP status and a message for the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} (HTTP {status})")]
pub struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// Message.
    pub message: String,
}

impl ApiError {
    /// New error.
    pub fn new(status: u16, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
        }
    }
}

/// Who is asking.
#[derive(Debug, Clone)]
pub struct Actor {
    /// Username.
    pub username: String,
    /// Supervisors and admins may act on any call.
    pub supervisor: bool,
}

/// Reply channel.
pub type Reply = oneshot::Sender<Result<Value, ApiError>>;

/// A request to the engine.
#[derive(Debug)]
pub enum EngineRequest {
    /// Agents with presence, active calls, queues.
    Snapshot(Reply),
    /// Set an agent's chosen state.
    SetAgentState {
        /// Agent.
        agent: String,
        /// offline | ready | paused.
        state: AgentStatus,
        /// Pause reason.
        reason: Option<String>,
        /// Reply.
        reply: Reply,
    },
    /// Click-to-call: ring the agent's phone, then the target.
    Dial {
        /// Who.
        actor: Actor,
        /// Destination.
        target: Target,
        /// Manual/preview campaign the call belongs to (None = out of campaign).
        campaign: Option<String>,
        /// Contact being called, if any.
        contact_id: Option<String>,
        /// Reply.
        reply: Reply,
    },
    /// A call action.
    CallCommand {
        /// Who.
        actor: Actor,
        /// Call id.
        call: String,
        /// Action.
        command: Command,
        /// Reply.
        reply: Reply,
    },
    /// Start (true) or stop (false) on-demand recording.
    Recording {
        /// Who.
        actor: Actor,
        /// Call.
        call: String,
        /// Start or stop.
        start: bool,
        /// Reply.
        reply: Reply,
    },
    /// Tag the call's recording.
    Tag {
        /// Who.
        actor: Actor,
        /// Call.
        call: String,
        /// Text.
        text: String,
        /// Reply.
        reply: Reply,
    },
    /// Agent created/updated by the admin API.
    UpsertAgent(AgentInfo),
    /// Agent disabled.
    RemoveAgent(String),
    /// Campaign created/updated.
    UpsertCampaign(CampaignInfo),
    /// Dialer: call a contact for a campaign and hand the answered call to an agent.
    DialerCall {
        /// Campaign name.
        campaign: String,
        /// Number.
        number: String,
        /// Contact id.
        contact_id: Option<String>,
        /// Reply.
        reply: Reply,
    },
}

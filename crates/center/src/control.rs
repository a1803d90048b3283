//! The control protocol between the HTTP layer and the switch engine:
//! requests answered on a oneshot channel with a typed view ([`crate::views`])
//! or an [`ApiError`].

use switchboard_call::{Command, SupervisorAction, Target};
use tokio::sync::oneshot;

use crate::views::{ActionReply, CallView, Snapshot, TagReply};
use crate::{AgentInfo, AgentPresence, AgentStatus, CampaignInfo, DncEntry};

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
    /// The campaigns a supervisor is limited to (their assignment); None:
    /// every campaign (admins, supervisors with no assignment, agents).
    pub campaigns: Option<Vec<String>>,
}

/// Reply channel: the view `T`, or an error.
pub type Reply<T> = oneshot::Sender<Result<T, ApiError>>;

/// A request to the engine.
#[derive(Debug)]
pub enum EngineRequest {
    /// Agents with presence, active calls, queues.
    Snapshot(Reply<Snapshot>),
    /// Set an agent's chosen state.
    SetAgentState {
        /// Agent.
        agent: String,
        /// offline | ready | paused.
        state: AgentStatus,
        /// Pause reason.
        reason: Option<String>,
        /// Who asks when it is not the agent: the supervisor or admin
        /// (recorded in the agent's state log); None = the agent.
        by: Option<String>,
        /// Reply: the agent's presence.
        reply: Reply<AgentPresence>,
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
        /// The contact's IANA zone: a campaign call outside its calling hours is
        /// placed with an `OUTSIDE_HOURS` warning in the call's event log.
        timezone: Option<String>,
        /// Reply: the new call.
        reply: Reply<CallView>,
    },
    /// A call action.
    CallCommand {
        /// Who.
        actor: Actor,
        /// Call id.
        call: String,
        /// Action.
        command: Command,
        /// Reply: the call now, or its end.
        reply: Reply<ActionReply>,
    },
    /// Supervisors only: listen, whisper, barge, take over or stop on a
    /// live call (see [`SupervisorAction`]).
    Supervise {
        /// Who (must be a supervisor: 403 otherwise).
        actor: Actor,
        /// Call id.
        call: String,
        /// What the supervisor asks for.
        action: SupervisorAction,
        /// Extension rung for the supervisor's audio when the supervision
        /// starts (default: the supervisor's own).
        phone: Option<String>,
        /// Reply: the call now, or its end.
        reply: Reply<ActionReply>,
    },
    /// Start (true) or stop (false) on-demand recording.
    Recording {
        /// Who.
        actor: Actor,
        /// Call.
        call: String,
        /// Start or stop.
        start: bool,
        /// Reply: the call now.
        reply: Reply<CallView>,
    },
    /// Pause (true) or resume (false) the running recording segment, e.g.
    /// while a customer keys a card number: the paused span is silence in
    /// the file. Refused (409) when the call is not being recorded.
    RecordingPause {
        /// Who.
        actor: Actor,
        /// Call.
        call: String,
        /// Pause or resume.
        pause: bool,
        /// Reply: the call now.
        reply: Reply<CallView>,
    },
    /// Tag the call's recording.
    Tag {
        /// Who.
        actor: Actor,
        /// Call.
        call: String,
        /// Text.
        text: String,
        /// Reply: the stored tag.
        reply: Reply<TagReply>,
    },
    /// Agent created/updated by the admin API.
    UpsertAgent(AgentInfo),
    /// Agent disabled.
    RemoveAgent(String),
    /// Campaign created/updated (boxed: the largest request by far).
    UpsertCampaign(Box<CampaignInfo>),
    /// Dialer: call a contact for a campaign and hand the answered call to an agent.
    DialerCall {
        /// Campaign name.
        campaign: String,
        /// Number.
        number: String,
        /// Contact id.
        contact_id: Option<String>,
        /// The contact's IANA zone (for the campaign's calling hours).
        timezone: Option<String>,
        /// Reply: the new call.
        reply: Reply<CallView>,
    },
    /// The whole do-not-call list (at start).
    SetDnc(Vec<DncEntry>),
    /// A number added to the do-not-call list.
    AddDnc(DncEntry),
    /// A number taken off the do-not-call list (`reason` ignored).
    RemoveDnc(DncEntry),
    /// An agent's browser audio session is up: calls for the agent are
    /// bridged to it instead of ringing a SIP phone (the newest session wins).
    BrowserAudio {
        /// Agent.
        agent: String,
        /// The session's media engine leg.
        media_leg: u64,
        /// Answer calls at once instead of ringing in the page.
        auto_answer: bool,
        /// Reply: done.
        reply: Reply<()>,
    },
    /// An agent's browser audio session closed: detached unless a newer
    /// session of the agent replaced it already.
    BrowserDetach {
        /// Agent.
        agent: String,
        /// The closed session's media engine leg.
        media_leg: u64,
        /// Reply: whether it was the agent's attached session.
        reply: Reply<bool>,
    },
    /// The agent hangs up their browser leg (like putting a phone down: in a
    /// conference the others go on), leaving the browser session up.
    BrowserHangup {
        /// Agent.
        agent: String,
        /// Reply: the call left.
        reply: Reply<String>,
    },
    /// The agent answers, in the page, the call ringing on their browser audio.
    BrowserAnswer {
        /// Agent.
        agent: String,
        /// Reply: the call answered.
        reply: Reply<String>,
    },
}

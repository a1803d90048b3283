//! Typed views the switch publishes and the HTTP layer serves: the live call,
//! queues, the snapshot, action replies and the WebSocket events. Each one is
//! serialized in one place ([`to_json`]) and documented by its
//! [`utoipa::ToSchema`] derive, so the OpenAPI document follows the types.
//!
//! Types of other crates that appear in a view (the call state, transfer kind
//! and phase, targets) are documented by the mirrors in [`crate::schemas`].

use serde::Serialize;
use serde_json::Value;
use switchboard_call::{CallState, TransferKind, TransferPhase};
use utoipa::ToSchema;

use crate::schemas::{
    CallStateDoc, SuperviseModeDoc, TargetDoc, TransferKindDoc, TransferPhaseDoc,
};
use crate::{AgentPresence, AgentStatus, CampaignInfo};

/// Serialize a view. The views hold plain data (strings, numbers, maps with
/// string keys), which always serialize.
pub fn to_json<T: Serialize>(view: &T) -> Value {
    serde_json::to_value(view).expect("views serialize to JSON")
}

/// Lifecycle of a leg as the console sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LegStatus {
    /// INVITE in progress.
    Setup,
    /// Established.
    Confirmed,
    /// Over.
    Terminated,
}

/// One leg of a live call.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct LegView {
    /// Leg id (used by `mute`/`unmute`).
    pub leg: u64,
    /// Who is on the leg (agent username, number or caller).
    pub party: String,
    /// Agent on this leg, if it rings or reaches an agent's phone.
    pub agent: Option<String>,
    /// Leg state.
    pub state: LegStatus,
    /// Media quality now (sampled every few seconds); null before the first sample.
    pub quality: Option<crate::quality::LegQuality>,
}

/// A transfer or consultation in progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct TransferView {
    /// Blind or consultative.
    #[schema(value_type = TransferKindDoc)]
    pub kind: TransferKind,
    /// Destination, e.g. `{"agent": "1002"}`.
    #[schema(value_type = TargetDoc)]
    pub target: switchboard_call::Target,
    /// Where the transfer stands.
    #[schema(value_type = TransferPhaseDoc)]
    pub phase: TransferPhase,
}

/// A supervisor on a live call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct SupervisionView {
    /// The supervisor (console user).
    pub supervisor: String,
    /// The extension rung for the supervisor's audio.
    pub phone: String,
    /// The leg towards that phone.
    pub leg: u64,
    /// Current mode.
    #[schema(value_type = SuperviseModeDoc)]
    pub mode: switchboard_call::SuperviseMode,
    /// The supervisor's phone answered (before that it rings).
    pub answered: bool,
}

impl From<&switchboard_call::Supervision> for SupervisionView {
    fn from(s: &switchboard_call::Supervision) -> SupervisionView {
        SupervisionView {
            supervisor: s.supervisor.clone(),
            phone: s.phone.clone(),
            leg: s.leg,
            mode: s.mode,
            answered: s.answered,
        }
    }
}

/// A supervisor the agent is shown on their call (the campaign's
/// `supervision.notice` setting decides in which modes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct NoticeView {
    /// The agent shown the notice.
    pub agent: String,
    /// The call.
    pub call_id: String,
    /// Who supervises.
    pub supervisor: String,
    /// In which mode.
    #[schema(value_type = SuperviseModeDoc)]
    pub mode: switchboard_call::SuperviseMode,
}

/// Which way a call goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CallDirection {
    /// A customer called in (DID or extension).
    Inbound,
    /// To an external number (console, dialer, callback).
    Outbound,
    /// Between agents.
    Internal,
}

impl CallDirection {
    /// From the engine's name (`inbound`, `outbound`; anything else is internal).
    pub fn from_name(name: &str) -> CallDirection {
        match name {
            "inbound" => CallDirection::Inbound,
            "outbound" => CallDirection::Outbound,
            _ => CallDirection::Internal,
        }
    }
}

/// A live call.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[schema(as = Call)]
pub struct CallView {
    /// Call id.
    pub call_id: String,
    /// Where the call stands.
    #[schema(value_type = CallStateDoc)]
    pub state: CallState,
    /// Campaign the call belongs to.
    pub campaign: Option<String>,
    /// Direction.
    pub direction: CallDirection,
    /// Caller (number or agent username).
    pub caller: String,
    /// Callee (number, agent username or campaign).
    pub callee: String,
    /// Start (ms since the epoch).
    pub started_at: u64,
    /// Answer (ms since the epoch).
    pub answered_at: Option<u64>,
    /// Agent controlling the call.
    pub agent: Option<String>,
    /// The customer's leg.
    pub customer: Option<LegView>,
    /// The controlling agent's leg.
    pub agent_leg: Option<LegView>,
    /// The consulted or conferenced third party.
    pub third: Option<LegView>,
    /// A leg being set up (transfer target, queue offer).
    pub pending: Option<LegView>,
    /// Transfer in progress.
    pub transfer: Option<TransferView>,
    /// A recording segment is running.
    pub recording: bool,
    /// The running segment is paused (its file gets silence until resumed).
    pub recording_paused: bool,
    /// The campaign records every call.
    pub auto_recording: bool,
    /// Music on hold class.
    pub music_class: String,
    /// Conference legs the others do not hear.
    pub muted: Vec<u64>,
    /// Contact being called, if any.
    pub contact_id: Option<String>,
    /// Every agent who took part (their consoles keep getting the call's updates).
    pub participants: Vec<String>,
    /// Supervisors listening, whispering or barging in.
    pub supervisions: Vec<SupervisionView>,
}

impl CallView {
    /// Whether `user` takes part in the call (controls it or is on one of its legs).
    pub fn involves(&self, user: &str) -> bool {
        self.agent.as_deref() == Some(user)
            || [&self.agent_leg, &self.customer, &self.third, &self.pending]
                .into_iter()
                .flatten()
                .any(|l| l.agent.as_deref() == Some(user))
    }
}

/// The answer to an action that ended the call (e.g. hang-up).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct EndedCall {
    /// Call id.
    pub call_id: String,
    /// Always `ended`.
    #[schema(value_type = CallStateDoc)]
    pub state: CallState,
}

impl EndedCall {
    /// The call `call_id` is over.
    pub fn new(call_id: &str) -> EndedCall {
        EndedCall {
            call_id: call_id.to_string(),
            state: CallState::Ended,
        }
    }
}

/// The answer to a call action: the call as it now is, or its end.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(untagged)]
pub enum ActionReply {
    /// The call goes on.
    Live(Box<CallView>),
    /// The action ended the call.
    Ended(EndedCall),
}

/// The answer to a tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct TagReply {
    /// Call id.
    pub call_id: String,
    /// Who wrote it.
    pub author: String,
    /// Text (trimmed).
    pub text: String,
    /// When (ms since the epoch).
    pub at: u64,
    /// Position in the running recording, or since answer (ms).
    pub offset_ms: u64,
    /// Pinned to a running recording.
    pub recording: bool,
}

/// One caller waiting in a queue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct QueuedCall {
    /// Call id.
    pub call_id: String,
    /// 1 = next to be served.
    pub position: usize,
    /// Time waited (ms).
    pub wait_ms: u64,
    /// Agent being rung for this caller.
    pub ringing: Option<String>,
}

/// Waiting callers of one inbound campaign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(as = Queue)]
pub struct QueueView {
    /// Campaign name.
    pub campaign: String,
    /// Callers waiting.
    pub waiting: usize,
    /// Longest wait (ms), 0 when nobody waits.
    pub longest_wait_ms: u64,
    /// Callers in order.
    pub calls: Vec<QueuedCall>,
    /// Answered within the threshold, abandoned, timed out (since the switch started).
    pub service_level: crate::ServiceLevel,
    /// Thresholds of the campaign the queue crosses now (empty: none).
    pub alerts: Vec<crate::QueueAlert>,
    /// How many times each alert was raised since the switch started.
    pub alerts_raised: crate::AlertCounts,
}

impl QueueView {
    /// A queue view from its callers in order (no service level counted yet).
    pub fn new(campaign: &str, calls: Vec<QueuedCall>) -> QueueView {
        QueueView {
            campaign: campaign.to_string(),
            waiting: calls.len(),
            longest_wait_ms: calls.iter().map(|c| c.wait_ms).max().unwrap_or(0),
            calls,
            service_level: crate::ServiceLevel::default(),
            alerts: Vec::new(),
            alerts_raised: crate::AlertCounts::default(),
        }
    }

    /// The same with the queue's service level.
    pub fn with_service_level(mut self, level: crate::ServiceLevel) -> QueueView {
        self.service_level = level;
        self
    }
}

/// Everything a console needs to draw its live view.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Snapshot {
    /// Agents with presence.
    pub agents: Vec<AgentPresence>,
    /// Live calls.
    pub calls: Vec<CallView>,
    /// Campaigns the switch knows.
    pub campaigns: Vec<CampaignInfo>,
    /// Music on hold classes.
    pub music_classes: Vec<String>,
    /// Inbound queues.
    pub queues: Vec<QueueView>,
    /// SIP abuse counters (request rate and failed-authentication limits).
    pub sip_security: SipSecurity,
    /// Trunks: resolved targets, health and registration.
    pub trunks: Vec<TrunkView>,
    /// Supervisors shown to agents on their calls now.
    pub supervision_notices: Vec<NoticeView>,
    /// Quality of the calls ended since start (for `/metrics`).
    pub call_quality: crate::quality::QualityTotals,
}

/// Whether a trunk (or one of its targets) answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TrunkHealth {
    /// Not checked yet (no health checks, no call so far).
    Unknown,
    /// Answered its last OPTIONS or INVITE.
    Up,
    /// Did not answer (timeout): tried last until it answers again.
    Down,
}

/// One address a trunk's host name resolved to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct TrunkTargetView {
    /// `ip:port`.
    pub address: String,
    /// Its health.
    pub health: TrunkHealth,
    /// Why it is down, when it is.
    pub reason: Option<String>,
}

/// Where a trunk's registration stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RegistrationState {
    /// Waiting for the host name to resolve.
    Waiting,
    /// A REGISTER is out.
    Registering,
    /// Registered; refreshed before it expires.
    Registered,
    /// Refused or unanswered; retried with back-off.
    Failed,
}

/// A trunk's registration at its provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct TrunkRegistrationView {
    /// State.
    pub state: RegistrationState,
    /// Why it failed (`403 Forbidden`, `no response`), when it did.
    pub reason: Option<String>,
    /// Seconds until the registration expires (registered only).
    pub expires_in_secs: Option<u64>,
    /// Seconds until the next attempt (failed only).
    pub retry_in_secs: Option<u64>,
}

/// A trunk as the admin page and `/metrics` show it (no credentials).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct TrunkView {
    /// Name.
    pub name: String,
    /// Host name or address as configured.
    pub host: String,
    /// Priority (lower first).
    pub priority: u32,
    /// Overall health: up when a target is up, down when every target is.
    pub health: TrunkHealth,
    /// What the host resolved to, best first.
    pub targets: Vec<TrunkTargetView>,
    /// Why the host name does not resolve, when it does not.
    pub resolve_error: Option<String>,
    /// Registration, when the trunk registers.
    pub registration: Option<TrunkRegistrationView>,
}

/// SIP abuse counters of the switch (for supervisors and `/metrics`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct SipSecurity {
    /// Sources banned right now (silently dropped).
    pub banned_sources: u64,
    /// Datagrams dropped from banned sources since start.
    pub dropped_requests: u64,
    /// Failed digest authentications since start.
    pub auth_failures: u64,
}

/// A live event, published to WebSockets as `{"type": ..., ...}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
#[schema(as = WsEvent)]
pub enum LiveEvent {
    /// First message of every WebSocket: the current state.
    Snapshot {
        /// The snapshot.
        snapshot: Box<Snapshot>,
    },
    /// A call started or changed.
    Call {
        /// The call now.
        call: Box<CallView>,
    },
    /// A call's event log grew.
    CallEvent {
        /// Call id.
        call_id: String,
        /// Event kind (`TAG`, `RECORDING_STARTED`, `QUEUE_TIMEOUT`, ...).
        kind: String,
        /// Detail.
        detail: String,
        /// Agent who caused it.
        actor: Option<String>,
        /// When (ms since the epoch).
        at: u64,
    },
    /// A call is over.
    CallEnded {
        /// Call id.
        call_id: String,
    },
    /// An agent's status changed.
    AgentState {
        /// Username.
        agent: String,
        /// Effective status.
        status: AgentStatus,
        /// The state the agent chose.
        chosen: AgentStatus,
        /// Pause reason.
        pause_reason: Option<String>,
        /// Who chose the state when it was not the agent (a supervisor or
        /// admin), null when the agent did.
        chosen_by: Option<String>,
        /// Since (ms since the epoch).
        since: u64,
    },
    /// An agent's phone registered or unregistered.
    AgentRegistration {
        /// Username.
        agent: String,
        /// Registered now.
        registered: bool,
    },
    /// A supervisor the agent is shown on their call started, changed mode
    /// (`mode`) or is no longer shown (`mode` null: stopped, or a mode the
    /// campaign does not show). Sent to that agent and to supervisors.
    SupervisionNotice {
        /// The agent.
        agent: String,
        /// The call.
        call_id: String,
        /// Who supervises.
        supervisor: String,
        /// The mode shown, or null when the notice is removed.
        #[schema(value_type = Option<SuperviseModeDoc>)]
        mode: Option<switchboard_call::SuperviseMode>,
    },
    /// Queue positions changed.
    Queues {
        /// Every inbound queue.
        queues: Vec<QueueView>,
    },
    /// A personal callback is due within five minutes.
    AgendaReminder {
        /// Username.
        agent: String,
        /// The agenda entry.
        #[schema(value_type = Object)]
        agenda: Value,
    },
}

impl LiveEvent {
    /// The event as published.
    pub fn to_json(&self) -> Value {
        to_json(self)
    }
}

//! What the switch asks of the outside world: datagrams to send, storage
//! writes (applied in order by one writer so the switch never waits on the
//! database) and live events for consoles.

use std::collections::VecDeque;

use serde_json::Value;
use switchboard_center::AgentStatus;
use switchboard_sip::Peer;

/// One output of the switch, drained with [`crate::Switch::poll_output`].
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Send these bytes to a SIP peer.
    Send {
        /// Destination.
        peer: Peer,
        /// One SIP message.
        bytes: Vec<u8>,
    },
    /// Persist a fact.
    Store(StoreOp),
    /// Push a live event to consoles (WebSocket).
    Publish(Value),
}

/// Direction of a call for the CDR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// From a trunk or a customer.
    Inbound,
    /// To a number through a trunk.
    Outbound,
    /// Between agents.
    Internal,
}

/// A registrar binding to persist (phones stay reachable across restarts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationRecord {
    /// Agent.
    pub username: String,
    /// Contact URI.
    pub contact: String,
    /// Source address (ip:port).
    pub peer_addr: String,
    /// `UDP` or `TCP`.
    pub transport: String,
    /// Expiry, ms since the epoch.
    pub expires_at: i64,
}

/// One storage write. Times are ms since the Unix epoch.
#[derive(Debug, Clone, PartialEq)]
pub enum StoreOp {
    /// A CDR row.
    CallStarted {
        /// Call id.
        call: String,
        /// Direction.
        direction: Direction,
        /// Campaign storage id.
        campaign_id: Option<String>,
        /// Contact storage id.
        contact_id: Option<String>,
        /// Caller.
        caller: String,
        /// Callee.
        callee: String,
        /// Agent storage id.
        agent_id: Option<String>,
        /// Start.
        at: i64,
    },
    /// The call was answered.
    CallAnswered {
        /// Call id.
        call: String,
        /// When.
        at: i64,
    },
    /// The agent now handling the call.
    CallAgent {
        /// Call id.
        call: String,
        /// Agent storage id.
        agent_id: String,
    },
    /// The call ended.
    CallEnded {
        /// Call id.
        call: String,
        /// When.
        at: i64,
        /// Last handling agent's storage id.
        agent_id: Option<String>,
        /// Why it ended (`ended`, or `shutdown` when the server ended it).
        reason: String,
    },
    /// A call's final media quality (before its `CallEnded`).
    CallQuality {
        /// Call id.
        call: String,
        /// Each side's final figures.
        quality: Box<switchboard_center::CallQuality>,
    },
    /// A call event-log entry.
    CallEvent {
        /// Call id.
        call: String,
        /// When.
        at: i64,
        /// Kind (`ANSWERED`, `HOLD`...).
        kind: String,
        /// Who did it.
        actor: Option<String>,
        /// Human-readable detail.
        detail: String,
    },
    /// An agent's status changed.
    AgentState {
        /// Agent storage id.
        agent_id: String,
        /// New status.
        status: AgentStatus,
        /// Pause reason.
        reason: Option<String>,
        /// The supervisor or admin who put the agent in this state (the
        /// agent's chosen state, chosen by someone else); None otherwise.
        by: Option<String>,
        /// When.
        at: i64,
    },
    /// A recording segment started; `key` names it until storage assigns an id.
    RecordingStarted {
        /// `CALL#SEGMENT`.
        key: String,
        /// Call id.
        call: String,
        /// WAV path.
        path: String,
        /// When.
        at: i64,
        /// Agent storage id.
        agent_id: Option<String>,
        /// Campaign storage id.
        campaign_id: Option<String>,
    },
    /// A recording segment stopped.
    RecordingStopped {
        /// `CALL#SEGMENT`.
        key: String,
        /// When.
        at: i64,
        /// Length in ms when known.
        duration_ms: Option<i64>,
    },
    /// A recording tag.
    Tag {
        /// Call id.
        call: String,
        /// Recording segment key, if one was running.
        recording_key: Option<String>,
        /// Author (username).
        author: String,
        /// Text.
        text: String,
        /// When.
        at: i64,
        /// Offset from the segment start (ms).
        offset_ms: i64,
    },
    /// A dialer call to a contact ended (done when answered, else retried by rule).
    ContactOutcome {
        /// Contact storage id.
        contact_id: String,
        /// Whether it was answered.
        answered: bool,
        /// When.
        at: i64,
    },
    /// The user's current registrar bindings (replacing the stored ones).
    Registrations {
        /// Agent.
        username: String,
        /// Bindings.
        rows: Vec<RegistrationRecord>,
    },
}

/// The queue of outputs, with helpers named after what they record.
#[derive(Debug, Default)]
pub(crate) struct Sink {
    queue: VecDeque<Output>,
}

impl Sink {
    pub(crate) fn pop(&mut self) -> Option<Output> {
        self.queue.pop_front()
    }
    pub(crate) fn send(&mut self, peer: Peer, bytes: Vec<u8>) {
        self.queue.push_back(Output::Send { peer, bytes });
    }
    pub(crate) fn publish(&mut self, v: Value) {
        self.queue.push_back(Output::Publish(v));
    }
    pub(crate) fn store(&mut self, op: StoreOp) {
        self.queue.push_back(Output::Store(op));
    }
}

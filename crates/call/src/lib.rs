//! Call control as plain state machines (sans-IO): a [`Call`] takes leg
//! events and agent commands and returns [`Action`]s (dial a leg, hang one
//! up, rearrange media, log an event). The SIP engine turns actions into
//! signalling and media; every hold, transfer and conference path is
//! therefore testable without sockets.

mod call;
mod command;
mod event;
mod media_plan;
mod state;
mod supervision;
mod transfer;

#[cfg(test)]
mod tests;

pub use call::{Action, Call, Refusal};
pub use command::Command;
pub use event::Event;
pub use media_plan::{Group, MediaPlan, RINGBACK};
pub use state::CallState;
pub use supervision::{SuperviseMode, Supervision, SupervisorAction};
pub use transfer::{Transfer, TransferKind, TransferPhase};

/// Identifier of one SIP leg of a call (allocated by the call itself).
pub type LegId = u64;

/// Where a call, transfer or consultation goes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// An agent, by username (= extension).
    Agent(String),
    /// An external number or PBX extension (through the trunk).
    Number(String),
    /// An inbound campaign: the caller enters its queue.
    Campaign(String),
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Agent(a) => write!(f, "agent {a}"),
            Target::Number(n) => write!(f, "number {n}"),
            Target::Campaign(c) => write!(f, "campaign {c}"),
        }
    }
}

//! The transfer state machine carried by a call while a transfer or
//! consultation is under way.

use crate::{LegId, Target};

/// Blind (agent leaves once the target is reached) or consultative.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferKind {
    /// Blind transfer.
    Blind,
    /// Consultative (attended) transfer.
    Consultative,
}

/// Where the transfer stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferPhase {
    /// Target being dialled, not yet ringing.
    Dialing,
    /// Target ringing (or queued, for a campaign).
    Ringing,
    /// Target answered: the agent talks with the target (consultative only).
    Talking,
}

/// A transfer in progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transfer {
    /// Kind.
    pub kind: TransferKind,
    /// Destination.
    pub target: Target,
    /// The leg towards the destination.
    pub leg: LegId,
    /// Phase.
    pub phase: TransferPhase,
    /// Agent who started it (gets the call back if a blind transfer fails).
    pub by_agent: String,
}

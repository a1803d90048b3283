//! Contact-center domain: agents and their states, campaigns, the control
//! protocol the HTTP layer speaks to the switch engine, password hashing,
//! the agenda (scheduled callback) rules and the ACD (queue distribution).

pub mod acd;
pub mod agenda;
mod agent;
mod alerts;
mod campaign;
mod control;
mod dnc;
mod hours;
mod outbound;
pub mod password;
pub mod quality;
pub mod schemas;
mod service_level;
mod supervision;
pub mod views;

pub use acd::{Acd, Decision, QueueConfig, Strategy};
pub use agent::{AgentAudio, AgentInfo, AgentPresence, AgentStatus, SipHa1};
pub use alerts::{
    longest_wait_due, queue_alerts, AlertCounts, AlertKind, AlertWatch, Crossing, QueueAlert,
};
pub use campaign::{parse_overflow, CampaignInfo};
pub use control::{Actor, ApiError, EngineRequest, Reply};
pub use dnc::{dnc_key, dnc_national, DncEntry};
pub use hours::CallingHours;
pub use outbound::{CallerId, CampaignOutbound, OutboundError};
pub use quality::{CallQuality, LegQuality, QualityTotals, POOR_MOS};
pub use service_level::{ServiceLevel, SERVICE_LEVEL_SECS};
pub use supervision::{in_scope, SupervisionNotice, SupervisionSettings, MAX_THRESHOLD_SECS};
pub use views::{
    ActionReply, CallDirection, CallView, EndedCall, LegStatus, LegView, LiveEvent, NoticeView,
    QueueView, QueuedCall, RegistrationState, Snapshot, SupervisionView, TagReply, TransferView,
    TrunkHealth, TrunkRegistrationView, TrunkTargetView, TrunkView,
};

//! Contact-center domain: agents and their states, campaigns, the control
//! protocol the HTTP layer speaks to the switch engine, password hashing
//! and the agenda (scheduled callback) rules.

pub mod agenda;
mod agent;
mod campaign;
mod control;
pub mod password;

pub use agent::{AgentInfo, AgentPresence, AgentStatus};
pub use campaign::{parse_overflow, CampaignInfo};
pub use control::{Actor, ApiError, EngineRequest, Reply};

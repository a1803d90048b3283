//! Agents as the contact center sees them: who they are and what they are
//! doing (the state they chose combined with their calls).

use serde::{Deserialize, Serialize};

/// Static facts about an agent, loaded from storage.
#[derive(Debug, Clone, Serialize)]
pub struct AgentInfo {
    /// Storage id.
    pub id: String,
    /// Login and extension.
    pub username: String,
    /// Display name.
    pub name: String,
    /// Digest HA1s of the phone's SIP password (never the password itself).
    #[serde(skip)]
    pub sip_ha1: SipHa1,
    /// agent | supervisor | admin.
    pub role: String,
    /// Where the agent's audio may come from (set by an admin).
    pub audio: AgentAudio,
}

/// Where an agent's audio may come from: the admin's choice per agent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AgentAudio {
    /// The agent chooses at each login: browser audio or a SIP phone.
    #[default]
    Either,
    /// Browser audio only: calls never ring the agent's SIP phone, and the
    /// agent is reachable only while the console's audio is connected.
    Browser,
    /// A SIP phone only: the console cannot open browser audio.
    Phone,
}

/// The stored form of a SIP password: `H(username:realm:password)` per
/// digest algorithm, valid for one realm only.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SipHa1 {
    /// Realm the HA1s were computed for.
    pub realm: String,
    /// MD5 HA1 (32 hex digits).
    pub md5: String,
    /// SHA-256 HA1 (64 hex digits).
    pub sha256: String,
}

/// What an agent is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgentStatus {
    /// Not logged in to the console.
    Offline,
    /// Available for calls.
    Ready,
    /// On a break.
    Paused,
    /// A call is ringing the agent's phone.
    Ringing,
    /// On a call.
    OnCall,
    /// Wrapping up after a call.
    AfterCallWork,
}

/// Live presence of one agent.
#[derive(Debug, Clone, Serialize)]
pub struct AgentPresence {
    /// Static info.
    #[serde(flatten)]
    pub info: AgentInfo,
    /// The state the agent chose (offline / ready / paused).
    pub chosen: AgentStatus,
    /// Pause reason.
    pub pause_reason: Option<String>,
    /// Who chose the state when it was not the agent: the supervisor or
    /// admin who paused, readied or logged the agent out (None = the agent).
    pub chosen_by: Option<String>,
    /// Effective status shown to supervisors.
    pub status: AgentStatus,
    /// Since when (ms).
    pub since: u64,
    /// Phone registered.
    pub registered: bool,
    /// Calls the agent is engaged in.
    pub calls: Vec<String>,
    /// End of after-call work (ms).
    pub acw_until: Option<u64>,
    /// When the agent last finished a call (longest-idle distribution).
    pub last_call_end: u64,
}

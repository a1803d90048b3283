//! Campaigns as the engine uses them.

use serde::{Deserialize, Serialize};

/// Campaign facts the engine needs (loaded from storage).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CampaignInfo {
    /// Storage id.
    pub id: String,
    /// Name.
    pub name: String,
    /// inbound | manual | preview | dialer.
    pub kind: String,
    /// Number that routes to the queue.
    pub did: Option<String>,
    /// Automatic recording.
    pub auto_recording: bool,
    /// Music class.
    pub music_class: String,
    /// longest_idle | round_robin | ring_all.
    pub strategy: String,
    /// Max wait before giving up (s).
    pub queue_timeout_secs: u64,
    /// After-call work (s).
    pub acw_secs: u64,
    /// Member agents (usernames).
    pub agents: Vec<String>,
}

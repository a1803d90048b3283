//! Campaigns as the engine uses them.

use serde::{Deserialize, Serialize};
use switchboard_call::Target;

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
    /// Where callers go when the queue times out: `agent:NAME`, `number:N` or
    /// `campaign:NAME` (None: the call ends).
    pub overflow_target: Option<String>,
    /// After-call work (s).
    pub acw_secs: u64,
    /// Member agents (usernames).
    pub agents: Vec<String>,
    /// Show the digits customers key (DTMF) to consoles and logs; masked
    /// (`*` per digit) unless set, as PCI DSS asks.
    #[serde(default)]
    pub dtmf_clear: bool,
    /// When contacts may be called (dialer, callbacks; manual calls warn); None: any time.
    #[serde(default)]
    pub calling_hours: Option<crate::CallingHours>,
    /// Supervision notice, service level threshold and queue alert thresholds.
    #[serde(default)]
    pub supervision: crate::SupervisionSettings,
    /// Trunks and caller ID of its calls to numbers (default: the trunks' own).
    #[serde(default)]
    pub outbound: crate::CampaignOutbound,
}

/// Parse a campaign's overflow target: `agent:NAME`, `number:N` or `campaign:NAME`.
pub fn parse_overflow(s: &str) -> Option<Target> {
    let (kind, value) = s.split_once(':')?;
    let value = value.trim().to_string();
    if value.is_empty() {
        return None;
    }
    match kind.trim() {
        "agent" => Some(Target::Agent(value)),
        "number" => Some(Target::Number(value)),
        "campaign" => Some(Target::Campaign(value)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overflow_targets() {
        assert_eq!(
            parse_overflow("agent:1002"),
            Some(Target::Agent("1002".into()))
        );
        assert_eq!(
            parse_overflow("number: 555"),
            Some(Target::Number("555".into()))
        );
        assert_eq!(
            parse_overflow("campaign:sales"),
            Some(Target::Campaign("sales".into()))
        );
        assert_eq!(parse_overflow("queue:x"), None);
        assert_eq!(parse_overflow("agent:"), None);
        assert_eq!(parse_overflow("1002"), None);
    }
}

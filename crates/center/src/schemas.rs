//! OpenAPI schemas of domain types whose own derives stay serde-only: the
//! agent presence and campaign (this crate) and the call state machine's
//! types (`switchboard-call`). Each mirror carries the serde attributes of the
//! type it documents; the tests check that the documented properties are the
//! serialized ones.

#![allow(dead_code)] // the mirrors exist for their schemas only

use serde::Serialize;
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};

use crate::{AgentPresence, AgentStatus, CampaignInfo};

/// Where a call stands.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = CallState)]
pub enum CallStateDoc {
    /// Click-to-call: the agent's own phone is ringing first.
    Originating,
    /// The other party is being reached (ringing, or queued for a campaign).
    Ringing,
    /// Two parties talking.
    Connected,
    /// The agent put the other party on hold (music).
    Held,
    /// A blind transfer is reaching its target.
    Transferring,
    /// Consultative transfer: customer on hold, agent with the target.
    Consulting,
    /// Customer, agent and target all together.
    Conference,
    /// Over.
    Ended,
}

/// Blind or consultative transfer.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = TransferKind)]
pub enum TransferKindDoc {
    /// The agent leaves once the target is reached.
    Blind,
    /// The agent talks with the target first.
    Consultative,
}

/// Where a transfer stands.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = TransferPhase)]
pub enum TransferPhaseDoc {
    /// Target being dialled.
    Dialing,
    /// Target ringing (or queued, for a campaign).
    Ringing,
    /// Target answered (consultative only).
    Talking,
}

/// How a supervisor takes part in a call.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = SuperviseMode)]
pub enum SuperviseModeDoc {
    /// The supervisor hears agent and customer; nobody hears the supervisor.
    Listen,
    /// The agent hears the supervisor; the customer does not.
    Whisper,
    /// Everyone hears everyone.
    Barge,
}

/// Where a call, transfer or consultation goes: exactly one key.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = Target)]
pub enum TargetDoc {
    /// An agent, by username (= extension).
    Agent(String),
    /// An external number or PBX extension (through the trunk).
    Number(String),
    /// An inbound campaign: the caller enters its queue.
    Campaign(String),
}

/// What an agent is doing.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = AgentStatus)]
enum AgentStatusDoc {
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
#[derive(Serialize, ToSchema)]
#[schema(as = AgentPresence)]
struct AgentPresenceDoc {
    /// Storage id.
    id: String,
    /// Login and extension.
    username: String,
    /// Display name.
    name: String,
    /// agent | supervisor | admin.
    role: String,
    /// Where the agent's audio may come from: either | browser | phone.
    audio: crate::AgentAudio,
    /// The state the agent chose (offline / ready / paused).
    chosen: AgentStatus,
    /// Pause reason.
    pause_reason: Option<String>,
    /// Who chose the state when it was not the agent: the supervisor or
    /// admin who paused, readied or logged the agent out (null = the agent).
    chosen_by: Option<String>,
    /// Effective status shown to supervisors.
    status: AgentStatus,
    /// Since when (ms since the epoch).
    since: u64,
    /// Phone registered.
    registered: bool,
    /// Calls the agent is engaged in.
    calls: Vec<String>,
    /// End of after-call work (ms since the epoch).
    acw_until: Option<u64>,
    /// When the agent last finished a call (ms since the epoch).
    last_call_end: u64,
}

/// A campaign as the switch uses it.
#[derive(Serialize, ToSchema)]
#[schema(as = CampaignInfo)]
struct CampaignInfoDoc {
    /// Storage id.
    id: String,
    /// Name.
    name: String,
    /// inbound | manual | preview | dialer.
    kind: String,
    /// Number that routes to the queue.
    did: Option<String>,
    /// Automatic recording.
    auto_recording: bool,
    /// Music class.
    music_class: String,
    /// longest_idle | round_robin | ring_all.
    strategy: String,
    /// Max wait before giving up (s).
    queue_timeout_secs: u64,
    /// Where callers go when the queue times out (`agent:NAME`, `number:N`, `campaign:NAME`).
    overflow_target: Option<String>,
    /// After-call work (s).
    acw_secs: u64,
    /// Member agents (usernames).
    agents: Vec<String>,
    /// Digits keyed in its calls shown in clear (otherwise `*` per digit).
    dtmf_clear: bool,
    /// When contacts may be called (dialer, callbacks; manual calls warn); null: any time.
    calling_hours: Option<crate::CallingHours>,
    /// Supervision notice, service level threshold and queue alert thresholds.
    supervision: crate::SupervisionSettings,
    /// Trunks and caller ID of its calls to numbers.
    outbound: crate::CampaignOutbound,
}

/// `impl ToSchema for $ty` by its mirror `$doc`.
macro_rules! schema_by_mirror {
    ($ty:ty, $doc:ty) => {
        impl PartialSchema for $ty {
            fn schema() -> RefOr<Schema> {
                <$doc as PartialSchema>::schema()
            }
        }
        impl ToSchema for $ty {
            fn name() -> std::borrow::Cow<'static, str> {
                <$doc as ToSchema>::name()
            }
            fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
                <$doc as ToSchema>::schemas(schemas)
            }
        }
    };
}

schema_by_mirror!(AgentStatus, AgentStatusDoc);
schema_by_mirror!(AgentPresence, AgentPresenceDoc);
schema_by_mirror!(CampaignInfo, CampaignInfoDoc);

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    /// Property names of an object schema.
    fn properties<T: PartialSchema>() -> Vec<String> {
        let v = serde_json::to_value(T::schema()).expect("schema");
        let mut keys: Vec<String> = v["properties"]
            .as_object()
            .expect("object schema")
            .keys()
            .cloned()
            .collect();
        keys.sort();
        keys
    }

    fn keys(v: Value) -> Vec<String> {
        let mut keys: Vec<String> = v.as_object().expect("object").keys().cloned().collect();
        keys.sort();
        keys
    }

    /// String enum values of a schema.
    fn values<T: PartialSchema>() -> Vec<Value> {
        let v = serde_json::to_value(T::schema()).expect("schema");
        v["enum"].as_array().cloned().unwrap_or_default()
    }

    #[test]
    fn mirrors_document_the_serialized_fields() {
        let info = crate::AgentInfo {
            id: "a1".into(),
            username: "1001".into(),
            name: "Ann".into(),
            sip_ha1: Default::default(),
            role: "agent".into(),
            audio: Default::default(),
        };
        let p = AgentPresence {
            info,
            chosen: AgentStatus::Ready,
            pause_reason: None,
            chosen_by: Some("9001".into()),
            status: AgentStatus::OnCall,
            since: 1,
            registered: true,
            calls: vec![],
            acw_until: None,
            last_call_end: 0,
        };
        assert_eq!(keys(json!(p)), properties::<AgentPresence>());
        let c = CampaignInfo {
            id: "c1".into(),
            name: "sales".into(),
            kind: "inbound".into(),
            did: None,
            auto_recording: false,
            music_class: "default".into(),
            strategy: "ring_all".into(),
            queue_timeout_secs: 60,
            overflow_target: None,
            acw_secs: 0,
            agents: vec![],
            dtmf_clear: false,
            calling_hours: None,
            supervision: Default::default(),
            outbound: Default::default(),
        };
        assert_eq!(keys(json!(c)), properties::<CampaignInfo>());
    }

    #[test]
    fn mirrored_enums_have_the_serialized_values() {
        use switchboard_call::{CallState as S, TransferKind as K, TransferPhase as P};
        let states = [
            S::Originating,
            S::Ringing,
            S::Connected,
            S::Held,
            S::Transferring,
            S::Consulting,
            S::Conference,
            S::Ended,
        ];
        let want: Vec<Value> = states.iter().map(|s| json!(s)).collect();
        assert_eq!(values::<CallStateDoc>(), want);
        let want = vec![json!(K::Blind), json!(K::Consultative)];
        assert_eq!(values::<TransferKindDoc>(), want);
        let want = vec![json!(P::Dialing), json!(P::Ringing), json!(P::Talking)];
        assert_eq!(values::<TransferPhaseDoc>(), want);
        use switchboard_call::SuperviseMode as M;
        let want = vec![json!(M::Listen), json!(M::Whisper), json!(M::Barge)];
        assert_eq!(values::<SuperviseModeDoc>(), want);
        use AgentStatus as A;
        let all = [
            A::Offline,
            A::Ready,
            A::Paused,
            A::Ringing,
            A::OnCall,
            A::AfterCallWork,
        ];
        let want: Vec<Value> = all.iter().map(|s| json!(s)).collect();
        assert_eq!(values::<AgentStatus>(), want);
        let t = switchboard_call::Target::Agent("1002".into());
        assert_eq!(json!(t), json!({"agent": "1002"}));
    }
}

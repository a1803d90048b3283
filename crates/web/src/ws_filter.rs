//! What each WebSocket gets of the live events: agents those about
//! themselves and their calls (without the supervisors on them: the
//! `supervision_notice` event says when the campaign shows them), supervisors
//! everything, or, when an admin limited them to some campaigns, the calls
//! and queues of those campaigns only.

use std::collections::HashSet;

use serde_json::Value;
use switchboard_center::{in_scope, Snapshot};

use crate::Caller;

/// One WebSocket's filter.
pub struct EventFilter {
    user: String,
    supervisor: bool,
    /// Campaigns of a limited supervisor.
    scope: Option<Vec<String>>,
    /// Live calls a limited supervisor sees (their later events pass).
    visible: HashSet<String>,
}

impl EventFilter {
    /// The filter of `caller`'s WebSocket.
    pub fn new(caller: &Caller) -> EventFilter {
        EventFilter {
            user: caller.agent.username.clone(),
            supervisor: caller.is_supervisor(),
            scope: caller.campaigns.clone(),
            visible: HashSet::new(),
        }
    }

    fn sees(&self, campaign: Option<&str>) -> bool {
        in_scope(self.scope.as_deref(), campaign)
    }

    /// The first message: the snapshot as this user may see it.
    pub fn snapshot(&mut self, mut snap: Snapshot) -> Snapshot {
        if !self.supervisor {
            for c in &mut snap.calls {
                c.supervisions.clear();
            }
            snap.supervision_notices.retain(|n| n.agent == self.user);
            return snap;
        }
        if self.scope.is_some() {
            snap.calls.retain(|c| self.sees(c.campaign.as_deref()));
            snap.queues.retain(|q| self.sees(Some(&q.campaign)));
            snap.supervision_notices
                .retain(|n| snap.calls.iter().any(|c| c.call_id == n.call_id));
            self.visible = snap.calls.iter().map(|c| c.call_id.clone()).collect();
        }
        snap
    }

    /// The event as this user gets it, or None when it is not for them.
    pub fn event(&mut self, mut ev: Value) -> Option<Value> {
        let kind = ev["type"].as_str().unwrap_or_default().to_string();
        if !self.supervisor {
            return self.for_agent(&kind, ev);
        }
        if self.scope.is_none() {
            return Some(ev);
        }
        let id = |ev: &Value, at: &str| ev.pointer(at).and_then(Value::as_str).map(str::to_string);
        match kind.as_str() {
            "call" => {
                let call = id(&ev, "/call/call_id")?;
                if self.sees(ev["call"]["campaign"].as_str()) {
                    self.visible.insert(call);
                    Some(ev)
                } else {
                    self.visible.remove(&call);
                    None
                }
            }
            "call_event" | "supervision_notice" => {
                let call = id(&ev, "/call_id")?;
                self.visible.contains(&call).then_some(ev)
            }
            "call_ended" => {
                let call = id(&ev, "/call_id")?;
                self.visible.remove(&call).then_some(ev)
            }
            "queues" => {
                if let Some(qs) = ev["queues"].as_array_mut() {
                    let scope = self.scope.as_deref();
                    qs.retain(|q| in_scope(scope, q["campaign"].as_str()));
                }
                Some(ev)
            }
            _ => Some(ev),
        }
    }

    fn for_agent(&self, kind: &str, mut ev: Value) -> Option<Value> {
        let user = self.user.as_str();
        match kind {
            "agenda_reminder" | "supervision_notice" => (ev["agent"] == user).then_some(ev),
            "call" => {
                let c = &ev["call"];
                let mine = c["agent"] == user
                    || c["agent_leg"]["agent"] == user
                    || c["customer"]["agent"] == user
                    || c["third"]["agent"] == user
                    || c["pending"]["agent"] == user
                    || c["participants"]
                        .as_array()
                        .is_some_and(|p| p.iter().any(|x| x == user));
                if !mine {
                    return None;
                }
                ev["call"]["supervisions"] = Value::Array(Vec::new());
                Some(ev)
            }
            _ => Some(ev),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn filter(user: &str, supervisor: bool, scope: Option<&[&str]>) -> EventFilter {
        EventFilter {
            user: user.into(),
            supervisor,
            scope: scope.map(|s| s.iter().map(|c| c.to_string()).collect()),
            visible: HashSet::new(),
        }
    }

    fn call(id: &str, campaign: &str, agent: &str) -> Value {
        json!({"type": "call", "call": {"call_id": id, "campaign": campaign, "agent": agent,
            "supervisions": [{"supervisor": "9001", "mode": "listen"}]}})
    }

    #[test]
    fn a_limited_supervisor_gets_the_calls_and_queues_of_their_campaigns() {
        let mut f = filter("9001", true, Some(&["support"]));
        assert!(f.event(call("a", "sales", "1001")).is_none());
        assert!(f
            .event(json!({"type": "call_event", "call_id": "a"}))
            .is_none());
        assert!(f
            .event(json!({"type": "call_ended", "call_id": "a"}))
            .is_none());
        assert!(f.event(call("b", "support", "1002")).is_some());
        assert!(f
            .event(json!({"type": "call_event", "call_id": "b"}))
            .is_some());
        assert!(f
            .event(json!({"type": "call_ended", "call_id": "b"}))
            .is_some());
        let q = f
            .event(json!({"type": "queues", "queues": [{"campaign": "sales"}, {"campaign": "support"}]}))
            .expect("queues");
        assert_eq!(q["queues"], json!([{"campaign": "support"}]));
        assert!(f
            .event(json!({"type": "agent_state", "agent": "1001"}))
            .is_some());
        // Not limited: everything, supervisors on calls included.
        let mut all = filter("9002", true, None);
        let ev = all.event(call("a", "sales", "1001")).expect("call");
        assert_eq!(ev["call"]["supervisions"][0]["supervisor"], "9001");
    }

    #[test]
    fn agents_get_their_calls_without_supervisors_and_their_own_notices() {
        let mut f = filter("1001", false, None);
        assert!(f.event(call("a", "sales", "1002")).is_none());
        let ev = f.event(call("b", "sales", "1001")).expect("own call");
        assert_eq!(ev["call"]["supervisions"], json!([]));
        let notice =
            |agent: &str| json!({"type": "supervision_notice", "agent": agent, "call_id": "b"});
        assert!(f.event(notice("1001")).is_some());
        assert!(f.event(notice("1002")).is_none());
    }
}

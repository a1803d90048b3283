//! Whether the agent is shown that a supervisor is on their call: the
//! campaign's `supervision.notice` setting applied to each answered
//! supervision's mode, for the agents the supervisor is with (the
//! controlling agent, and a consulted or conferenced agent once answered). Each change
//! (shown, mode changed, no longer shown) goes out once as a
//! `supervision_notice` event; the call's current notices are in the snapshot.

use switchboard_center::{LiveEvent, NoticeView};

use super::Switch;

impl Switch {
    /// The notices the call shows now.
    fn notices_of(&self, call: &str) -> Vec<NoticeView> {
        let Some(e) = self.calls.get(call) else {
            return Vec::new();
        };
        let setting = e
            .campaign
            .as_deref()
            .and_then(|c| self.campaign(c))
            .map(|c| c.supervision.notice)
            .unwrap_or_default();
        // The agents the supervisor is with: the controlling agent, and the
        // consulted or conferenced agent once their phone answered.
        let mut agents: Vec<&str> = e.call.controller().into_iter().collect();
        if let Some((leg, switchboard_call::Target::Agent(a))) = e.call.third() {
            let answered = self
                .legs
                .get(&leg)
                .is_some_and(|l| l.state == super::leg::LegState::Confirmed);
            if answered && !agents.contains(&a.as_str()) {
                agents.push(a);
            }
        }
        agents.retain(|a| !a.is_empty() && self.agents.get(a).is_some());
        let mut out = Vec::new();
        for agent in agents {
            out.extend(
                e.call
                    .supervisions()
                    .iter()
                    .filter(|s| s.answered && s.supervisor != agent && setting.applies(s.mode))
                    .map(|s| NoticeView {
                        agent: agent.to_string(),
                        call_id: call.to_string(),
                        supervisor: s.supervisor.clone(),
                        mode: s.mode,
                    }),
            );
        }
        out
    }

    /// Publish the notices of the call that changed since the last time.
    pub(super) fn update_notices(&mut self, call: &str) {
        let now = self.notices_of(call);
        let Some(e) = self.calls.get_mut(call) else {
            return;
        };
        if e.notices == now {
            return;
        }
        let before = std::mem::replace(&mut e.notices, now.clone());
        let same =
            |a: &NoticeView, b: &NoticeView| a.agent == b.agent && a.supervisor == b.supervisor;
        let gone: Vec<NoticeView> = before
            .iter()
            .filter(|b| !now.iter().any(|n| same(n, b)))
            .cloned()
            .collect();
        for n in gone {
            self.publish_notice(n, false);
        }
        for n in now.into_iter().filter(|n| !before.contains(n)) {
            self.publish_notice(n, true);
        }
    }

    /// The call ended: its notices are removed.
    pub(super) fn clear_notices(&mut self, notices: Vec<NoticeView>) {
        for n in notices {
            self.publish_notice(n, false);
        }
    }

    fn publish_notice(&mut self, n: NoticeView, shown: bool) {
        tracing::debug!(call = %n.call_id, agent = %n.agent, supervisor = %n.supervisor, shown, "supervision notice");
        let ev = LiveEvent::SupervisionNotice {
            agent: n.agent,
            call_id: n.call_id,
            supervisor: n.supervisor,
            mode: shown.then_some(n.mode),
        };
        self.sink.publish(ev.to_json());
    }

    /// Every notice shown now (for the snapshot).
    pub(super) fn all_notices(&self) -> Vec<NoticeView> {
        self.calls
            .values()
            .flat_map(|e| e.notices.clone())
            .collect()
    }
}

//! Inbound campaign queues (ACD): callers wait with music while the engine
//! offers them to the campaign's ready agents by the campaign's strategy.
//! An agent who does not answer is skipped and the caller stays queued.

use serde::Serialize;
use switchboard_call::{Event, LegId};

use switchboard_call::Target;
use switchboard_center::parse_overflow;
pub use switchboard_center::CampaignInfo;

use super::Switch;

/// One waiting caller.
#[derive(Debug, Clone, Serialize)]
pub struct QueueEntry {
    /// Call.
    pub call: String,
    /// The leg that will ring agents.
    pub leg: LegId,
    /// Campaign.
    pub campaign: String,
    /// Queued since (ms).
    pub since: u64,
    /// Agent being rung now.
    pub ringing: Option<String>,
    /// Agents that did not answer this caller.
    pub tried: Vec<String>,
    /// Ring-all: the agents rung at once, each on its own fork leg.
    pub forks: Vec<(String, LegId)>,
}

/// Fork legs of a ring-all offer: the queue leg's id with a fork number in the high bits.
fn fork_leg(leg: LegId, n: usize) -> LegId {
    leg | ((n as u64 + 1) << 48)
}

/// All queues.
#[derive(Default)]
pub struct Queue {
    /// Waiting callers in arrival order.
    pub entries: Vec<QueueEntry>,
    /// Round-robin cursor per campaign.
    pub rr: std::collections::HashMap<String, usize>,
}

impl Switch {
    pub(super) fn campaign(&self, name: &str) -> Option<&CampaignInfo> {
        self.campaigns.iter().find(|c| c.name == name)
    }
    pub(super) fn campaign_exists(&self, name: &str) -> bool {
        self.campaign(name).is_some()
    }
    pub(super) fn campaign_by_did(&self, did: &str) -> Option<String> {
        self.campaigns
            .iter()
            .find(|c| c.did.as_deref() == Some(did) && c.kind == "inbound")
            .map(|c| c.name.clone())
    }
    pub(super) fn campaign_records(&self, name: &str) -> bool {
        self.campaign(name).is_some_and(|c| c.auto_recording)
    }
    pub(super) fn music_for(&self, campaign: Option<&str>) -> String {
        campaign
            .and_then(|c| self.campaign(c))
            .map(|c| c.music_class.clone())
            .unwrap_or_else(|| "default".into())
    }
    pub(super) fn acw_secs_for(&self, call: &str) -> u64 {
        self.calls
            .get(call)
            .and_then(|c| c.campaign.as_deref())
            .and_then(|c| self.campaign(c))
            .map(|c| c.acw_secs)
            .unwrap_or(self.cfg.acw_secs)
    }

    pub(super) fn enqueue(&mut self, call: &str, leg: LegId, campaign: &str) {
        self.queue.entries.push(QueueEntry {
            call: call.into(),
            leg,
            campaign: campaign.into(),
            since: self.now,
            ringing: None,
            tried: Vec::new(),
            forks: Vec::new(),
        });
        if let Some(e) = self.calls.get_mut(call) {
            if e.campaign.is_none() {
                e.campaign = Some(campaign.to_string());
            }
        }
        self.publish_queues();
        self.queue_tick(self.now);
    }

    pub(super) fn dequeue_leg(&mut self, leg: LegId) {
        let Some(pos) = self.queue.entries.iter().position(|e| e.leg == leg) else {
            return;
        };
        let e = self.queue.entries.remove(pos);
        // Ring-all offers still ringing stop with the caller leaving.
        for (agent, fork) in e.forks {
            self.end_leg_signalling(fork);
            self.agent_released(&agent, &e.call);
        }
        self.publish_queues();
    }

    /// Ring every available agent at once for a queued caller; the first to
    /// answer gets the call, the others stop ringing.
    fn ring_all(&mut self, call: &str, leg: LegId, agents: Vec<String>) {
        let caller = self
            .calls
            .get(call)
            .map(|c| c.caller.clone())
            .unwrap_or_default();
        let mut forks = Vec::new();
        for (n, agent) in agents.into_iter().enumerate() {
            let fork = fork_leg(leg, n);
            self.agent_engaged(&agent, call);
            forks.push((agent.clone(), fork));
            self.dial_agent(call, fork, &agent, &caller);
        }
        if let Some(e) = self.queue.entries.iter_mut().find(|e| e.leg == leg) {
            e.forks = forks;
        }
        self.log_call(
            call,
            "QUEUE_RING_ALL",
            &self
                .queue
                .entries
                .iter()
                .find(|e| e.leg == leg)
                .map(|e| {
                    e.forks
                        .iter()
                        .map(|f| f.0.clone())
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default(),
            None,
        );
        self.publish_queues();
    }

    /// The queue entry and agent a ring-all fork leg belongs to.
    fn fork_owner(&self, fork: LegId) -> Option<(LegId, String)> {
        self.queue.entries.iter().find_map(|e| {
            e.forks
                .iter()
                .find(|f| f.1 == fork)
                .map(|f| (e.leg, f.0.clone()))
        })
    }

    /// Handle a leg event if the leg is a ring-all fork; returns false otherwise.
    pub(super) fn queue_fork_event(&mut self, call: &str, ev: &Event) -> bool {
        let (Event::Ringing(fork)
        | Event::Answered(fork)
        | Event::Failed(fork, _)
        | Event::HungUp(fork)) = ev
        else {
            return false;
        };
        let Some((main, agent)) = self.fork_owner(*fork) else {
            return false;
        };
        let fork = *fork;
        match ev {
            Event::Ringing(_) => {}
            Event::Answered(_) => {
                // The winner: stop the other forks, then the fork becomes the queue leg.
                let others: Vec<(String, LegId)> = self
                    .queue
                    .entries
                    .iter_mut()
                    .find(|e| e.leg == main)
                    .map(|e| std::mem::take(&mut e.forks))
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|f| f.1 != fork)
                    .collect();
                for (a, l) in others {
                    self.end_leg_signalling(l);
                    self.agent_released(&a, call);
                }
                self.rekey_leg(fork, main);
                self.dequeue_leg(main);
                self.call_event(call, Event::Assigned(main, agent));
                self.call_event(call, Event::Answered(main));
            }
            Event::Failed(..) | Event::HungUp(_) => {
                self.agent_released(&agent, call);
                if let Some(e) = self.queue.entries.iter_mut().find(|e| e.leg == main) {
                    e.forks.retain(|f| f.1 != fork);
                    e.tried.push(agent.clone());
                }
                self.log_call(call, "QUEUE_NO_ANSWER", &agent, None);
                self.publish_queues();
            }
            Event::Assigned(..) => {}
        }
        true
    }

    /// Is this leg a queue leg currently ringing an agent? Returns the agent.
    pub(super) fn queue_ringing(&self, leg: LegId) -> Option<String> {
        self.queue
            .entries
            .iter()
            .find(|e| e.leg == leg)
            .and_then(|e| e.ringing.clone())
    }

    /// The agent rung for a queued caller did not answer: back to waiting.
    pub(super) fn queue_agent_failed(&mut self, leg: LegId) {
        let mut released = None;
        if let Some(e) = self.queue.entries.iter_mut().find(|e| e.leg == leg) {
            if let Some(a) = e.ringing.take() {
                e.tried.push(a.clone());
                released = Some((a, e.call.clone()));
            }
        }
        if let Some((a, call)) = released {
            self.remove_leg(leg);
            self.log_call(&call, "QUEUE_NO_ANSWER", &a, None);
            self.agent_released(&a, &call);
        }
    }

    /// The agent answered: the caller leaves the queue.
    pub(super) fn queue_answered(&mut self, leg: LegId) {
        self.dequeue_leg(leg);
    }

    pub(super) fn queue_tick(&mut self, now: u64) {
        let mut timeouts = Vec::new();
        let mut offers = Vec::new();
        let mut busy: Vec<String> = Vec::new();
        let mut ring_all = Vec::new();
        for e in &self.queue.entries {
            let Some(c) = self.campaign(&e.campaign) else {
                continue;
            };
            if now.saturating_sub(e.since) > c.queue_timeout_secs * 1000
                && e.ringing.is_none()
                && e.forks.is_empty()
            {
                timeouts.push((e.call.clone(), e.leg, c.overflow_target.clone()));
                continue;
            }
            if e.ringing.is_some() || !e.forks.is_empty() {
                continue;
            }
            let mut candidates: Vec<&String> = c
                .agents
                .iter()
                .filter(|a| self.agents.available_for_queue(a, now) && !busy.contains(a))
                .collect();
            if candidates.is_empty() {
                continue;
            }
            // Prefer agents that have not yet missed this caller.
            if candidates.iter().any(|a| !e.tried.contains(a)) {
                candidates.retain(|a| !e.tried.contains(a));
            }
            if c.strategy == "ring_all" {
                let all: Vec<String> = candidates.iter().map(|a| (*a).clone()).collect();
                busy.extend(all.iter().cloned());
                ring_all.push((e.call.clone(), e.leg, all));
                continue;
            }
            let pick = match c.strategy.as_str() {
                "round_robin" => {
                    let i = self.queue.rr.get(&c.name).copied().unwrap_or(0);
                    let members = &c.agents;
                    let mut chosen = candidates[0].clone();
                    for k in 0..members.len() {
                        let m = &members[(i + k) % members.len()];
                        if candidates.contains(&m) {
                            chosen = m.clone();
                            break;
                        }
                    }
                    chosen
                }
                _ => candidates
                    .iter()
                    .min_by_key(|a| self.agents.get(a).map(|p| p.last_call_end).unwrap_or(0))
                    .map(|a| (*a).clone())
                    .expect("non-empty"),
            };
            busy.push(pick.clone());
            offers.push((e.call.clone(), e.leg, pick, c.name.clone()));
        }
        for (call, leg, agents) in ring_all {
            self.ring_all(&call, leg, agents);
        }
        for (call, leg, overflow) in timeouts {
            match overflow.as_deref().and_then(parse_overflow) {
                Some(Target::Campaign(next)) if self.campaign_exists(&next) => {
                    // Overflow into another queue: the caller keeps waiting there.
                    self.log_call(
                        &call,
                        "QUEUE_OVERFLOW",
                        &format!("to campaign {next}"),
                        None,
                    );
                    if let Some(e) = self.queue.entries.iter_mut().find(|e| e.leg == leg) {
                        e.campaign = next;
                        e.since = now;
                        e.tried.clear();
                    }
                    self.publish_queues();
                }
                Some(target @ (Target::Agent(_) | Target::Number(_))) => {
                    self.dequeue_leg(leg);
                    self.log_call(&call, "QUEUE_OVERFLOW", &format!("to {target}"), None);
                    if let Target::Agent(a) = &target {
                        self.call_event(&call, Event::Assigned(leg, a.clone()));
                    }
                    self.dial(&call, leg, target);
                }
                _ => {
                    self.dequeue_leg(leg);
                    self.log_call(&call, "QUEUE_TIMEOUT", "", None);
                    self.pending_events.push((call, Event::Failed(leg, 408)));
                }
            }
        }
        for (call, leg, agent, campaign) in offers {
            if let Some(c) = self.campaign(&campaign) {
                if c.strategy == "round_robin" {
                    let pos = c.agents.iter().position(|a| *a == agent).unwrap_or(0);
                    self.queue.rr.insert(campaign.clone(), pos + 1);
                }
            }
            if let Some(e) = self.queue.entries.iter_mut().find(|e| e.leg == leg) {
                e.ringing = Some(agent.clone());
            }
            let caller = self
                .calls
                .get(&call)
                .map(|c| c.caller.clone())
                .unwrap_or_default();
            // Reserve the agent (AgentEngaged) before ringing.
            self.call_event(&call, Event::Assigned(leg, agent.clone()));
            self.dial_agent(&call, leg, &agent, &caller);
            self.publish_queues();
        }
    }

    /// Waiting callers per inbound campaign (position, wait, agent being rung).
    pub(super) fn queues_json(&self) -> serde_json::Value {
        let now = self.now;
        let q: Vec<serde_json::Value> = self
            .campaigns
            .iter()
            .filter(|c| c.kind == "inbound")
            .map(|c| {
                let waiting: Vec<&QueueEntry> = self.queue.entries.iter().filter(|e| e.campaign == c.name).collect();
                serde_json::json!({
                    "campaign": c.name,
                    "waiting": waiting.len(),
                    "longest_wait_ms": waiting.iter().map(|e| now - e.since).max().unwrap_or(0),
                    "calls": waiting.iter().enumerate().map(|(i, e)| serde_json::json!({"call_id": e.call, "position": i + 1, "wait_ms": now - e.since, "ringing": e.ringing})).collect::<Vec<_>>(),
                })
            })
            .collect();
        serde_json::Value::Array(q)
    }

    pub(super) fn publish_queues(&mut self) {
        let v = serde_json::json!({"type": "queues", "queues": self.queues_json()});
        self.sink.publish(v);
    }
}

//! Inbound campaign queues: callers wait with music while the ACD
//! ([`switchboard_center::acd`]) decides who is offered to whom; this file
//! carries its decisions out (ring one agent, or every ready member on fork
//! legs for ring all, overflow or end a caller that waited too long) and
//! tells it what happened (an offer failed, a caller left). An agent who does
//! not answer is skipped and the caller stays queued.
//!
//! Decisions are taken at the end of every input (see `run_queues`, called
//! from the switch's drain loop), so an agent freed by a hang-up is offered
//! the next caller before the input returns; nothing scans the agents or the
//! callers on a timer. Every lookup by leg is a hash lookup.

use std::collections::HashMap;

use switchboard_call::{Event, LegId, Target};
pub use switchboard_center::CampaignInfo;
use switchboard_center::SERVICE_LEVEL_SECS;
use switchboard_center::{longest_wait_due, queue_alerts, AlertKind, AlertWatch, Crossing};
use switchboard_center::{parse_overflow, Acd, Decision, QueueConfig, Strategy};
use switchboard_center::{LiveEvent, QueueView, QueuedCall, ServiceLevel};

use super::{LegState, Switch};

/// An agent who missed an offer is not offered a call again for this long (ms),
/// so a phone that declines at once cannot make the queue spin.
const RETRY_MS: u64 = 2_000;
/// `queues` events are published at most this often (ms): each lists every caller.
const PUBLISH_MS: u64 = 250;

/// What the switch keeps about one waiting caller (the ACD keeps the rest).
struct QueueEntry {
    /// Call.
    call: String,
    /// Campaign (queue) it waits in.
    campaign: String,
    /// Agent being rung now (one-by-one strategies).
    ringing: Option<String>,
    /// Ring-all: the agents rung at once, each on its own fork leg.
    forks: Vec<(String, LegId)>,
    /// Ring-all: fork legs created so far (fork ids are never reused for a caller).
    next_fork: usize,
    /// When the caller entered the queue (ms; kept across an overflow).
    since: u64,
}

/// Fork legs of a ring-all offer: the queue leg's id with a fork number in the high bits.
fn fork_leg(leg: LegId, n: usize) -> LegId {
    leg | ((n as u64 + 1) << 48)
}

/// The ACD's settings for a campaign.
fn queue_config(c: &CampaignInfo) -> QueueConfig {
    QueueConfig {
        name: c.name.clone(),
        strategy: Strategy::parse(&c.strategy),
        members: c.agents.clone(),
        timeout_ms: c.queue_timeout_secs * 1000,
    }
}

/// All queues: the ACD plus, per queue leg, what is needed to carry out its offers.
pub struct Queue {
    acd: Acd<LegId>,
    /// Waiting callers by queue leg.
    entries: HashMap<LegId, QueueEntry>,
    /// Ring-all fork legs: fork -> (queue leg, agent).
    forks: HashMap<LegId, (LegId, String)>,
    /// When the next `queues` event goes out, if one is pending (ms).
    publish_due: Option<u64>,
    /// When the last one went out (ms).
    last_publish: u64,
    /// Service level of each queue, by campaign name.
    levels: HashMap<String, ServiceLevel>,
    /// The alerts each queue has, and how often they were raised.
    alerts: AlertWatch,
    /// When a waiting caller crosses a longest wait threshold (ms), if one will.
    alert_due: Option<u64>,
}

impl Queue {
    /// The queues of `campaigns`, nobody waiting.
    pub fn new(campaigns: &[CampaignInfo]) -> Queue {
        let mut acd = Acd::new(RETRY_MS);
        for c in campaigns {
            acd.set_queue(queue_config(c));
        }
        Queue {
            acd,
            entries: HashMap::new(),
            forks: HashMap::new(),
            publish_due: None,
            last_publish: 0,
            levels: HashMap::new(),
            alerts: AlertWatch::default(),
            alert_due: None,
        }
    }

    /// The agent's availability as the ACD should see it.
    pub(super) fn set_available(&mut self, agent: &str, idle_since: Option<u64>) {
        match idle_since {
            Some(t) => self.acd.agent_available(agent, t),
            None => self.acd.agent_unavailable(agent),
        }
    }

    /// Next queue timeout, agent cool-down or pending `queues` event (ms).
    pub(super) fn next_deadline(&self) -> Option<u64> {
        self.acd
            .next_deadline()
            .into_iter()
            .chain(self.publish_due)
            .chain(self.alert_due)
            .min()
    }
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

    /// Campaigns were added or changed: reconfigure their queues (members,
    /// strategy, timeout, service level threshold and alerts).
    pub(super) fn campaigns_changed(&mut self) {
        for c in &self.campaigns {
            self.queue.acd.set_queue(queue_config(c));
            if let Some(level) = self.queue.levels.get_mut(&c.name) {
                level.threshold_secs = c.supervision.service_level_secs;
            }
        }
        self.publish_queues();
    }

    /// The service level threshold of a queue (s).
    fn service_level_secs(&self, campaign: &str) -> u64 {
        self.campaign(campaign)
            .map_or(SERVICE_LEVEL_SECS, |c| c.supervision.service_level_secs)
    }

    /// The service level counters of a queue.
    fn level(&mut self, campaign: &str) -> &mut ServiceLevel {
        let secs = self.service_level_secs(campaign);
        self.queue
            .levels
            .entry(campaign.to_string())
            .or_insert_with(|| ServiceLevel::new(secs))
    }

    /// The next deadline of agents (after-call work, registrations) and queues (ms).
    pub(super) fn center_deadline(&self) -> Option<u64> {
        let agents = self.agents.next_deadline();
        agents.into_iter().chain(self.queue.next_deadline()).min()
    }

    pub(super) fn enqueue(&mut self, call: &str, leg: LegId, campaign: &str) {
        if !self.queue.acd.enqueue(leg, campaign, self.now) {
            self.campaigns_changed();
            self.queue.acd.enqueue(leg, campaign, self.now);
        }
        self.queue.entries.insert(
            leg,
            QueueEntry {
                call: call.into(),
                campaign: campaign.into(),
                ringing: None,
                forks: Vec::new(),
                next_fork: 0,
                since: self.now,
            },
        );
        if let Some(e) = self.calls.get_mut(call) {
            if e.campaign.is_none() {
                e.campaign = Some(campaign.to_string());
            }
        }
        self.publish_queues();
    }

    pub(super) fn dequeue_leg(&mut self, leg: LegId) {
        let Some(e) = self.queue.entries.remove(&leg) else {
            return;
        };
        self.queue.acd.remove(&leg);
        // Ring-all offers still ringing stop with the caller leaving.
        for (agent, fork) in e.forks {
            self.queue.forks.remove(&fork);
            self.end_leg_signalling(fork);
            self.agent_released(&agent, &e.call);
        }
        self.publish_queues();
    }

    /// Carry out the ACD's decisions (offers, timeouts); returns whether it decided anything.
    /// Called at the end of every input, after any change that can create an offer.
    pub(super) fn run_queues(&mut self) -> bool {
        let mut acted = false;
        while let Some(d) = self.queue.acd.poll_decision(self.now) {
            acted = true;
            match d {
                Decision::Offer { call, agents, .. } => self.offer(call, agents),
                Decision::TimedOut { call, .. } => self.queue_timed_out(call),
            }
        }
        let publish = self.queue.publish_due.is_some_and(|t| t <= self.now);
        let check = publish || self.queue.alert_due.is_some_and(|t| t <= self.now);
        if check && (self.check_alerts() || publish) {
            self.queue.publish_due = None;
            self.queue.last_publish = self.now;
            let ev = LiveEvent::Queues {
                queues: self.queue_views(),
            };
            self.sink.publish(ev.to_json());
        }
        acted
    }

    /// Ring the agents the ACD claimed for the caller on `leg`.
    fn offer(&mut self, leg: LegId, agents: Vec<String>) {
        let Some(e) = self.queue.entries.get(&leg) else {
            self.queue.acd.remove(&leg);
            return;
        };
        let (call, campaign) = (e.call.clone(), e.campaign.clone());
        // The ACD is told of every change; this check costs a hash lookup per agent
        // and covers agents removed from the roster since.
        let now = self.now;
        let (agents, gone): (Vec<String>, Vec<String>) = agents
            .into_iter()
            .partition(|a| self.agents.available_for_queue(a, now));
        for a in &gone {
            self.queue.acd.revoke(&leg, a);
        }
        if agents.is_empty() {
            return;
        }
        let ring_all = self
            .campaign(&campaign)
            .is_some_and(|c| Strategy::parse(&c.strategy) == Strategy::RingAll);
        if ring_all {
            self.ring_all(&call, leg, agents);
        } else {
            let agent = agents.into_iter().next().expect("not empty");
            if let Some(e) = self.queue.entries.get_mut(&leg) {
                e.ringing = Some(agent.clone());
            }
            let caller = self.caller_of(&call);
            // Reserve the agent (AgentEngaged) before ringing.
            self.call_event(&call, Event::Assigned(leg, agent.clone()));
            self.dial_agent(&call, leg, &agent, &caller);
        }
        self.publish_queues();
    }

    fn caller_of(&self, call: &str) -> String {
        self.calls
            .get(call)
            .map(|c| c.caller.clone())
            .unwrap_or_default()
    }

    /// Ring every claimed agent at once for a queued caller; the first to
    /// answer gets the call, the others stop ringing.
    fn ring_all(&mut self, call: &str, leg: LegId, agents: Vec<String>) {
        let caller = self.caller_of(call);
        self.log_call(call, "QUEUE_RING_ALL", &agents.join(", "), None);
        for agent in agents {
            let Some(e) = self.queue.entries.get_mut(&leg) else {
                return;
            };
            let fork = fork_leg(leg, e.next_fork);
            e.next_fork += 1;
            e.forks.push((agent.clone(), fork));
            self.queue.forks.insert(fork, (leg, agent.clone()));
            self.agent_engaged(&agent, call);
            self.dial_agent(call, fork, &agent, &caller);
        }
    }

    /// Handle a leg event if the leg is a ring-all fork; returns false otherwise.
    pub(super) fn queue_fork_event(&mut self, call: &str, ev: &Event) -> bool {
        let (Event::Ringing(fork)
        | Event::EarlyMedia(fork)
        | Event::Answered(fork)
        | Event::Failed(fork, _)
        | Event::HungUp(fork)) = ev
        else {
            return false;
        };
        let fork = *fork;
        let Some((main, agent)) = self.queue.forks.get(&fork).cloned() else {
            return false;
        };
        match ev {
            Event::Answered(_) => {
                // The winner: stop the other forks, then the fork becomes the queue leg.
                self.queue.forks.remove(&fork);
                let others = self
                    .queue
                    .entries
                    .get_mut(&main)
                    .map(|e| std::mem::take(&mut e.forks))
                    .unwrap_or_default();
                for (a, l) in others.into_iter().filter(|f| f.1 != fork) {
                    self.queue.forks.remove(&l);
                    self.end_leg_signalling(l);
                    self.agent_released(&a, call);
                }
                self.rekey_leg(fork, main);
                self.queue_answered(main);
                self.call_event(call, Event::Assigned(main, agent));
                self.call_event(call, Event::Answered(main));
            }
            Event::Failed(..) | Event::HungUp(_) => {
                self.queue.forks.remove(&fork);
                if let Some(e) = self.queue.entries.get_mut(&main) {
                    e.forks.retain(|f| f.1 != fork);
                }
                self.retire_offer_leg(fork, fork);
                self.agent_released(&agent, call);
                self.queue.acd.offer_failed(&main, &agent, self.now);
                self.log_call(call, "QUEUE_NO_ANSWER", &agent, None);
                self.publish_queues();
            }
            Event::Ringing(_) | Event::EarlyMedia(_) | Event::Assigned(..) => {}
        }
        true
    }

    /// Is this leg a queue leg currently ringing an agent? Returns the agent.
    pub(super) fn queue_ringing(&self, leg: LegId) -> Option<String> {
        self.queue.entries.get(&leg).and_then(|e| e.ringing.clone())
    }

    /// The agent rung for a queued caller did not answer: back to waiting.
    pub(super) fn queue_agent_failed(&mut self, leg: LegId) {
        let Some(e) = self.queue.entries.get_mut(&leg) else {
            return;
        };
        let Some(a) = e.ringing.take() else {
            return;
        };
        let call = e.call.clone();
        let spare = fork_leg(leg, e.next_fork);
        e.next_fork += 1;
        self.retire_offer_leg(leg, spare);
        self.log_call(&call, "QUEUE_NO_ANSWER", &a, None);
        self.agent_released(&a, &call);
        self.queue.acd.offer_failed(&leg, &a, self.now);
        self.publish_queues();
    }

    /// Forget the agent leg of a failed offer. One we cancelled (ring timeout) may still
    /// get its final response, or a 200 to ACK and end: it stays, as `spare` (an id no
    /// offer reuses), until the call ends; the next offer may reuse the queue leg's id.
    fn retire_offer_leg(&mut self, leg: LegId, spare: LegId) {
        match self.legs.get(&leg) {
            Some(l) if l.state != LegState::Terminated => {
                if spare != leg {
                    self.rekey_leg(leg, spare);
                }
            }
            _ => {
                self.remove_leg(leg);
            }
        }
    }

    /// The agent answered: the caller leaves the queue.
    pub(super) fn queue_answered(&mut self, leg: LegId) {
        if let Some(e) = self.queue.entries.get(&leg) {
            let waited = self.now.saturating_sub(e.since);
            let (call, campaign) = (e.call.clone(), e.campaign.clone());
            self.level(&campaign).answered(waited);
            if let Some(c) = self.calls.get_mut(&call) {
                c.answered_from_queue = Some((campaign, self.now));
            }
        }
        self.dequeue_leg(leg);
    }

    /// A call an agent answered from a queue ended: its handle time counts
    /// in that queue's average.
    pub(super) fn queue_call_handled(&mut self, campaign: &str, answered_at: u64) {
        let handle = self.now.saturating_sub(answered_at);
        self.level(campaign).handled(handle);
        self.publish_queues();
    }

    /// The caller hung up (or the call ended) while waiting.
    pub(super) fn queue_abandoned(&mut self, leg: LegId) {
        if let Some(e) = self.queue.entries.get(&leg) {
            let campaign = e.campaign.clone();
            self.level(&campaign).abandoned();
        }
        self.dequeue_leg(leg);
    }

    /// The caller on `leg` waited its queue's timeout (it has left the ACD): overflow or end.
    fn queue_timed_out(&mut self, leg: LegId) {
        let Some(e) = self.queue.entries.get(&leg) else {
            return;
        };
        let call = e.call.clone();
        let campaign = e.campaign.clone();
        self.level(&campaign).timed_out();
        let overflow = self
            .campaign(&campaign)
            .and_then(|c| c.overflow_target.as_deref())
            .and_then(parse_overflow);
        match overflow {
            Some(Target::Campaign(next))
                if self.campaign_exists(&next) && self.queue.acd.enqueue(leg, &next, self.now) =>
            {
                // Overflow into another queue: the caller keeps waiting there.
                self.log_call(
                    &call,
                    "QUEUE_OVERFLOW",
                    &format!("to campaign {next}"),
                    None,
                );
                if let Some(e) = self.queue.entries.get_mut(&leg) {
                    e.campaign = next;
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

    /// Waiting callers per inbound campaign (position, wait, agent being rung).
    pub(super) fn queue_views(&self) -> Vec<QueueView> {
        let now = self.now;
        let inbound = self.campaigns.iter().filter(|c| c.kind == "inbound");
        inbound
            .map(|c| {
                let calls = self
                    .queue
                    .acd
                    .callers(&c.name)
                    .filter_map(|(leg, since)| Some((self.queue.entries.get(leg)?, since)))
                    .enumerate()
                    .map(|(i, (e, since))| QueuedCall {
                        call_id: e.call.clone(),
                        position: i + 1,
                        wait_ms: now.saturating_sub(since),
                        ringing: e.ringing.clone(),
                    })
                    .collect();
                let level = self.queue.levels.get(&c.name).copied();
                let level =
                    level.unwrap_or_else(|| ServiceLevel::new(c.supervision.service_level_secs));
                let mut view = QueueView::new(&c.name, calls).with_service_level(level);
                view.alerts = queue_alerts(&c.supervision, &level, view.longest_wait_ms);
                view.alerts_raised = self.queue.alerts.raised(&c.name);
                view
            })
            .collect()
    }

    /// Compare each queue with its alert thresholds: a crossing (raised or
    /// cleared) is logged once and counted; returns whether there was one.
    /// Also sets when the next longest wait crossing is due.
    fn check_alerts(&mut self) -> bool {
        let now = self.now;
        let mut crossed = false;
        let mut due: Option<u64> = None;
        for c in self.campaigns.iter().filter(|c| c.kind == "inbound") {
            let s = &c.supervision;
            let level = self.queue.levels.get(&c.name).copied();
            let level = level.unwrap_or_else(|| ServiceLevel::new(s.service_level_secs));
            let oldest = self
                .queue
                .acd
                .callers(&c.name)
                .map(|(_, since)| since)
                .min();
            let longest = oldest.map_or(0, |t| now.saturating_sub(t));
            let alerts = queue_alerts(s, &level, longest);
            for x in self.queue.alerts.update(&c.name, &alerts) {
                crossed = true;
                match x {
                    Crossing::Raised(a) => {
                        tracing::warn!(queue = %c.name, alert = a.kind().name(), ?a, "queue alert raised")
                    }
                    Crossing::Cleared(k) => {
                        tracing::info!(queue = %c.name, alert = k.name(), "queue alert cleared")
                    }
                }
            }
            if !self.queue.alerts.is_active(&c.name, AlertKind::LongestWait) {
                if let Some(t) = longest_wait_due(s, oldest) {
                    due = Some(due.map_or(t, |d| d.min(t)));
                }
            }
        }
        self.queue.alert_due = due;
        crossed
    }

    /// Queue positions changed: a `queues` event goes out at the end of this input,
    /// or once `PUBLISH_MS` have passed since the last one.
    pub(super) fn publish_queues(&mut self) {
        if self.queue.publish_due.is_none() {
            let due = self.queue.last_publish + PUBLISH_MS;
            self.queue.publish_due = Some(due.max(self.now));
        }
    }
}

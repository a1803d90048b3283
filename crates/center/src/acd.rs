//! Automatic call distribution as a plain state machine: no I/O, no clock,
//! no switch types. The switch reports changes (a caller queued or gone, an
//! agent available or not, an offer that failed) and then drains
//! [`Acd::poll_decision`] until it returns `None`; each decision is an offer
//! to make now or a caller whose queue timed out.
//!
//! Nothing is scanned: waiting callers are kept per queue in arrival order,
//! ready agents per queue in the strategy's order (`(idle_since, agent)` for
//! longest idle and ring all, `(member position, agent)` plus a cursor for
//! round robin), and queue timeouts and offer cool-downs are deadlines in
//! sorted sets. Queues with both a waiting caller and a ready agent are
//! marked "dirty" by the change that made them so, and only those are looked
//! at. An offer claims its agents (they leave every ready set) until the
//! switch reports the offer failed or removes the caller; with several nodes
//! the same claim is `UPDATE agents SET call = $1 WHERE name = $2 AND call IS
//! NULL AND ready`, and a claim that lost that race is given back with
//! [`Acd::revoke`].

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::hash::Hash;

/// How a queue chooses among its ready members.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strategy {
    /// The member whose last call ended first.
    LongestIdle,
    /// Members in turn, from the one after the last offered.
    RoundRobin,
    /// Every ready member at once; the first to answer wins.
    RingAll,
}

impl Strategy {
    /// From a campaign's `strategy` setting (unknown values mean longest idle).
    pub fn parse(s: &str) -> Strategy {
        match s {
            "round_robin" => Strategy::RoundRobin,
            "ring_all" => Strategy::RingAll,
            _ => Strategy::LongestIdle,
        }
    }
}

/// A queue's settings (from its campaign).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueConfig {
    /// Queue (campaign) name.
    pub name: String,
    /// Distribution strategy.
    pub strategy: Strategy,
    /// Member agents, in round-robin order.
    pub members: Vec<String>,
    /// How long a caller waits before [`Decision::TimedOut`] (ms).
    pub timeout_ms: u64,
}

/// What the ACD decided; the switch carries it out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision<C> {
    /// Offer `call` to `agents` (one, or every ready member for ring all).
    /// They stay claimed until [`Acd::offer_failed`], [`Acd::revoke`] or [`Acd::remove`].
    Offer {
        /// The waiting caller.
        call: C,
        /// Its queue.
        queue: String,
        /// The claimed agents.
        agents: Vec<String>,
    },
    /// `call` waited its queue's timeout and has left the queue (overflow or end it).
    TimedOut {
        /// The caller.
        call: C,
        /// The queue it left.
        queue: String,
    },
}

struct Queue<C> {
    cfg: QueueConfig,
    /// Member position (round robin key).
    rank: HashMap<String, u64>,
    /// Every caller by arrival number (positions).
    callers: BTreeMap<u64, C>,
    /// Callers not being offered, by arrival number.
    waiting: BTreeMap<u64, C>,
    /// Ready members, in the strategy's order.
    ready: BTreeSet<(u64, String)>,
    /// Round robin: the member position to start from.
    cursor: u64,
}

impl<C> Queue<C> {
    fn key(&self, agent: &str, slot: &Agent<C>) -> Option<(u64, String)> {
        let k = match self.cfg.strategy {
            Strategy::RoundRobin => *self.rank.get(agent)?,
            _ => slot.idle_since?,
        };
        Some((k, agent.to_string()))
    }
}

struct Agent<C> {
    queues: Vec<String>,
    /// `Some` while the switch says the agent can take a queue call.
    idle_since: Option<u64>,
    /// The caller this agent is offered to.
    claim: Option<C>,
    /// Not offered again before this time after a missed offer.
    cool_until: u64,
}

impl<C> Default for Agent<C> {
    fn default() -> Self {
        Agent {
            queues: Vec::new(),
            idle_since: None,
            claim: None,
            cool_until: 0,
        }
    }
}

impl<C> Agent<C> {
    fn ready(&self) -> bool {
        self.idle_since.is_some() && self.claim.is_none() && self.cool_until == 0
    }
}

struct Caller {
    queue: String,
    seq: u64,
    since: u64,
    deadline: u64,
    tried: HashSet<String>,
    offered: Vec<String>,
    /// The timeout passed while an offer was ringing: it applies when the offer ends.
    overdue: bool,
}

/// The ACD of every queue; `C` identifies a caller (the switch uses its queue leg).
pub struct Acd<C> {
    retry_ms: u64,
    queues: HashMap<String, Queue<C>>,
    agents: HashMap<String, Agent<C>>,
    callers: HashMap<C, Caller>,
    next_seq: u64,
    timeouts: BTreeSet<(u64, C)>,
    cooldowns: BTreeSet<(u64, String)>,
    dirty: BTreeSet<String>,
    out: VecDeque<Decision<C>>,
}

impl<C: Clone + Ord + Hash> Acd<C> {
    /// An empty ACD; an agent who misses an offer is not offered again for `retry_ms`.
    pub fn new(retry_ms: u64) -> Acd<C> {
        Acd {
            retry_ms,
            queues: HashMap::new(),
            agents: HashMap::new(),
            callers: HashMap::new(),
            next_seq: 0,
            timeouts: BTreeSet::new(),
            cooldowns: BTreeSet::new(),
            dirty: BTreeSet::new(),
            out: VecDeque::new(),
        }
    }

    /// Create or reconfigure a queue (waiting callers stay, with their deadlines).
    /// O(members × log n): configuration changes only.
    pub fn set_queue(&mut self, cfg: QueueConfig) {
        let name = cfg.name.clone();
        let q = self.queues.entry(name.clone()).or_insert_with(|| Queue {
            cfg: cfg.clone(),
            rank: HashMap::new(),
            callers: BTreeMap::new(),
            waiting: BTreeMap::new(),
            ready: BTreeSet::new(),
            cursor: 0,
        });
        for m in q.rank.keys() {
            if let Some(a) = self.agents.get_mut(m) {
                a.queues.retain(|x| *x != name);
            }
        }
        q.ready.clear();
        q.rank.clear();
        q.cfg = cfg;
        for (i, m) in q.cfg.members.iter().enumerate() {
            if q.rank.contains_key(m) {
                continue;
            }
            q.rank.insert(m.clone(), i as u64);
            let a = self.agents.entry(m.clone()).or_default();
            a.queues.push(name.clone());
            if a.ready() {
                if let Some(k) = q.key(m, a) {
                    q.ready.insert(k);
                }
            }
        }
        if !q.waiting.is_empty() && !q.ready.is_empty() {
            self.dirty.insert(name);
        }
    }

    /// The switch says `agent` can take a queue call (registered, ready, no call,
    /// after-call work over), idle since `idle_since` (ms). Idempotent; O(k log n)
    /// for an agent in k queues.
    pub fn agent_available(&mut self, agent: &str, idle_since: u64) {
        if self.agents.get(agent).and_then(|a| a.idle_since) == Some(idle_since) {
            return;
        }
        self.unindex(agent);
        self.agents.entry(agent.to_string()).or_default().idle_since = Some(idle_since);
        self.index(agent);
    }

    /// The switch says `agent` cannot take a queue call now. Idempotent; O(k log n).
    pub fn agent_unavailable(&mut self, agent: &str) {
        if self
            .agents
            .get(agent)
            .is_none_or(|a| a.idle_since.is_none())
        {
            return;
        }
        self.unindex(agent);
        if let Some(a) = self.agents.get_mut(agent) {
            a.idle_since = None;
        }
    }

    /// Queue `call` in `queue` at `now` (ms); false if the queue is unknown. A caller
    /// already queued moves (overflow): it keeps its arrival order, forgets the agents
    /// that missed it and waits the new queue's timeout. O(log n).
    pub fn enqueue(&mut self, call: C, queue: &str, now: u64) -> bool {
        let Some(timeout) = self.queues.get(queue).map(|q| q.cfg.timeout_ms) else {
            return false;
        };
        let seq = match self.callers.get(&call).map(|c| c.seq) {
            Some(seq) => {
                self.remove(&call);
                seq
            }
            None => {
                self.next_seq += 1;
                self.next_seq
            }
        };
        let q = self.queues.get_mut(queue).expect("checked");
        q.callers.insert(seq, call.clone());
        q.waiting.insert(seq, call.clone());
        self.dirty.insert(queue.to_string());
        let deadline = now + timeout;
        self.timeouts.insert((deadline, call.clone()));
        let caller = Caller {
            queue: queue.to_string(),
            seq,
            since: now,
            deadline,
            tried: HashSet::new(),
            offered: Vec::new(),
            overdue: false,
        };
        self.callers.insert(call, caller);
        true
    }

    /// The caller left (answered, hung up, overflowed elsewhere): its claims end.
    /// Returns whether it was queued. O(log n + offered agents).
    pub fn remove(&mut self, call: &C) -> bool {
        let Some(c) = self.callers.remove(call) else {
            return false;
        };
        if let Some(q) = self.queues.get_mut(&c.queue) {
            q.callers.remove(&c.seq);
            q.waiting.remove(&c.seq);
        }
        self.timeouts.remove(&(c.deadline, call.clone()));
        for a in &c.offered {
            self.unclaim(a, call);
        }
        true
    }

    /// `agent` did not take the offer of `call` (no answer, declined, unreachable):
    /// it is skipped for this caller while other agents are ready, and not offered
    /// anything for the retry delay. The caller waits again once no offer is left.
    pub fn offer_failed(&mut self, call: &C, agent: &str, now: u64) {
        if !self.end_offer(call, agent) {
            return;
        }
        if let Some(c) = self.callers.get_mut(call) {
            c.tried.insert(agent.to_string());
        }
        self.unindex(agent);
        if let Some(a) = self.agents.get_mut(agent) {
            a.cool_until = now + self.retry_ms;
            self.cooldowns.insert((a.cool_until, agent.to_string()));
        }
        self.requeue_if_idle(call);
    }

    /// The offer of `call` to `agent` could not be made (the agent turned out to be
    /// unavailable, or another node claimed it first): the agent counts as
    /// unavailable, the caller is not penalised.
    pub fn revoke(&mut self, call: &C, agent: &str) {
        if !self.end_offer(call, agent) {
            return;
        }
        self.agent_unavailable(agent);
        self.requeue_if_idle(call);
    }

    /// The next decision at `now` (ms): due timeouts first, then offers, the caller
    /// waiting longest first. Drain it until `None` after every change.
    /// O(d + log n) per offer (d: queues changed since the last drain), plus the
    /// tried agents skipped; ring all is O(r log n) for r agents rung.
    pub fn poll_decision(&mut self, now: u64) -> Option<Decision<C>> {
        while let Some((t, call)) = self.timeouts.first().cloned().filter(|(t, _)| *t <= now) {
            self.timeouts.remove(&(t, call.clone()));
            let Some(c) = self.callers.get_mut(&call) else {
                continue;
            };
            if c.offered.is_empty() {
                let queue = c.queue.clone();
                self.remove(&call);
                self.out.push_back(Decision::TimedOut { call, queue });
            } else {
                c.overdue = true;
            }
        }
        while let Some((t, agent)) = self.cooldowns.first().cloned().filter(|(t, _)| *t <= now) {
            self.cooldowns.remove(&(t, agent.clone()));
            if let Some(a) = self.agents.get_mut(&agent).filter(|a| a.cool_until == t) {
                a.cool_until = 0;
                self.index(&agent);
            }
        }
        if let Some(d) = self.out.pop_front() {
            return Some(d);
        }
        self.next_offer()
    }

    /// When [`Acd::poll_decision`] has something to do next without any other change (ms).
    pub fn next_deadline(&self) -> Option<u64> {
        let t = self.timeouts.first().map(|t| t.0);
        let c = self.cooldowns.first().map(|c| c.0);
        t.into_iter().chain(c).min()
    }

    /// The queue `call` waits in.
    pub fn queue_of(&self, call: &C) -> Option<&str> {
        self.callers.get(call).map(|c| c.queue.as_str())
    }

    /// The callers of `queue` in arrival order (position 1 first), with their queued-since time.
    pub fn callers(&self, queue: &str) -> impl Iterator<Item = (&C, u64)> + '_ {
        self.queues
            .get(queue)
            .into_iter()
            .flat_map(|q| q.callers.values())
            .map(|c| (c, self.callers.get(c).map_or(0, |x| x.since)))
    }

    /// Whether `agent` may be offered a call now (as far as the ACD knows).
    pub fn is_ready(&self, agent: &str) -> bool {
        self.agents.get(agent).is_some_and(|a| a.ready())
    }

    fn next_offer(&mut self) -> Option<Decision<C>> {
        // The changed queue whose longest-waiting caller arrived first, among those
        // that can make an offer; the others have nothing to do until the next change.
        let mut best: Option<(u64, String)> = None;
        let mut done = Vec::new();
        for name in &self.dirty {
            let q = &self.queues[name];
            match q.waiting.first_key_value() {
                Some((seq, _)) if !q.ready.is_empty() => {
                    if best.as_ref().is_none_or(|b| *seq < b.0) {
                        best = Some((*seq, name.clone()));
                    }
                }
                _ => done.push(name.clone()),
            }
        }
        for n in done {
            self.dirty.remove(&n);
        }
        let (_, name) = best?;
        let q = self.queues.get_mut(&name).expect("dirty queues exist");
        let (_, call) = q.waiting.pop_first().expect("checked");
        let c = self.callers.get_mut(&call).expect("queued callers exist");
        // Members who already missed this caller are offered only when no other is ready.
        let untried = |(_, a): &&(u64, String)| !c.tried.contains(a);
        let picked: Vec<&(u64, String)> = match q.cfg.strategy {
            Strategy::LongestIdle => {
                let first = q.ready.iter().find(untried).or(q.ready.first());
                first.into_iter().collect()
            }
            Strategy::RoundRobin => {
                let from = (q.cursor, String::new());
                let mut turn = q.ready.range(from.clone()..).chain(q.ready.range(..from));
                let first = turn.clone().find(untried).or(turn.next());
                first.into_iter().collect()
            }
            Strategy::RingAll => {
                let all: Vec<_> = q.ready.iter().filter(untried).collect();
                if all.is_empty() {
                    q.ready.iter().collect()
                } else {
                    all
                }
            }
        };
        let agents: Vec<String> = picked.into_iter().map(|(_, a)| a.clone()).collect();
        if q.cfg.strategy == Strategy::RoundRobin {
            q.cursor = q.rank.get(&agents[0]).map_or(0, |r| r + 1);
        }
        c.offered = agents.clone();
        for a in &agents {
            self.unindex(a);
            if let Some(slot) = self.agents.get_mut(a) {
                slot.claim = Some(call.clone());
            }
        }
        Some(Decision::Offer {
            call,
            queue: name,
            agents,
        })
    }

    /// Take `agent` off `call`'s offer; false if it was not offered.
    fn end_offer(&mut self, call: &C, agent: &str) -> bool {
        let Some(c) = self.callers.get_mut(call) else {
            return false;
        };
        let Some(i) = c.offered.iter().position(|a| a == agent) else {
            return false;
        };
        c.offered.remove(i);
        self.unclaim(agent, call);
        true
    }

    /// A caller whose offers all ended waits again (or times out if it is overdue).
    fn requeue_if_idle(&mut self, call: &C) {
        let Some(c) = self.callers.get(call).filter(|c| c.offered.is_empty()) else {
            return;
        };
        let (queue, seq) = (c.queue.clone(), c.seq);
        if c.overdue {
            self.remove(call);
            let call = call.clone();
            self.out.push_back(Decision::TimedOut { call, queue });
        } else if let Some(q) = self.queues.get_mut(&queue) {
            q.waiting.insert(seq, call.clone());
            self.dirty.insert(queue);
        }
    }

    fn unclaim(&mut self, agent: &str, call: &C) {
        if let Some(a) = self.agents.get_mut(agent) {
            if a.claim.as_ref() == Some(call) {
                a.claim = None;
                self.index(agent);
            }
        }
    }

    /// Put a ready agent in the ready set of each of its queues.
    fn index(&mut self, agent: &str) {
        let Some(a) = self.agents.get(agent).filter(|a| a.ready()) else {
            return;
        };
        for name in &a.queues {
            if let Some(q) = self.queues.get_mut(name) {
                if let Some(k) = q.key(agent, a) {
                    q.ready.insert(k);
                }
                if !q.waiting.is_empty() {
                    self.dirty.insert(name.clone());
                }
            }
        }
    }

    /// Take an agent out of every ready set (before its key or readiness changes).
    fn unindex(&mut self, agent: &str) {
        let Some(a) = self.agents.get(agent).filter(|a| a.ready()) else {
            return;
        };
        for name in &a.queues {
            if let Some(q) = self.queues.get_mut(name) {
                if let Some(k) = q.key(agent, a) {
                    q.ready.remove(&k);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;

//! Agent presence in the engine: the state an agent chose (offline, ready,
//! paused with a reason) combined with what the engine knows (phone
//! registered, ringing, on a call, after-call work). The engine reserves an
//! agent for a call synchronously, so two calls can never grab the same agent.
//!
//! Every change of an agent's effective status also tells the ACD whether the
//! agent can take a queue call; after-call work and registration expiry are
//! deadlines in sorted sets, so nothing here scans every agent on a timer.

use std::collections::{BTreeSet, HashMap};

pub use switchboard_center::{AgentAudio, AgentInfo, AgentPresence, AgentStatus};

use super::Switch;

/// All agents.
pub struct Agents {
    map: HashMap<String, AgentPresence>,
    /// Ends of after-call work, earliest first (checked against the agent when due).
    acw_ends: BTreeSet<(u64, String)>,
    /// Expiries of agents' registrations, earliest first (checked against the registrar when due).
    registration_ends: BTreeSet<(u64, String)>,
}

impl Agents {
    /// From the stored agents.
    pub fn new(infos: Vec<AgentInfo>, now: u64) -> Agents {
        let mut a = Agents {
            map: HashMap::new(),
            acw_ends: BTreeSet::new(),
            registration_ends: BTreeSet::new(),
        };
        for i in infos {
            a.upsert(i, now);
        }
        a
    }

    /// Add or update an agent's static info.
    pub fn upsert(&mut self, info: AgentInfo, now: u64) {
        match self.map.get_mut(&info.username) {
            Some(p) => p.info = info,
            None => {
                self.map.insert(
                    info.username.clone(),
                    AgentPresence {
                        info,
                        chosen: AgentStatus::Offline,
                        pause_reason: None,
                        chosen_by: None,
                        status: AgentStatus::Offline,
                        since: now,
                        registered: false,
                        calls: Vec::new(),
                        acw_until: None,
                        last_call_end: 0,
                    },
                );
            }
        }
    }

    /// Remove an agent.
    pub fn remove(&mut self, username: &str) {
        self.map.remove(username);
    }

    /// Where the agent's audio may come from (`Either` for unknown agents).
    pub fn audio(&self, username: &str) -> AgentAudio {
        self.map
            .get(username)
            .map_or(AgentAudio::Either, |p| p.info.audio)
    }

    /// Does the extension exist?
    pub fn exists(&self, username: &str) -> bool {
        self.map.contains_key(username)
    }

    /// Stored HA1 of an agent's SIP password for `algorithm`, if it was
    /// computed for `realm` (credentials set under another realm cannot match).
    pub fn sip_ha1(
        &self,
        username: &str,
        realm: &str,
        algorithm: switchboard_sip::digest::Algorithm,
    ) -> Option<String> {
        let h = &self.map.get(username)?.info.sip_ha1;
        if h.realm != realm {
            return None;
        }
        let v = match algorithm {
            switchboard_sip::digest::Algorithm::Md5 => &h.md5,
            switchboard_sip::digest::Algorithm::Sha256 => &h.sha256,
        };
        (!v.is_empty()).then(|| v.clone())
    }

    /// Presence of one agent.
    pub fn get(&self, username: &str) -> Option<&AgentPresence> {
        self.map.get(username)
    }

    /// Every agent, sorted by username.
    pub fn all(&self) -> Vec<AgentPresence> {
        let mut v: Vec<AgentPresence> = self.map.values().cloned().collect();
        v.sort_by(|a, b| a.info.username.cmp(&b.info.username));
        v
    }

    fn get_mut(&mut self, username: &str) -> Option<&mut AgentPresence> {
        self.map.get_mut(username)
    }

    /// The next after-call work end or registration expiry (ms).
    pub fn next_deadline(&self) -> Option<u64> {
        let acw = self.acw_ends.first().map(|d| d.0);
        acw.into_iter()
            .chain(self.registration_ends.first().map(|d| d.0))
            .min()
    }

    /// Can the agent take a queue call now?
    pub fn available_for_queue(&self, username: &str, now: u64) -> bool {
        self.map.get(username).is_some_and(|p| {
            p.registered
                && p.chosen == AgentStatus::Ready
                && p.calls.is_empty()
                && p.acw_until.is_none_or(|t| t <= now)
        })
    }

    /// Why the agent cannot take a direct call, if so.
    pub fn unavailable_reason(&self, username: &str) -> Option<String> {
        let Some(p) = self.map.get(username) else {
            return Some(format!("unknown agent {username}"));
        };
        if !p.registered {
            Some(match p.info.audio {
                AgentAudio::Browser => {
                    format!("agent {username} takes calls in the browser and its audio is not connected")
                }
                _ => format!("agent {username}'s phone is not registered"),
            })
        } else if !p.calls.is_empty() {
            Some(format!("agent {username} is busy on another call"))
        } else if p.chosen == AgentStatus::Paused {
            Some(format!(
                "agent {username} is paused ({})",
                p.pause_reason.clone().unwrap_or_default()
            ))
        } else {
            None
        }
    }
}

impl Switch {
    fn recompute(&mut self, username: &str) {
        self.recompute_status(username, false);
    }

    /// Derive the agent's effective status; publish and log it when it changed,
    /// or always when `force` (a new choice that may keep the same status).
    fn recompute_status(&mut self, username: &str, force: bool) {
        let now = self.now;
        // On a call as soon as one of the agent's legs is established
        // (stops at the first one: no copies, no scan of the other calls).
        let on_call = self.agents.get(username).is_some_and(|p| {
            p.calls.iter().any(|c| {
                self.call_legs.get(c).is_some_and(|ids| {
                    ids.iter().any(|id| {
                        self.legs.get(id).is_some_and(|l| {
                            l.state == super::LegState::Confirmed
                                && l.agent.as_deref() == Some(username)
                        })
                    })
                })
            })
        });
        let Some(p) = self.agents.get_mut(username) else {
            self.queue.set_available(username, None);
            return;
        };
        let status = if !p.calls.is_empty() {
            if on_call {
                AgentStatus::OnCall
            } else {
                AgentStatus::Ringing
            }
        } else if p.acw_until.is_some_and(|t| t > now) {
            AgentStatus::AfterCallWork
        } else {
            p.chosen
        };
        if status != p.status || force {
            p.status = status;
            p.since = now;
            let (id, reason) = (p.info.id.clone(), p.pause_reason.clone());
            // The log names who chose the state it records (not e.g. a call).
            let by = p.chosen_by.clone().filter(|_| status == p.chosen);
            let ev = switchboard_center::LiveEvent::AgentState {
                agent: username.to_string(),
                status,
                chosen: p.chosen,
                pause_reason: reason.clone(),
                chosen_by: p.chosen_by.clone(),
                since: now,
            }
            .to_json();
            self.sink.store(crate::StoreOp::AgentState {
                agent_id: id,
                status,
                reason: reason.clone(),
                by,
                at: now as i64,
            });
            self.sink.publish(ev);
        }
        self.sync_queue_availability(username);
    }

    /// Tell the ACD whether the agent can take a queue call (registered, ready, no
    /// call, after-call work over), idle since the end of its last call.
    fn sync_queue_availability(&mut self, username: &str) {
        let idle_since = self
            .agents
            .get(username)
            .filter(|_| self.agents.available_for_queue(username, self.now))
            .map(|p| p.last_call_end);
        self.queue.set_available(username, idle_since);
    }

    /// The agent is now reserved for (or handling) a call.
    pub(super) fn agent_engaged(&mut self, username: &str, call: &str) {
        if let Some(e) = self.calls.get_mut(call) {
            if !e.participants.iter().any(|p| p == username) {
                e.participants.push(username.to_string());
            }
        }
        if let Some(p) = self.agents.get_mut(username) {
            if !p.calls.iter().any(|c| c == call) {
                p.calls.push(call.to_string());
            }
            p.acw_until = None;
        }
        self.recompute(username);
    }

    /// The agent is done with a call: after-call work, then back to the chosen state.
    pub(super) fn agent_released(&mut self, username: &str, call: &str) {
        let acw = self.acw_secs_for(call);
        self.release_agent(username, call, acw);
    }

    /// A supervisor's phone is done with a call it supervised: back to the
    /// chosen state at once (no after-call work: someone else handled it).
    pub(super) fn supervisor_released(&mut self, username: &str, call: &str) {
        self.release_agent(username, call, 0);
    }

    fn release_agent(&mut self, username: &str, call: &str, acw: u64) {
        let mut acw_end = None;
        if let Some(p) = self.agents.get_mut(username) {
            let before = p.calls.len();
            p.calls.retain(|c| c != call);
            if before > 0 && p.calls.is_empty() {
                let now = self.now;
                p.last_call_end = now;
                p.acw_until = (acw > 0).then_some(now + acw * 1000);
                acw_end = p.acw_until;
            }
        }
        if let Some(t) = acw_end {
            self.agents.acw_ends.insert((t, username.to_string()));
        }
        self.recompute(username);
    }

    /// The agent's phone registered, refreshed or lost its registration
    /// (`registered`), or their browser audio came or went: whether calls
    /// can reach the agent now, per the agent's audio setting.
    pub(super) fn agents_registration_changed(&mut self, username: &str, registered: bool) {
        let browser = self.browser_seat(username).is_some();
        let registered = match self.agents.audio(username) {
            AgentAudio::Either => registered || browser,
            AgentAudio::Browser => browser,
            AgentAudio::Phone => registered,
        };
        let Some(p) = self.agents.get_mut(username) else {
            return;
        };
        if p.registered != registered {
            p.registered = registered;
            self.sink.publish(
                switchboard_center::LiveEvent::AgentRegistration {
                    agent: username.to_string(),
                    registered,
                }
                .to_json(),
            );
        }
        if registered {
            let bindings = self.registrar.bindings_of(username);
            if let Some(t) = bindings.iter().map(|b| b.expires_at).max() {
                self.agents
                    .registration_ends
                    .insert((t, username.to_string()));
            }
        }
        self.sync_queue_availability(username);
    }

    /// Bindings were restored (after a restart): pick up the agent's registration.
    pub(super) fn registration_restored(&mut self, username: &str) {
        let registered = self.registrar.is_registered(username, self.now);
        self.agents_registration_changed(username, registered);
    }

    /// Set the state an agent chose (console), or that a supervisor or admin
    /// (`by`) chose for them.
    pub(super) fn set_agent_choice(
        &mut self,
        username: &str,
        chosen: AgentStatus,
        reason: Option<String>,
        by: Option<String>,
    ) -> Result<(), String> {
        let Some(p) = self.agents.get_mut(username) else {
            return Err(format!("unknown agent {username}"));
        };
        match chosen {
            AgentStatus::Offline | AgentStatus::Ready | AgentStatus::Paused => {}
            _ => return Err("state must be offline, ready or paused".into()),
        }
        if chosen == AgentStatus::Paused && reason.as_deref().unwrap_or("").trim().is_empty() {
            return Err("a pause needs a reason".into());
        }
        p.chosen = chosen;
        p.chosen_by = by;
        p.pause_reason = if chosen == AgentStatus::Paused {
            reason
        } else {
            None
        };
        if chosen == AgentStatus::Ready {
            p.acw_until = None;
        }
        // An event even if the effective status did not change (e.g. another pause reason).
        self.recompute_status(username, true);
        Ok(())
    }

    /// Deadlines due at `now`: after-call work that ends, registrations that expire.
    /// O(log n) per deadline; nothing when none is due.
    pub(super) fn agents_tick(&mut self, now: u64) {
        while let Some((t, u)) = self.agents.acw_ends.first().cloned() {
            if t > now {
                break;
            }
            self.agents.acw_ends.pop_first();
            let ends = self.agents.get_mut(&u).filter(|p| p.acw_until == Some(t));
            if let Some(p) = ends {
                p.acw_until = None;
                self.recompute(&u);
            }
        }
        while let Some((t, u)) = self.agents.registration_ends.first().cloned() {
            if t > now {
                break;
            }
            self.agents.registration_ends.pop_first();
            // A refreshed registration has a later deadline of its own.
            let registered = self.registrar.is_registered(&u, now);
            if !registered {
                self.agents_registration_changed(&u, false);
            }
        }
    }

    /// Refresh every agent's effective status (after legs change state).
    pub(super) fn refresh_agents_of_call(&mut self, call: &str) {
        // Every agent engaged in a call is one of its participants.
        let names: Vec<String> = self
            .calls
            .get(call)
            .map(|e| e.participants.clone())
            .unwrap_or_default()
            .into_iter()
            .filter(|n| {
                self.agents
                    .get(n)
                    .is_some_and(|p| p.calls.iter().any(|c| c == call))
            })
            .collect();
        for n in names {
            self.recompute(&n);
        }
    }
}

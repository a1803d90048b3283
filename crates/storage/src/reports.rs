//! Agent and campaign reports computed from calls, call events,
//! dispositions and the agent state log.
//!
//! Rules (for a time window `from <= t < to`, unix ms):
//! * calls: calls that *started* in the window, attributed to the agent in
//!   `calls.agent_id` (the last agent handling it) or to `calls.campaign_id`;
//! * answered: those with `answered_at`; talk time: `ended_at - answered_at`
//!   of answered, finished calls;
//! * hold time: `HOLD` → `UNHOLD` event pairs of those calls (a `HOLD` never
//!   released counts up to the call's end);
//! * transfers: `TRANSFER_BLIND` and `TRANSFER_COMPLETED` events of those calls;
//! * dispositions: dispositions set in the window by the agent / for the
//!   campaign, counted by name;
//! * state time (agent only): time spent in each state of the state log,
//!   clipped to the window and to now.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::events::event_kind;
use crate::util::now_ms;
use crate::{col, Result, Storage, StorageError};

/// Call statistics shared by both reports.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct CallStats {
    /// Calls started in the window.
    pub calls: i64,
    /// Of which answered.
    pub answered: i64,
    /// Total talk time, ms.
    pub talk_ms: i64,
    /// Total hold time, ms.
    pub hold_ms: i64,
    /// Transfers made.
    pub transfers: i64,
    /// Disposition name → count.
    pub dispositions: BTreeMap<String, i64>,
}

/// Report for one agent.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct AgentReport {
    /// Agent.
    pub agent_id: String,
    /// Window start, unix ms (inclusive).
    pub from: i64,
    /// Window end, unix ms (exclusive).
    pub to: i64,
    /// Call statistics (flattened into this object in JSON).
    #[serde(flatten)]
    pub stats: CallStats,
    /// State name → ms spent in it.
    pub state_ms: BTreeMap<String, i64>,
}

/// Report for one campaign.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct CampaignReport {
    /// Campaign.
    pub campaign_id: String,
    /// Window start, unix ms (inclusive).
    pub from: i64,
    /// Window end, unix ms (exclusive).
    pub to: i64,
    /// Call statistics (flattened into this object in JSON).
    #[serde(flatten)]
    pub stats: CallStats,
}

/// Which column of `calls` / `dispositions` a report filters on.
#[derive(Clone, Copy)]
enum By {
    Agent,
    Campaign,
}

impl By {
    fn column(self) -> &'static str {
        match self {
            By::Agent => "agent_id",
            By::Campaign => "campaign_id",
        }
    }
}

impl Storage {
    /// Statistics of an agent over `[from, to)`.
    pub async fn agent_report(&self, agent_id: &str, from: i64, to: i64) -> Result<AgentReport> {
        check_window(from, to)?;
        let stats = self.call_stats(By::Agent, agent_id, from, to).await?;
        let state_ms = self.state_durations(agent_id, from, to).await?;
        Ok(AgentReport {
            agent_id: agent_id.to_string(),
            from,
            to,
            stats,
            state_ms,
        })
    }

    /// Statistics of a campaign over `[from, to)`.
    pub async fn campaign_report(
        &self,
        campaign_id: &str,
        from: i64,
        to: i64,
    ) -> Result<CampaignReport> {
        check_window(from, to)?;
        let stats = self.call_stats(By::Campaign, campaign_id, from, to).await?;
        Ok(CampaignReport {
            campaign_id: campaign_id.to_string(),
            from,
            to,
            stats,
        })
    }

    async fn call_stats(&self, by: By, id: &str, from: i64, to: i64) -> Result<CallStats> {
        let c = by.column();
        let mut stats = CallStats::default();

        let calls = sqlx::query(&format!(
            "SELECT id, answered_at, ended_at FROM calls \
             WHERE {c} = $1 AND started_at >= $2 AND started_at < $3"
        ))
        .bind(id)
        .bind(from)
        .bind(to)
        .fetch_all(self.pool())
        .await?;
        let mut ends: HashMap<String, Option<i64>> = HashMap::with_capacity(calls.len());
        for row in &calls {
            let answered: Option<i64> = col(row, "answered_at")?;
            let ended: Option<i64> = col(row, "ended_at")?;
            stats.calls += 1;
            if let Some(a) = answered {
                stats.answered += 1;
                if let Some(e) = ended {
                    stats.talk_ms += (e - a).max(0);
                }
            }
            ends.insert(col(row, "id")?, ended);
        }

        let events = sqlx::query(&format!(
            "SELECT e.call_id, e.kind, e.at FROM call_events e JOIN calls c ON c.id = e.call_id \
             WHERE c.{c} = $1 AND c.started_at >= $2 AND c.started_at < $3 \
             AND e.kind IN ($4, $5, $6, $7) ORDER BY e.call_id, e.at, e.seq"
        ))
        .bind(id)
        .bind(from)
        .bind(to)
        .bind(event_kind::HOLD)
        .bind(event_kind::UNHOLD)
        .bind(event_kind::TRANSFER_BLIND)
        .bind(event_kind::TRANSFER_COMPLETED)
        .fetch_all(self.pool())
        .await?;
        let mut current: Option<String> = None;
        let mut hold_start: Option<i64> = None;
        let close_open_hold = |call: &Option<String>, start: Option<i64>| -> i64 {
            match (call, start) {
                (Some(call), Some(s)) => match ends.get(call).copied().flatten() {
                    Some(e) if e > s => e - s,
                    _ => 0,
                },
                _ => 0,
            }
        };
        for row in &events {
            let call_id: String = col(row, "call_id")?;
            let kind: String = col(row, "kind")?;
            let at: i64 = col(row, "at")?;
            if current.as_deref() != Some(call_id.as_str()) {
                stats.hold_ms += close_open_hold(&current, hold_start.take());
                current = Some(call_id);
            }
            match kind.as_str() {
                event_kind::HOLD => {
                    hold_start.get_or_insert(at);
                }
                event_kind::UNHOLD => {
                    if let Some(s) = hold_start.take() {
                        stats.hold_ms += (at - s).max(0);
                    }
                }
                _ => stats.transfers += 1,
            }
        }
        stats.hold_ms += close_open_hold(&current, hold_start.take());

        let disps = sqlx::query(&format!(
            "SELECT name, COUNT(*) AS n FROM dispositions \
             WHERE {c} = $1 AND at >= $2 AND at < $3 GROUP BY name"
        ))
        .bind(id)
        .bind(from)
        .bind(to)
        .fetch_all(self.pool())
        .await?;
        for row in &disps {
            stats.dispositions.insert(col(row, "name")?, col(row, "n")?);
        }
        Ok(stats)
    }

    async fn state_durations(
        &self,
        agent_id: &str,
        from: i64,
        to: i64,
    ) -> Result<BTreeMap<String, i64>> {
        let mut log = Vec::new();
        if let Some(prev) = self.last_agent_state(agent_id, from).await? {
            log.push(prev);
        }
        log.extend(self.list_agent_states(agent_id, from, to).await?);
        let end_cap = to.min(now_ms());
        let mut out = BTreeMap::new();
        for (i, entry) in log.iter().enumerate() {
            let start = entry.at.max(from);
            let end = log.get(i + 1).map_or(end_cap, |next| next.at.min(end_cap));
            if end > start {
                *out.entry(entry.state.clone()).or_insert(0) += end - start;
            }
        }
        Ok(out)
    }
}

fn check_window(from: i64, to: i64) -> Result<()> {
    if to < from {
        return Err(StorageError::Invalid(format!(
            "report window ends ({to}) before it starts ({from})"
        )));
    }
    Ok(())
}

//! Supervisor metrics: live figures from the engine (calls, agents by
//! status overall and per campaign, queues) and today's totals from the
//! call records, as JSON (`/api/metrics`) and for Prometheus (`/metrics`,
//! encoded by the `prometheus-client` crate: the Prometheus text format, or
//! OpenMetrics when the scraper's `Accept` asks for it).

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use serde::Serialize;
use serde_json::{json, Value};
use switchboard_call::CallState;
use switchboard_center::{AlertKind, EngineRequest, Snapshot};
use switchboard_storage::{CallDirection, CallQuery};

use crate::{AppState, Caller, HttpError};

/// The content type of the OpenMetrics text format.
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The text format `/metrics` answers in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exposition {
    /// OpenMetrics 1.0 (ends with `# EOF`), for scrapers that ask for it.
    OpenMetrics,
    /// The Prometheus text format 0.0.4 (the default, as before).
    Prometheus,
}

impl Exposition {
    /// OpenMetrics when the `Accept` header names it, else the Prometheus text format.
    pub fn negotiate(headers: &HeaderMap) -> Exposition {
        let accept = headers
            .get_all(header::ACCEPT)
            .iter()
            .filter_map(|v| v.to_str().ok());
        if accept
            .flat_map(|v| v.split(','))
            .any(|v| v.trim().starts_with("application/openmetrics-text"))
        {
            Exposition::OpenMetrics
        } else {
            Exposition::Prometheus
        }
    }

    /// The `Content-Type` of the format.
    pub fn content_type(self) -> &'static str {
        match self {
            Exposition::OpenMetrics => OPENMETRICS_CONTENT_TYPE,
            Exposition::Prometheus => prometheus_client::encoding::prometheus_text::CONTENT_TYPE,
        }
    }
}

/// Every agent status, so that each one has a sample (0 when nobody is in it).
const STATUSES: [&str; 6] = [
    "offline",
    "ready",
    "paused",
    "ringing",
    "on_call",
    "after_call_work",
];

/// Every state of a live call, so that each one has a sample (0 when no call is in it).
const LIVE_STATES: [CallState; 7] = [
    CallState::Originating,
    CallState::Ringing,
    CallState::Connected,
    CallState::Held,
    CallState::Transferring,
    CallState::Consulting,
    CallState::Conference,
];

/// Today's call figures (calls started since midnight UTC).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Today {
    /// Calls started today.
    pub calls: i64,
    /// Of which answered.
    pub answered: i64,
    /// Ended without an answer.
    pub unanswered: i64,
    /// Inbound calls.
    pub inbound: i64,
    /// Outbound calls.
    pub outbound: i64,
    /// Calls between agents.
    pub internal: i64,
    /// Mean talk time of answered, finished calls (ms).
    pub avg_talk_ms: i64,
    /// Mean time to answer of answered calls (ms).
    pub avg_answer_ms: i64,
    /// Longest talk time (ms).
    pub longest_talk_ms: i64,
}

/// The figures a supervisor limited to campaigns sees, as on their wall:
/// the live calls, queues and campaigns of their campaigns (agents are not
/// limited); returns the ids of those campaigns for today's totals (None:
/// not limited).
fn scope(c: &Caller, snap: &mut switchboard_center::Snapshot) -> Option<Vec<String>> {
    c.campaigns.as_ref()?;
    snap.calls
        .retain(|x| c.sees_campaign(x.campaign.as_deref()));
    snap.queues.retain(|q| c.sees_campaign(Some(&q.campaign)));
    snap.campaigns.retain(|k| c.sees_campaign(Some(&k.name)));
    Some(snap.campaigns.iter().map(|k| k.id.clone()).collect())
}

/// Today's totals, over the calls of `campaigns` when given.
async fn today(st: &AppState, campaigns: Option<&[String]>) -> Result<Today, HttpError> {
    let midnight = chrono::Utc::now()
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .map(|d| d.and_utc().timestamp_millis());
    let rows = st
        .storage
        .list_calls(&CallQuery {
            from: midnight,
            limit: Some(10_000),
            ..Default::default()
        })
        .await?;
    let rows: Vec<_> = rows
        .into_iter()
        .filter(|r| {
            campaigns.is_none_or(|ids| r.campaign_id.as_ref().is_some_and(|id| ids.contains(id)))
        })
        .collect();
    let answered: Vec<_> = rows.iter().filter(|r| r.answered_at.is_some()).collect();
    let talks: Vec<i64> = answered
        .iter()
        .filter_map(|r| Some(r.ended_at? - r.answered_at?))
        .collect();
    let waits: Vec<i64> = answered
        .iter()
        .filter_map(|r| Some(r.answered_at? - r.started_at))
        .collect();
    let avg = |v: &[i64]| match v.len() {
        0 => 0,
        n => v.iter().sum::<i64>() / n as i64,
    };
    let count = |d: CallDirection| rows.iter().filter(|r| r.direction == d).count() as i64;
    Ok(Today {
        calls: rows.len() as i64,
        answered: answered.len() as i64,
        unanswered: rows
            .iter()
            .filter(|r| r.answered_at.is_none() && r.ended_at.is_some())
            .count() as i64,
        inbound: count(CallDirection::Inbound),
        outbound: count(CallDirection::Outbound),
        internal: count(CallDirection::Internal),
        avg_talk_ms: avg(&talks),
        avg_answer_ms: avg(&waits),
        longest_talk_ms: talks.iter().max().copied().unwrap_or(0),
    })
}

/// A snake_case name of a serialized enum value (`"on_call"`).
fn name<T: Serialize>(v: &T) -> String {
    json!(v).as_str().unwrap_or("unknown").to_string()
}

/// `GET /api/metrics` (supervisors).
#[utoipa::path(get, path = "/api/metrics", tag = "reports", responses((status = 200, description = "`live` figures and `today` totals (supervisors)", body = Object), (status = "4XX", body = crate::error::ErrorBody)))]
pub async fn json(State(st): State<AppState>, c: Caller) -> Result<Json<Value>, HttpError> {
    c.require_supervisor()?;
    let mut snap = st.ask(EngineRequest::Snapshot).await?;
    let ids = scope(&c, &mut snap);
    let today = today(&st, ids.as_deref()).await?;
    let mut by_status: BTreeMap<String, i64> = BTreeMap::new();
    for a in &snap.agents {
        *by_status.entry(name(&a.status)).or_default() += 1;
    }
    let mut by_state: BTreeMap<String, i64> = BTreeMap::new();
    for c in &snap.calls {
        *by_state.entry(name(&c.state)).or_default() += 1;
    }
    Ok(Json(json!({
        "live": {
            "calls": snap.calls.len(),
            "calls_by_state": by_state,
            "agents": snap.agents.len(),
            "agents_registered": snap.agents.iter().filter(|a| a.registered).count(),
            "agents_by_status": by_status,
            "queues": snap.queues,
            "sip_security": snap.sip_security,
        },
        "today": today,
    })))
}

/// `GET /metrics`: the same figures for Prometheus (supervisor token as bearer;
/// a supervisor limited to campaigns gets those campaigns' figures).
#[utoipa::path(get, path = "/metrics", tag = "reports", responses((status = 200, description = "Prometheus text format 0.0.4, or OpenMetrics 1.0 when `Accept` names `application/openmetrics-text` (supervisor token as bearer): \
    switchboard_calls_active{state}, switchboard_agents{status}, switchboard_agents_registered, \
    switchboard_campaign_agents{campaign,status}, switchboard_campaign_calls_active{campaign}, \
    switchboard_queue_waiting{campaign}, switchboard_queue_ringing{campaign}, \
    switchboard_queue_longest_wait_ms{campaign}, switchboard_queue_alert{campaign,kind}, \
    switchboard_queue_alerts_raised{campaign,kind}, switchboard_sip_banned_sources, \
    switchboard_sip_dropped_requests, switchboard_sip_auth_failures, \
    switchboard_trunk_up{trunk}, switchboard_trunk_registered{trunk}, switchboard_today_calls, \
    switchboard_today_answered, switchboard_today_unanswered, switchboard_today_calls_by_direction{direction}, \
    switchboard_today_avg_talk_ms, switchboard_today_avg_answer_ms, switchboard_today_longest_talk_ms, \
    switchboard_call_mos (histogram), switchboard_calls_poor_quality{campaign}, \
    switchboard_campaign_worst_live_mos{campaign}", content_type = "text/plain"), (status = "4XX", body = crate::error::ErrorBody)))]
pub async fn prometheus(
    State(st): State<AppState>,
    c: Caller,
    headers: HeaderMap,
) -> Result<Response, HttpError> {
    c.require_supervisor()?;
    let mut snap = st.ask(EngineRequest::Snapshot).await?;
    let ids = scope(&c, &mut snap);
    let today = today(&st, ids.as_deref()).await?;
    let format = Exposition::negotiate(&headers);
    let text = render(&snap, &today, format)?;
    Ok(([(header::CONTENT_TYPE, format.content_type())], text).into_response())
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabel {
    state: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabel {
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CampaignLabel {
    campaign: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CampaignStatusLabels {
    campaign: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TrunkLabel {
    trunk: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AlertLabels {
    campaign: String,
    kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DirectionLabel {
    direction: String,
}

/// A gauge family registered under `switchboard_<name>`.
fn family<L>(reg: &mut Registry, name: &str, help: &str) -> Family<L, Gauge>
where
    L: Clone + std::fmt::Debug + std::hash::Hash + Eq + EncodeLabelSet + Send + Sync + 'static,
{
    let f = Family::<L, Gauge>::default();
    reg.register(name, help, f.clone());
    f
}

/// A single gauge registered under `switchboard_<name>`, set to `v`.
fn gauge(reg: &mut Registry, name: &str, help: &str, v: i64) {
    let g = Gauge::<i64>::default();
    g.set(v);
    reg.register(name, help, g);
}

/// The figures as OpenMetrics text. Names and meanings of the metrics that
/// were hand-written before are kept (dashboards rely on them): every metric
/// but the MOS histogram is a gauge, the SIP counters included (they keep
/// their names rather than gaining a `_total` suffix).
pub fn render(snap: &Snapshot, today: &Today, format: Exposition) -> Result<String, HttpError> {
    let mut reg = Registry::with_prefix("switchboard");

    let calls = family::<StateLabel>(&mut reg, "calls_active", "Live calls by state");
    for state in LIVE_STATES {
        calls
            .get_or_create(&StateLabel {
                state: name(&state),
            })
            .set(0);
    }
    for c in &snap.calls {
        calls
            .get_or_create(&StateLabel {
                state: name(&c.state),
            })
            .inc();
    }
    let agents = family::<StatusLabel>(&mut reg, "agents", "Agents by status");
    let mut status_of: BTreeMap<&str, String> = BTreeMap::new();
    for s in STATUSES {
        agents
            .get_or_create(&StatusLabel { status: s.into() })
            .set(0);
    }
    for a in &snap.agents {
        let status = name(&a.status);
        agents
            .get_or_create(&StatusLabel {
                status: status.clone(),
            })
            .inc();
        status_of.insert(a.info.username.as_str(), status);
    }
    gauge(
        &mut reg,
        "agents_registered",
        "Agents whose phone is registered",
        snap.agents.iter().filter(|a| a.registered).count() as i64,
    );

    let members = family::<CampaignStatusLabels>(
        &mut reg,
        "campaign_agents",
        "Member agents of each campaign by status (an agent in two campaigns counts in both)",
    );
    let campaign_calls =
        family::<CampaignLabel>(&mut reg, "campaign_calls_active", "Live calls per campaign");
    let waiting = family::<CampaignLabel>(
        &mut reg,
        "queue_waiting",
        "Callers waiting per inbound campaign",
    );
    let ringing = family::<CampaignLabel>(
        &mut reg,
        "queue_ringing",
        "Waiting callers being offered to an agent right now, per inbound campaign",
    );
    let longest = family::<CampaignLabel>(
        &mut reg,
        "queue_longest_wait_ms",
        "Longest current wait per inbound campaign",
    );
    let alert = family::<AlertLabels>(
        &mut reg,
        "queue_alert",
        "1 while an inbound campaign's queue crosses an alert threshold (kind service_level or longest_wait)",
    );
    let alerts_raised = family::<AlertLabels>(
        &mut reg,
        "queue_alerts_raised",
        "Times a queue alert was raised since start, per inbound campaign and kind",
    );
    for k in &snap.campaigns {
        let campaign = || CampaignLabel {
            campaign: k.name.clone(),
        };
        for s in STATUSES {
            members
                .get_or_create(&CampaignStatusLabels {
                    campaign: k.name.clone(),
                    status: s.into(),
                })
                .set(0);
        }
        for agent in &k.agents {
            if let Some(status) = status_of.get(agent.as_str()) {
                members
                    .get_or_create(&CampaignStatusLabels {
                        campaign: k.name.clone(),
                        status: status.clone(),
                    })
                    .inc();
            }
        }
        campaign_calls.get_or_create(&campaign()).set(0);
        if k.kind == "inbound" {
            for f in [&waiting, &ringing, &longest] {
                f.get_or_create(&campaign()).set(0);
            }
        }
    }
    for c in &snap.calls {
        if let Some(k) = &c.campaign {
            campaign_calls
                .get_or_create(&CampaignLabel {
                    campaign: k.clone(),
                })
                .inc();
        }
    }
    for q in &snap.queues {
        let label = CampaignLabel {
            campaign: q.campaign.clone(),
        };
        waiting.get_or_create(&label).set(q.waiting as i64);
        let offered = q.calls.iter().filter(|c| c.ringing.is_some()).count();
        ringing.get_or_create(&label).set(offered as i64);
        longest
            .get_or_create(&label)
            .set(i64::try_from(q.longest_wait_ms).unwrap_or(i64::MAX));
        let raised = [
            (AlertKind::ServiceLevel, q.alerts_raised.service_level),
            (AlertKind::LongestWait, q.alerts_raised.longest_wait),
        ];
        for (kind, n) in raised {
            let label = AlertLabels {
                campaign: q.campaign.clone(),
                kind: kind.name().into(),
            };
            let active = q.alerts.iter().any(|a| a.kind() == kind);
            alert.get_or_create(&label).set(i64::from(active));
            alerts_raised
                .get_or_create(&label)
                .set(i64::try_from(n).unwrap_or(i64::MAX));
        }
    }

    let sip = snap.sip_security;
    for (key, help, v) in [
        (
            "banned_sources",
            "SIP sources banned right now",
            sip.banned_sources,
        ),
        (
            "dropped_requests",
            "Datagrams dropped from banned SIP sources since start",
            sip.dropped_requests,
        ),
        (
            "auth_failures",
            "Failed SIP digest authentications since start",
            sip.auth_failures,
        ),
    ] {
        let v = i64::try_from(v).unwrap_or(i64::MAX);
        gauge(&mut reg, &format!("sip_{key}"), help, v);
    }

    let up = family::<TrunkLabel>(
        &mut reg,
        "trunk_up",
        "1 when a trunk answers (OPTIONS or calls), 0 when it does not or is not checked yet",
    );
    let registered = family::<TrunkLabel>(
        &mut reg,
        "trunk_registered",
        "1 while a registering trunk is registered at its provider",
    );
    for t in &snap.trunks {
        let label = TrunkLabel {
            trunk: t.name.clone(),
        };
        up.get_or_create(&label)
            .set(i64::from(t.health == switchboard_center::TrunkHealth::Up));
        if let Some(r) = &t.registration {
            registered.get_or_create(&label).set(i64::from(
                r.state == switchboard_center::RegistrationState::Registered,
            ));
        }
    }

    for (key, help, v) in [
        ("calls", "Calls started today (UTC day)", today.calls),
        (
            "answered",
            "Calls started today that were answered",
            today.answered,
        ),
        (
            "unanswered",
            "Calls started today that ended unanswered",
            today.unanswered,
        ),
        (
            "avg_talk_ms",
            "Mean talk time of today's answered, finished calls",
            today.avg_talk_ms,
        ),
        (
            "avg_answer_ms",
            "Mean time to answer of today's answered calls",
            today.avg_answer_ms,
        ),
        (
            "longest_talk_ms",
            "Longest talk time of today's calls",
            today.longest_talk_ms,
        ),
    ] {
        gauge(&mut reg, &format!("today_{key}"), help, v);
    }
    quality::register(&mut reg, snap);
    let direction = family::<DirectionLabel>(
        &mut reg,
        "today_calls_by_direction",
        "Calls started today by direction",
    );
    for (d, v) in [
        ("inbound", today.inbound),
        ("outbound", today.outbound),
        ("internal", today.internal),
    ] {
        direction
            .get_or_create(&DirectionLabel {
                direction: d.into(),
            })
            .set(v);
    }

    let mut out = String::new();
    match format {
        Exposition::OpenMetrics => prometheus_client::encoding::text::encode(&mut out, &reg),
        Exposition::Prometheus => {
            prometheus_client::encoding::prometheus_text::encode(&mut out, &reg)
        }
    }
    .map_err(|e| HttpError::new(500, format!("encoding the metrics failed: {e}")))?;
    Ok(out)
}

mod quality;
#[cfg(test)]
mod tests;

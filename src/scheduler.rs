//! Time-driven work, outside the switch core:
//! - global callbacks (agenda entries of dialer campaigns) are claimed
//!   atomically when due and placed by the dialer, so each fires once, on
//!   time, or right after a restart that spanned its time;
//! - personal agenda reminders: an `agenda_reminder` event for each entry
//!   due within five minutes (once per entry per server run);
//! - the progressive dialer: for each active dialer campaign, keep
//!   `ready agents × ratio` contact calls in flight; answered contacts enter
//!   the campaign's queue and go to a free agent;
//! - numbers the switch refuses as do-not-call: the contact is done, the
//!   callback cancelled (the switch logged the refusal);
//! - contacts outside their campaign's calling hours (in their own zone) wait:
//!   the contact is retried at the next window (the attempt not counted), the
//!   callback is moved to it.

use std::collections::HashSet;
use std::time::Duration;

use switchboard_call::CallState;
use switchboard_center::{AgentStatus, ApiError, EngineRequest};
use switchboard_storage::{CampaignKind, Storage};
use tokio::sync::{mpsc, oneshot};

use crate::events::EventSink;

async fn ask<T>(
    engine: &mpsc::Sender<EngineRequest>,
    make: impl FnOnce(oneshot::Sender<Result<T, ApiError>>) -> EngineRequest,
) -> Option<Result<T, ApiError>> {
    let (tx, rx) = oneshot::channel();
    engine.send(make(tx)).await.ok()?;
    rx.await.ok()
}

/// Whether the switch refused a call because the number is on the do-not-call list.
fn refused_dnc(e: &ApiError) -> bool {
    e.status == 409 && e.message.contains("do-not-call list")
}

/// Whether the switch refused a call as outside the campaign's calling hours.
fn closed_hours(e: &ApiError) -> bool {
    e.status == 409 && e.message.contains("outside the calling hours")
}

/// The next moment a contact in `zone` may be called for `campaign`.
fn next_window(campaign: &switchboard_storage::CampaignRow, zone: Option<&str>) -> Option<i64> {
    let hours: switchboard_center::CallingHours =
        serde_json::from_value(campaign.calling_hours.clone()?).ok()?;
    hours.next_open(switchboard_storage::now_ms(), zone)
}

/// How long before a personal callback its reminder is sent.
const REMIND_BEFORE_MS: i64 = 5 * 60 * 1000;

/// Run forever.
pub async fn run(storage: Storage, engine: mpsc::Sender<EngineRequest>, sink: EventSink) {
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    let mut reminded = HashSet::new();
    let mut n: u64 = 0;
    loop {
        tick.tick().await;
        if engine.is_closed() {
            return;
        }
        callbacks(&storage, &engine).await;
        dialer(&storage, &engine).await;
        if n.is_multiple_of(10) {
            reminders(&storage, &sink, &mut reminded).await;
        }
        n += 1;
    }
}

async fn reminders(storage: &Storage, sink: &EventSink, reminded: &mut HashSet<String>) {
    let Ok(agents) = storage.list_agents().await else {
        return;
    };
    let now = switchboard_storage::now_ms();
    for a in agents.iter().filter(|a| a.enabled) {
        let Ok(due) = storage
            .upcoming_personal(&a.id, now, REMIND_BEFORE_MS)
            .await
        else {
            continue;
        };
        for e in due {
            if reminded.insert(e.id.clone()) {
                sink.publish(serde_json::json!({"type": "agenda_reminder", "agent": a.username, "agenda": e}));
            }
        }
    }
}

async fn callbacks(storage: &Storage, engine: &mpsc::Sender<EngineRequest>) {
    let due = match storage
        .claim_due_global(switchboard_storage::now_ms(), 20)
        .await
    {
        Ok(d) => d,
        Err(e) => {
            tracing::error!(%e, "claiming due callbacks");
            return;
        }
    };
    for entry in due {
        let campaign = match &entry.campaign_id {
            Some(id) => storage.get_campaign(id).await.ok().flatten(),
            None => None,
        };
        let Some(camp) = campaign else {
            tracing::warn!(id = entry.id, "global callback without campaign");
            continue;
        };
        let timezone = match &entry.contact_id {
            Some(id) => storage
                .get_contact(id)
                .await
                .ok()
                .flatten()
                .and_then(|c| c.timezone),
            None => None,
        };
        let (campaign, number, contact_id) = (
            camp.name.clone(),
            entry.phone.clone(),
            entry.contact_id.clone(),
        );
        let zone = timezone.clone();
        match ask(engine, |reply| EngineRequest::DialerCall {
            campaign,
            number,
            contact_id,
            timezone: zone,
            reply,
        })
        .await
        {
            Some(Ok(v)) => {
                let call = Some(v.call_id);
                tracing::info!(id = entry.id, ?call, "global callback placed");
                let _ = storage.mark_agenda_done(&entry.id, call.as_deref()).await;
            }
            Some(Err(e)) if refused_dnc(&e) => {
                // Logged by the switch as a refused call; the callback will never be placed.
                tracing::warn!(id = entry.id, e.message, "global callback cancelled");
                let _ = storage.cancel_agenda(&entry.id).await;
            }
            Some(Err(e)) if closed_hours(&e) => {
                // Waits for the next window of the contact's calling hours.
                let next = next_window(&camp, timezone.as_deref());
                tracing::info!(id = entry.id, e.message, ?next, "global callback waits");
                let at = next.unwrap_or(switchboard_storage::now_ms() + 3_600_000);
                let _ = storage.reschedule_agenda(&entry.id, at).await;
            }
            Some(Err(e)) => tracing::error!(id = entry.id, e.message, "global callback failed"),
            None => return,
        }
    }
}

async fn dialer(storage: &Storage, engine: &mpsc::Sender<EngineRequest>) {
    let campaigns = match storage.list_campaigns().await {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(%e, "listing campaigns");
            return;
        }
    };
    let dialers: Vec<_> = campaigns
        .into_iter()
        .filter(|c| c.kind == CampaignKind::Dialer && c.active)
        .collect();
    if dialers.is_empty() {
        return;
    }
    let Some(Ok(snap)) = ask(engine, EngineRequest::Snapshot).await else {
        return;
    };
    let (agents, calls) = (snap.agents, snap.calls);
    for c in dialers {
        let members: Vec<String> = match storage.list_campaign_agents(&c.id).await {
            Ok(m) => m.into_iter().map(|a| a.username).collect(),
            Err(_) => continue,
        };
        let ready = agents
            .iter()
            .filter(|a| {
                a.status == AgentStatus::Ready && a.registered && members.contains(&a.info.username)
            })
            .count();
        let in_flight = calls
            .iter()
            .filter(|k| {
                k.campaign.as_deref() == Some(c.name.as_str())
                    && matches!(k.state, CallState::Originating | CallState::Ringing)
            })
            .count();
        let ratio = if c.dialer_ratio > 0.0 {
            c.dialer_ratio
        } else {
            1.0
        };
        let want = ((ready as f64) * ratio).floor() as usize;
        if want <= in_flight {
            continue;
        }
        let claim = (want - in_flight) as i64;
        let contacts = match storage
            .claim_contacts_for_dialing(&c.id, switchboard_storage::now_ms(), claim)
            .await
        {
            Ok(v) => v,
            Err(e) => {
                tracing::error!(%e, campaign = c.name, "claiming contacts");
                continue;
            }
        };
        for contact in contacts {
            let (campaign, number, contact_id, timezone) = (
                c.name.clone(),
                contact.phone.clone(),
                Some(contact.id.clone()),
                contact.timezone.clone(),
            );
            match ask(engine, |reply| EngineRequest::DialerCall {
                campaign,
                number,
                contact_id,
                timezone,
                reply,
            })
            .await
            {
                Some(Ok(_)) => tracing::info!(
                    campaign = c.name,
                    phone = contact.phone,
                    "dialer call placed"
                ),
                Some(Err(e)) if refused_dnc(&e) => {
                    // Logged by the switch; the contact is not dialled again.
                    let done = switchboard_storage::ContactStatus::Done;
                    let _ = storage.set_contact_status(&contact.id, done, None).await;
                }
                Some(Err(e)) if closed_hours(&e) => {
                    // Not an attempt: back in the list until its next window.
                    let next = next_window(&c, contact.timezone.as_deref());
                    let _ = storage.release_contact(&contact.id, next).await;
                }
                Some(Err(e)) => {
                    tracing::error!(campaign = c.name, e.message, "dialer call refused")
                }
                None => return,
            }
        }
    }
}

//! Call detail records as CSV rows: the call, its disposition and the final
//! media quality of its customer's and agent's legs.

use chrono_tz::Tz;
use switchboard_storage::CallExport;

use super::{secs, text, time, ExportRow};

impl ExportRow for CallExport {
    const HEADERS: &'static [&'static str] = &[
        "call_id",
        "direction",
        "campaign",
        "agent",
        "caller",
        "callee",
        "contact_id",
        "contact_name",
        "started_at",
        "answered_at",
        "ended_at",
        "duration_s",
        "talk_s",
        "end_reason",
        "status",
        "disposition",
        "note",
        "customer_packets",
        "customer_lost",
        "customer_loss_pct",
        "customer_jitter_ms",
        "customer_mos",
        "agent_packets",
        "agent_lost",
        "agent_loss_pct",
        "agent_jitter_ms",
        "agent_mos",
    ];
    fn fields(&self, tz: Tz) -> Vec<String> {
        let mut v = vec![
            self.id.clone(),
            self.direction.clone(),
            text(&self.campaign),
            text(&self.agent),
            self.caller.clone(),
            self.callee.clone(),
            text(&self.contact_id),
            text(&self.contact_name),
            time(Some(self.started_at), tz),
            time(self.answered_at, tz),
            time(self.ended_at, tz),
            secs(Some(self.started_at), self.ended_at),
            secs(self.answered_at, self.ended_at),
            text(&self.end_reason),
            self.status.clone(),
            text(&self.disposition),
            text(&self.note),
        ];
        for side in [self.quality.customer, self.quality.agent] {
            v.extend(quality_fields(side));
        }
        v
    }
}

/// A side's quality as CSV fields (empty when the side had no media).
fn quality_fields(q: Option<switchboard_storage::SideQuality>) -> [String; 5] {
    match q {
        Some(q) => [
            q.packets_received.to_string(),
            q.packets_lost.to_string(),
            format!("{:.2}", q.loss_percent),
            format!("{:.3}", q.jitter_ms),
            q.mos.map(|m| format!("{m:.2}")).unwrap_or_default(),
        ],
        None => Default::default(),
    }
}

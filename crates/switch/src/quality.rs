//! Media quality of legs and calls. The binary samples the media engine's
//! per-leg statistics every few seconds and hands them in
//! ([`crate::Switch::handle_media_quality`]); call views show each leg's
//! latest sample. When a leg ends, its final figures (asked from the media
//! engine before its port is freed) go to the call's CDR as the customer's
//! or the agent's side, and ended calls feed the totals behind `/metrics`.

use std::collections::HashMap;

use switchboard_center::{CallQuality, LegQuality};

use crate::{LegId, LegState, MediaLeg, MediaQuality};

/// Which side of the call a leg's quality is recorded as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QualitySide {
    /// The served party (customer, or the caller of an internal call).
    Customer,
    /// The agent's leg.
    Agent,
}

/// The view of the media engine's figures for a leg: finite, rounded, and
/// no MOS before the first packet.
pub fn leg_quality(q: &MediaQuality) -> LegQuality {
    LegQuality {
        packets_received: q.packets_received,
        packets_lost: q.packets_lost,
        loss_percent: q.loss_percent,
        jitter_ms: q.jitter_ms,
        remote_loss_percent: q.remote.map(|r| 100.0 * r.fraction_lost),
        rtt_ms: q.remote.and_then(|r| r.rtt_ms),
        r_factor: Some(q.r_factor),
        mos: Some(q.mos),
    }
    .sanitized()
}

/// What consoles are told about: MOS and loss to a tenth, and whether
/// packets arrive at all (packet counts alone do not republish a call).
fn shown(q: Option<&LegQuality>) -> (Option<i64>, i64, bool) {
    match q {
        Some(q) => (
            q.mos.map(|m| (m * 10.0).round() as i64),
            (q.loss_percent * 10.0).round() as i64,
            q.packets_received > 0,
        ),
        None => (None, 0, false),
    }
}

impl crate::Switch {
    /// The media legs whose quality is worth sampling: those of established legs.
    pub fn media_legs(&self) -> Vec<MediaLeg> {
        let mut v: Vec<MediaLeg> = self
            .legs
            .values()
            .filter(|l| l.state == LegState::Confirmed)
            .map(|l| l.media)
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// The media engine's figures for some legs (sampled by the caller at
    /// `now`): call views show them, and a call whose MOS or loss changed
    /// by a tenth or more is republished to consoles.
    pub fn handle_media_quality(&mut self, now: u64, samples: &[(MediaLeg, MediaQuality)]) {
        self.set_now(now);
        let by_media: HashMap<MediaLeg, LegQuality> =
            samples.iter().map(|(m, q)| (*m, leg_quality(q))).collect();
        let mut changed: Vec<String> = Vec::new();
        for l in self.legs.values_mut() {
            if l.state != LegState::Confirmed {
                continue;
            }
            let Some(q) = by_media.get(&l.media) else {
                continue;
            };
            if shown(l.quality.as_ref()) != shown(Some(q)) && !changed.contains(&l.call) {
                changed.push(l.call.clone());
            }
            l.quality = Some(*q);
        }
        for call in changed {
            self.remember_sides(&call);
            if let Some(v) = self.call_view(&call) {
                let ev = switchboard_center::LiveEvent::Call { call: Box::new(v) };
                self.sink.publish(ev.to_json());
            }
        }
    }

    /// The side a leg's quality counts for: from the call's state machine
    /// while it knows the leg, else as last remembered.
    fn quality_side(&self, leg: LegId) -> Option<QualitySide> {
        let l = self.legs.get(&leg)?;
        let Some(e) = self.calls.get(&l.call) else {
            return l.quality_side;
        };
        let c = &e.call;
        if c.customer_leg() == Some(leg) {
            Some(QualitySide::Customer)
        } else if c.agent().map(|a| a.0) == Some(leg) {
            Some(QualitySide::Agent)
        } else if c.legs().contains(&leg) {
            None // third party, pending leg or a supervisor
        } else {
            l.quality_side
        }
    }

    /// Remember which side each leg of `call` is on now (for legs the call
    /// has let go of by the time they end).
    pub(crate) fn remember_sides(&mut self, call: &str) {
        for leg in self.legs_of(call) {
            let side = self.quality_side(leg);
            if let (Some(side), Some(l)) = (side, self.legs.get_mut(&leg)) {
                l.quality_side = Some(side);
            }
        }
    }

    /// A leg is ending: take its final figures from the media engine (the
    /// last sample when the engine no longer knows it) into its call's CDR.
    pub(crate) fn leg_quality_final(&mut self, leg: LegId) {
        let side = self.quality_side(leg);
        let Some(l) = self.legs.get_mut(&leg) else {
            return;
        };
        if let Some(q) = self.media.quality(l.media) {
            l.quality = Some(leg_quality(&q));
        }
        let (Some(side), Some(q)) = (side, l.quality) else {
            return;
        };
        let call = l.call.clone();
        if let Some(e) = self.calls.get_mut(&call) {
            match side {
                QualitySide::Customer => e.quality.customer = Some(q),
                QualitySide::Agent => e.quality.agent = Some(q),
            }
        }
    }

    /// The call is over: its quality goes to the CDR and the totals.
    pub(crate) fn cdr_quality(&mut self, call: &str, campaign: Option<&str>, q: CallQuality) {
        if q.customer.is_none() && q.agent.is_none() {
            return;
        }
        self.quality_totals.record(campaign, &q);
        self.sink.store(crate::StoreOp::CallQuality {
            call: call.to_string(),
            quality: Box::new(q),
        });
    }
}

//! Media quality as consoles, CDRs and `/metrics` show it: one leg's figures
//! ([`LegQuality`], always finite numbers, so views always serialize) and
//! the totals of the calls that ended since start ([`QualityTotals`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A call whose MOS is below this sounds poor (ITU-T G.107: "many users
/// dissatisfied" starts near R = 60..70, MOS ~3.6).
pub const POOR_MOS: f64 = 3.6;

/// Upper bounds of the MOS histogram of ended calls (`+Inf` is implied).
pub const MOS_BUCKETS: [f64; 7] = [2.0, 2.5, 3.0, 3.6, 4.0, 4.2, 4.4];

/// One leg's media quality: what we receive from the phone (packets, loss,
/// jitter) and, summed up with what the phone reports about our stream in
/// RTCP, an E-model R-factor and MOS estimate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LegQuality {
    /// RTP packets received from the phone.
    pub packets_received: u64,
    /// Packets from the phone that never came (from sequence numbers).
    pub packets_lost: u64,
    /// Lost share of the phone's packets, percent (0 before any packet).
    pub loss_percent: f64,
    /// Interarrival jitter of the phone's packets, ms.
    pub jitter_ms: f64,
    /// Share of our packets the phone says it lost (its last RTCP report),
    /// percent; null when the phone sends no RTCP.
    pub remote_loss_percent: Option<f64>,
    /// Round-trip time from the phone's RTCP, ms; null when unknown.
    pub rtt_ms: Option<f64>,
    /// E-model R-factor (0-100, 93 is a perfect G.711 call); null before
    /// the first packet.
    pub r_factor: Option<f64>,
    /// Estimated mean opinion score (1-4.4 for G.711); null before the first packet.
    pub mos: Option<f64>,
}

/// `v` rounded to two decimals; 0 for NaN or an infinity.
pub fn finite(v: f64) -> f64 {
    if v.is_finite() {
        (v * 100.0).round() / 100.0
    } else {
        0.0
    }
}

/// `v` rounded to two decimals; None for NaN or an infinity.
pub fn finite_opt(v: Option<f64>) -> Option<f64> {
    v.filter(|v| v.is_finite()).map(finite)
}

impl LegQuality {
    /// The same with every figure finite and rounded to two decimals, and
    /// no R-factor or MOS while no packet arrived (an estimate of nothing).
    pub fn sanitized(self) -> LegQuality {
        let heard = self.packets_received > 0;
        LegQuality {
            packets_received: self.packets_received,
            packets_lost: self.packets_lost,
            loss_percent: finite(self.loss_percent).clamp(0.0, 100.0),
            jitter_ms: finite(self.jitter_ms).max(0.0),
            remote_loss_percent: finite_opt(self.remote_loss_percent).map(|v| v.clamp(0.0, 100.0)),
            rtt_ms: finite_opt(self.rtt_ms).map(|v| v.max(0.0)),
            r_factor: finite_opt(self.r_factor).filter(|_| heard),
            mos: finite_opt(self.mos).filter(|_| heard),
        }
    }

    /// Whether the leg sounds poor (MOS below [`POOR_MOS`]).
    pub fn is_poor(&self) -> bool {
        self.mos.is_some_and(|m| m < POOR_MOS)
    }
}

/// The final quality of a call's two sides, as its CDR keeps it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CallQuality {
    /// The customer's (served party's) leg.
    pub customer: Option<LegQuality>,
    /// The agent's leg (the last agent's, after a transfer).
    pub agent: Option<LegQuality>,
}

impl CallQuality {
    /// The call's MOS: the worse side's.
    pub fn mos(&self) -> Option<f64> {
        [self.customer, self.agent]
            .into_iter()
            .flatten()
            .filter_map(|q| q.mos)
            .reduce(f64::min)
    }
}

/// Quality of the calls that ended since the server started (for `/metrics`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct QualityTotals {
    /// Ended calls with a MOS, per histogram bucket: `mos_buckets[i]` counts
    /// the MOS values in (`MOS_BUCKETS[i-1]`, `MOS_BUCKETS[i]`]; the last
    /// entry counts those above every bound.
    pub mos_buckets: Vec<u64>,
    /// Sum of those calls' MOS.
    pub mos_sum: f64,
    /// Number of those calls.
    pub mos_count: u64,
    /// Ended calls with a MOS below [`POOR_MOS`], by campaign name (`""`:
    /// calls of no campaign).
    pub poor_by_campaign: BTreeMap<String, u64>,
}

impl QualityTotals {
    /// Count an ended call of `campaign` with this quality (calls without a
    /// MOS, e.g. never answered, are not counted).
    pub fn record(&mut self, campaign: Option<&str>, q: &CallQuality) {
        let Some(mos) = q.mos() else {
            return;
        };
        if self.mos_buckets.len() != MOS_BUCKETS.len() + 1 {
            self.mos_buckets = vec![0; MOS_BUCKETS.len() + 1];
        }
        let i = MOS_BUCKETS
            .iter()
            .position(|b| mos <= *b)
            .unwrap_or(MOS_BUCKETS.len());
        self.mos_buckets[i] += 1;
        self.mos_sum = finite(self.mos_sum + mos);
        self.mos_count += 1;
        if mos < POOR_MOS {
            *self
                .poor_by_campaign
                .entry(campaign.unwrap_or_default().to_string())
                .or_default() += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nan_and_infinities_never_reach_a_view() {
        let q = LegQuality {
            packets_received: 0,
            loss_percent: f64::NAN,
            jitter_ms: f64::INFINITY,
            rtt_ms: Some(f64::NEG_INFINITY),
            r_factor: Some(93.2),
            mos: Some(4.41),
            ..LegQuality::default()
        }
        .sanitized();
        assert_eq!(q.loss_percent, 0.0);
        assert_eq!(q.jitter_ms, 0.0);
        assert_eq!(q.rtt_ms, None);
        assert_eq!(q.mos, None, "no MOS without a packet");
        assert!(serde_json::to_string(&q).is_ok());
    }

    #[test]
    fn totals_count_the_worse_side_and_poor_calls_by_campaign() {
        let leg = |mos| LegQuality {
            packets_received: 100,
            mos: Some(mos),
            ..LegQuality::default()
        };
        let mut t = QualityTotals::default();
        let poor = CallQuality {
            customer: Some(leg(4.4)),
            agent: Some(leg(3.1)),
        };
        t.record(Some("support"), &poor);
        t.record(None, &CallQuality::default());
        t.record(
            None,
            &CallQuality {
                customer: Some(leg(4.41)),
                agent: None,
            },
        );
        assert_eq!(t.mos_count, 2);
        assert_eq!(t.mos_buckets, vec![0, 0, 0, 1, 0, 0, 0, 1]);
        assert_eq!(t.poor_by_campaign.get("support"), Some(&1));
        assert_eq!(t.poor_by_campaign.get(""), None);
        assert!((t.mos_sum - 7.51).abs() < 1e-9);
    }
}

//! Media quality metrics: the MOS histogram of the calls ended since start,
//! the calls that ended sounding poor (MOS below 3.6) per campaign, and the
//! worst MOS of a live call per campaign. Labels are campaign names only
//! (bounded), never call ids.

use std::collections::BTreeMap;

use prometheus_client::encoding::{EncodeMetric, MetricEncoder, NoLabelSet};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::{MetricType, TypedMetric};
use prometheus_client::registry::Registry;
use switchboard_center::quality::MOS_BUCKETS;
use switchboard_center::Snapshot;

use super::CampaignLabel;

/// A histogram whose buckets were counted elsewhere (by the switch):
/// `counts[i]` is the number of values in bucket `i` (not cumulative).
#[derive(Debug)]
struct CountedHistogram {
    sum: f64,
    count: u64,
    buckets: Vec<(f64, u64)>,
}

impl TypedMetric for CountedHistogram {
    const TYPE: MetricType = MetricType::Histogram;
}

impl EncodeMetric for CountedHistogram {
    fn encode(&self, mut encoder: MetricEncoder<'_>) -> Result<(), std::fmt::Error> {
        encoder.encode_histogram::<NoLabelSet>(self.sum, self.count, &self.buckets, None)
    }

    fn metric_type(&self) -> MetricType {
        Self::TYPE
    }
}

/// The worst (lowest) MOS of a live call's legs per campaign, for the
/// campaigns with a measured live call.
pub fn worst_live_mos(snap: &Snapshot) -> BTreeMap<String, f64> {
    let mut worst: BTreeMap<String, f64> = BTreeMap::new();
    for c in &snap.calls {
        let Some(k) = &c.campaign else { continue };
        let legs = [&c.customer, &c.agent_leg, &c.third];
        let mos = legs
            .into_iter()
            .flatten()
            .filter_map(|l| l.quality.and_then(|q| q.mos))
            .reduce(f64::min);
        if let Some(m) = mos {
            let e = worst.entry(k.clone()).or_insert(m);
            *e = e.min(m);
        }
    }
    worst
}

/// Register the quality metrics of `snap` in `reg`.
pub fn register(reg: &mut Registry, snap: &Snapshot) {
    let t = &snap.call_quality;
    let mut buckets: Vec<(f64, u64)> = MOS_BUCKETS
        .iter()
        .copied()
        .chain([f64::INFINITY])
        .map(|b| (b, 0))
        .collect();
    for (b, n) in buckets.iter_mut().zip(&t.mos_buckets) {
        b.1 = *n;
    }
    reg.register(
        "call_mos",
        "Estimated MOS of the calls ended since start (the worse of the customer's and the agent's leg)",
        CountedHistogram {
            sum: t.mos_sum,
            count: t.mos_count,
            buckets,
        },
    );
    let poor = Family::<CampaignLabel, Gauge>::default();
    reg.register(
        "calls_poor_quality",
        "Calls ended since start with a MOS below 3.6, per campaign (\"\": no campaign)",
        poor.clone(),
    );
    for k in &snap.campaigns {
        poor.get_or_create(&CampaignLabel {
            campaign: k.name.clone(),
        })
        .set(0);
    }
    for (k, n) in &t.poor_by_campaign {
        poor.get_or_create(&CampaignLabel {
            campaign: k.clone(),
        })
        .set(i64::try_from(*n).unwrap_or(i64::MAX));
    }
    let worst = Family::<CampaignLabel, Gauge<f64, std::sync::atomic::AtomicU64>>::default();
    reg.register(
        "campaign_worst_live_mos",
        "Lowest MOS of a live call's legs per campaign (campaigns with a measured live call only)",
        worst.clone(),
    );
    for (k, m) in worst_live_mos(snap) {
        worst.get_or_create(&CampaignLabel { campaign: k }).set(m);
    }
}

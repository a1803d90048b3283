//! Queue alerts: a queue's service level below its campaign's threshold, or
//! a caller waiting longer than allowed ([`queue_alerts`]), and the watch
//! that tells when an alert is raised or cleared so it is logged and counted
//! once per crossing, not on every update ([`AlertWatch`]).

use std::collections::HashMap;

use serde::Serialize;
use utoipa::ToSchema;

use crate::{ServiceLevel, SupervisionSettings};

/// Which threshold an alert is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// The service level is below its threshold.
    ServiceLevel,
    /// A caller has waited longer than the threshold.
    LongestWait,
}

impl AlertKind {
    /// Lower-case name (logs, metrics labels).
    pub fn name(self) -> &'static str {
        match self {
            AlertKind::ServiceLevel => "service_level",
            AlertKind::LongestWait => "longest_wait",
        }
    }
}

/// A threshold a queue is crossing right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum QueueAlert {
    /// The service level (percent) is below the campaign's `alert_service_level_below`.
    ServiceLevel {
        /// The service level now (percent).
        percent: u32,
        /// The threshold (percent).
        below: u32,
    },
    /// The longest waiting caller has waited more than `alert_longest_wait_secs`.
    LongestWait {
        /// The longest wait now (s).
        wait_secs: u64,
        /// The threshold (s).
        above_secs: u64,
    },
}

impl QueueAlert {
    /// Its kind.
    pub fn kind(&self) -> AlertKind {
        match self {
            QueueAlert::ServiceLevel { .. } => AlertKind::ServiceLevel,
            QueueAlert::LongestWait { .. } => AlertKind::LongestWait,
        }
    }
}

/// The alerts of a queue now: its service level (none before the first
/// caller left the queue) and its longest wait against the campaign's thresholds.
pub fn queue_alerts(
    settings: &SupervisionSettings,
    level: &ServiceLevel,
    longest_wait_ms: u64,
) -> Vec<QueueAlert> {
    let mut out = Vec::new();
    if let (Some(below), Some(percent)) = (settings.alert_service_level_below, level.percent) {
        if percent < below {
            out.push(QueueAlert::ServiceLevel { percent, below });
        }
    }
    if let Some(above_secs) = settings.alert_longest_wait_secs {
        if longest_wait_ms > above_secs * 1000 {
            out.push(QueueAlert::LongestWait {
                wait_secs: longest_wait_ms / 1000,
                above_secs,
            });
        }
    }
    out
}

/// When the longest wait alert of a queue whose oldest caller entered at
/// `oldest_since` (ms) is raised if nobody answers (ms), if it has such a threshold.
pub fn longest_wait_due(settings: &SupervisionSettings, oldest_since: Option<u64>) -> Option<u64> {
    let above = settings.alert_longest_wait_secs?;
    Some(oldest_since? + above * 1000 + 1)
}

/// How many times each alert of a queue was raised (since the server started).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct AlertCounts {
    /// Service level alerts raised.
    pub service_level: u64,
    /// Longest wait alerts raised.
    pub longest_wait: u64,
}

/// An alert that started or stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Crossing {
    /// The alert is raised (it was not before).
    Raised(QueueAlert),
    /// The alert of this kind is over.
    Cleared(AlertKind),
}

/// The alerts each queue had at the last update, and how often each was raised.
#[derive(Debug, Default)]
pub struct AlertWatch {
    active: HashMap<String, Vec<AlertKind>>,
    raised: HashMap<String, AlertCounts>,
}

impl AlertWatch {
    /// The queue's alerts now: returns what was raised or cleared since the last update.
    pub fn update(&mut self, queue: &str, alerts: &[QueueAlert]) -> Vec<Crossing> {
        let before = self.active.remove(queue).unwrap_or_default();
        let now: Vec<AlertKind> = alerts.iter().map(QueueAlert::kind).collect();
        let mut out: Vec<Crossing> = before
            .iter()
            .filter(|k| !now.contains(k))
            .map(|k| Crossing::Cleared(*k))
            .collect();
        for a in alerts.iter().filter(|a| !before.contains(&a.kind())) {
            let counts = self.raised.entry(queue.to_string()).or_default();
            match a.kind() {
                AlertKind::ServiceLevel => counts.service_level += 1,
                AlertKind::LongestWait => counts.longest_wait += 1,
            }
            out.push(Crossing::Raised(*a));
        }
        if !now.is_empty() {
            self.active.insert(queue.to_string(), now);
        }
        out
    }

    /// Whether the queue has an alert of this kind now.
    pub fn is_active(&self, queue: &str, kind: AlertKind) -> bool {
        self.active.get(queue).is_some_and(|k| k.contains(&kind))
    }

    /// How many times the queue's alerts were raised.
    pub fn raised(&self, queue: &str) -> AlertCounts {
        self.raised.get(queue).copied().unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> SupervisionSettings {
        SupervisionSettings {
            alert_service_level_below: Some(80),
            alert_longest_wait_secs: Some(60),
            ..SupervisionSettings::default()
        }
    }

    #[test]
    fn thresholds() {
        let s = settings();
        let mut level = ServiceLevel::new(20);
        assert!(
            queue_alerts(&s, &level, 60_000).is_empty(),
            "no level yet, 60 s is not above 60 s"
        );
        level.answered(1_000);
        level.abandoned();
        assert_eq!(
            queue_alerts(&s, &level, 60_001),
            vec![
                QueueAlert::ServiceLevel {
                    percent: 50,
                    below: 80
                },
                QueueAlert::LongestWait {
                    wait_secs: 60,
                    above_secs: 60
                }
            ]
        );
        assert!(queue_alerts(&SupervisionSettings::default(), &level, 999_000).is_empty());
        assert_eq!(longest_wait_due(&s, Some(1_000)), Some(61_001));
        assert_eq!(longest_wait_due(&s, None), None);
    }

    #[test]
    fn raised_and_cleared_once() {
        let mut w = AlertWatch::default();
        let wait = QueueAlert::LongestWait {
            wait_secs: 61,
            above_secs: 60,
        };
        assert_eq!(w.update("q", &[wait]), vec![Crossing::Raised(wait)]);
        let longer = QueueAlert::LongestWait {
            wait_secs: 90,
            above_secs: 60,
        };
        assert!(
            w.update("q", &[longer]).is_empty(),
            "still raised: nothing new"
        );
        assert!(w.is_active("q", AlertKind::LongestWait));
        assert_eq!(
            w.update("q", &[]),
            vec![Crossing::Cleared(AlertKind::LongestWait)]
        );
        assert!(w.update("q", &[]).is_empty());
        w.update("q", &[wait]);
        assert_eq!(
            w.raised("q"),
            AlertCounts {
                service_level: 0,
                longest_wait: 2
            }
        );
        assert_eq!(w.raised("other"), AlertCounts::default());
    }
}

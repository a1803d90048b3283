//! Calling hours: per campaign, the windows in which a contact may be
//! called, in the contact's local time (its IANA zone, else the campaign's),
//! per weekday, with holidays (local dates) on which nobody is called.
//!
//! ```json
//! {"zone": "Europe/Madrid", "days": {"mon-fri": "09:00-21:00", "sat": "10:00-14:00"},
//!  "holidays": ["2026-12-25", "2027-01-01"]}
//! ```

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

/// A campaign's calling hours.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CallingHours {
    /// IANA zone for contacts without one of their own (default UTC).
    #[serde(default)]
    pub zone: Option<String>,
    /// Windows by day: keys `mon`..`sun`, ranges `mon-fri`, lists `sat,sun`;
    /// values `HH:MM-HH:MM`. A day with no window has no calls.
    pub days: BTreeMap<String, String>,
    /// Local dates (`YYYY-MM-DD`) with no calls.
    #[serde(default)]
    pub holidays: Vec<String>,
}

/// The checked form: a window per weekday (Monday first).
struct Rules {
    windows: [Option<(NaiveTime, NaiveTime)>; 7],
    holidays: Vec<NaiveDate>,
    zone: Tz,
}

fn weekday(s: &str) -> Result<usize, String> {
    const NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    NAMES
        .iter()
        .position(|n| s.trim().eq_ignore_ascii_case(n))
        .ok_or_else(|| format!("unknown day {s:?}: use mon, tue, wed, thu, fri, sat, sun"))
}

fn window(s: &str) -> Result<(NaiveTime, NaiveTime), String> {
    let bad = || format!("window {s:?}: use HH:MM-HH:MM, e.g. 09:00-21:00");
    let (a, b) = s.split_once('-').ok_or_else(bad)?;
    let t = |x: &str| NaiveTime::parse_from_str(x.trim(), "%H:%M").map_err(|_| bad());
    let (from, to) = (t(a)?, t(b)?);
    if from >= to {
        return Err(format!("window {s:?} must end after it starts"));
    }
    Ok((from, to))
}

impl CallingHours {
    fn rules(&self) -> Result<Rules, String> {
        let mut windows = [None; 7];
        for (days, win) in &self.days {
            let w = window(win)?;
            for part in days.split(',') {
                let (a, b) = match part.split_once('-') {
                    Some((a, b)) => (weekday(a)?, weekday(b)?),
                    None => (weekday(part)?, weekday(part)?),
                };
                if a > b {
                    return Err(format!(
                        "day range {part:?} must go from Monday towards Sunday"
                    ));
                }
                for slot in &mut windows[a..=b] {
                    *slot = Some(w);
                }
            }
        }
        let holidays = self
            .holidays
            .iter()
            .map(|h| {
                NaiveDate::parse_from_str(h.trim(), "%Y-%m-%d")
                    .map_err(|_| format!("holiday {h:?}: use YYYY-MM-DD"))
            })
            .collect::<Result<_, _>>()?;
        let zone = zone_named(self.zone.as_deref().unwrap_or("UTC"))?;
        Ok(Rules {
            windows,
            holidays,
            zone,
        })
    }

    /// Whether the hours are well formed (the message says what is not).
    pub fn validate(&self) -> Result<(), String> {
        self.rules().map(|_| ())
    }

    /// Whether a contact in `zone` (None: the campaign's) may be called at
    /// `at_ms`. Malformed hours allow nothing.
    pub fn allows(&self, at_ms: i64, zone: Option<&str>) -> bool {
        self.next_open(at_ms, zone) == Some(at_ms)
    }

    /// The first moment at or after `at_ms` when the contact may be called
    /// (`at_ms` itself when now is inside a window), looking 15 days ahead.
    pub fn next_open(&self, at_ms: i64, zone: Option<&str>) -> Option<i64> {
        let rules = self.rules().ok()?;
        let tz = match zone.map(zone_named) {
            Some(Ok(z)) => z,
            _ => rules.zone,
        };
        let now = Utc.timestamp_millis_opt(at_ms).single()?.with_timezone(&tz);
        for d in 0..15 {
            let day = now.date_naive() + Duration::days(d);
            let Some((from, to)) = rules.windows[day.weekday().num_days_from_monday() as usize]
            else {
                continue;
            };
            if rules.holidays.contains(&day) {
                continue;
            }
            let start = local(tz, day, from)?;
            let end = local(tz, day, to)?;
            if at_ms < end.timestamp_millis() {
                return Some(start.timestamp_millis().max(at_ms));
            }
        }
        None
    }
}

/// `date time` in `tz`; a time skipped by a DST change moves past the gap.
fn local(tz: Tz, date: NaiveDate, time: NaiveTime) -> Option<DateTime<Tz>> {
    let naive = date.and_time(time);
    tz.from_local_datetime(&naive).earliest().or_else(|| {
        tz.from_local_datetime(&(naive + Duration::hours(1)))
            .earliest()
    })
}

fn zone_named(name: &str) -> Result<Tz, String> {
    name.trim()
        .parse()
        .map_err(|_| format!("unknown time zone {name:?} (an IANA name such as Europe/Madrid)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(t: &str) -> i64 {
        DateTime::parse_from_rfc3339(t).unwrap().timestamp_millis()
    }

    fn hours() -> CallingHours {
        serde_json::from_str(
            r#"{"zone":"Europe/Madrid","days":{"mon-fri":"09:00-21:00","sat":"10:00-14:00"},
                "holidays":["2027-01-01"]}"#,
        )
        .unwrap()
    }

    #[test]
    fn windows_in_the_contacts_local_time() {
        let h = hours();
        h.validate().unwrap();
        // Thursday 2026-12-03 20:30 Madrid (19:30Z): open; 21:00 Madrid: closed.
        assert!(h.allows(ms("2026-12-03T19:30:00Z"), None));
        assert!(!h.allows(ms("2026-12-03T20:00:00Z"), None));
        // Closed at 22:00: next is Friday 09:00 Madrid = 08:00Z.
        assert_eq!(
            h.next_open(ms("2026-12-03T21:00:00Z"), None),
            Some(ms("2026-12-04T08:00:00Z"))
        );
        // The same instant is 17:00 in Buenos Aires: open for a contact there.
        assert!(h.allows(
            ms("2026-12-03T20:00:00Z"),
            Some("America/Argentina/Buenos_Aires")
        ));
        // Saturday after 14:00 and Sunday: next is Monday 09:00.
        assert_eq!(
            h.next_open(ms("2026-12-05T13:30:00Z"), None),
            Some(ms("2026-12-07T08:00:00Z"))
        );
        // A holiday (Friday 2027-01-01) is skipped: Saturday 10:00.
        assert_eq!(
            h.next_open(ms("2026-12-31T21:00:00Z"), None),
            Some(ms("2027-01-02T09:00:00Z"))
        );
    }

    #[test]
    fn windows_follow_daylight_saving() {
        let h = hours();
        // Monday 2027-03-29 (CEST, UTC+2): 09:00 local is 07:00Z, not 08:00Z.
        assert_eq!(
            h.next_open(ms("2027-03-29T06:00:00Z"), None),
            Some(ms("2027-03-29T07:00:00Z"))
        );
        assert!(h.allows(ms("2027-03-29T07:00:00Z"), None));
    }

    #[test]
    fn malformed_hours_are_explained() {
        let bad = |json: &str| {
            serde_json::from_str::<CallingHours>(json)
                .map_err(|e| e.to_string())
                .and_then(|h| h.validate())
                .unwrap_err()
        };
        assert!(bad(r#"{"days":{"mon":"21:00-09:00"}}"#).contains("end after"));
        assert!(bad(r#"{"days":{"funday":"09:00-10:00"}}"#).contains("unknown day"));
        assert!(bad(r#"{"days":{"fri-mon":"09:00-10:00"}}"#).contains("Monday towards"));
        assert!(bad(r#"{"days":{},"zone":"Mars/Base"}"#).contains("time zone"));
        assert!(bad(r#"{"days":{},"holidays":["25/12"]}"#).contains("YYYY-MM-DD"));
        assert!(bad(r#"{"dayz":{}}"#).contains("unknown field"));
    }
}

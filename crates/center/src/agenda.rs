//! Agenda (scheduled callback) rules: parsing the date/time the agent gave
//! (time-zone aware) and which campaigns allow a global callback.

use chrono::{DateTime, FixedOffset, LocalResult, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

/// Personal (the agent's own list) or global (back into the dialer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The agent's own agenda.
    Personal,
    /// The dialer calls the contact at that time.
    Global,
}

impl Kind {
    /// Parse `personal` / `global`.
    pub fn parse(s: &str) -> Result<Kind, String> {
        match s {
            "personal" => Ok(Kind::Personal),
            "global" => Ok(Kind::Global),
            other => Err(format!(
                "agenda kind must be personal or global, not {other:?}"
            )),
        }
    }
}

/// Parse the scheduled time: RFC 3339 with an offset (`2026-11-25T15:00:00+01:00`),
/// or a local `YYYY-MM-DDTHH:MM[:SS]` in the zone `tz`: an IANA name
/// (`Europe/Madrid`, `America/Argentina/Buenos_Aires`), whose daylight-saving
/// rules apply on that date, or a fixed UTC offset like `+01:00` / `-0300` /
/// `Z` (the older form). A local time that a DST change skips is refused; one
/// it repeats is the first of the two. Returns unix ms (UTC).
pub fn parse_when(at: &str, tz: Option<&str>) -> Result<i64, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(at.trim()) {
        return Ok(t.with_timezone(&Utc).timestamp_millis());
    }
    let naive = [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(at.trim(), f).ok())
    .ok_or_else(|| {
        format!("cannot read the date/time {at:?}: use 2026-11-25T15:00 with a time zone")
    })?;
    let tz = tz
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or("a date/time without an offset needs the tz field (e.g. Europe/Madrid or +01:00)")?;
    if let Ok(zone) = tz.parse::<Tz>() {
        return match zone.from_local_datetime(&naive) {
            LocalResult::Single(t) => Ok(t.with_timezone(&Utc).timestamp_millis()),
            LocalResult::Ambiguous(first, _) => Ok(first.with_timezone(&Utc).timestamp_millis()),
            LocalResult::None => Err(format!(
                "{naive} does not exist in {tz}: the clocks skip it (daylight saving); choose another time"
            )),
        };
    }
    let offset = parse_offset(tz)
        .map_err(|e| format!("{e}, or an IANA time zone name such as Europe/Madrid"))?;
    offset
        .from_local_datetime(&naive)
        .single()
        .map(|t| t.with_timezone(&Utc).timestamp_millis())
        .ok_or_else(|| "ambiguous local time".to_string())
}

/// Whether `tz` is a time zone [`parse_when`] accepts (IANA name or offset).
pub fn valid_tz(tz: &str) -> bool {
    tz.trim().parse::<Tz>().is_ok() || parse_offset(tz).is_ok()
}

fn parse_offset(s: &str) -> Result<FixedOffset, String> {
    let s = s.trim();
    if s == "Z" || s.eq_ignore_ascii_case("utc") {
        return Ok(FixedOffset::east_opt(0).expect("zero"));
    }
    let (sign, rest) = match s.chars().next() {
        Some('+') => (1, &s[1..]),
        Some('-') => (-1, &s[1..]),
        _ => return Err(format!("bad time zone offset {s:?}: use +HH:MM")),
    };
    let digits: String = rest.chars().filter(|c| *c != ':').collect();
    if digits.len() != 4 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!("bad time zone offset {s:?}: use +HH:MM"));
    }
    let h: i32 = digits[..2].parse().map_err(|_| "bad offset")?;
    let m: i32 = digits[2..].parse().map_err(|_| "bad offset")?;
    if h > 14 || m > 59 {
        return Err(format!("time zone offset {s:?} out of range"));
    }
    FixedOffset::east_opt(sign * (h * 3600 + m * 60)).ok_or_else(|| "offset out of range".into())
}

/// A global callback is only for outbound dialer campaigns.
pub fn check_global_allowed(campaign_kind: Option<&str>) -> Result<(), String> {
    match campaign_kind {
        Some("dialer") => Ok(()),
        Some(k) => Err(format!("a global callback is only possible for outbound dialer campaigns (this call's campaign is {k})")),
        None => Err("a global callback is only possible for outbound dialer campaigns (this call has no campaign)".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_times_with_zones() {
        let a = parse_when("2026-11-25T15:00:00+01:00", None).unwrap();
        let b = parse_when("2026-11-25T14:00", Some("Z")).unwrap();
        let c = parse_when("2026-11-25 11:00", Some("-03:00")).unwrap();
        assert_eq!(a, b);
        assert_eq!(b, c);
        assert!(parse_when("tomorrow", Some("Z")).is_err());
        assert!(parse_when("2026-11-25T14:00", None).is_err());
        assert!(parse_when("2026-11-25T14:00", Some("+25:00")).is_err());
        assert!(parse_when("2026-11-25T14:00", Some("Mars/Olympus")).is_err());
    }

    /// 10:00 in Madrid is 09:00 UTC in winter (CET) and 08:00 UTC in summer (CEST).
    #[test]
    fn iana_zones_follow_daylight_saving() {
        let ms = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().timestamp_millis();
        let madrid = Some("Europe/Madrid");
        assert_eq!(
            parse_when("2027-03-27T10:00", madrid).unwrap(),
            ms("2027-03-27T09:00:00Z")
        );
        assert_eq!(
            parse_when("2027-03-29T10:00", madrid).unwrap(),
            ms("2027-03-29T08:00:00Z")
        );
        // 02:30 does not exist on 2027-03-28 in Madrid; 02:30 on 2027-10-31 happens twice.
        let gap = parse_when("2027-03-28T02:30", madrid).unwrap_err();
        assert!(gap.contains("does not exist"), "{gap}");
        assert_eq!(
            parse_when("2027-10-31T02:30", madrid).unwrap(),
            ms("2027-10-31T00:30:00Z")
        );
        // Buenos Aires has no DST: -03:00 all year.
        let ba = Some("America/Argentina/Buenos_Aires");
        assert_eq!(
            parse_when("2027-01-10T09:00", ba).unwrap(),
            ms("2027-01-10T12:00:00Z")
        );
        assert!(valid_tz("Europe/Madrid") && valid_tz("+01:00") && !valid_tz("Madrid"));
    }

    #[test]
    fn global_only_for_dialer() {
        assert!(check_global_allowed(Some("dialer")).is_ok());
        assert!(check_global_allowed(Some("inbound")).is_err());
        assert!(check_global_allowed(None).is_err());
    }
}

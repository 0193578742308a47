//! Times on the command line: durations (`90s`, `15m`, `1h30m`, `7d`) and moments (a duration
//! ago, or an RFC 3339 time).

use std::time::Duration;

use chrono::{DateTime, Utc};

/// Parses `500ms`, `90s`, `15m`, `2h`, `7d`, `2w` and sums like `1h30m`.
pub(crate) fn parse_duration(text: &str) -> Result<Duration, String> {
    let invalid = || {
        format!(
            "invalid duration `{text}`: write a number and a unit (ms, s, m, h, d, w), e.g. `90s`, `15m`, `1h30m`, `7d`"
        )
    };
    let mut rest = text.trim();
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut total = Duration::ZERO;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).ok_or_else(invalid)?;
        if digits == 0 {
            return Err(invalid());
        }
        let number: u64 = rest[..digits].parse().map_err(|_| invalid())?;
        rest = &rest[digits..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit()).unwrap_or(rest.len());
        let seconds_per_unit = match &rest[..unit_len] {
            "ms" => None,
            "s" => Some(1),
            "m" => Some(60),
            "h" => Some(3_600),
            "d" => Some(86_400),
            "w" => Some(604_800),
            _ => return Err(invalid()),
        };
        let part = match seconds_per_unit {
            None => Duration::from_millis(number),
            Some(unit) => Duration::from_secs(number.checked_mul(unit).ok_or_else(invalid)?),
        };
        total = total.checked_add(part).ok_or_else(invalid)?;
        rest = &rest[unit_len..];
    }
    Ok(total)
}

/// Parses a moment: an RFC 3339 time (`2026-12-01T00:00:00Z`), or a duration before `now`
/// (`7d`: seven days ago).
pub(crate) fn parse_moment(text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    if let Ok(time) = DateTime::parse_from_rfc3339(text.trim()) {
        return Ok(time.with_timezone(&Utc));
    }
    let ago = parse_duration(text).map_err(|_| {
        format!("invalid time `{text}`: give a duration ago (`7d`, `12h`) or an RFC 3339 time (`2026-12-01T00:00:00Z`)")
    })?;
    let ago = chrono::Duration::from_std(ago).map_err(|_| format!("`{text}` is too long ago"))?;
    now.checked_sub_signed(ago).ok_or_else(|| format!("`{text}` is too long ago"))
}

/// A duration for people: `850ms`, `12s`, `3m 20s`, `5h 2m`, `3d 4h`.
pub(crate) fn show_duration(duration: Duration) -> String {
    let seconds = duration.as_secs();
    match seconds {
        0 if duration.is_zero() => "0s".to_owned(),
        0 => format!("{}ms", duration.as_millis()),
        1..60 => format!("{seconds}s"),
        60..3_600 => format!("{}m {}s", seconds / 60, seconds % 60),
        3_600..86_400 => format!("{}h {}m", seconds / 3_600, seconds % 3_600 / 60),
        _ => format!("{}d {}h", seconds / 86_400, seconds % 86_400 / 3_600),
    }
}

/// A time for people, in UTC to the second: `2026-12-06 12:56:50`.
pub(crate) fn show_time(time: DateTime<Utc>) -> String {
    time.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// How long before `now` `time` was: `12s ago` (or `in 12s` for a time to come).
pub(crate) fn show_age(time: DateTime<Utc>, now: DateTime<Utc>) -> String {
    match (now - time).to_std() {
        Ok(ago) => format!("{} ago", show_duration(ago)),
        Err(_) => format!("in {}", show_duration((time - now).to_std().unwrap_or_default())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_add_up_their_parts() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5_400)));
        assert_eq!(parse_duration("7d"), Ok(Duration::from_secs(7 * 86_400)));
        assert_eq!(parse_duration("2w"), Ok(Duration::from_secs(14 * 86_400)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        for bad in ["", "s", "10", "10y", "1.5h", "-3m", "h1"] {
            let error = parse_duration(bad).unwrap_err();
            assert!(error.contains("invalid duration"), "{bad}: {error}");
        }
    }

    #[test]
    fn moments_are_times_or_durations_ago() {
        let now = DateTime::parse_from_rfc3339("2026-12-06T12:00:00Z").unwrap().with_timezone(&Utc);
        assert_eq!(parse_moment("2h", now).unwrap().to_rfc3339(), "2026-12-06T10:00:00+00:00");
        assert_eq!(parse_moment("2026-12-01T01:02:03+01:00", now).unwrap().to_rfc3339(), "2026-12-01T00:02:03+00:00");
        assert!(parse_moment("yesterday", now).unwrap_err().contains("RFC 3339"));
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(show_duration(Duration::ZERO), "0s");
        assert_eq!(show_duration(Duration::from_millis(850)), "850ms");
        assert_eq!(show_duration(Duration::from_secs(200)), "3m 20s");
        assert_eq!(show_duration(Duration::from_secs(3 * 86_400 + 4 * 3_600 + 5)), "3d 4h");
        let now = Utc::now();
        assert_eq!(show_age(now - chrono::Duration::seconds(12), now), "12s ago");
        assert_eq!(show_age(now + chrono::Duration::seconds(60), now), "in 1m 0s");
    }
}

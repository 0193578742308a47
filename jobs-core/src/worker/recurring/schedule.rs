//! Schedules: cron expressions (seconds optional), `@hourly`-style nicknames and plain phrases,
//! read in a time zone.

use std::fmt;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use croner::Cron;
use croner::parser::CronParser;

use crate::contract::Error;

/// When a recurring task runs: a parsed schedule in a time zone.
///
/// Accepted forms, parsed by [`croner`](https://docs.rs/croner) (Vixie cron with `L`, `W`, `#`):
/// * cron with five fields (`0 9 * * *`), or six with seconds first (`*/5 * * * * *`), or seven
///   with a year last;
/// * nicknames: `@yearly`, `@monthly`, `@weekly`, `@daily`, `@midnight`, `@hourly`;
/// * plain English phrases that [`english-to-cron`](https://docs.rs/english-to-cron) turns into
///   cron: `every 5 minutes`, `every 15 seconds`, `every day at 4:00 pm`, `on Sunday at 12:00`.
///
/// Times are read in the schedule's IANA time zone (UTC by default), with croner's rules for
/// daylight saving time: a daily `30 2 * * *` in a zone whose clocks skip from 02:00 to 03:00
/// runs once, at 03:00, that day; on the day clocks fall back from 03:00 to 02:00 it runs once,
/// at the first 02:30. Jobs that repeat within the hour (`*/15 * * * *`) run at every real
/// instant that matches.
///
/// ```
/// # use jobs_core::Schedule;
/// let schedule = Schedule::parse("0 9 * * *", Some("Europe/Paris")).unwrap();
/// let after = "2030-01-01T00:00:00Z".parse().unwrap();
/// assert_eq!(schedule.next_after(after).unwrap().to_rfc3339(), "2030-01-01T08:00:00+00:00");
/// assert!(Schedule::parse("every 5 minutes", None).is_ok());
/// assert!(Schedule::parse("61 * * * *", None).is_err());
/// ```
#[derive(Clone)]
pub struct Schedule {
    expression: String,
    cron: Cron,
    zone: Tz,
}

impl fmt::Debug for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Schedule").field("expression", &self.expression).field("zone", &self.zone).finish()
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.expression)?;
        if self.zone != Tz::UTC {
            write!(f, " ({})", self.zone)?;
        }
        Ok(())
    }
}

impl Schedule {
    /// Parses `expression` in `time_zone` (an IANA name such as `Europe/Paris`; `None` is UTC).
    /// The error names the expression and what is wrong with it.
    ///
    /// As with Solid Queue's schedules (read by Fugit), a time zone may also end the expression
    /// (`0 9 * * * Europe/Paris`, `every day at 9am America/New_York`); it must then agree with
    /// `time_zone` if both are given.
    pub fn parse(expression: &str, time_zone: Option<&str>) -> Result<Self, Error> {
        let zone_of = |name: &str| {
            name.parse::<Tz>().map_err(|_| {
                Error::Config(format!("unknown time zone `{name}` (expected an IANA name such as Europe/Paris)"))
            })
        };
        let mut trimmed = expression.trim();
        let mut zone = time_zone.map(zone_of).transpose()?;
        if let Some((rest, last)) = trimmed.rsplit_once(char::is_whitespace)
            && (last.contains('/') || last == "UTC")
            && let Ok(trailing) = last.parse::<Tz>()
        {
            if zone.is_some_and(|zone| zone != trailing) {
                return Err(Error::Config(format!(
                    "schedule `{expression}` names time zone {last}, which is not the task's time zone {}",
                    time_zone.unwrap_or_default()
                )));
            }
            zone = Some(trailing);
            trimmed = rest.trim_end();
        }
        let zone = zone.unwrap_or(Tz::UTC);
        let parser = CronParser::new();
        let cron = match parser.parse(trimmed) {
            Ok(cron) => cron,
            // A phrase: starts with a letter (nicknames start with `@`, cron fields with digits,
            // `*` or a month or weekday name followed by more fields).
            Err(cron_error) if is_phrase(trimmed) => {
                let converted = english_to_cron::str_cron_syntax(trimmed).map_err(|e| {
                    Error::Config(format!("invalid schedule `{expression}`: not a cron expression ({cron_error}), nor a phrase this crate reads ({e})"))
                })?;
                // english-to-cron writes Quartz steps (`0/5`: from 0, every 5), which croner
                // reads in its "sloppy" mode only.
                CronParser::builder().sloppy_ranges(true).build().parse(&converted).map_err(|e| {
                    Error::Config(format!("invalid schedule `{expression}` (read as `{converted}`): {e}"))
                })?
            }
            Err(error) => return Err(Error::Config(format!("invalid schedule `{expression}`: {error}"))),
        };
        let schedule = Schedule { expression: trimmed.to_owned(), cron, zone };
        // A pattern that parses but never matches (`0 0 30 2 *`) is as wrong as one that does not parse.
        if schedule.next_after(Utc::now()).is_none() {
            return Err(Error::Config(format!("invalid schedule `{expression}`: it never runs")));
        }
        Ok(schedule)
    }

    /// The expression as written.
    pub fn expression(&self) -> &str {
        &self.expression
    }

    /// The time zone it is read in.
    pub fn time_zone(&self) -> &str {
        self.zone.name()
    }

    /// The first tick strictly after `after`, if any.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let local = after.with_timezone(&self.zone);
        self.cron.find_next_occurrence(&local, false).ok().map(|t| t.with_timezone(&Utc))
    }

    /// The latest tick at or before `at`, if any.
    pub fn latest_until(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let local = at.with_timezone(&self.zone);
        self.cron.find_previous_occurrence(&local, true).ok().map(|t| t.with_timezone(&Utc))
    }

    /// The ticks after `after` and at or before `until`, oldest first, at most `limit` of them.
    pub fn ticks(&self, after: DateTime<Utc>, until: DateTime<Utc>, limit: usize) -> Vec<DateTime<Utc>> {
        let mut ticks = Vec::new();
        let mut cursor = after;
        while ticks.len() < limit {
            match self.next_after(cursor) {
                Some(tick) if tick <= until => {
                    ticks.push(tick);
                    cursor = tick;
                }
                _ => break,
            }
        }
        ticks
    }
}

fn is_phrase(text: &str) -> bool {
    text.split_whitespace().next().is_some_and(|word| word.len() > 3 && word.chars().all(|c| c.is_ascii_alphabetic()))
        || text.split_whitespace().count() < 5 && text.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    fn day_ticks(schedule: &Schedule, from: &str, to: &str) -> Vec<String> {
        schedule.ticks(at(from), at(to), 100).iter().map(|t| t.to_rfc3339()).collect()
    }

    #[test]
    fn spring_forward_runs_a_skipped_daily_time_once() {
        // Europe/Paris skips 02:00-03:00 on 2030-03-31; New York on 2030-03-10.
        let paris = Schedule::parse("30 2 * * *", Some("Europe/Paris")).unwrap();
        assert_eq!(
            day_ticks(&paris, "2030-03-30T12:00:00Z", "2030-04-01T12:00:00Z"),
            ["2030-03-31T01:00:00+00:00", "2030-04-01T00:30:00+00:00"],
            "once at 03:00 CEST on the day of the gap, then 02:30 CEST"
        );
        let new_york = Schedule::parse("30 2 * * *", Some("America/New_York")).unwrap();
        assert_eq!(
            day_ticks(&new_york, "2030-03-09T12:00:00Z", "2030-03-11T12:00:00Z"),
            ["2030-03-10T07:00:00+00:00", "2030-03-11T06:30:00+00:00"]
        );
    }

    #[test]
    fn fall_back_runs_a_repeated_daily_time_once() {
        // Europe/Paris repeats 02:00-03:00 on 2030-10-27; New York repeats 01:00-02:00 on 2030-11-03.
        let paris = Schedule::parse("30 2 * * *", Some("Europe/Paris")).unwrap();
        assert_eq!(
            day_ticks(&paris, "2030-10-26T12:00:00Z", "2030-10-28T12:00:00Z"),
            ["2030-10-27T00:30:00+00:00", "2030-10-28T01:30:00+00:00"]
        );
        let new_york = Schedule::parse("30 1 * * *", Some("America/New_York")).unwrap();
        assert_eq!(
            day_ticks(&new_york, "2030-11-02T12:00:00Z", "2030-11-04T12:00:00Z"),
            ["2030-11-03T05:30:00+00:00", "2030-11-04T06:30:00+00:00"]
        );
    }

    #[test]
    fn seconds_nicknames_and_phrases() {
        let every_5s = Schedule::parse("*/5 * * * * *", None).unwrap();
        assert_eq!(
            day_ticks(&every_5s, "2030-01-01T00:00:00Z", "2030-01-01T00:00:12Z"),
            ["2030-01-01T00:00:05+00:00", "2030-01-01T00:00:10+00:00"]
        );
        let hourly = Schedule::parse("@hourly", None).unwrap();
        assert_eq!(hourly.next_after(at("2030-01-01T00:10:00Z")), Some(at("2030-01-01T01:00:00Z")));
        let phrase = Schedule::parse("every 5 minutes", None).unwrap();
        assert_eq!(phrase.next_after(at("2030-01-01T00:01:00Z")), Some(at("2030-01-01T00:05:00Z")));
        assert_eq!(hourly.latest_until(at("2030-01-01T03:00:00Z")), Some(at("2030-01-01T03:00:00Z")));
        let trailing = Schedule::parse("0 9 * * * Europe/Paris", None).unwrap();
        assert_eq!((trailing.expression(), trailing.time_zone()), ("0 9 * * *", "Europe/Paris"));
        assert!(Schedule::parse("0 9 * * * Europe/Paris", Some("Asia/Tokyo")).is_err());
    }

    #[test]
    fn invalid_schedules_name_the_expression() {
        for bad in ["61 * * * *", "every blue moon", "* * *", "0 0 30 2 *"] {
            let error = Schedule::parse(bad, None).unwrap_err().to_string();
            assert!(error.contains(bad), "{error}");
        }
        let error = Schedule::parse("@daily", Some("Mars/Olympus")).unwrap_err().to_string();
        assert!(error.contains("Mars/Olympus"), "{error}");
    }
}

//! Which ticks of a task a scheduler enqueues: those due since it last looked, with the task's
//! policy for ticks missed while no scheduler ran.

use chrono::{DateTime, Utc};

use crate::contract::MissedTicks;

use super::schedule::Schedule;

/// How late a tick may be and still count as on time under [`MissedTicks::Skip`].
pub(crate) const ON_TIME: chrono::TimeDelta = chrono::TimeDelta::minutes(1);

/// The most ticks of one task enqueued by one look, under [`MissedTicks::Within`].
pub(crate) const MAX_CATCH_UP: usize = 1_000;

/// The ticks after `after` (the later of where this scheduler stopped looking and the task's
/// last run) and at or before `now`, that `missed` lets a scheduler enqueue, oldest first.
pub(crate) fn due(
    schedule: &Schedule,
    missed: MissedTicks,
    after: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Vec<DateTime<Utc>> {
    match missed {
        MissedTicks::Within(window) => {
            let window = chrono::Duration::from_std(window).unwrap_or(chrono::TimeDelta::MAX);
            let from = after.max(now - window);
            // The newest ticks when there are more than the cap.
            let mut ticks = schedule.ticks(from, now, usize::MAX);
            let excess = ticks.len().saturating_sub(MAX_CATCH_UP);
            ticks.drain(..excess);
            ticks
        }
        MissedTicks::Latest | MissedTicks::Skip => {
            let Some(latest) = schedule.latest_until(now).filter(|tick| *tick > after) else { return Vec::new() };
            if missed == MissedTicks::Skip && now - latest > ON_TIME {
                return Vec::new();
            }
            vec![latest]
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn after_downtime_latest_enqueues_one_tick_skip_none_within_a_window_each() {
        let every_minute = Schedule::parse("* * * * *", None).unwrap();
        let (last, now) = (at("2030-01-01T00:00:00Z"), at("2030-01-01T01:00:30Z"));
        assert_eq!(due(&every_minute, MissedTicks::Latest, last, now), [at("2030-01-01T01:00:00Z")]);
        assert_eq!(due(&every_minute, MissedTicks::Skip, last, now), [at("2030-01-01T01:00:00Z")], "on time");
        assert!(
            due(&every_minute, MissedTicks::Skip, last, at("2030-01-01T01:01:59Z") - chrono::TimeDelta::seconds(58))
                .len()
                == 1
        );
        let hourly = Schedule::parse("@hourly", None).unwrap();
        assert!(due(&hourly, MissedTicks::Skip, last, at("2030-01-01T05:30:00Z")).is_empty(), "late ticks skipped");
        let window = MissedTicks::Within(Duration::from_secs(600));
        let ticks = due(&every_minute, window, last, now);
        assert_eq!(ticks.len(), 10);
        assert_eq!((ticks[0], ticks[9]), (at("2030-01-01T00:51:00Z"), at("2030-01-01T01:00:00Z")));
    }

    #[test]
    fn nothing_is_due_twice_or_early() {
        let every_minute = Schedule::parse("* * * * *", None).unwrap();
        let now = at("2030-01-01T00:10:00Z");
        assert!(due(&every_minute, MissedTicks::Latest, now, now).is_empty());
        assert!(due(&every_minute, MissedTicks::Latest, now, at("2030-01-01T00:10:59Z")).is_empty());
        let window = MissedTicks::Within(Duration::from_secs(3600));
        assert!(due(&every_minute, window, now, now + chrono::TimeDelta::seconds(59)).is_empty());
    }

    #[test]
    fn a_window_catch_up_is_capped() {
        let every_second = Schedule::parse("* * * * * *", None).unwrap();
        let now = at("2030-01-01T06:00:00Z");
        let ticks =
            due(&every_second, MissedTicks::Within(Duration::from_secs(3 * 3600)), at("2030-01-01T00:00:00Z"), now);
        assert_eq!(ticks.len(), MAX_CATCH_UP);
        assert_eq!(ticks.last(), Some(&now));
    }
}

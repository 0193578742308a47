//! Times and durations as the whole microseconds that stores keep (SQLite's integers,
//! PostgreSQL's `timestamptz` and intervals, Redis scores in float seconds). Each name says
//! which way it converts and what it converts, so that a time is never taken for a duration.

use std::time::Duration;

use chrono::{DateTime, Utc};

/// A time as microseconds since the Unix epoch, rounded down (towards the past): for times
/// that have happened, such as now, an enqueue or a failure. For due times use [`due_micros`].
///
/// ```
/// # use jobs_core::adapter::time_to_micros;
/// let at: chrono::DateTime<chrono::Utc> = "2030-01-01T00:00:00.000001999Z".parse().unwrap();
/// assert_eq!(time_to_micros(at), 1_893_456_000_000_001);
/// ```
pub fn time_to_micros(time: DateTime<Utc>) -> i64 {
    time.timestamp_micros()
}

/// A due time in whole microseconds since the Unix epoch, rounded **up**, for stores that keep
/// microseconds (SQLite's integers, PostgreSQL's `timestamptz`): a job stored with it never
/// runs before its time.
///
/// ```
/// # use jobs_core::adapter::due_micros;
/// let at: chrono::DateTime<chrono::Utc> = "2030-01-01T00:00:00.000000001Z".parse().unwrap();
/// assert_eq!(due_micros(at), at.timestamp_micros() + 1);
/// let whole: chrono::DateTime<chrono::Utc> = "2030-01-01T00:00:00.000002Z".parse().unwrap();
/// assert_eq!(due_micros(whole), whole.timestamp_micros());
/// ```
pub fn due_micros(time: DateTime<Utc>) -> i64 {
    let floor = time.timestamp_micros();
    if time.timestamp_subsec_nanos().is_multiple_of(1000) { floor } else { floor.saturating_add(1) }
}

/// Microseconds since the Unix epoch, as stored by [`time_to_micros`] or [`due_micros`], read
/// back as a time. A value beyond the times chrono represents (about 262 000 years either way)
/// gives the nearest one it does, so that reading a corrupt row never panics.
///
/// ```
/// # use jobs_core::adapter::{micros_to_time, time_to_micros};
/// let at: chrono::DateTime<chrono::Utc> = "2030-01-01T00:00:00.000001Z".parse().unwrap();
/// assert_eq!(micros_to_time(time_to_micros(at)), at);
/// assert_eq!(micros_to_time(i64::MAX), chrono::DateTime::<chrono::Utc>::MAX_UTC);
/// ```
pub fn micros_to_time(micros: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(micros).unwrap_or(if micros < 0 {
        DateTime::<Utc>::MIN_UTC
    } else {
        DateTime::<Utc>::MAX_UTC
    })
}

/// A duration (a lease, a retry delay, a retention) in whole microseconds, rounded down;
/// `i64::MAX` for durations longer than that (about 292 000 years).
///
/// ```
/// # use std::time::Duration;
/// # use jobs_core::adapter::duration_to_micros;
/// assert_eq!(duration_to_micros(Duration::from_millis(1500)), 1_500_000);
/// assert_eq!(duration_to_micros(Duration::from_nanos(1999)), 1);
/// assert_eq!(duration_to_micros(Duration::MAX), i64::MAX);
/// ```
pub fn duration_to_micros(duration: Duration) -> i64 {
    i64::try_from(duration.as_micros()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn time(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn past_times_round_down_and_due_times_round_up() {
        let at = time("2030-01-01T00:00:00.000001500Z");
        assert_eq!(time_to_micros(at), 1_893_456_000_000_001);
        assert_eq!(due_micros(at), 1_893_456_000_000_002);
        let exact = time("2030-01-01T00:00:01Z");
        assert_eq!((time_to_micros(exact), due_micros(exact)), (1_893_456_001_000_000, 1_893_456_001_000_000));
        assert!(micros_to_time(due_micros(at)) >= at, "a due time read back is never earlier");
    }

    #[test]
    fn before_the_epoch_rounding_keeps_its_direction() {
        let at = time("1969-12-31T23:59:59.999999500Z");
        assert_eq!(time_to_micros(at), -1);
        assert_eq!(due_micros(at), 0);
        assert_eq!(micros_to_time(-1), time("1969-12-31T23:59:59.999999Z"));
    }

    #[test]
    fn micros_read_back_as_the_same_time() {
        for text in ["1970-01-01T00:00:00Z", "2024-05-06T07:08:09.123456Z", "1900-02-03T04:05:06.000007Z"] {
            assert_eq!(micros_to_time(time_to_micros(time(text))), time(text));
        }
        assert_eq!(micros_to_time(i64::MIN), DateTime::<Utc>::MIN_UTC);
        assert_eq!(micros_to_time(i64::MAX), DateTime::<Utc>::MAX_UTC);
    }

    #[test]
    fn durations_round_down_and_saturate() {
        assert_eq!(duration_to_micros(Duration::ZERO), 0);
        assert_eq!(duration_to_micros(Duration::from_secs(60)), 60_000_000);
        assert_eq!(duration_to_micros(Duration::from_nanos(999)), 0);
        assert_eq!(duration_to_micros(Duration::from_secs(u64::MAX)), i64::MAX);
    }
}

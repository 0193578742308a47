//! The memory adapter's per-minute history of runs.

use std::collections::BTreeMap;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};

use crate::contract::{HISTORY_RETENTION, HistoryPoint};

/// Processed and failed runs by (minute, queue, class), kept for [`HISTORY_RETENTION`].
#[derive(Debug, Default)]
pub(super) struct History {
    minutes: BTreeMap<(DateTime<Utc>, String, String), (u64, u64)>,
}

impl History {
    /// Adds `points` to what is kept, and forgets minutes older than the retention at `now`.
    pub(super) fn record(&mut self, points: &[HistoryPoint], now: DateTime<Utc>) {
        let cutoff = now - TimeDelta::from_std(HISTORY_RETENTION).unwrap_or(TimeDelta::MAX);
        for point in points {
            let minute = minute_of(point.minute);
            if minute < cutoff {
                continue;
            }
            let counts = self.minutes.entry((minute, point.queue.clone(), point.class.clone())).or_default();
            counts.0 += point.processed;
            counts.1 += point.failed;
        }
        self.minutes = self.minutes.split_off(&(cutoff, String::new(), String::new()));
    }

    /// The minutes from `since` on, oldest first (then by queue and class).
    pub(super) fn since(&self, since: DateTime<Utc>) -> Vec<HistoryPoint> {
        self.minutes
            .range((since, String::new(), String::new())..)
            .map(|((minute, queue, class), (processed, failed))| HistoryPoint {
                minute: *minute,
                queue: queue.clone(),
                class: class.clone(),
                processed: *processed,
                failed: *failed,
            })
            .collect()
    }
}

/// The minute `time` falls in.
fn minute_of(time: DateTime<Utc>) -> DateTime<Utc> {
    time.duration_trunc(TimeDelta::minutes(1)).unwrap_or(time)
}

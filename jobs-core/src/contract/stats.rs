//! Numbers about queues for the operations API: per-queue stats and per-minute history.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::inspect::JobState;

/// One queue as an operator sees it, from [`Inspect::queues`](crate::Inspect::queues).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueStats {
    /// The queue's name.
    pub queue: String,
    /// How many of its jobs are in each state; absent means none.
    pub counts: BTreeMap<JobState, u64>,
    /// How long its oldest ready job has been due (zero with no ready job).
    pub latency: Duration,
    /// Whether it is paused.
    pub paused: bool,
}

impl QueueStats {
    /// How many of its jobs are in `state`.
    pub fn count(&self, state: JobState) -> u64 {
        self.counts.get(&state).copied().unwrap_or(0)
    }

    /// The queue's size: jobs that still have to run (see [`JobState::is_pending`]).
    pub fn size(&self) -> u64 {
        self.counts.iter().filter(|(s, _)| s.is_pending()).map(|(_, n)| n).sum()
    }
}

/// Runs that finished in one minute, for one queue and job class: what the dashboard charts.
///
/// Workers count as they report runs and write the counts with
/// [`Backend::record_history`](crate::adapter::Backend::record_history); the backend adds them to
/// what it holds for that minute, queue and class, and keeps at least 24 hours.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct HistoryPoint {
    /// The minute (seconds and below are zero), UTC.
    pub minute: DateTime<Utc>,
    /// The queue.
    pub queue: String,
    /// The job class.
    pub class: String,
    /// Runs that finished, successfully or not (Sidekiq's "processed").
    pub processed: u64,
    /// Runs that failed (to be retried or dead).
    pub failed: u64,
}

/// How long a backend keeps [`HistoryPoint`]s at least.
pub const HISTORY_RETENTION: Duration = Duration::from_secs(24 * 60 * 60);

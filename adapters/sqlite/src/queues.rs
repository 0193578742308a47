//! Queue stats: each queue's size per state, its latency, and whether it is paused.

use std::collections::BTreeMap;
use std::time::Duration;

use jobs_core::adapter::time_to_micros;
use jobs_core::{JobState, QueueStats};
use sqlx::Row;

use crate::adapter::SqliteAdapter;
use crate::error::SqliteError;
use crate::sql::{COUNTS, PAUSED};

impl SqliteAdapter {
    /// One pass over the jobs (the counts and the oldest ready job's due time of every queue),
    /// then the paused queues, which are listed even when they hold no job.
    pub(crate) async fn queue_stats(&self) -> Result<Vec<QueueStats>, SqliteError> {
        let now = time_to_micros(self.now());
        let mut queues: BTreeMap<String, QueueStats> = BTreeMap::new();
        let stats = |queue: &str| QueueStats {
            queue: queue.to_owned(),
            counts: BTreeMap::new(),
            latency: Duration::ZERO,
            paused: false,
        };
        for row in sqlx::query(COUNTS).bind(now).fetch_all(self.pool()).await? {
            let queue: String = row.try_get("queue")?;
            let state: String = row.try_get("shown")?;
            let state = state.parse::<JobState>().map_err(|e| SqliteError::Malformed(e.to_string()))?;
            let count = u64::try_from(row.try_get::<i64, _>("n")?).unwrap_or(0);
            let entry = queues.entry(queue.clone()).or_insert_with(|| stats(&queue));
            entry.counts.insert(state, count);
            if state == JobState::Ready {
                let oldest: i64 = row.try_get("oldest")?;
                entry.latency = Duration::from_micros(u64::try_from(now.saturating_sub(oldest)).unwrap_or(0));
            }
        }
        let paused: Vec<String> = sqlx::query_scalar(PAUSED).fetch_all(self.pool()).await?;
        for queue in paused {
            queues.entry(queue.clone()).or_insert_with(|| stats(&queue)).paused = true;
        }
        Ok(queues.into_values().collect())
    }
}

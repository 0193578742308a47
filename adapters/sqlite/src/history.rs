//! Per-minute history: processed and failed runs per minute, queue and class, for charts.

use std::time::Duration;

use chrono::{DateTime, Utc};
use jobs_core::adapter::{due_micros, duration_to_micros, micros_to_time, time_to_micros};
use jobs_core::{HISTORY_RETENTION, HistoryPoint};
use sqlx::Row;

use crate::adapter::SqliteAdapter;
use crate::error::SqliteError;
use crate::sql::BEGIN_WRITE;

/// Adds the points `?1` (a JSON array of `[minute, queue, class, processed, failed]`) to what the
/// table holds for the same minute, queue and class.
const RECORD: &str = "
    INSERT INTO jobs_job_history (minute, queue, class, processed, failed)
    SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4 FROM json_each(?1) WHERE TRUE
    ON CONFLICT (minute, queue, class) DO UPDATE
    SET processed = processed + excluded.processed, failed = failed + excluded.failed";

/// Forgets the minutes before `?1`.
const PRUNE: &str = "DELETE FROM jobs_job_history WHERE minute < ?1";

/// The points from minute `?1` on, oldest first.
const SINCE: &str = "SELECT minute, queue, class, processed, failed FROM jobs_job_history \
                     WHERE minute >= ?1 ORDER BY minute, queue, class";

/// How long history is kept: the contract's retention and an hour more, so that a chart of the
/// last 24 hours is full whenever it is drawn.
const KEPT: Duration = HISTORY_RETENTION.saturating_add(Duration::from_secs(3600));

const MINUTE_MICROS: i64 = 60_000_000;

/// The start of the minute of `time`, in microseconds.
fn minute_of(time: DateTime<Utc>) -> i64 {
    let micros = time_to_micros(time);
    micros - micros.rem_euclid(MINUTE_MICROS)
}

impl SqliteAdapter {
    /// Adds `points` and prunes what is older than [`KEPT`], in one transaction.
    pub(crate) async fn add_history(&self, points: &[HistoryPoint]) -> Result<(), SqliteError> {
        let rows: Vec<(i64, &str, &str, i64, i64)> = points
            .iter()
            .filter(|p| p.processed > 0 || p.failed > 0)
            .map(|p| {
                let count = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
                (minute_of(p.minute), p.queue.as_str(), p.class.as_str(), count(p.processed), count(p.failed))
            })
            .collect();
        let rows = serde_json::to_string(&rows).map_err(|e| SqliteError::Malformed(e.to_string()))?;
        let cutoff = time_to_micros(self.now()).saturating_sub(duration_to_micros(KEPT));
        let mut tx = self.pool().begin_with(BEGIN_WRITE).await?;
        if !points.is_empty() {
            sqlx::query(RECORD).bind(rows).execute(&mut *tx).await?;
        }
        sqlx::query(PRUNE).bind(cutoff).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The points of the minutes that start at `since` or later (rounded up to the store's
    /// microseconds, so that a minute before `since` is never returned).
    pub(crate) async fn history_since(&self, since: DateTime<Utc>) -> Result<Vec<HistoryPoint>, SqliteError> {
        let rows = sqlx::query(SINCE).bind(due_micros(since)).fetch_all(self.pool()).await?;
        let count = |n: i64| u64::try_from(n).unwrap_or(0);
        rows.iter()
            .map(|row| {
                Ok(HistoryPoint {
                    minute: micros_to_time(row.try_get("minute")?),
                    queue: row.try_get("queue")?,
                    class: row.try_get("class")?,
                    processed: count(row.try_get("processed")?),
                    failed: count(row.try_get("failed")?),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minutes_start_at_zero_seconds() {
        let time = DateTime::parse_from_rfc3339("2026-12-06T13:37:42.123456Z").unwrap().with_timezone(&Utc);
        let minute = DateTime::parse_from_rfc3339("2026-12-06T13:37:00Z").unwrap().with_timezone(&Utc);
        assert_eq!(minute_of(time), time_to_micros(minute));
        assert_eq!(minute_of(minute), time_to_micros(minute));
    }
}

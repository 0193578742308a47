//! Per-minute history: what workers report as runs finish, summed per minute, queue and class.

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use jobs_core::HistoryPoint;
use sqlx::{AssertSqlSafe, Row};

use crate::adapter::PostgresAdapter;
use crate::error::PostgresError;

/// How long the maintenance keeps history: the contract's 24 hours, and an hour of slack so that
/// a chart of the last 24 hours is always full.
pub(crate) const KEPT: &str = "25 hours";

/// `time` at the start of its minute.
fn minute(time: DateTime<Utc>) -> DateTime<Utc> {
    time.duration_trunc(TimeDelta::minutes(1)).unwrap_or(time)
}

impl PostgresAdapter {
    /// Adds `points` to the history in one statement. Points of the same minute, queue and class
    /// are summed first (an upsert may touch a row once), and rows are written in key order, so
    /// that workers recording at once wait for each other instead of deadlocking.
    pub(crate) async fn add_history(&self, points: &[HistoryPoint]) -> Result<(), PostgresError> {
        if points.is_empty() {
            return Ok(());
        }
        let count = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        let minutes: Vec<DateTime<Utc>> = points.iter().map(|p| minute(p.minute)).collect();
        let queues: Vec<&str> = points.iter().map(|p| p.queue.as_str()).collect();
        let classes: Vec<&str> = points.iter().map(|p| p.class.as_str()).collect();
        let processed: Vec<i64> = points.iter().map(|p| count(p.processed)).collect();
        let failed: Vec<i64> = points.iter().map(|p| count(p.failed)).collect();
        let history = format!("{}.job_history", self.inner().schema.quoted);
        let sql = format!(
            "INSERT INTO {history} AS h (minute, queue, class, processed, failed)
             SELECT minute, queue, class, sum(processed)::int8, sum(failed)::int8
             FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::int8[], $5::int8[])
                 AS t(minute, queue, class, processed, failed)
             GROUP BY minute, queue, class ORDER BY minute, queue, class
             ON CONFLICT (minute, queue, class) DO UPDATE
             SET processed = h.processed + excluded.processed, failed = h.failed + excluded.failed"
        );
        self.retrying("record_history", || {
            sqlx::query(AssertSqlSafe(sql.as_str()))
                .bind(&minutes)
                .bind(&queues)
                .bind(&classes)
                .bind(&processed)
                .bind(&failed)
                .execute(self.pool())
        })
        .await?;
        Ok(())
    }

    /// The minutes from `since` on (a minute that starts before `since` is left out), oldest first.
    pub(crate) async fn read_history(&self, since: DateTime<Utc>) -> Result<Vec<HistoryPoint>, PostgresError> {
        let sql = format!(
            "SELECT minute, queue, class, processed, failed FROM {}.job_history
             WHERE minute >= $1 ORDER BY minute, queue, class",
            self.inner().schema.quoted
        );
        let rows = self
            .retrying("history", || sqlx::query(AssertSqlSafe(sql.as_str())).bind(since).fetch_all(self.pool()))
            .await?;
        let count = |n: i64| u64::try_from(n).unwrap_or(0);
        rows.iter()
            .map(|row| {
                Ok(HistoryPoint {
                    minute: row.try_get("minute")?,
                    queue: row.try_get("queue")?,
                    class: row.try_get("class")?,
                    processed: count(row.try_get("processed")?),
                    failed: count(row.try_get("failed")?),
                })
            })
            .collect()
    }

    /// Forgets history older than [`KEPT`]; returns how many rows.
    pub(crate) async fn prune_history(&self, conn: &mut sqlx::PgConnection) -> Result<u64, PostgresError> {
        let sql =
            format!("DELETE FROM {}.job_history WHERE minute < now() - interval '{KEPT}'", self.inner().schema.quoted);
        Ok(sqlx::query(AssertSqlSafe(sql)).execute(conn).await?.rows_affected())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minute_starts_at_its_zeroth_second() {
        let time = DateTime::parse_from_rfc3339("2026-12-06T13:14:59.999Z").unwrap().to_utc();
        assert_eq!(minute(time).to_rfc3339(), "2026-12-06T13:14:00+00:00");
    }
}

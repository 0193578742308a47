//! Queue stats: each queue's size per state, latency and pause, in one statement.

use std::collections::BTreeMap;
use std::time::Duration;

use jobs_core::{JobState, QueueStats};
use sqlx::{AssertSqlSafe, Row};

use crate::adapter::PostgresAdapter;
use crate::error::PostgresError;
use crate::sql::every_job;

impl PostgresAdapter {
    /// Every queue that holds jobs or is paused, by name. One pass over the jobs (both tables: the
    /// completed ones are counted too) counts them per queue and state and finds each queue's
    /// oldest ready job.
    pub(crate) async fn queue_stats(&self) -> Result<Vec<QueueStats>, PostgresError> {
        let schema = &self.inner().schema.quoted;
        let every = every_job(schema);
        let sql = format!(
            "WITH counts AS (
                SELECT queue, shown, count(*) AS n, min(run_at) AS oldest
                FROM {every} j GROUP BY 1, 2
             ), names AS (
                SELECT queue FROM counts UNION SELECT queue FROM {schema}.paused_queues
             )
             SELECT names.queue,
                    coalesce((SELECT jsonb_object_agg(shown, n) FROM counts c WHERE c.queue = names.queue), '{{}}')::text
                        AS counts,
                    (SELECT (extract(epoch FROM now() - oldest) * 1000000)::int8 FROM counts c
                     WHERE c.queue = names.queue AND c.shown = 'ready') AS latency,
                    EXISTS (SELECT 1 FROM {schema}.paused_queues p WHERE p.queue = names.queue) AS paused
             FROM names ORDER BY names.queue"
        );
        let rows = self.retrying("queues", || sqlx::query(AssertSqlSafe(sql.as_str())).fetch_all(self.pool())).await?;
        let mut stats = Vec::with_capacity(rows.len());
        for row in rows {
            let counts: String = row.try_get("counts")?;
            let counts: BTreeMap<String, u64> =
                serde_json::from_str(&counts).map_err(|e| PostgresError::Malformed(format!("queue counts: {e}")))?;
            let counts = counts
                .into_iter()
                .map(|(state, n)| {
                    Ok((state.parse::<JobState>().map_err(|e| PostgresError::Malformed(e.to_string()))?, n))
                })
                .collect::<Result<_, PostgresError>>()?;
            let latency: Option<i64> = row.try_get("latency")?;
            stats.push(QueueStats {
                queue: row.try_get("queue")?,
                counts,
                latency: Duration::from_micros(latency.and_then(|m| u64::try_from(m).ok()).unwrap_or(0)),
                paused: row.try_get("paused")?,
            });
        }
        Ok(stats)
    }
}

//! The worker side: batched claims with leases and fencing tokens, batched reports.

use std::time::Duration;

use jobs_core::adapter::{Backend, ClaimParams, ClaimedJob, Failure, Requeued, Ticket};
use jobs_core::adapter::{duration_to_micros, forward, time_to_micros};
use jobs_core::{BoxFuture, Error, HistoryPoint, ProcessCommand, ProcessInfo};
use sqlx::Row;

use crate::adapter::SqliteAdapter;
use crate::error::SqliteError;
use crate::sql::{
    BEGIN_WRITE, CLAIM_ANY, CLAIM_ON, COMPLETE, COMPLETE_REQUEUED, DUE_LEVELS, DUE_LEVELS_ON, FAIL, HEARTBEAT,
    NEXT_DUE_ANY, NEXT_DUE_ON, RELEASE, RESCUE, SAVE_PROGRESS,
};

/// The priority levels of `queue` (`*`: every queue) that have a job due at `now`, lowest first.
async fn due_levels<'c>(
    executor: impl sqlx::Executor<'c, Database = sqlx::Sqlite>,
    queue: &str,
    now: i64,
) -> Result<Vec<i64>, SqliteError> {
    let statement = if queue == "*" { DUE_LEVELS } else { DUE_LEVELS_ON };
    Ok(sqlx::query_scalar(statement).bind(queue).bind(now).fetch_all(executor).await?)
}

/// Tickets as the JSON array of `[id, token]` pairs the statements above take.
fn pairs(tickets: &[Ticket]) -> String {
    let pairs: Vec<(i64, i64)> =
        tickets.iter().filter_map(|t| t.id.parse::<i64>().ok().map(|id| (id, t.token))).collect();
    serde_json::to_string(&pairs).expect("pairs of integers serialize")
}

impl SqliteAdapter {
    async fn claim_jobs(&self, params: ClaimParams<'_>) -> Result<Vec<ClaimedJob>, SqliteError> {
        if params.limit == 0 {
            return Ok(Vec::new());
        }
        let now = time_to_micros(self.now());
        // Probe with plain reads first, so that idle workers never take the write lock.
        let mut first = None;
        for (i, queue) in params.queues.iter().enumerate() {
            let levels = due_levels(self.pool(), queue, now).await?;
            if !levels.is_empty() {
                first = Some((i, levels));
                break;
            }
        }
        let Some((start, levels)) = first else { return Ok(Vec::new()) };
        let mut probed = Some(levels);
        let lease_until = now.saturating_add(duration_to_micros(params.lease));
        let mut tx = self.pool().begin_with(BEGIN_WRITE).await?;
        let mut claimed = Vec::new();
        for queue in &params.queues[start..] {
            if claimed.len() == params.limit {
                break;
            }
            let levels = match probed.take() {
                Some(levels) => levels,
                None => due_levels(&mut *tx, queue, now).await?,
            };
            let statement = if queue == "*" { CLAIM_ANY } else { CLAIM_ON };
            for level in levels {
                let remaining = params.limit - claimed.len();
                if remaining == 0 {
                    break;
                }
                let rows = sqlx::query(statement)
                    .bind(queue)
                    .bind(now)
                    .bind(i64::try_from(remaining).unwrap_or(i64::MAX))
                    .bind(lease_until)
                    .bind(params.worker_id)
                    .bind(level)
                    .fetch_all(&mut *tx)
                    .await?;
                let mut batch = Vec::with_capacity(rows.len());
                for row in rows {
                    let order: (i64, i64) = (row.try_get("run_at")?, row.try_get("id")?);
                    let job = ClaimedJob {
                        ticket: Ticket { id: order.1.to_string(), token: row.try_get("token")? },
                        payload: row.try_get("payload")?,
                        attempt: u32::try_from(row.try_get::<i64, _>("attempts")?).unwrap_or(u32::MAX),
                    };
                    batch.push((order, job));
                }
                // RETURNING gives no order: restore the claim order.
                batch.sort_unstable_by_key(|(order, _)| *order);
                claimed.extend(batch.into_iter().map(|(_, job)| job));
            }
        }
        tx.commit().await?;
        Ok(claimed)
    }

    async fn update_claims(
        &self,
        statement: &'static str,
        time: i64,
        tickets: &[Ticket],
    ) -> Result<usize, SqliteError> {
        if tickets.is_empty() {
            return Ok(0);
        }
        let done = sqlx::query(statement).bind(time).bind(pairs(tickets)).execute(self.pool()).await?;
        Ok(usize::try_from(done.rows_affected()).unwrap_or(usize::MAX))
    }

    async fn complete_requeued_jobs(&self, runs: &[Requeued]) -> Result<usize, SqliteError> {
        if runs.is_empty() {
            return Ok(0);
        }
        let now = time_to_micros(self.now());
        let mut tx = self.pool().begin_with(BEGIN_WRITE).await?;
        let mut applied = 0;
        for run in runs {
            let Ok(id) = run.ticket.id.parse::<i64>() else { continue };
            let error = serde_json::to_string(&run.error).map_err(|e| SqliteError::Malformed(e.to_string()))?;
            let query = sqlx::query(COMPLETE_REQUEUED).bind(now).bind(error).bind(id).bind(run.ticket.token);
            applied += usize::try_from(query.execute(&mut *tx).await?.rows_affected()).unwrap_or(0);
        }
        tx.commit().await?;
        Ok(applied)
    }

    async fn fail_jobs(&self, failures: &[Failure]) -> Result<usize, SqliteError> {
        if failures.is_empty() {
            return Ok(0);
        }
        let now = time_to_micros(self.now());
        let mut tx = self.pool().begin_with(BEGIN_WRITE).await?;
        let mut applied = 0;
        for failure in failures {
            let Ok(id) = failure.ticket.id.parse::<i64>() else { continue };
            let retry_at = failure.retry_in.map(|delay| now.saturating_add(duration_to_micros(delay)));
            let error = serde_json::to_string(&failure.error).map_err(|e| SqliteError::Malformed(e.to_string()))?;
            let done = sqlx::query(FAIL)
                .bind(retry_at)
                .bind(now)
                .bind(failure.payload.as_deref())
                .bind(error)
                .bind(id)
                .bind(failure.ticket.token)
                .execute(&mut *tx)
                .await?;
            applied += usize::try_from(done.rows_affected()).unwrap_or(0);
        }
        tx.commit().await?;
        if failures.iter().any(|f| f.retry_in.is_some()) {
            self.wake();
        }
        Ok(applied)
    }

    /// How long until the earliest waiting job of `queues` is due, in the store's time.
    async fn next_due_on(&self, queues: &[String]) -> Result<Option<Duration>, SqliteError> {
        let mut earliest: Option<i64> = None;
        for queue in queues {
            let statement = if queue == "*" { NEXT_DUE_ANY } else { NEXT_DUE_ON };
            let at: Option<i64> = sqlx::query_scalar(statement).bind(queue).fetch_one(self.pool()).await?;
            earliest = match (earliest, at) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        let now = time_to_micros(self.now());
        Ok(earliest.map(|at| Duration::from_micros(u64::try_from(at.saturating_sub(now)).unwrap_or(0))))
    }

    async fn save_payload(&self, ticket: &Ticket, payload: &str) -> Result<bool, SqliteError> {
        let Ok(id) = ticket.id.parse::<i64>() else { return Ok(false) };
        let done = sqlx::query(SAVE_PROGRESS).bind(payload).bind(id).bind(ticket.token).execute(self.pool()).await?;
        Ok(done.rows_affected() > 0)
    }

    async fn rescue(&self) -> Result<u64, SqliteError> {
        let rescued = sqlx::query(RESCUE).bind(time_to_micros(self.now())).execute(self.pool()).await?.rows_affected();
        if rescued > 0 {
            self.wake();
        }
        self.prune(self.retention()).await?;
        Ok(rescued)
    }
}

impl Backend for SqliteAdapter {
    fn claim<'a>(&'a self, params: ClaimParams<'a>) -> BoxFuture<'a, Result<Vec<ClaimedJob>, Error>> {
        forward(self.claim_jobs(params))
    }

    fn complete<'a>(&'a self, tickets: &'a [Ticket]) -> BoxFuture<'a, Result<usize, Error>> {
        forward(self.update_claims(COMPLETE, time_to_micros(self.now()), tickets))
    }

    fn complete_requeued<'a>(&'a self, runs: &'a [Requeued]) -> BoxFuture<'a, Result<usize, Error>> {
        forward(self.complete_requeued_jobs(runs))
    }

    fn fail<'a>(&'a self, failures: &'a [Failure]) -> BoxFuture<'a, Result<usize, Error>> {
        forward(self.fail_jobs(failures))
    }

    fn release<'a>(&'a self, tickets: &'a [Ticket]) -> BoxFuture<'a, Result<usize, Error>> {
        Box::pin(async move {
            let released = self.update_claims(RELEASE, 0, tickets).await?;
            if released > 0 {
                self.wake();
            }
            Ok(released)
        })
    }

    fn heartbeat<'a>(&'a self, tickets: &'a [Ticket], lease: Duration) -> BoxFuture<'a, Result<usize, Error>> {
        Box::pin(async move {
            let until = time_to_micros(self.now()).saturating_add(duration_to_micros(lease));
            Ok(self.update_claims(HEARTBEAT, until, tickets).await?)
        })
    }

    fn save_progress<'a>(&'a self, ticket: &'a Ticket, payload: &'a str) -> BoxFuture<'a, Result<bool, Error>> {
        forward(self.save_payload(ticket, payload))
    }

    fn rescue_expired(&self) -> BoxFuture<'_, Result<u64, Error>> {
        forward(self.rescue())
    }

    fn wait_for_jobs<'a>(&'a self, _queues: &'a [String], timeout: Duration) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let _ = tokio::time::timeout(timeout, self.woken()).await;
        })
    }

    fn beat_process<'a>(
        &'a self,
        info: &'a ProcessInfo,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<Option<ProcessCommand>, Error>> {
        forward(self.beat(info, ttl))
    }

    fn record_history<'a>(&'a self, points: &'a [HistoryPoint]) -> BoxFuture<'a, Result<(), Error>> {
        forward(self.add_history(points))
    }

    fn worker_stopped<'a>(&'a self, worker_id: &'a str) -> BoxFuture<'a, Result<(), Error>> {
        forward(self.deregister(worker_id))
    }

    fn next_due<'a>(&'a self, queues: &'a [String]) -> BoxFuture<'a, Result<Option<Duration>, Error>> {
        forward(self.next_due_on(queues))
    }
}

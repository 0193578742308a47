//! The worker side: batched `SKIP LOCKED` claims with leases and fencing tokens, batched reports,
//! wake-ups.

use std::time::Duration;

use chrono::{DateTime, Utc};
use jobs_core::adapter::{Backend, ClaimParams, ClaimedJob, Failure, Requeued, Ticket};
use jobs_core::adapter::{duration_to_micros, forward};
use jobs_core::{BoxFuture, Error, HistoryPoint, ProcessCommand, ProcessInfo};
use sqlx::Row;

use crate::adapter::PostgresAdapter;
use crate::error::{PostgresError, is_disconnect};
use crate::sql::Sql;

/// Runs `$body` with `$conn` bound to a connection of `$lane`, again on a new connection if the
/// connection was lost, as [`PostgresAdapter::retrying`] does for pool statements.
macro_rules! on_lane {
    ($adapter:expr, $lane:expr, $what:expr, |$conn:ident| $body:expr) => {{
        let mut delay = Duration::from_millis(20);
        let mut attempt = 1;
        loop {
            let result = match $lane.get($adapter.pool()).await {
                Ok(mut held) => {
                    let result = {
                        let $conn = held.conn();
                        $body.await
                    };
                    if result.as_ref().is_err_and(is_disconnect) {
                        held.discard();
                    }
                    result
                }
                Err(error) => Err(error),
            };
            match result {
                Err(error) if attempt < 5 && is_disconnect(&error) => {
                    $adapter.inner().disconnects.seen();
                    tracing::warn!(target: "jobs", %error,
                        "PostgreSQL connection lost during {}; retrying on a new connection in {delay:?}", $what);
                    tokio::time::sleep(delay).await;
                    delay = (delay * 4).min(Duration::from_secs(2));
                    attempt += 1;
                }
                result => break result.map_err(PostgresError::from),
            }
        }
    }};
}

/// Tickets as the two arrays the statements take; ids that are not ours match nothing.
fn arrays(tickets: &[Ticket]) -> (Vec<i64>, Vec<i64>) {
    tickets.iter().filter_map(|t| t.id.parse::<i64>().ok().map(|id| (id, t.token))).unzip()
}

/// The queues of a claim, split where `*` stands: runs of named queues are claimed by one
/// statement in their precedence, `*` by another.
fn segments(queues: &[String]) -> Vec<Option<&[String]>> {
    let mut segments = Vec::new();
    let mut start = 0;
    for (i, queue) in queues.iter().enumerate() {
        if queue == "*" {
            if start < i {
                segments.push(Some(&queues[start..i]));
            }
            segments.push(None);
            start = i + 1;
        }
    }
    if start < queues.len() {
        segments.push(Some(&queues[start..]));
    }
    segments
}

/// Failures as the fail statement takes them: ids, tokens, retry delays, payloads, errors.
#[derive(Default)]
struct FailColumns<'a>(Vec<i64>, Vec<i64>, Vec<Option<i64>>, Vec<Option<&'a str>>, Vec<String>);

fn count(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

impl PostgresAdapter {
    async fn claim_jobs(&self, params: ClaimParams<'_>) -> Result<Vec<ClaimedJob>, PostgresError> {
        let inner = self.inner();
        inner.wakeups.start(&inner.options, &inner.channel);
        inner.wakeups.claiming(params.queues);
        self.vacuum_when_due();
        let lease = duration_to_micros(params.lease);
        let mut claimed = Vec::new();
        for segment in segments(params.queues) {
            let remaining = i64::try_from(params.limit - claimed.len()).unwrap_or(i64::MAX);
            if remaining == 0 {
                break;
            }
            let rows = on_lane!(self, inner.claim_lane, "claim", |conn| {
                let query = match segment {
                    Some(queues) => sqlx::query(inner.sql.claim_named.get()).bind(queues).bind(remaining),
                    None => sqlx::query(inner.sql.claim_any.get()).bind(remaining),
                };
                query.bind(lease).bind(params.worker_id).fetch_all(conn)
            })?;
            let mut batch = Vec::with_capacity(rows.len());
            for row in rows {
                let order: (i64, i32, DateTime<Utc>, i64) =
                    (row.try_get("ord")?, row.try_get("priority")?, row.try_get("run_at")?, row.try_get("id")?);
                let job = ClaimedJob {
                    ticket: Ticket { id: order.3.to_string(), token: row.try_get("token")? },
                    payload: row.try_get("payload")?,
                    attempt: u32::try_from(row.try_get::<i32, _>("attempts")?).unwrap_or(0),
                };
                batch.push((order, job));
            }
            // RETURNING gives no order: restore the claim order.
            batch.sort_unstable_by_key(|(order, _)| *order);
            claimed.extend(batch.into_iter().map(|(_, job)| job));
        }
        Ok(claimed)
    }

    /// Runs a statement on tickets (`$1` ids, `$2` tokens, then `extra`); returns the rows changed.
    async fn on_tickets(
        &self,
        what: &str,
        sql: &Sql,
        tickets: &[Ticket],
        extra: Option<i64>,
    ) -> Result<usize, PostgresError> {
        if tickets.is_empty() {
            return Ok(0);
        }
        let (ids, tokens) = arrays(tickets);
        let done = on_lane!(self, self.inner().report_lane, what, |conn| {
            let query = sqlx::query(sql.get()).bind(&ids).bind(&tokens);
            match extra {
                Some(value) => query.bind(value),
                None => query,
            }
            .execute(conn)
        })?;
        Ok(count(done.rows_affected()))
    }

    async fn release_jobs(&self, tickets: &[Ticket]) -> Result<usize, PostgresError> {
        if tickets.is_empty() {
            return Ok(0);
        }
        let (ids, tokens) = arrays(tickets);
        let sql = &self.inner().sql.release;
        let released: i64 = self
            .retrying("release", || {
                sqlx::query_scalar(sql.get())
                    .bind(&ids)
                    .bind(&tokens)
                    .bind(&self.inner().channel)
                    .fetch_one(self.pool())
            })
            .await?;
        Ok(usize::try_from(released).unwrap_or(0))
    }

    async fn save_payload(&self, ticket: &Ticket, payload: &str) -> Result<bool, PostgresError> {
        let Ok(id) = ticket.id.parse::<i64>() else { return Ok(false) };
        let sql = &self.inner().sql.save_progress;
        let done = self
            .retrying("save_progress", || {
                sqlx::query(sql.get()).bind(id).bind(ticket.token).bind(payload).execute(self.pool())
            })
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn complete_requeued_jobs(&self, runs: &[Requeued]) -> Result<usize, PostgresError> {
        if runs.is_empty() {
            return Ok(0);
        }
        let (mut ids, mut tokens, mut errors) = (Vec::new(), Vec::new(), Vec::new());
        for run in runs {
            let Ok(id) = run.ticket.id.parse::<i64>() else { continue };
            ids.push(id);
            tokens.push(run.ticket.token);
            errors.push(serde_json::to_string(&run.error).map_err(|e| PostgresError::Malformed(e.to_string()))?);
        }
        let sql = &self.inner().sql.complete_requeued;
        let done = on_lane!(self, self.inner().report_lane, "complete", |conn| {
            sqlx::query(sql.get()).bind(&ids).bind(&tokens).bind(&errors).execute(conn)
        })?;
        Ok(count(done.rows_affected()))
    }

    async fn fail_jobs(&self, failures: &[Failure]) -> Result<usize, PostgresError> {
        if failures.is_empty() {
            return Ok(0);
        }
        let mut columns = FailColumns::default();
        for failure in failures {
            let Ok(id) = failure.ticket.id.parse::<i64>() else { continue };
            columns.0.push(id);
            columns.1.push(failure.ticket.token);
            columns.2.push(failure.retry_in.map(duration_to_micros));
            columns.3.push(failure.payload.as_deref());
            columns.4.push(serde_json::to_string(&failure.error).map_err(|e| PostgresError::Malformed(e.to_string()))?);
        }
        let sql = &self.inner().sql.fail;
        let failed: i64 = on_lane!(self, self.inner().report_lane, "fail", |conn| {
            sqlx::query_scalar(sql.get())
                .bind(&columns.0)
                .bind(&columns.1)
                .bind(&columns.2)
                .bind(&columns.3)
                .bind(&columns.4)
                .bind(&self.inner().channel)
                .fetch_one(conn)
        })?;
        Ok(usize::try_from(failed).unwrap_or(0))
    }

    /// How long until the earliest waiting job of `queues` is due, on the server's clock.
    async fn next_due_on(&self, queues: &[String]) -> Result<Option<Duration>, PostgresError> {
        let sql = &self.inner().sql;
        let micros: Option<i64> = if queues.iter().any(|q| q == "*") {
            self.retrying("next_due", || sqlx::query_scalar(sql.next_due_any.get()).fetch_one(self.pool())).await?
        } else {
            self.retrying("next_due", || {
                sqlx::query_scalar(sql.next_due_named.get()).bind(queues).fetch_one(self.pool())
            })
            .await?
        };
        Ok(micros.map(|m| Duration::from_micros(u64::try_from(m).unwrap_or(0))))
    }

    async fn rescue(&self) -> Result<u64, PostgresError> {
        let sql = &self.inner().sql.rescue;
        let rescued: i64 = self
            .retrying("rescue", || sqlx::query_scalar(sql.get()).bind(&self.inner().channel).fetch_one(self.pool()))
            .await?;
        if let Err(error) = self.maintain().await {
            tracing::warn!(target: "jobs", %error, "PostgreSQL maintenance failed; the next elected worker tries again");
        }
        Ok(u64::try_from(rescued).unwrap_or(0))
    }
}

impl Backend for PostgresAdapter {
    fn claim<'a>(&'a self, params: ClaimParams<'a>) -> BoxFuture<'a, Result<Vec<ClaimedJob>, Error>> {
        Box::pin(async move {
            if params.limit == 0 {
                return Ok(Vec::new());
            }
            Ok(self.claim_jobs(params).await?)
        })
    }

    fn complete<'a>(&'a self, tickets: &'a [Ticket]) -> BoxFuture<'a, Result<usize, Error>> {
        forward(self.on_tickets("complete", &self.inner().sql.complete, tickets, None))
    }

    fn complete_requeued<'a>(&'a self, runs: &'a [Requeued]) -> BoxFuture<'a, Result<usize, Error>> {
        forward(self.complete_requeued_jobs(runs))
    }

    fn fail<'a>(&'a self, failures: &'a [Failure]) -> BoxFuture<'a, Result<usize, Error>> {
        forward(self.fail_jobs(failures))
    }

    fn release<'a>(&'a self, tickets: &'a [Ticket]) -> BoxFuture<'a, Result<usize, Error>> {
        forward(self.release_jobs(tickets))
    }

    fn heartbeat<'a>(&'a self, tickets: &'a [Ticket], lease: Duration) -> BoxFuture<'a, Result<usize, Error>> {
        Box::pin(async move {
            Ok(self
                .on_tickets("heartbeat", &self.inner().sql.heartbeat, tickets, Some(duration_to_micros(lease)))
                .await?)
        })
    }

    fn save_progress<'a>(&'a self, ticket: &'a Ticket, payload: &'a str) -> BoxFuture<'a, Result<bool, Error>> {
        forward(self.save_payload(ticket, payload))
    }

    fn rescue_expired(&self) -> BoxFuture<'_, Result<u64, Error>> {
        forward(self.rescue())
    }

    fn wait_for_jobs<'a>(&'a self, queues: &'a [String], timeout: Duration) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let inner = self.inner();
            inner.wakeups.start(&inner.options, &inner.channel);
            inner.wakeups.wait(queues, timeout).await;
        })
    }

    fn next_due<'a>(&'a self, queues: &'a [String]) -> BoxFuture<'a, Result<Option<Duration>, Error>> {
        forward(self.next_due_on(queues))
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
        forward(self.forget_process(worker_id))
    }
}

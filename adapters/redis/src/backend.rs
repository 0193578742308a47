//! The worker side: batched claims into this process's working set, fenced by claim tokens;
//! completions and failures in one script call per batch.

use std::sync::atomic::Ordering;
use std::time::Duration;

use jobs_core::adapter::forward;
use jobs_core::adapter::{Backend, ClaimParams, ClaimedJob, Failure, Requeued, Ticket};
use jobs_core::{BoxFuture, Error, HistoryPoint, ProcessCommand, ProcessInfo};
use redis::Value;

use crate::adapter::RedisAdapter;
use crate::envelope::{self, Stored};
use crate::error::RedisError;
use crate::scripts;

/// Seconds, as the scripts take them.
fn secs(duration: Duration) -> f64 {
    duration.as_secs_f64()
}

fn bulk_string(value: Value) -> Result<String, RedisError> {
    match value {
        Value::BulkString(bytes) => String::from_utf8(bytes).map_err(|e| RedisError::Malformed(e.to_string())),
        other => Err(RedisError::Malformed(format!("expected a job, got {other:?}"))),
    }
}

/// How often claims promote due scheduled jobs and retries when they come in quick succession.
const PROMOTE_EVERY: Duration = Duration::from_millis(50);

impl RedisAdapter {
    /// True when a claim should promote due jobs: at most every [`PROMOTE_EVERY`], so that a
    /// busy worker does not scan the schedule and retry sets for every batch.
    fn promotion_due(&self) -> bool {
        let inner = &self.inner;
        let now = inner.epoch.elapsed().as_millis() as u64 + PROMOTE_EVERY.as_millis() as u64;
        let last = inner.promoted_at.load(Ordering::Relaxed);
        now >= last + PROMOTE_EVERY.as_millis() as u64
            && inner.promoted_at.compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed).is_ok()
    }

    async fn claim_jobs(&self, params: ClaimParams<'_>) -> Result<Vec<ClaimedJob>, RedisError> {
        if params.limit == 0 {
            return Ok(Vec::new());
        }
        self.note_claim(params.worker_id);
        // Subscribed before the first claim, so that no wake-up published after it is missed
        // (a retry of a job claimed now, before the worker first waits).
        self.subscribe().await;
        let mut call = self.invocation(&scripts::CLAIM);
        call.arg(secs(params.lease))
            .arg(params.limit)
            .arg(self.liveness(params.lease))
            .arg(if self.promotion_due() { "1" } else { "0" })
            .arg(params.worker_id);
        for queue in params.queues {
            call.arg(queue);
        }
        let reply: Vec<Value> = self.run(&call).await?;
        let mut reply = reply.into_iter();
        let Some(first) = reply.next() else { return Ok(Vec::new()) };
        let Value::Int(first) = first else {
            return Err(RedisError::Malformed(format!("expected a claim token, got {first:?}")));
        };
        let mut claimed = Vec::with_capacity(reply.len());
        for (token, job) in (first..).zip(reply) {
            let job = bulk_string(job)?;
            let stored = Stored::parse(&job);
            claimed.push(ClaimedJob {
                ticket: Ticket { id: stored.jid(|| format!("invalid-{token}")), token },
                payload: stored.payload(&job),
                attempt: stored.attempts() + 1,
            });
        }
        Ok(claimed)
    }

    /// Promotes due scheduled jobs and retries, and says how long until the next one is due.
    async fn next_due_any(&self) -> Result<Option<Duration>, RedisError> {
        let call = self.invocation(&scripts::NEXT_DUE);
        let seconds: Option<String> = self.run(&call).await?;
        Ok(seconds.and_then(|s| s.parse::<f64>().ok()).map(|s| Duration::from_secs_f64(s.max(0.0))))
    }

    async fn complete_jobs(&self, tickets: &[Ticket]) -> Result<usize, RedisError> {
        if tickets.is_empty() {
            return Ok(0);
        }
        let mut call = self.invocation(&scripts::COMPLETE);
        call.arg(self.inner.settings.max_completed);
        for ticket in tickets {
            call.arg(ticket.token);
        }
        let done = self.run::<usize>(&call).await?;
        self.inner.processed.fetch_add(done as u64, Ordering::Relaxed);
        Ok(done)
    }

    /// The envelopes this process holds under the claims with `tokens`, `None` for a claim it
    /// no longer holds.
    async fn held_envelopes(&self, tokens: impl Iterator<Item = i64>) -> Result<Vec<Option<String>>, RedisError> {
        let mut conn = self.inner.conn.clone();
        Ok(redis::cmd("HMGET")
            .arg(self.key(&format!("jobs:working:{}", self.inner.identity)))
            .arg(tokens.collect::<Vec<_>>())
            .query_async(&mut conn)
            .await?)
    }

    async fn complete_requeued_jobs(&self, runs: &[Requeued]) -> Result<usize, RedisError> {
        if runs.is_empty() {
            return Ok(0);
        }
        // The claimed envelopes, to keep each run's error with it; the script applies only those
        // whose claim is still current.
        let held = self.held_envelopes(runs.iter().map(|run| run.ticket.token)).await?;
        let mut call = self.invocation(&scripts::COMPLETE_REQUEUED);
        call.arg(self.inner.settings.max_completed);
        let mut any = false;
        for (run, job) in runs.iter().zip(held) {
            let Some(job) = job else { continue };
            call.arg(run.ticket.token).arg(envelope::requeued(&job, &run.error)?);
            any = true;
        }
        if !any {
            return Ok(0);
        }
        let done = self.run::<usize>(&call).await?;
        self.inner.processed.fetch_add(done as u64, Ordering::Relaxed);
        Ok(done)
    }

    async fn fail_jobs(&self, failures: &[Failure]) -> Result<usize, RedisError> {
        if failures.is_empty() {
            return Ok(0);
        }
        // The claimed envelopes, to write the failed ones; the script applies only those whose
        // claim is still current, so a rescue in between wins.
        let held = self.held_envelopes(failures.iter().map(|f| f.ticket.token)).await?;
        let mut call = self.invocation(&scripts::FAIL);
        let mut any = false;
        for (failure, job) in failures.iter().zip(held) {
            let Some(job) = job else { continue };
            let stored = envelope::failed(&job, failure)?;
            let delay = failure.retry_in.map(|d| secs(d).to_string()).unwrap_or_default();
            call.arg(failure.ticket.token).arg(delay).arg(stored);
            any = true;
        }
        if !any {
            return Ok(0);
        }
        let failed = self.run::<usize>(&call).await?;
        self.inner.processed.fetch_add(failed as u64, Ordering::Relaxed);
        self.inner.failed.fetch_add(failed as u64, Ordering::Relaxed);
        Ok(failed)
    }

    /// Replaces the payload in the working copy of the job claimed under `ticket` (what a
    /// rescue hands out), if this claim still holds it.
    async fn save_payload(&self, ticket: &Ticket, payload: &str) -> Result<bool, RedisError> {
        let mut conn = self.inner.conn.clone();
        let held: Option<String> = redis::cmd("HGET")
            .arg(self.key(&format!("jobs:working:{}", self.inner.identity)))
            .arg(ticket.token)
            .query_async(&mut conn)
            .await?;
        let Some(saved) = held.as_deref().and_then(|held| envelope::with_payload(held, payload)) else {
            return Ok(false);
        };
        let mut call = self.invocation(&scripts::PROGRESS);
        call.arg(ticket.token).arg(held).arg(saved);
        Ok(self.run::<i64>(&call).await? == 1)
    }

    async fn tokens_call(
        &self,
        script: &redis::Script,
        head: &[String],
        tickets: &[Ticket],
    ) -> Result<usize, RedisError> {
        if tickets.is_empty() {
            return Ok(0);
        }
        let mut call = self.invocation(script);
        for arg in head {
            call.arg(arg);
        }
        for ticket in tickets {
            call.arg(ticket.token);
        }
        self.run::<usize>(&call).await
    }
}

impl Backend for RedisAdapter {
    fn claim<'a>(&'a self, params: ClaimParams<'a>) -> BoxFuture<'a, Result<Vec<ClaimedJob>, Error>> {
        forward(self.claim_jobs(params))
    }

    fn complete<'a>(&'a self, tickets: &'a [Ticket]) -> BoxFuture<'a, Result<usize, Error>> {
        forward(self.complete_jobs(tickets))
    }

    fn complete_requeued<'a>(&'a self, runs: &'a [Requeued]) -> BoxFuture<'a, Result<usize, Error>> {
        forward(self.complete_requeued_jobs(runs))
    }

    fn fail<'a>(&'a self, failures: &'a [Failure]) -> BoxFuture<'a, Result<usize, Error>> {
        forward(self.fail_jobs(failures))
    }

    fn release<'a>(&'a self, tickets: &'a [Ticket]) -> BoxFuture<'a, Result<usize, Error>> {
        forward(self.tokens_call(&scripts::RELEASE, &[], tickets))
    }

    fn heartbeat<'a>(&'a self, tickets: &'a [Ticket], lease: Duration) -> BoxFuture<'a, Result<usize, Error>> {
        Box::pin(async move {
            let ttl = self.liveness(lease).to_string();
            Ok(self.tokens_call(&scripts::HEARTBEAT, &[secs(lease).to_string(), ttl], tickets).await?)
        })
    }

    fn save_progress<'a>(&'a self, ticket: &'a Ticket, payload: &'a str) -> BoxFuture<'a, Result<bool, Error>> {
        forward(self.save_payload(ticket, payload))
    }

    fn rescue_expired(&self) -> BoxFuture<'_, Result<u64, Error>> {
        Box::pin(async move {
            let call = self.invocation(&scripts::RESCUE);
            Ok(self.run::<u64>(&call).await?)
        })
    }

    /// Returns as soon as a job is enqueued through any `jobs` process on this server (Redis
    /// pub/sub), or `timeout` passes: jobs pushed by Sidekiq's Ruby client wake nobody and are
    /// found at the next poll.
    fn wait_for_jobs<'a>(&'a self, _queues: &'a [String], timeout: Duration) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            self.subscribe().await;
            let _ = tokio::time::timeout(timeout, self.inner.wake.notified()).await;
        })
    }

    /// Writes the worker's entry in Sidekiq's process list (see `process.rs`) and takes what
    /// Sidekiq's Web UI or [`Inspect::signal`](jobs_core::Inspect::signal) left for it: `TERM`
    /// is [`ProcessCommand::Stop`], `TSTP` [`ProcessCommand::Quiet`].
    fn beat_process<'a>(
        &'a self,
        info: &'a ProcessInfo,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<Option<ProcessCommand>, Error>> {
        forward(self.beat(info, ttl))
    }

    /// One script call for the whole batch (see `stats.rs` for the keys).
    fn record_history<'a>(&'a self, points: &'a [HistoryPoint]) -> BoxFuture<'a, Result<(), Error>> {
        forward(self.write_history(points))
    }

    /// The worker leaves Sidekiq's process list; when it was the adapter's last, the adapter's
    /// liveness goes too (as [`RedisAdapter::close`] does).
    fn worker_stopped<'a>(&'a self, worker_id: &'a str) -> BoxFuture<'a, Result<(), Error>> {
        forward(self.forget_worker(worker_id))
    }

    /// Sidekiq's schedule and retry sets hold every queue's jobs: the answer is for all of them.
    /// Due ones are moved to their queues first, so an idle worker never waits for a promotion.
    fn next_due<'a>(&'a self, _queues: &'a [String]) -> BoxFuture<'a, Result<Option<Duration>, Error>> {
        forward(self.next_due_any())
    }
}

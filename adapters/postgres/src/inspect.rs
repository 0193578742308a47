//! The inspection side: states, counts, listings, actions, queue stats, history, processes,
//! paused queues.

use chrono::{DateTime, Utc};
use jobs_core::adapter::ErrorRecord;
use jobs_core::adapter::forward;
use jobs_core::{
    BoxFuture, Counts, Error, HistoryPoint, Inspect, JobAction, JobInfo, JobPage, JobState, ListParams, ProcessCommand,
    ProcessInfo, QueueStats, Target,
};
use sqlx::Row;
use sqlx::postgres::PgRow;

use crate::adapter::PostgresAdapter;
use crate::error::PostgresError;
use crate::listing::cursor;

/// A job from a row with the columns of [`INFO`](crate::sql::INFO).
pub(crate) fn job_info(row: &PgRow) -> Result<JobInfo, PostgresError> {
    let malformed = |what: &str, e: &dyn std::fmt::Display| PostgresError::Malformed(format!("{what}: {e}"));
    let state: String = row.try_get("shown")?;
    let errors: String = row.try_get("errors")?;
    Ok(JobInfo {
        id: row.try_get::<i64, _>("id")?.to_string(),
        job_id: row.try_get("job_id")?,
        class: row.try_get("class")?,
        queue: row.try_get("queue")?,
        priority: row.try_get("priority")?,
        state: state.parse::<JobState>().map_err(|e| malformed("state", &e))?,
        attempts: u32::try_from(row.try_get::<i32, _>("attempts")?).map_err(|e| malformed("attempts", &e))?,
        run_at: Some(row.try_get::<DateTime<Utc>, _>("run_at")?),
        enqueued_at: Some(row.try_get::<DateTime<Utc>, _>("enqueued_at")?),
        started_at: row.try_get("started_at")?,
        finished_at: row.try_get("finished_at")?,
        worker_id: row.try_get("worker_id")?,
        payload: row.try_get("payload")?,
        errors: serde_json::from_str::<Vec<ErrorRecord>>(&errors).map_err(|e| malformed("errors", &e))?,
    })
}

impl PostgresAdapter {
    async fn count_jobs(&self) -> Result<Counts, PostgresError> {
        let sql = &self.inner().sql.counts;
        let rows = self.retrying("counts", || sqlx::query(sql.get()).fetch_all(self.pool())).await?;
        let mut counts = Counts::new();
        for row in rows {
            let state: String = row.try_get("shown")?;
            let state = state.parse::<JobState>().map_err(|e| PostgresError::Malformed(e.to_string()))?;
            let queue: String = row.try_get("queue")?;
            counts.add(&queue, state, u64::try_from(row.try_get::<i64, _>("n")?).unwrap_or(0));
        }
        Ok(counts)
    }

    async fn find_job(&self, id: &str) -> Result<Option<JobInfo>, PostgresError> {
        let provider_id = id.parse::<i64>().ok();
        let sql = &self.inner().sql.find;
        let find = || sqlx::query(sql.get()).bind(provider_id).bind(id).fetch_optional(self.pool());
        let row = self.retrying("find", find).await?;
        let Some(info) = row.as_ref().map(job_info).transpose()? else { return Ok(None) };
        if info.id == id {
            return Ok(Some(info));
        }
        // Found by job_id: the retries before it keep the errors of their runs.
        let earlier = &self.inner().sql.earlier_errors;
        let before: i64 = info.id.parse().map_err(|_| PostgresError::Malformed(format!("job id {}", info.id)))?;
        let lists: Vec<String> = self
            .retrying("find", || sqlx::query_scalar(earlier.get()).bind(id).bind(before).fetch_all(self.pool()))
            .await?;
        let earlier =
            ErrorRecord::from_json_lists(&lists).map_err(|e| PostgresError::Malformed(format!("errors: {e}")))?;
        Ok(Some(info.with_earlier_errors(earlier)))
    }

    async fn set_paused(&self, queue: &str, paused: bool) -> Result<(), PostgresError> {
        let inner = self.inner();
        if paused {
            self.retrying("pause", || sqlx::query(inner.sql.pause.get()).bind(queue).execute(self.pool())).await?;
        } else {
            self.retrying("resume", || {
                sqlx::query(inner.sql.resume.get()).bind(queue).bind(&inner.channel).execute(self.pool())
            })
            .await?;
        }
        Ok(())
    }

    async fn paused_queues(&self) -> Result<Vec<String>, PostgresError> {
        let sql = &self.inner().sql.paused;
        self.retrying("paused", || sqlx::query_scalar(sql.get()).fetch_all(self.pool())).await
    }
}

impl Inspect for PostgresAdapter {
    fn counts(&self) -> BoxFuture<'_, Result<Counts, Error>> {
        forward(self.count_jobs())
    }

    fn list<'a>(&'a self, params: &'a ListParams) -> BoxFuture<'a, Result<JobPage, Error>> {
        Box::pin(async move {
            let after = cursor(params)?;
            Ok(self.list_jobs(params, after).await?)
        })
    }

    fn find<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<JobInfo>, Error>> {
        forward(self.find_job(id))
    }

    fn apply<'a>(&'a self, action: JobAction, target: &'a Target) -> BoxFuture<'a, Result<u64, Error>> {
        forward(self.apply_action(action, target))
    }

    fn queues(&self) -> BoxFuture<'_, Result<Vec<QueueStats>, Error>> {
        forward(self.queue_stats())
    }

    fn history(&self, since: DateTime<Utc>) -> BoxFuture<'_, Result<Vec<HistoryPoint>, Error>> {
        forward(self.read_history(since))
    }

    fn processes(&self) -> BoxFuture<'_, Result<Vec<ProcessInfo>, Error>> {
        forward(self.live_processes())
    }

    fn signal<'a>(&'a self, id: &'a str, command: ProcessCommand) -> BoxFuture<'a, Result<bool, Error>> {
        forward(self.signal_process(id, command))
    }

    fn pause<'a>(&'a self, queue: &'a str) -> BoxFuture<'a, Result<(), Error>> {
        forward(self.set_paused(queue, true))
    }

    fn resume<'a>(&'a self, queue: &'a str) -> BoxFuture<'a, Result<(), Error>> {
        forward(self.set_paused(queue, false))
    }

    fn paused(&self) -> BoxFuture<'_, Result<Vec<String>, Error>> {
        forward(self.paused_queues())
    }
}

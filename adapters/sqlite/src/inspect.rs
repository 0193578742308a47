//! The inspection side: states, counts, listings, lookups, the dead set, paused queues; job
//! actions, queue stats, history and processes have files of their own.

use chrono::{DateTime, Utc};
use jobs_core::adapter::ErrorRecord;
use jobs_core::adapter::{forward, micros_to_time, time_to_micros};
use jobs_core::{
    BoxFuture, Counts, Error, HistoryPoint, Inspect, JobAction, JobInfo, JobPage, JobState, ListParams, ProcessCommand,
    ProcessInfo, QueueStats, Target,
};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use crate::adapter::SqliteAdapter;
use crate::error::SqliteError;
use crate::filter::Statement;
use crate::sql::{COUNTS, EARLIER_ERRORS, FIND, PAUSE, PAUSED, RESUME, SELECT_JOBS, SELECT_RUNNING_JOBS};

fn job_info(row: &SqliteRow) -> Result<JobInfo, SqliteError> {
    let malformed = |what: &str, e: &dyn std::fmt::Display| SqliteError::Malformed(format!("{what}: {e}"));
    let state: String = row.try_get("shown")?;
    let errors: String = row.try_get("errors")?;
    Ok(JobInfo {
        id: row.try_get::<i64, _>("id")?.to_string(),
        job_id: row.try_get("job_id")?,
        class: row.try_get("class")?,
        queue: row.try_get("queue")?,
        priority: i32::try_from(row.try_get::<i64, _>("priority")?).map_err(|e| malformed("priority", &e))?,
        state: state.parse::<JobState>().map_err(|e| malformed("state", &e))?,
        attempts: u32::try_from(row.try_get::<i64, _>("attempts")?).map_err(|e| malformed("attempts", &e))?,
        run_at: Some(micros_to_time(row.try_get("run_at")?)),
        enqueued_at: Some(micros_to_time(row.try_get("enqueued_at")?)),
        started_at: row.try_get::<Option<i64>, _>("started_at")?.map(micros_to_time),
        finished_at: row.try_get::<Option<i64>, _>("finished_at")?.map(micros_to_time),
        worker_id: row.try_get("worker_id")?,
        payload: row.try_get("payload")?,
        errors: serde_json::from_str::<Vec<ErrorRecord>>(&errors).map_err(|e| malformed("errors", &e))?,
    })
}

/// The row id a page cursor stands for: the cursor is the id of the previous page's last job.
fn parse_cursor(cursor: &str) -> Result<i64, Error> {
    cursor.parse().map_err(|_| {
        Error::Config(format!("invalid page cursor `{cursor}`: pass the `next` of a page of the SQLite adapter"))
    })
}

/// The listing of `params`' page after row `after`, as of `now`, one job longer than the page.
fn list_statement(params: &ListParams, after: Option<i64>, now: i64) -> Statement {
    let select = if params.filter.state == Some(JobState::Running) { SELECT_RUNNING_JOBS } else { SELECT_JOBS };
    let mut statement = Statement::new(select, now);
    statement.filter(&params.filter);
    let (after_op, order) =
        if params.newest_first { (" AND id < ", " ORDER BY id DESC") } else { (" AND id > ", " ORDER BY id") };
    if let Some(after) = after {
        statement.push(after_op).int(after);
    }
    // One more than asked tells whether another page follows.
    let limit = i64::try_from(params.limit).unwrap_or(i64::MAX - 1).saturating_add(1);
    statement.push(order).push(" LIMIT ").int(limit);
    statement
}

impl SqliteAdapter {
    async fn count_jobs(&self) -> Result<Counts, SqliteError> {
        let rows = sqlx::query(COUNTS).bind(time_to_micros(self.now())).fetch_all(self.pool()).await?;
        let mut counts = Counts::new();
        for row in rows {
            let state: String = row.try_get("shown")?;
            let state = state.parse::<JobState>().map_err(|e| SqliteError::Malformed(e.to_string()))?;
            let queue: String = row.try_get("queue")?;
            counts.add(&queue, state, u64::try_from(row.try_get::<i64, _>("n")?).unwrap_or(0));
        }
        Ok(counts)
    }

    async fn list_jobs(&self, params: &ListParams, after: Option<i64>) -> Result<JobPage, SqliteError> {
        let statement = list_statement(params, after, time_to_micros(self.now()));
        let rows = statement.query().fetch_all(self.pool()).await?;
        let jobs = rows.iter().map(job_info).collect::<Result<Vec<_>, _>>()?;
        Ok(JobPage::from_fetched(jobs, params.limit))
    }

    async fn find_job(&self, id: &str) -> Result<Option<JobInfo>, SqliteError> {
        let provider_id = id.parse::<i64>().ok();
        let find = sqlx::query(FIND).bind(time_to_micros(self.now())).bind(provider_id).bind(id);
        let row = find.fetch_optional(self.pool()).await?;
        let Some(info) = row.as_ref().map(job_info).transpose()? else { return Ok(None) };
        if info.id == id {
            return Ok(Some(info));
        }
        // Found by job_id: the retries before it keep the errors of their runs.
        let before: i64 = info.id.parse().map_err(|_| SqliteError::Malformed(format!("job id {}", info.id)))?;
        let lists: Vec<String> =
            sqlx::query_scalar(EARLIER_ERRORS).bind(id).bind(before).fetch_all(self.pool()).await?;
        let earlier =
            ErrorRecord::from_json_lists(&lists).map_err(|e| SqliteError::Malformed(format!("errors: {e}")))?;
        Ok(Some(info.with_earlier_errors(earlier)))
    }

    async fn set_paused(&self, queue: &str, paused: bool) -> Result<(), SqliteError> {
        if paused {
            sqlx::query(PAUSE).bind(queue).bind(time_to_micros(self.now())).execute(self.pool()).await?;
        } else {
            sqlx::query(RESUME).bind(queue).execute(self.pool()).await?;
            self.wake();
        }
        Ok(())
    }

    async fn paused_queues(&self) -> Result<Vec<String>, SqliteError> {
        Ok(sqlx::query_scalar(PAUSED).fetch_all(self.pool()).await?)
    }
}

impl Inspect for SqliteAdapter {
    fn counts(&self) -> BoxFuture<'_, Result<Counts, Error>> {
        forward(self.count_jobs())
    }

    fn list<'a>(&'a self, params: &'a ListParams) -> BoxFuture<'a, Result<JobPage, Error>> {
        Box::pin(async move {
            let after = params.after.as_deref().map(parse_cursor).transpose()?;
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
        forward(self.history_since(since))
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

#[cfg(test)]
mod tests {
    use jobs_core::JobFilter;

    use super::*;

    /// The first page of every state and of a queue comes from an index in id order (or, for the
    /// few running jobs, their lease index): never from a walk of the whole table, whatever it holds.
    #[tokio::test]
    async fn listings_walk_an_index_not_the_table() {
        let dir = tempfile::tempdir().unwrap();
        let sqlite = SqliteAdapter::open(dir.path().join("jobs.db")).await.unwrap();
        let mut filters: Vec<JobFilter> = JobState::ALL.iter().map(|s| JobFilter::new().state(*s)).collect();
        filters.push(JobFilter::new().queue("mailers"));
        filters.push(JobFilter::new().queue("mailers").state(JobState::Ready).class("SendInvoice"));
        for filter in filters {
            for newest_first in [false, true] {
                let mut params = ListParams::new().filter(filter.clone());
                params.newest_first = newest_first;
                let statement = list_statement(&params, Some(7), 0).explain();
                let rows = statement.query().fetch_all(sqlite.pool()).await.unwrap();
                let plan: Vec<String> = rows.iter().map(|row| row.get::<String, _>("detail")).collect();
                let plan = plan.join("; ");
                assert!(plan.contains("USING INDEX") || plan.contains("USING COVERING INDEX"), "{filter:?}: {plan}");
                let sorted = plan.contains("TEMP B-TREE");
                assert_eq!(sorted, filter.state == Some(JobState::Running), "{filter:?}: {plan}");
            }
        }
    }
}

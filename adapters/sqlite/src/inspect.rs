//! The inspection side: states, counts, the dead set, paused queues.

use jobs_core::adapter::ErrorRecord;
use jobs_core::adapter::{forward, micros_to_time, time_to_micros};
use jobs_core::{BoxFuture, Counts, Error, Inspect, JobInfo, JobState, ListParams};
use sqlx::Row;
use sqlx::sqlite::SqliteRow;

use crate::adapter::SqliteAdapter;
use crate::error::SqliteError;
use crate::sql::{COUNTS, DELETE_DEAD, FIND, LIST, PAUSE, PAUSED, RESUME, RETRY_DEAD};

fn job_info(row: &SqliteRow) -> Result<JobInfo, SqliteError> {
    let malformed = |what: &str, e: &dyn std::fmt::Display| SqliteError::Malformed(format!("{what}: {e}"));
    let state: String = row.try_get("shown")?;
    let errors: String = row.try_get("errors")?;
    Ok(JobInfo {
        id: row.try_get::<i64, _>("id")?.to_string(),
        queue: row.try_get("queue")?,
        priority: i32::try_from(row.try_get::<i64, _>("priority")?).map_err(|e| malformed("priority", &e))?,
        state: state.parse::<JobState>().map_err(|e| malformed("state", &e))?,
        attempts: u32::try_from(row.try_get::<i64, _>("attempts")?).map_err(|e| malformed("attempts", &e))?,
        run_at: Some(micros_to_time(row.try_get("run_at")?)),
        payload: row.try_get("payload")?,
        errors: serde_json::from_str::<Vec<ErrorRecord>>(&errors).map_err(|e| malformed("errors", &e))?,
    })
}

/// Backend ids as the JSON array of integers the statements above take.
fn id_list(ids: &[String]) -> String {
    let ids: Vec<i64> = ids.iter().filter_map(|id| id.parse().ok()).collect();
    serde_json::to_string(&ids).expect("integers serialize")
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

    async fn list_jobs(&self, params: &ListParams) -> Result<Vec<JobInfo>, SqliteError> {
        let rows = sqlx::query(LIST)
            .bind(time_to_micros(self.now()))
            .bind(params.queue.as_deref())
            .bind(params.state.map(|s| s.as_str()))
            .bind(i64::try_from(params.limit).unwrap_or(i64::MAX))
            .bind(i64::try_from(params.offset).unwrap_or(i64::MAX))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(job_info).collect()
    }

    async fn find_job(&self, id: &str) -> Result<Option<JobInfo>, SqliteError> {
        let provider_id = id.parse::<i64>().ok();
        let find = sqlx::query(FIND).bind(time_to_micros(self.now())).bind(provider_id).bind(id);
        let row = find.fetch_optional(self.pool()).await?;
        row.as_ref().map(job_info).transpose()
    }

    async fn change_dead(&self, retry: bool, ids: &[String]) -> Result<usize, SqliteError> {
        let done = if retry {
            sqlx::query(RETRY_DEAD).bind(time_to_micros(self.now())).bind(id_list(ids)).execute(self.pool()).await?
        } else {
            sqlx::query(DELETE_DEAD).bind(id_list(ids)).execute(self.pool()).await?
        };
        if retry && done.rows_affected() > 0 {
            self.wake();
        }
        Ok(usize::try_from(done.rows_affected()).unwrap_or(usize::MAX))
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

    fn list<'a>(&'a self, params: &'a ListParams) -> BoxFuture<'a, Result<Vec<JobInfo>, Error>> {
        forward(self.list_jobs(params))
    }

    fn find<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<JobInfo>, Error>> {
        forward(self.find_job(id))
    }

    fn retry_dead<'a>(&'a self, ids: &'a [String]) -> BoxFuture<'a, Result<usize, Error>> {
        forward(self.change_dead(true, ids))
    }

    fn delete_dead<'a>(&'a self, ids: &'a [String]) -> BoxFuture<'a, Result<usize, Error>> {
        forward(self.change_dead(false, ids))
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

//! Recurring tasks in the file: each tick recorded under a primary key on (task, tick) in the
//! transaction that stores its job, so that one scheduler only enqueues it.

use chrono::{DateTime, Utc};
use jobs_core::Error;
use jobs_core::adapter::{
    BoxFuture, NewJob, RecurringStore, RecurringTask, RecurringTaskState, TICK_RETENTION, TickOutcome,
    duration_to_micros, micros_to_time, time_to_micros,
};

use crate::adapter::SqliteAdapter;
use crate::error::SqliteError;
use crate::sql::{
    BEGIN_WRITE, FORGET_RECURRING_TICKS, PAUSE_RECURRING_TASK, RECORD_RECURRING_TICK, RECURRING_LAST_RUN,
    RECURRING_TASK_PAUSED, RECURRING_TASKS, REMOVE_RECURRING_TASKS, REMOVE_RECURRING_TICKS, UPSERT_RECURRING_TASK,
};

type TaskRow = (String, String, bool, Option<i64>, Option<String>);

impl SqliteAdapter {
    async fn enqueue_tick_tx(
        &self,
        key: &str,
        run_at: DateTime<Utc>,
        job: &NewJob,
    ) -> Result<TickOutcome, SqliteError> {
        let mut tx = self.pool().begin_with(BEGIN_WRITE).await?;
        let paused: Option<bool> = sqlx::query_scalar(RECURRING_TASK_PAUSED).bind(key).fetch_optional(&mut *tx).await?;
        if paused != Some(false) {
            return Ok(TickOutcome::Inactive);
        }
        let tick = time_to_micros(run_at);
        let job_id = &job.data().job_id;
        let recorded = sqlx::query(RECORD_RECURRING_TICK).bind(key).bind(tick).bind(job_id).execute(&mut *tx).await?;
        if recorded.rows_affected() == 0 {
            return Ok(TickOutcome::Taken);
        }
        let ids = self.insert_in(&mut tx, &[SqliteAdapter::row(job, self.now())]).await?;
        sqlx::query(RECURRING_LAST_RUN).bind(key).bind(tick).bind(job_id).execute(&mut *tx).await?;
        let forget_before = tick.saturating_sub(duration_to_micros(TICK_RETENTION));
        sqlx::query(FORGET_RECURRING_TICKS).bind(key).bind(forget_before).execute(&mut *tx).await?;
        tx.commit().await?;
        self.wake();
        Ok(TickOutcome::Enqueued(ids.first().map(i64::to_string)))
    }
}

impl RecurringStore for SqliteAdapter {
    fn tasks(&self) -> BoxFuture<'_, Result<Vec<RecurringTaskState>, Error>> {
        Box::pin(async move {
            let rows: Vec<TaskRow> =
                sqlx::query_as(RECURRING_TASKS).fetch_all(self.pool()).await.map_err(SqliteError::from)?;
            rows.into_iter()
                .map(|(_, definition, paused, last_run_at, last_job_id)| {
                    Ok(RecurringTaskState {
                        task: RecurringTask::from_json(&definition)?,
                        paused,
                        last_run_at: last_run_at.map(micros_to_time),
                        last_job_id,
                    })
                })
                .collect()
        })
    }

    fn upsert_tasks<'a>(&'a self, tasks: &'a [RecurringTask]) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let mut tx = self.pool().begin_with(BEGIN_WRITE).await.map_err(SqliteError::from)?;
            for task in tasks {
                sqlx::query(UPSERT_RECURRING_TASK)
                    .bind(&task.key)
                    .bind(task.to_json()?)
                    .bind(task.is_static)
                    .execute(&mut *tx)
                    .await
                    .map_err(SqliteError::from)?;
            }
            tx.commit().await.map_err(SqliteError::from)?;
            Ok(())
        })
    }

    fn remove_tasks<'a>(&'a self, keys: &'a [String]) -> BoxFuture<'a, Result<usize, Error>> {
        Box::pin(async move {
            let keys = serde_json::to_string(keys).map_err(|e| SqliteError::Malformed(e.to_string()))?;
            let mut tx = self.pool().begin_with(BEGIN_WRITE).await.map_err(SqliteError::from)?;
            let removed =
                sqlx::query(REMOVE_RECURRING_TASKS).bind(&keys).execute(&mut *tx).await.map_err(SqliteError::from)?;
            sqlx::query(REMOVE_RECURRING_TICKS).bind(&keys).execute(&mut *tx).await.map_err(SqliteError::from)?;
            tx.commit().await.map_err(SqliteError::from)?;
            Ok(removed.rows_affected() as usize)
        })
    }

    fn set_paused<'a>(&'a self, key: &'a str, paused: bool) -> BoxFuture<'a, Result<bool, Error>> {
        Box::pin(async move {
            let done = sqlx::query(PAUSE_RECURRING_TASK)
                .bind(key)
                .bind(paused)
                .execute(self.pool())
                .await
                .map_err(SqliteError::from)?;
            Ok(done.rows_affected() > 0)
        })
    }

    fn enqueue_tick<'a>(
        &'a self,
        key: &'a str,
        run_at: DateTime<Utc>,
        job: &'a NewJob,
    ) -> BoxFuture<'a, Result<TickOutcome, Error>> {
        Box::pin(async move { Ok(self.enqueue_tick_tx(key, run_at, job).await?) })
    }
}

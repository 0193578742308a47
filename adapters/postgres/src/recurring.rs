//! Recurring tasks in the schema: each tick recorded under a primary key on (task, tick) in the
//! transaction that stores its job, so that one scheduler only enqueues it. The task's row is
//! locked first (FOR UPDATE), so that a pause or removal waits for the tick or comes before it,
//! and schedulers racing for one tick queue up on it instead of deadlocking between the tick's
//! key and the task's last run.

use chrono::{DateTime, Utc};
use jobs_core::Error;
use jobs_core::adapter::{
    BoxFuture, NewJob, RecurringStore, RecurringTask, RecurringTaskState, TICK_RETENTION, TickOutcome,
};
use sqlx::AssertSqlSafe;

use crate::adapter::{PostgresAdapter, Rows};
use crate::error::PostgresError;

type TaskRow = (String, bool, Option<DateTime<Utc>>, Option<String>);

impl PostgresAdapter {
    fn recurring_table(&self, table: &str) -> String {
        format!("{}.recurring_{table}", self.inner().schema.quoted)
    }

    async fn enqueue_tick_tx(
        &self,
        key: &str,
        run_at: DateTime<Utc>,
        job: &NewJob,
    ) -> Result<TickOutcome, PostgresError> {
        let (tasks, ticks) = (self.recurring_table("tasks"), self.recurring_table("executions"));
        let mut tx = self.pool().begin().await?;
        let paused: Option<bool> =
            sqlx::query_scalar(AssertSqlSafe(format!("SELECT paused FROM {tasks} WHERE key = $1 FOR UPDATE")))
                .bind(key)
                .fetch_optional(&mut *tx)
                .await?;
        if paused != Some(false) {
            return Ok(TickOutcome::Inactive);
        }
        let job_id = &job.data().job_id;
        let recorded = sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO {ticks} (task_key, run_at, job_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING"
        )))
        .bind(key)
        .bind(run_at)
        .bind(job_id)
        .execute(&mut *tx)
        .await?;
        if recorded.rows_affected() == 0 {
            return Ok(TickOutcome::Taken);
        }
        let rows = Rows::of(std::slice::from_ref(job));
        // The wake-up is sent when the transaction commits.
        let ids = self.insert(&mut *tx, &rows, &[job.data().queue_name.as_str()]).await?;
        sqlx::query(AssertSqlSafe(format!(
            "UPDATE {tasks} SET last_run_at = $2, last_job_id = $3
             WHERE key = $1 AND (last_run_at IS NULL OR last_run_at < $2)"
        )))
        .bind(key)
        .bind(run_at)
        .bind(job_id)
        .execute(&mut *tx)
        .await?;
        let forget_before = run_at - chrono::Duration::from_std(TICK_RETENTION).unwrap_or(chrono::TimeDelta::MAX);
        sqlx::query(AssertSqlSafe(format!("DELETE FROM {ticks} WHERE task_key = $1 AND run_at < $2")))
            .bind(key)
            .bind(forget_before)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(TickOutcome::Enqueued(ids.first().map(i64::to_string)))
    }
}

impl RecurringStore for PostgresAdapter {
    fn tasks(&self) -> BoxFuture<'_, Result<Vec<RecurringTaskState>, Error>> {
        Box::pin(async move {
            let sql = format!(
                "SELECT definition, paused, last_run_at, last_job_id FROM {} ORDER BY key",
                self.recurring_table("tasks")
            );
            let rows: Vec<TaskRow> = self
                .retrying("listing recurring tasks", || {
                    sqlx::query_as(AssertSqlSafe(sql.clone())).fetch_all(self.pool())
                })
                .await?;
            rows.into_iter()
                .map(|(definition, paused, last_run_at, last_job_id)| {
                    Ok(RecurringTaskState {
                        task: RecurringTask::from_json(&definition)?,
                        paused,
                        last_run_at,
                        last_job_id,
                    })
                })
                .collect()
        })
    }

    fn upsert_tasks<'a>(&'a self, tasks: &'a [RecurringTask]) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let keys: Vec<&str> = tasks.iter().map(|t| t.key.as_str()).collect();
            let definitions = tasks.iter().map(RecurringTask::to_json).collect::<Result<Vec<_>, _>>()?;
            let statics: Vec<bool> = tasks.iter().map(|t| t.is_static).collect();
            let sql = format!(
                "INSERT INTO {} (key, definition, is_static)
                 SELECT * FROM unnest($1::text[], $2::text[], $3::bool[])
                 ON CONFLICT (key) DO UPDATE SET definition = excluded.definition, is_static = excluded.is_static",
                self.recurring_table("tasks")
            );
            self.retrying("storing recurring tasks", || {
                sqlx::query(AssertSqlSafe(sql.clone()))
                    .bind(&keys)
                    .bind(&definitions)
                    .bind(&statics)
                    .execute(self.pool())
            })
            .await?;
            Ok(())
        })
    }

    fn remove_tasks<'a>(&'a self, keys: &'a [String]) -> BoxFuture<'a, Result<usize, Error>> {
        Box::pin(async move {
            let sql = format!(
                "WITH ticks AS (DELETE FROM {} WHERE task_key = ANY($1))
                 DELETE FROM {} WHERE key = ANY($1)",
                self.recurring_table("executions"),
                self.recurring_table("tasks")
            );
            let done = self
                .retrying("removing recurring tasks", || {
                    sqlx::query(AssertSqlSafe(sql.clone())).bind(keys).execute(self.pool())
                })
                .await?;
            Ok(done.rows_affected() as usize)
        })
    }

    fn set_paused<'a>(&'a self, key: &'a str, paused: bool) -> BoxFuture<'a, Result<bool, Error>> {
        Box::pin(async move {
            let sql = format!("UPDATE {} SET paused = $2 WHERE key = $1", self.recurring_table("tasks"));
            let done = self
                .retrying("pausing a recurring task", || {
                    sqlx::query(AssertSqlSafe(sql.clone())).bind(key).bind(paused).execute(self.pool())
                })
                .await?;
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

//! Recurring tasks in Redis: definitions in the `recurring:tasks` hash, paused keys in the
//! `recurring:paused` set, last runs in the `recurring:last` hash; a tick is enqueued by one
//! script that checks the task, wins a `SET NX` on the tick's key (kept for a day) and pushes
//! the job, so that one scheduler only enqueues it.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use jobs_core::Error;
use jobs_core::adapter::{
    BoxFuture, NewJob, RecurringStore, RecurringTask, RecurringTaskState, TICK_RETENTION, TickOutcome, micros_to_time,
    time_to_micros,
};

use crate::adapter::RedisAdapter;
use crate::envelope;
use crate::error::RedisError;
use crate::scripts;

impl RedisAdapter {
    async fn tick(&self, key: &str, run_at: DateTime<Utc>, job: &NewJob) -> Result<TickOutcome, RedisError> {
        let now = envelope::seconds(Utc::now());
        let (data, payload) = (job.data(), job.payload());
        let later = data.scheduled_at.is_some_and(|at| envelope::seconds(at) > now);
        let jid = envelope::new_jid();
        let stored = envelope::write(data, payload, &jid, now, later);
        let due = data.scheduled_at.map(envelope::due_score).unwrap_or_default();
        let mut call = self.invocation(&scripts::RECURRING_TICK);
        call.arg(key)
            .arg(time_to_micros(run_at))
            .arg(TICK_RETENTION.as_millis() as u64)
            .arg(&data.job_id)
            .arg(&data.queue_name)
            .arg(data.priority.unwrap_or(0))
            .arg(due)
            .arg(stored);
        Ok(match self.run::<String>(&call).await?.as_str() {
            "enqueued" => TickOutcome::Enqueued(Some(jid)),
            "taken" => TickOutcome::Taken,
            _ => TickOutcome::Inactive,
        })
    }

    async fn recurring_tasks(&self) -> Result<Vec<RecurringTaskState>, Error> {
        let mut conn = self.connection();
        let (definitions, paused, last): (HashMap<String, String>, HashSet<String>, HashMap<String, String>) =
            redis::pipe()
                .atomic()
                .hgetall(self.key("recurring:tasks"))
                .smembers(self.key("recurring:paused"))
                .hgetall(self.key("recurring:last"))
                .query_async(&mut conn)
                .await
                .map_err(RedisError::from)?;
        let mut tasks = definitions
            .into_iter()
            .map(|(key, definition)| {
                let (last_run_at, last_job_id) = match last.get(&key).and_then(|l| l.split_once(' ')) {
                    Some((micros, job_id)) => (micros.parse().ok().map(micros_to_time), Some(job_id.to_owned())),
                    None => (None, None),
                };
                Ok(RecurringTaskState {
                    task: RecurringTask::from_json(&definition)?,
                    paused: paused.contains(&key),
                    last_run_at,
                    last_job_id,
                })
            })
            .collect::<Result<Vec<_>, Error>>()?;
        tasks.sort_by(|a, b| a.task.key.cmp(&b.task.key));
        Ok(tasks)
    }
}

impl RecurringStore for RedisAdapter {
    fn tasks(&self) -> BoxFuture<'_, Result<Vec<RecurringTaskState>, Error>> {
        Box::pin(self.recurring_tasks())
    }

    fn upsert_tasks<'a>(&'a self, tasks: &'a [RecurringTask]) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            if tasks.is_empty() {
                return Ok(());
            }
            let fields =
                tasks.iter().map(|task| Ok((task.key.clone(), task.to_json()?))).collect::<Result<Vec<_>, Error>>()?;
            let mut conn = self.connection();
            let () = redis::cmd("HSET")
                .arg(self.key("recurring:tasks"))
                .arg(fields)
                .query_async(&mut conn)
                .await
                .map(|_: i64| ())
                .map_err(RedisError::from)?;
            Ok(())
        })
    }

    fn remove_tasks<'a>(&'a self, keys: &'a [String]) -> BoxFuture<'a, Result<usize, Error>> {
        Box::pin(async move {
            let mut call = self.invocation(&scripts::RECURRING_REMOVE);
            call.arg(keys);
            Ok(self.run::<usize>(&call).await?)
        })
    }

    fn set_paused<'a>(&'a self, key: &'a str, paused: bool) -> BoxFuture<'a, Result<bool, Error>> {
        Box::pin(async move {
            let mut call = self.invocation(&scripts::RECURRING_PAUSE);
            call.arg(key).arg(if paused { "1" } else { "0" });
            Ok(self.run::<i64>(&call).await? == 1)
        })
    }

    fn enqueue_tick<'a>(
        &'a self,
        key: &'a str,
        run_at: DateTime<Utc>,
        job: &'a NewJob,
    ) -> BoxFuture<'a, Result<TickOutcome, Error>> {
        Box::pin(async move { Ok(self.tick(key, run_at, job).await?) })
    }
}

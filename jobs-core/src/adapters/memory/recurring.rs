//! The memory adapter's recurring tasks: kept in its store, under the same lock as the jobs, so
//! that a tick's record and its job are stored together.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use crate::contract::{
    BoxFuture, Error, NewJob, RecurringStore, RecurringTask, RecurringTaskState, TICK_RETENTION, TickOutcome,
};

use super::MemoryAdapter;

/// Tasks by key, and the ticks enqueued, by task and time.
#[derive(Debug, Default)]
pub(super) struct Recurring {
    tasks: BTreeMap<String, RecurringTaskState>,
    ticks: BTreeSet<(String, DateTime<Utc>)>,
}

impl RecurringStore for MemoryAdapter {
    fn tasks(&self) -> BoxFuture<'_, Result<Vec<RecurringTaskState>, Error>> {
        Box::pin(async move { Ok(self.store().recurring.tasks.values().cloned().collect()) })
    }

    fn upsert_tasks<'a>(&'a self, tasks: &'a [RecurringTask]) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let mut store = self.store();
            for task in tasks {
                let entry = store.recurring.tasks.entry(task.key.clone()).or_insert_with(|| RecurringTaskState {
                    task: task.clone(),
                    paused: false,
                    last_run_at: None,
                    last_job_id: None,
                });
                entry.task = task.clone();
            }
            Ok(())
        })
    }

    fn remove_tasks<'a>(&'a self, keys: &'a [String]) -> BoxFuture<'a, Result<usize, Error>> {
        Box::pin(async move {
            let mut store = self.store();
            let recurring = &mut store.recurring;
            let removed = keys.iter().filter(|key| recurring.tasks.remove(*key).is_some()).count();
            recurring.ticks.retain(|(key, _)| !keys.contains(key));
            Ok(removed)
        })
    }

    fn set_paused<'a>(&'a self, key: &'a str, paused: bool) -> BoxFuture<'a, Result<bool, Error>> {
        Box::pin(async move {
            let mut store = self.store();
            let Some(state) = store.recurring.tasks.get_mut(key) else { return Ok(false) };
            state.paused = paused;
            Ok(true)
        })
    }

    fn enqueue_tick<'a>(
        &'a self,
        key: &'a str,
        run_at: DateTime<Utc>,
        job: &'a NewJob,
    ) -> BoxFuture<'a, Result<TickOutcome, Error>> {
        Box::pin(async move {
            let now = self.now();
            let mut store = self.store();
            match store.recurring.tasks.get(key) {
                Some(state) if !state.paused => {}
                _ => return Ok(TickOutcome::Inactive),
            }
            if !store.recurring.ticks.insert((key.to_owned(), run_at)) {
                return Ok(TickOutcome::Taken);
            }
            let data = job.data();
            let id = store.insert(
                &data.queue_name,
                data.priority.unwrap_or(0),
                job.payload().to_owned(),
                data.scheduled_at,
                now,
            );
            let recurring = &mut store.recurring;
            let state = recurring.tasks.get_mut(key).expect("checked above");
            if state.last_run_at.is_none_or(|last| last < run_at) {
                state.last_run_at = Some(run_at);
                state.last_job_id = Some(data.job_id.clone());
            }
            let forget_before = run_at - chrono::Duration::from_std(TICK_RETENTION).expect("a day fits");
            recurring.ticks.retain(|(k, at)| k != key || *at >= forget_before);
            drop(store);
            self.wake();
            Ok(TickOutcome::Enqueued(Some(id.to_string())))
        })
    }
}

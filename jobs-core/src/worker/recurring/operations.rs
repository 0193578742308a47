//! `RecurringTasks`: the operations on recurring tasks at run time (list, add, change, remove,
//! pause, resume, run now), for the CLI, a dashboard or the application's own code.

use chrono::{DateTime, Utc};

use crate::contract::{Error, RecurringTaskState, TickOutcome};
use crate::enqueue::Enqueued;
use crate::runtime::Runtime;

use super::task::{Recurring, validate};
use super::tick;

/// A stored recurring task as tools show it: its definition and state, and its next tick.
#[derive(Clone, Debug, PartialEq)]
pub struct RecurringTaskInfo {
    /// The task, paused or not, with its last run.
    pub state: RecurringTaskState,
    /// Its next tick after now, `None` when its schedule does not parse.
    pub next_run_at: Option<DateTime<Utc>>,
}

/// The recurring tasks stored in a runtime's adapter, steered at run time. Changes reach the
/// running schedulers within a second.
///
/// ```
/// # async fn demo() -> Result<(), jobs_core::Error> {
/// # use jobs_core::{Recurring, RecurringTasks, Runtime, adapters::MemoryAdapter};
/// let runtime = Runtime::builder().adapter(MemoryAdapter::new()).build()?;
/// let tasks = RecurringTasks::new(&runtime)?;
/// tasks.add(Recurring::new("cleanup", "every 5 minutes").class("Cleanup", vec![])).await?;
/// tasks.pause("cleanup").await?;
/// assert!(tasks.list().await?[0].state.paused);
/// tasks.resume("cleanup").await?;
/// let job = tasks.run_now("cleanup").await?; // enqueued at once, outside its schedule
/// assert!(tasks.remove("cleanup").await?);
/// # Ok(()) }
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(demo()).unwrap();
/// ```
#[derive(Clone, Debug)]
pub struct RecurringTasks {
    runtime: Runtime,
}

impl RecurringTasks {
    /// The tasks of `runtime`'s adapter; [`Error::NotSupported`] if it stores none.
    pub fn new(runtime: &Runtime) -> Result<Self, Error> {
        tick::store(runtime)?;
        Ok(RecurringTasks { runtime: runtime.clone() })
    }

    /// Every stored task, by key, with its next tick.
    pub async fn list(&self) -> Result<Vec<RecurringTaskInfo>, Error> {
        let now = self.runtime.now();
        let states = tick::store(&self.runtime)?.tasks().await?;
        Ok(states
            .into_iter()
            .map(|state| {
                let next_run_at = validate(&state.task).ok().and_then(|schedule| schedule.next_after(now));
                RecurringTaskInfo { state, next_run_at }
            })
            .collect())
    }

    /// The stored task `key`, if any.
    pub async fn get(&self, key: &str) -> Result<Option<RecurringTaskInfo>, Error> {
        Ok(self.list().await?.into_iter().find(|info| info.state.task.key == key))
    }

    /// Adds a task at run time, or changes the one added under the same key (keeping its state):
    /// a dynamic task, kept until removed. A task declared in code or in a recurring file cannot
    /// be changed here (the next start would undo it): change its declaration.
    pub async fn add(&self, task: Recurring) -> Result<(), Error> {
        let task = task.to_task(&self.runtime)?;
        if self.get(&task.key).await?.is_some_and(|info| info.state.task.is_static) {
            return Err(Error::Config(format!(
                "recurring task `{}` is declared in code or in a recurring file: change it there",
                task.key
            )));
        }
        tick::store(&self.runtime)?.upsert_tasks(std::slice::from_ref(&task)).await
    }

    /// Removes the task `key`; the jobs it enqueued stay. Returns whether it was stored. A static
    /// task comes back at the next start of a worker that declares it.
    pub async fn remove(&self, key: &str) -> Result<bool, Error> {
        Ok(tick::store(&self.runtime)?.remove_tasks(&[key.to_owned()]).await? > 0)
    }

    /// Pauses the task `key`: it enqueues nothing until resumed. Returns whether it is stored.
    pub async fn pause(&self, key: &str) -> Result<bool, Error> {
        tick::store(&self.runtime)?.set_paused(key, true).await
    }

    /// Resumes the task `key` from its next tick. Returns whether it is stored.
    pub async fn resume(&self, key: &str) -> Result<bool, Error> {
        tick::store(&self.runtime)?.set_paused(key, false).await
    }

    /// Enqueues the task `key` now, outside its schedule, as a tick at the current time (which
    /// becomes its last run). An error if there is no such task or it is paused.
    pub async fn run_now(&self, key: &str) -> Result<Enqueued, Error> {
        let info = self.get(key).await?.ok_or_else(|| Error::Config(format!("no recurring task `{key}`")))?;
        if info.state.paused {
            return Err(Error::Config(format!("recurring task `{key}` is paused: resume it first")));
        }
        let now = self.runtime.now();
        match tick::enqueue(&self.runtime, &info.state.task, now).await? {
            (_, Some(job)) => Ok(job),
            (TickOutcome::Taken, _) => {
                Err(Error::Config(format!("recurring task `{key}` was just enqueued for {now}")))
            }
            _ => Err(Error::Config(format!("recurring task `{key}` was paused or removed meanwhile"))),
        }
    }
}

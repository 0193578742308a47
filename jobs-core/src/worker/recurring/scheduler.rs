//! The scheduler: on each look, enqueues the ticks of stored tasks that are due, through the
//! store, which lets each tick through once whatever the number of schedulers.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

use crate::contract::{Error, RecurringTask, TickOutcome};
use crate::enqueue::Enqueued;
use crate::runtime::Runtime;

use super::schedule::Schedule;
use super::task::validate;
use super::{tick, ticks};

/// The longest a running scheduler waits before it looks at the stored tasks again: how soon it
/// sees tasks added, changed, paused or removed at run time.
const REFRESH: Duration = Duration::from_secs(1);

/// Enqueues the ticks of the recurring tasks stored in its runtime's adapter, each once across
/// every scheduler sharing the store.
///
/// A [`Worker`](crate::Worker) runs one by default; several workers, in several processes, may
/// all run theirs: the store decides which one enqueues each tick
/// ([`RecurringStore::enqueue_tick`](crate::adapter::RecurringStore::enqueue_tick)). Time comes
/// from the runtime's clock, so a test drives it with a [`ManualClock`](crate::ManualClock) and
/// [`Scheduler::poll`].
///
/// ```
/// # async fn demo() -> Result<(), jobs_core::Error> {
/// # use jobs_core::{Recurring, Runtime, Scheduler, adapters::MemoryAdapter};
/// let runtime = Runtime::builder().adapter(MemoryAdapter::new()).build()?;
/// let task = Recurring::new("tick", "* * * * * *").class("Tick", vec![]).to_task(&runtime)?;
/// let scheduler = Scheduler::new(&runtime, vec![task])?;
/// scheduler.sync(true).await?; // store the static tasks, forget those no longer declared
/// let enqueued = scheduler.poll().await?; // the ticks due now, if no other scheduler took them
/// # Ok(()) }
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(demo()).unwrap();
/// ```
#[derive(Debug)]
pub struct Scheduler {
    runtime: Runtime,
    statics: Vec<RecurringTask>,
    looked: Mutex<Looked>,
}

/// What the scheduler remembers between looks.
#[derive(Debug, Default)]
struct Looked {
    /// Per task: up to when its ticks were considered.
    until: HashMap<String, DateTime<Utc>>,
    /// Parsed schedules by (expression, time zone); `None` for those that do not parse.
    schedules: HashMap<(String, Option<String>), Option<Schedule>>,
    /// The earliest next tick of an active task, as of the last look.
    next: Option<DateTime<Utc>>,
}

impl Scheduler {
    /// A scheduler on `runtime`'s adapter, with these static tasks (from code and files) to
    /// [`sync`](Scheduler::sync). Every task is checked first: an invalid schedule or time zone,
    /// or two tasks with one key, is an error naming the task. The adapter must store recurring
    /// tasks ([`Error::NotSupported`] otherwise).
    pub fn new(runtime: &Runtime, static_tasks: Vec<RecurringTask>) -> Result<Self, Error> {
        tick::store(runtime)?;
        let mut keys = HashSet::new();
        let mut statics = Vec::with_capacity(static_tasks.len());
        for mut task in static_tasks {
            validate(&task)?;
            if !keys.insert(task.key.clone()) {
                return Err(Error::Config(format!("recurring task `{}` is declared twice", task.key)));
            }
            if runtime.registry().get(&task.class).is_none() {
                tracing::warn!(target: "jobs", task = %task.key, "Recurring task `{}` enqueues {}, a job class this process does not know", task.key, task.class);
            }
            task.is_static = true;
            statics.push(task);
        }
        Ok(Scheduler { runtime: runtime.clone(), statics, looked: Mutex::default() })
    }

    /// The static tasks this scheduler stores at [`sync`](Scheduler::sync).
    pub fn static_tasks(&self) -> &[RecurringTask] {
        &self.statics
    }

    /// Stores the static tasks (replacing their definitions, keeping their state) and, with
    /// `remove_undeclared`, removes the stored static tasks that are no longer declared, as Solid
    /// Queue does at start-up; tasks added at run time and jobs already enqueued are left alone.
    pub async fn sync(&self, remove_undeclared: bool) -> Result<(), Error> {
        let store = tick::store(&self.runtime)?;
        store.upsert_tasks(&self.statics).await?;
        if !remove_undeclared {
            return Ok(());
        }
        let declared: HashSet<&str> = self.statics.iter().map(|t| t.key.as_str()).collect();
        let stale: Vec<String> = store
            .tasks()
            .await?
            .into_iter()
            .filter(|state| state.task.is_static && !declared.contains(state.task.key.as_str()))
            .map(|state| state.task.key)
            .collect();
        if !stale.is_empty() {
            tracing::info!(target: "jobs", "Removing recurring tasks no longer declared: {}", stale.join(", "));
            store.remove_tasks(&stale).await?;
        }
        Ok(())
    }

    /// Looks once: enqueues, for every stored task that is not paused, the ticks due since the
    /// last look (or since its last run, after a restart, as its [`MissedTicks`](crate::MissedTicks)
    /// policy says), at the runtime clock's now. Returns the jobs this scheduler enqueued; ticks
    /// another scheduler enqueued first are not among them. A task whose enqueue fails is tried
    /// again at the next look; the error of the last failure is returned after every task was tried.
    pub async fn poll(&self) -> Result<Vec<Enqueued>, Error> {
        let now = self.runtime.now();
        let tasks = tick::store(&self.runtime)?.tasks().await?;
        let mut enqueued = Vec::new();
        let mut failure = None;
        let mut next: Option<DateTime<Utc>> = None;
        for state in &tasks {
            let task = &state.task;
            let Some(schedule) = self.schedule(task) else { continue };
            if state.paused {
                self.looked().until.insert(task.key.clone(), now);
                continue;
            }
            let seen = self.looked().until.get(&task.key).copied();
            let after = match (seen, state.last_run_at) {
                (Some(seen), Some(last)) => seen.max(last),
                (Some(seen), None) => seen,
                (None, last) => last.unwrap_or(now),
            };
            let mut done = true;
            for run_at in ticks::due(&schedule, task.missed, after, now) {
                match tick::enqueue(&self.runtime, task, run_at).await {
                    Ok((_, Some(job))) => enqueued.push(job),
                    Ok((TickOutcome::Taken | TickOutcome::Inactive | TickOutcome::Enqueued(_), None)) => {}
                    Err(error) => {
                        tracing::error!(target: "jobs", task = %task.key, %error, "Could not enqueue recurring task `{}`; trying again", task.key);
                        failure = Some(error);
                        done = false;
                        break;
                    }
                }
            }
            if done {
                self.looked().until.insert(task.key.clone(), now);
            }
            next = match (next, schedule.next_after(now)) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
        }
        let mut looked = self.looked();
        looked.until.retain(|key, _| tasks.iter().any(|state| &state.task.key == key));
        looked.next = next;
        drop(looked);
        match failure {
            Some(error) => Err(error),
            None => Ok(enqueued),
        }
    }

    /// Looks until `stop` is cancelled: at each tick of a task, and at least every second so
    /// that tasks changed at run time are seen.
    pub(crate) async fn run(self, stop: CancellationToken) {
        let mut backoff = Duration::from_millis(100);
        loop {
            let wait = match self.poll().await {
                Ok(_) => {
                    backoff = Duration::from_millis(100);
                    let next = self.looked().next;
                    let until_next = next.and_then(|next| (next - self.runtime.now()).to_std().ok());
                    until_next.unwrap_or(Duration::ZERO).clamp(Duration::from_millis(5), REFRESH)
                }
                Err(_) => {
                    backoff = (backoff * 2).min(Duration::from_secs(10));
                    backoff
                }
            };
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = stop.cancelled() => return,
            }
        }
    }

    fn looked(&self) -> std::sync::MutexGuard<'_, Looked> {
        self.looked.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The task's schedule, parsed once; a stored task whose schedule does not parse (written by
    /// another build, or by hand) is logged once and skipped.
    fn schedule(&self, task: &RecurringTask) -> Option<Schedule> {
        let key = (task.schedule.clone(), task.time_zone.clone());
        let mut looked = self.looked();
        looked
            .schedules
            .entry(key)
            .or_insert_with(|| match validate(task) {
                Ok(schedule) => Some(schedule),
                Err(error) => {
                    tracing::error!(target: "jobs", task = %task.key, %error, "Skipping recurring task `{}`", task.key);
                    None
                }
            })
            .clone()
    }
}

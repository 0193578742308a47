//! The memory adapter: queues, priorities, schedules and retries, in this process.

mod flow;
mod history;
mod inspect;
mod processes;
mod recurring;
mod store;

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::Notify;

use self::history::History;
use self::processes::Processes;
use self::store::{EntryState, Store};
use crate::contract::{
    Adapter, Backend, BoxFuture, Capabilities, ClaimParams, ClaimedJob, Clock, Error, ErrorRecord, Failure, FlowStore,
    HistoryPoint, Inspect, JobData, NewJob, ProcessCommand, ProcessInfo, RecurringStore, Requeued, SlotOutcome,
    SlotParams, SystemClock, Ticket, UniqueOutcome, Uniqueness,
};

/// Keeps jobs in this process's memory, drained by a [`Worker`](crate::Worker); for development
/// and single-process applications. Jobs are lost when the process exits.
///
/// Like every adapter it stores the serialized payload, never the Rust value, so a job that works
/// here works on a durable backend too. Completed jobs stay findable through its
/// [`Inspect`] side until 10 000 more recent ones have completed (see
/// [`MemoryAdapter::retain_completed`]).
#[derive(Clone, Debug)]
pub struct MemoryAdapter {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    store: Mutex<Store>,
    /// Kept apart from the jobs so that operations traffic never holds up claims.
    history: Mutex<History>,
    processes: Mutex<Processes>,
    wake: Notify,
    clock: Arc<dyn Clock>,
}

impl Default for MemoryAdapter {
    fn default() -> Self {
        MemoryAdapter::new()
    }
}

impl MemoryAdapter {
    /// An empty store on the system clock.
    pub fn new() -> Self {
        MemoryAdapter::with_clock(Arc::new(SystemClock))
    }

    /// An empty store reading time from `clock` (schedules, leases).
    pub fn with_clock(clock: Arc<dyn Clock>) -> Self {
        MemoryAdapter {
            shared: Arc::new(Shared {
                store: Mutex::default(),
                history: Mutex::default(),
                processes: Mutex::default(),
                wake: Notify::new(),
                clock,
            }),
        }
    }

    /// Keeps the `count` most recently completed jobs findable (default 10 000; 0 forgets a job
    /// as soon as it completes).
    ///
    /// ```
    /// # use jobs_core::adapters::MemoryAdapter;
    /// let memory = MemoryAdapter::new().retain_completed(100);
    /// ```
    pub fn retain_completed(self, count: usize) -> Self {
        self.store().retention = count;
        self
    }

    fn store(&self) -> MutexGuard<'_, Store> {
        self.shared.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn history(&self) -> MutexGuard<'_, History> {
        self.shared.history.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn processes(&self) -> MutexGuard<'_, Processes> {
        self.shared.processes.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn now(&self) -> DateTime<Utc> {
        self.shared.clock.now()
    }

    /// How many jobs are waiting (ready or scheduled) or running.
    pub fn pending(&self) -> usize {
        self.store().jobs.values().filter(|e| !matches!(e.state, EntryState::Dead | EntryState::Completed)).count()
    }

    /// The payloads and errors of jobs in the dead set.
    pub fn dead(&self) -> Vec<(JobData, Vec<ErrorRecord>)> {
        self.store()
            .jobs
            .values()
            .filter(|e| e.state == EntryState::Dead)
            .filter_map(|e| JobData::from_json(&e.payload).ok().map(|d| (d, e.errors.clone())))
            .collect()
    }

    /// Stores a raw payload as it is; for tests of undecodable payloads.
    pub fn push_raw(&self, queue: &str, payload: String) -> String {
        let id = self.store().insert(queue, 0, payload, None, self.now());
        self.wake();
        id.to_string()
    }

    fn wake(&self) {
        self.shared.wake.notify_waiters();
        self.shared.wake.notify_one();
    }
}

fn after(now: DateTime<Utc>, delay: Duration) -> DateTime<Utc> {
    now + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::MAX)
}

impl Adapter for MemoryAdapter {
    fn name(&self) -> &str {
        "Memory"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities { scheduling: true, priorities: true, durable: false, bulk: true, pause: true }
    }

    fn enqueue_all<'a>(&'a self, jobs: &'a [NewJob]) -> BoxFuture<'a, Result<Vec<Option<String>>, Error>> {
        Box::pin(async move {
            let now = self.now();
            let mut store = self.store();
            let ids = jobs
                .iter()
                .map(|job| {
                    let data = job.data();
                    let payload = job.payload().to_owned();
                    let id =
                        store.insert(&data.queue_name, data.priority.unwrap_or(0), payload, data.scheduled_at, now);
                    Some(id.to_string())
                })
                .collect();
            drop(store);
            self.wake();
            Ok(ids)
        })
    }

    fn backend(&self) -> Option<&dyn Backend> {
        Some(self)
    }

    fn inspector(&self) -> Option<&dyn Inspect> {
        Some(self)
    }

    fn recurring(&self) -> Option<&dyn RecurringStore> {
        Some(self)
    }

    fn flow(&self) -> Option<&dyn FlowStore> {
        Some(self)
    }
}

impl FlowStore for MemoryAdapter {
    fn acquire_slot<'a>(&'a self, params: SlotParams<'a>) -> BoxFuture<'a, Result<SlotOutcome, Error>> {
        Box::pin(async move { Ok(self.store().acquire_slot(params, self.now())) })
    }

    fn release_slot<'a>(&'a self, key: &'a str, ticket: &'a Ticket) -> BoxFuture<'a, Result<bool, Error>> {
        Box::pin(async move {
            let freed = self.store().release_slot(key, ticket);
            if freed {
                self.wake();
            }
            Ok(freed)
        })
    }

    fn expire_slots(&self) -> BoxFuture<'_, Result<u64, Error>> {
        Box::pin(async move {
            let readied = self.store().expire_slots(self.now());
            if readied > 0 {
                self.wake();
            }
            Ok(readied)
        })
    }

    fn count_start<'a>(&'a self, key: &'a str, window: i64, ttl: Duration) -> BoxFuture<'a, Result<u64, Error>> {
        Box::pin(async move {
            let now = self.now();
            Ok(self.store().count_start(key, window, after(now, ttl), now))
        })
    }

    fn enqueue_unique<'a>(
        &'a self,
        jobs: &'a [NewJob],
        unique: &'a [Option<Uniqueness>],
    ) -> BoxFuture<'a, Result<Vec<UniqueOutcome>, Error>> {
        Box::pin(async move {
            let outcomes = self.store().enqueue_unique(jobs, unique, self.now());
            self.wake();
            Ok(outcomes)
        })
    }
}

impl Backend for MemoryAdapter {
    fn claim<'a>(&'a self, params: ClaimParams<'a>) -> BoxFuture<'a, Result<Vec<ClaimedJob>, Error>> {
        Box::pin(async move {
            let now = self.now();
            Ok(self.store().claim(params.queues, params.limit, now, after(now, params.lease), params.worker_id))
        })
    }

    fn complete<'a>(&'a self, tickets: &'a [Ticket]) -> BoxFuture<'a, Result<usize, Error>> {
        Box::pin(async move {
            let now = self.now();
            let mut store = self.store();
            let mut applied = 0;
            for ticket in tickets {
                if let Some((id, _)) = store.current(ticket) {
                    store.complete(id, now);
                    applied += 1;
                }
            }
            Ok(applied)
        })
    }

    fn complete_requeued<'a>(&'a self, runs: &'a [Requeued]) -> BoxFuture<'a, Result<usize, Error>> {
        Box::pin(async move {
            let now = self.now();
            let mut store = self.store();
            let mut applied = 0;
            for run in runs {
                if let Some((id, entry)) = store.current(&run.ticket) {
                    entry.errors.push(run.error.clone());
                    store.complete(id, now);
                    applied += 1;
                }
            }
            Ok(applied)
        })
    }

    fn fail<'a>(&'a self, failures: &'a [Failure]) -> BoxFuture<'a, Result<usize, Error>> {
        Box::pin(async move {
            let now = self.now();
            let mut store = self.store();
            let mut applied = 0;
            for failure in failures {
                let Some((id, entry)) = store.current(&failure.ticket) else { continue };
                applied += 1;
                entry.errors.push(failure.error.clone());
                if let Some(payload) = &failure.payload {
                    entry.payload.clone_from(payload);
                }
                match failure.retry_in {
                    Some(delay) => store.schedule(id, after(now, delay)),
                    None => {
                        entry.state = EntryState::Dead;
                        entry.changed_at = now;
                    }
                }
            }
            drop(store);
            self.wake();
            Ok(applied)
        })
    }

    fn release<'a>(&'a self, tickets: &'a [Ticket]) -> BoxFuture<'a, Result<usize, Error>> {
        Box::pin(async move {
            let mut store = self.store();
            let mut applied = 0;
            for ticket in tickets {
                let Some((id, _)) = store.current(ticket) else { continue };
                store.release(id);
                applied += 1;
            }
            drop(store);
            self.wake();
            Ok(applied)
        })
    }

    fn heartbeat<'a>(&'a self, tickets: &'a [Ticket], lease: Duration) -> BoxFuture<'a, Result<usize, Error>> {
        Box::pin(async move {
            let until = after(self.now(), lease);
            let mut store = self.store();
            let mut applied = 0;
            for ticket in tickets {
                if let Some((_, entry)) = store.current(ticket) {
                    entry.state = EntryState::Running { token: ticket.token, lease_until: until };
                    applied += 1;
                }
            }
            Ok(applied)
        })
    }

    fn save_progress<'a>(&'a self, ticket: &'a Ticket, payload: &'a str) -> BoxFuture<'a, Result<bool, Error>> {
        Box::pin(async move {
            let mut store = self.store();
            let Some((_, entry)) = store.current(ticket) else { return Ok(false) };
            entry.payload = payload.to_owned();
            Ok(true)
        })
    }

    fn rescue_expired(&self) -> BoxFuture<'_, Result<u64, Error>> {
        Box::pin(async move {
            let now = self.now();
            let mut store = self.store();
            let expired = store.expired(now);
            for id in &expired {
                store.make_ready(*id);
            }
            drop(store);
            if !expired.is_empty() {
                self.wake();
            }
            Ok(expired.len() as u64)
        })
    }

    fn wait_for_jobs<'a>(&'a self, _queues: &'a [String], timeout: Duration) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            let _ = tokio::time::timeout(timeout, self.shared.wake.notified()).await;
        })
    }

    fn next_due<'a>(&'a self, _queues: &'a [String]) -> BoxFuture<'a, Result<Option<Duration>, Error>> {
        Box::pin(async move {
            let next = self.store().scheduled.first().map(|(at, _)| *at);
            Ok(next.map(|at| (at - self.now()).to_std().unwrap_or(Duration::ZERO)))
        })
    }

    fn beat_process<'a>(
        &'a self,
        info: &'a ProcessInfo,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<Option<ProcessCommand>, Error>> {
        Box::pin(async move { Ok(self.processes().beat(info, ttl, self.now())) })
    }

    fn record_history<'a>(&'a self, points: &'a [HistoryPoint]) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            self.history().record(points, self.now());
            Ok(())
        })
    }

    fn worker_stopped<'a>(&'a self, worker_id: &'a str) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            self.processes().remove(worker_id);
            Ok(())
        })
    }
}

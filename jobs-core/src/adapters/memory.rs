//! The memory adapter: queues, priorities, schedules and retries, in this process.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::Notify;

use crate::adapter::{
    Adapter, Backend, BoxFuture, Capabilities, ClaimParams, ClaimedJob, ErrorRecord, Failure, Ticket,
};
use crate::clock::{Clock, SystemClock};
use crate::error::Error;
use crate::payload::JobData;
use crate::runtime::Runtime;

/// Keeps jobs in this process's memory, drained by a [`Worker`](crate::Worker); for development
/// and single-process applications. Jobs are lost when the process exits.
///
/// Like every adapter it stores the serialized payload, never the Rust value, so a job that works
/// here works on a durable backend too.
#[derive(Clone, Debug)]
pub struct MemoryAdapter {
    shared: Arc<Shared>,
}

#[derive(Debug)]
struct Shared {
    store: Mutex<Store>,
    wake: Notify,
    clock: Arc<dyn Clock>,
}

#[derive(Debug, Default)]
struct Store {
    next_id: u64,
    next_token: i64,
    jobs: HashMap<u64, Entry>,
    /// Ready jobs per queue, ordered by (priority, id).
    ready: HashMap<String, BTreeSet<(i32, u64)>>,
    /// Scheduled jobs, ordered by (due time, id).
    scheduled: BTreeSet<(DateTime<Utc>, u64)>,
}

#[derive(Debug)]
struct Entry {
    queue: String,
    priority: i32,
    payload: String,
    attempts: u32,
    state: EntryState,
    errors: Vec<ErrorRecord>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum EntryState {
    Scheduled(DateTime<Utc>),
    Ready,
    Running { token: i64, lease_until: DateTime<Utc> },
    Dead,
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
        MemoryAdapter { shared: Arc::new(Shared { store: Mutex::default(), wake: Notify::new(), clock }) }
    }

    fn store(&self) -> MutexGuard<'_, Store> {
        self.shared.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn now(&self) -> DateTime<Utc> {
        self.shared.clock.now()
    }

    /// How many jobs are waiting (ready or scheduled) or running.
    pub fn pending(&self) -> usize {
        self.store().jobs.values().filter(|e| e.state != EntryState::Dead).count()
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

impl Store {
    fn insert(
        &mut self,
        queue: &str,
        priority: i32,
        payload: String,
        at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> u64 {
        self.next_id += 1;
        let id = self.next_id;
        let state = match at {
            Some(at) if at > now => {
                self.scheduled.insert((at, id));
                EntryState::Scheduled(at)
            }
            _ => {
                self.ready.entry(queue.to_owned()).or_default().insert((priority, id));
                EntryState::Ready
            }
        };
        let entry = Entry { queue: queue.to_owned(), priority, payload, attempts: 0, state, errors: Vec::new() };
        self.jobs.insert(id, entry);
        id
    }

    fn make_ready(&mut self, id: u64) {
        if let Some(entry) = self.jobs.get_mut(&id) {
            entry.state = EntryState::Ready;
            self.ready.entry(entry.queue.clone()).or_default().insert((entry.priority, id));
        }
    }

    fn promote_due(&mut self, now: DateTime<Utc>) {
        while let Some(&(at, id)) = self.scheduled.first() {
            if at > now {
                break;
            }
            self.scheduled.pop_first();
            self.make_ready(id);
        }
    }

    fn current(&mut self, ticket: &Ticket) -> Option<(u64, &mut Entry)> {
        let id: u64 = ticket.id.parse().ok()?;
        let entry = self.jobs.get_mut(&id)?;
        match entry.state {
            EntryState::Running { token, .. } if token == ticket.token => Some((id, entry)),
            _ => None,
        }
    }
}

impl Adapter for MemoryAdapter {
    fn name(&self) -> &str {
        "Memory"
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities { scheduling: true, priorities: true, durable: false, bulk: true }
    }

    fn enqueue<'a>(&'a self, runtime: &'a Runtime, job: &'a JobData) -> BoxFuture<'a, Result<Option<String>, Error>> {
        Box::pin(async move { Ok(self.enqueue_all(runtime, std::slice::from_ref(job)).await?.pop().flatten()) })
    }

    fn enqueue_all<'a>(
        &'a self,
        _: &'a Runtime,
        jobs: &'a [JobData],
    ) -> BoxFuture<'a, Result<Vec<Option<String>>, Error>> {
        Box::pin(async move {
            let mut payloads = Vec::with_capacity(jobs.len());
            for job in jobs {
                payloads.push(job.to_json()?);
            }
            let now = self.now();
            let mut store = self.store();
            let ids = jobs
                .iter()
                .zip(payloads)
                .map(|(job, payload)| {
                    let id = store.insert(&job.queue_name, job.priority.unwrap_or(0), payload, job.scheduled_at, now);
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
}

impl Backend for MemoryAdapter {
    fn claim<'a>(&'a self, params: ClaimParams<'a>) -> BoxFuture<'a, Result<Vec<ClaimedJob>, Error>> {
        Box::pin(async move {
            let now = self.now();
            let lease_until = now + chrono::Duration::from_std(params.lease).unwrap_or(chrono::Duration::MAX);
            let mut store = self.store();
            store.promote_due(now);
            let mut queues: Vec<String> = Vec::new();
            for queue in params.queues {
                if queue == "*" {
                    let mut all: Vec<String> = store.ready.keys().cloned().collect();
                    all.sort();
                    queues.extend(all);
                } else {
                    queues.push(queue.clone());
                }
            }
            let mut claimed = Vec::new();
            for queue in queues {
                while claimed.len() < params.limit {
                    let Some((_, id)) = store.ready.get_mut(&queue).and_then(BTreeSet::pop_first) else { break };
                    store.next_token += 1;
                    let token = store.next_token;
                    let entry = store.jobs.get_mut(&id).expect("ready jobs exist");
                    entry.attempts += 1;
                    entry.state = EntryState::Running { token, lease_until };
                    claimed.push(ClaimedJob {
                        ticket: Ticket { id: id.to_string(), token },
                        payload: entry.payload.clone(),
                        attempt: entry.attempts,
                    });
                }
            }
            Ok(claimed)
        })
    }

    fn complete<'a>(&'a self, tickets: &'a [Ticket]) -> BoxFuture<'a, Result<usize, Error>> {
        Box::pin(async move {
            let mut store = self.store();
            let mut applied = 0;
            for ticket in tickets {
                if let Some((id, _)) = store.current(ticket) {
                    store.jobs.remove(&id);
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
                    Some(delay) => {
                        let at = now + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::MAX);
                        entry.state = EntryState::Scheduled(at);
                        store.scheduled.insert((at, id));
                    }
                    None => entry.state = EntryState::Dead,
                }
            }
            Ok(applied)
        })
    }

    fn release<'a>(&'a self, tickets: &'a [Ticket]) -> BoxFuture<'a, Result<usize, Error>> {
        Box::pin(async move {
            let mut store = self.store();
            let mut applied = 0;
            for ticket in tickets {
                let Some((id, entry)) = store.current(ticket) else { continue };
                entry.attempts = entry.attempts.saturating_sub(1);
                store.make_ready(id);
                applied += 1;
            }
            drop(store);
            self.wake();
            Ok(applied)
        })
    }

    fn heartbeat<'a>(&'a self, tickets: &'a [Ticket], lease: Duration) -> BoxFuture<'a, Result<usize, Error>> {
        Box::pin(async move {
            let until = self.now() + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::MAX);
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

    fn rescue_expired(&self) -> BoxFuture<'_, Result<u64, Error>> {
        Box::pin(async move {
            let now = self.now();
            let mut store = self.store();
            let expired: Vec<u64> = store
                .jobs
                .iter()
                .filter(|(_, e)| matches!(e.state, EntryState::Running { lease_until, .. } if lease_until <= now))
                .map(|(id, _)| *id)
                .collect();
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
            let next_due = self.store().scheduled.first().map(|(at, _)| *at);
            let until_due = next_due
                .map(|at| (at - self.now()).to_std().unwrap_or(Duration::ZERO))
                .map_or(timeout, |d| d.min(timeout));
            let _ = tokio::time::timeout(until_due, self.shared.wake.notified()).await;
        })
    }
}

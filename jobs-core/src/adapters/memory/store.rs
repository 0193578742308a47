//! The memory adapter's store: jobs by id, ready sets per queue, the schedule, paused queues.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::contract::{ClaimedJob, ErrorRecord, Ticket};
use crate::contract::{JobAction, JobInfo, JobState};
use crate::support::hash::Words;

/// How many completed jobs the memory adapter keeps for look-ups by default.
pub(super) const DEFAULT_RETENTION: usize = 10_000;

#[derive(Debug)]
pub(super) struct Store {
    next_id: u64,
    next_token: i64,
    pub(super) jobs: HashMap<u64, Entry, Ids>,
    /// Ready jobs per queue, ordered by (priority, id).
    ready: HashMap<String, BTreeSet<(i32, u64)>>,
    /// Scheduled jobs, ordered by (due time, id).
    pub(super) scheduled: BTreeSet<(DateTime<Utc>, u64)>,
    pub(super) paused: BTreeSet<String>,
    /// Completed jobs, oldest first, kept for look-ups until `retention` is exceeded.
    completed: VecDeque<u64>,
    /// How many ids in `completed` name jobs deleted since (not counted against the retention).
    deleted_completed: usize,
    pub(super) retention: usize,
    /// The id of the worker that claimed last, shared by the jobs it holds.
    last_worker: Option<Arc<str>>,
    /// Recurring tasks and the ticks enqueued.
    pub(super) recurring: super::recurring::Recurring,
    /// Concurrency slots, blocked jobs, throttle counts and unique keys.
    pub(super) flow: super::flow::Flow,
}

impl Default for Store {
    fn default() -> Self {
        Store {
            next_id: 0,
            next_token: 0,
            jobs: HashMap::default(),
            ready: HashMap::new(),
            scheduled: BTreeSet::new(),
            paused: BTreeSet::new(),
            completed: VecDeque::new(),
            deleted_completed: 0,
            retention: DEFAULT_RETENTION,
            last_worker: None,
            recurring: Default::default(),
            flow: Default::default(),
        }
    }
}

/// At most this many places are reserved up front for a claim's jobs (a claim of more grows).
const CLAIM_CAPACITY: usize = 1024;

/// The store's job ids are its own sequence: they only need spreading, and a claim and its
/// completion look a job up three times.
pub(super) type Ids = Words;

#[derive(Debug)]
pub(super) struct Entry {
    queue: String,
    priority: i32,
    pub(super) payload: String,
    attempts: u32,
    run_at: DateTime<Utc>,
    enqueued_at: DateTime<Utc>,
    /// When it last started running or finished (completed or died): shown as its started_at
    /// while it runs, as its finished_at once it has finished. One field for both keeps entries
    /// small.
    pub(super) changed_at: DateTime<Utc>,
    /// The worker of its latest claim (shown while it runs).
    worker_id: Option<Arc<str>>,
    pub(super) state: EntryState,
    pub(super) errors: Vec<ErrorRecord>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum EntryState {
    Scheduled,
    Ready,
    /// Waiting for a concurrency slot (the flow keeps the key it waits on).
    Blocked,
    Running {
        token: i64,
        lease_until: DateTime<Utc>,
    },
    Dead,
    Completed,
}

impl Entry {
    /// The state as the inspection side names it at time `now`.
    pub(super) fn state_at(&self, now: DateTime<Utc>) -> JobState {
        match self.state {
            EntryState::Scheduled if self.run_at <= now => JobState::Ready,
            EntryState::Scheduled if self.errors.is_empty() => JobState::Scheduled,
            EntryState::Scheduled => JobState::Retrying,
            EntryState::Ready => JobState::Ready,
            EntryState::Blocked => JobState::Blocked,
            EntryState::Running { .. } => JobState::Running,
            EntryState::Dead => JobState::Dead,
            EntryState::Completed => JobState::Completed,
        }
    }

    pub(super) fn queue(&self) -> &str {
        &self.queue
    }

    pub(super) fn priority(&self) -> i32 {
        self.priority
    }

    /// Blocks the job on a concurrency limit, giving back the attempt its claim counted.
    pub(super) fn block(&mut self) {
        self.state = EntryState::Blocked;
        self.attempts = self.attempts.saturating_sub(1);
    }

    /// The Active Job `job_id` in the payload, if it has one.
    pub(super) fn job_id(&self) -> Option<String> {
        self.keys().job_id
    }

    /// The job class and Active Job `job_id` of the payload, reading nothing else of it.
    fn keys(&self) -> Keys {
        serde_json::from_str::<Keys>(&self.payload).unwrap_or_default()
    }

    pub(super) fn info(&self, id: u64, now: DateTime<Utc>) -> JobInfo {
        let state = self.state_at(now);
        let running = state == JobState::Running;
        let finished = matches!(state, JobState::Dead | JobState::Completed);
        let keys = self.keys();
        JobInfo {
            id: id.to_string(),
            job_id: keys.job_id,
            class: keys.job_class.unwrap_or_default(),
            queue: self.queue.clone(),
            priority: self.priority,
            state,
            attempts: self.attempts,
            run_at: Some(self.run_at),
            enqueued_at: Some(self.enqueued_at),
            started_at: running.then_some(self.changed_at),
            finished_at: finished.then_some(self.changed_at),
            worker_id: if running { self.worker_id.as_deref().map(str::to_owned) } else { None },
            payload: self.payload.clone(),
            errors: self.errors.clone(),
        }
    }

    /// When it has been due, if it is ready at `now`: what a queue's latency is measured from.
    pub(super) fn ready_since(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        (self.state_at(now) == JobState::Ready).then_some(self.run_at)
    }
}

/// What the inspection side reads of a payload besides the store's own fields.
#[derive(Default, serde::Deserialize)]
struct Keys {
    job_class: Option<String>,
    job_id: Option<String>,
}

impl Store {
    pub(super) fn insert(
        &mut self,
        queue: &str,
        priority: i32,
        payload: String,
        at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> u64 {
        self.next_id += 1;
        let id = self.next_id;
        let run_at = at.unwrap_or(now);
        let state = if run_at > now {
            self.scheduled.insert((run_at, id));
            EntryState::Scheduled
        } else {
            self.ready.entry(queue.to_owned()).or_default().insert((priority, id));
            EntryState::Ready
        };
        let entry = Entry {
            queue: queue.to_owned(),
            priority,
            payload,
            attempts: 0,
            run_at,
            enqueued_at: now,
            changed_at: now,
            worker_id: None,
            state,
            errors: Vec::new(),
        };
        self.jobs.insert(id, entry);
        id
    }

    pub(super) fn make_ready(&mut self, id: u64) {
        if let Some(entry) = self.jobs.get_mut(&id) {
            entry.state = EntryState::Ready;
            self.ready.entry(entry.queue.clone()).or_default().insert((entry.priority, id));
        }
    }

    /// Makes a dead job ready now, keeping its history.
    pub(super) fn retry(&mut self, id: u64, now: DateTime<Utc>) {
        if let Some(entry) = self.jobs.get_mut(&id) {
            entry.run_at = now;
        }
        self.make_ready(id);
    }

    pub(super) fn schedule(&mut self, id: u64, at: DateTime<Utc>) {
        if let Some(entry) = self.jobs.get_mut(&id) {
            entry.state = EntryState::Scheduled;
            entry.run_at = at;
            self.scheduled.insert((at, id));
        }
    }

    fn promote_due(&mut self, now: DateTime<Utc>) {
        while let Some(&(at, id)) = self.scheduled.first() {
            if at > now {
                break;
            }
            self.scheduled.pop_first();
            if self.jobs.get(&id).is_some_and(|e| e.state == EntryState::Scheduled && e.run_at == at) {
                self.make_ready(id);
            }
        }
    }

    /// Takes up to `limit` due jobs from `queues` (in precedence; `*` is every unpaused queue)
    /// for the worker `worker_id`.
    pub(super) fn claim(
        &mut self,
        queues: &[String],
        limit: usize,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        worker_id: &str,
    ) -> Vec<ClaimedJob> {
        self.promote_due(now);
        let mut order: Vec<String> = Vec::new();
        for queue in queues {
            if queue == "*" {
                let mut all: Vec<String> = self.ready.keys().cloned().collect();
                all.sort();
                order.extend(all);
            } else {
                order.push(queue.clone());
            }
        }
        let worker = match &self.last_worker {
            Some(worker) if **worker == *worker_id => worker.clone(),
            _ => self.last_worker.insert(Arc::from(worker_id)).clone(),
        };
        let mut claimed = Vec::with_capacity(limit.min(CLAIM_CAPACITY));
        for queue in order.iter().filter(|q| !self.paused.contains(*q)) {
            let Some(ready) = self.ready.get_mut(queue) else { continue };
            while claimed.len() < limit {
                let Some((_, id)) = ready.pop_first() else { break };
                self.next_token += 1;
                let token = self.next_token;
                let entry = self.jobs.get_mut(&id).expect("ready jobs exist");
                entry.attempts += 1;
                entry.state = EntryState::Running { token, lease_until };
                entry.changed_at = now;
                entry.worker_id = Some(worker.clone());
                claimed.push(ClaimedJob {
                    ticket: Ticket { id: id.to_string(), token },
                    payload: entry.payload.clone(),
                    attempt: entry.attempts,
                });
            }
        }
        claimed
    }

    /// The job `ticket` names, if it is running under that very claim.
    pub(super) fn current(&mut self, ticket: &Ticket) -> Option<(u64, &mut Entry)> {
        let id: u64 = ticket.id.parse().ok()?;
        let entry = self.jobs.get_mut(&id)?;
        match entry.state {
            EntryState::Running { token, .. } if token == ticket.token => Some((id, entry)),
            _ => None,
        }
    }

    /// Marks a job completed and forgets the oldest completed ones past the retention.
    pub(super) fn complete(&mut self, id: u64, now: DateTime<Utc>) {
        if let Some(entry) = self.jobs.get_mut(&id) {
            entry.state = EntryState::Completed;
            entry.changed_at = now;
            self.completed.push_back(id);
        }
        while self.completed.len() > self.retention + self.deleted_completed {
            let Some(old) = self.completed.pop_front() else { break };
            if self.jobs.remove(&old).is_none() {
                self.deleted_completed -= 1;
            }
        }
    }

    /// Applies `action` to job `id` if it applies to the job's state at `now`; returns whether
    /// it did.
    pub(super) fn act(&mut self, action: JobAction, id: u64, now: DateTime<Utc>) -> bool {
        let Some(state) = self.jobs.get(&id).map(|entry| entry.state_at(now)) else { return false };
        if !action.applies_to(state) {
            return false;
        }
        self.detach(id);
        match action {
            JobAction::Retry => self.retry(id, now),
            JobAction::RunNow => {
                if let Some(entry) = self.jobs.get_mut(&id) {
                    entry.run_at = now;
                }
                self.make_ready(id);
            }
            JobAction::Discard => {
                if let Some(entry) = self.jobs.get_mut(&id) {
                    entry.errors.push(ErrorRecord {
                        class: JobAction::DISCARDED.to_owned(),
                        message: JobAction::DISCARDED_MESSAGE.to_owned(),
                        attempt: entry.attempts,
                        at: now,
                    });
                    entry.state = EntryState::Dead;
                    entry.changed_at = now;
                }
            }
            JobAction::Delete => {
                if self.jobs.remove(&id).is_some_and(|entry| entry.state == EntryState::Completed) {
                    self.deleted_completed += 1;
                }
            }
        }
        true
    }

    /// Takes a waiting job out of the ready set or the schedule it sits in.
    fn detach(&mut self, id: u64) {
        let Some(entry) = self.jobs.get(&id) else { return };
        match entry.state {
            EntryState::Ready => {
                if let Some(ready) = self.ready.get_mut(&entry.queue) {
                    ready.remove(&(entry.priority, id));
                }
            }
            EntryState::Scheduled => {
                self.scheduled.remove(&(entry.run_at, id));
            }
            EntryState::Blocked => self.detach_blocked(id),
            EntryState::Running { .. } | EntryState::Dead | EntryState::Completed => {}
        }
    }

    /// Hands a running job back without counting its attempt.
    pub(super) fn release(&mut self, id: u64) {
        if let Some(entry) = self.jobs.get_mut(&id) {
            entry.attempts = entry.attempts.saturating_sub(1);
        }
        self.make_ready(id);
    }

    pub(super) fn expired(&self, now: DateTime<Utc>) -> Vec<u64> {
        self.jobs
            .iter()
            .filter(|(_, e)| matches!(e.state, EntryState::Running { lease_until, .. } if lease_until <= now))
            .map(|(id, _)| *id)
            .collect()
    }
}

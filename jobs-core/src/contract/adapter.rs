//! The adapter contract: how the runtime talks to a queuing backend.
//!
//! Three sides: [`Adapter`] is the enqueue side every backend implements; [`Backend`] is the side a
//! [`Worker`](crate::Worker) drains, for backends that store jobs (memory, SQLite, Postgres, Redis);
//! [`Inspect`] is the side tools read and steer (counts, look-ups, the dead set, pausing queues).
//!
//! What each call must guarantee is written on it; the conformance suite (the `jobs-conformance`
//! crate) proves it for every adapter.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::error::Error;
use super::flow::FlowStore;
use super::inspect::Inspect;
use super::payload::JobData;
use super::process::{ProcessCommand, ProcessInfo};
use super::recurring::RecurringStore;
use super::stats::HistoryPoint;

/// A boxed, sendable future, the return type of the adapter traits' methods.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What an adapter can do. Asking for something it cannot do is an [`Error::NotSupported`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// Jobs can be scheduled for later (`wait`, `wait_until`).
    pub scheduling: bool,
    /// Priorities order jobs within a queue.
    pub priorities: bool,
    /// Jobs survive a restart of the process.
    pub durable: bool,
    /// `enqueue_all` is one round trip, not one per job.
    pub bulk: bool,
    /// Queues can be paused and resumed through [`Inspect::pause`] and [`Inspect::resume`].
    pub pause: bool,
}

/// A job ready to store: its payload as the runtime built it, and that payload encoded once as
/// JSON (what [`Adapter::enqueue_all`] stores and hands back to workers byte for byte).
#[derive(Clone, Debug, PartialEq)]
pub struct NewJob {
    data: JobData,
    payload: String,
}

impl NewJob {
    /// Encodes `data` as Active Job's JSON payload.
    pub fn new(data: JobData) -> Result<Self, Error> {
        let payload = data.to_json()?;
        Ok(NewJob { data, payload })
    }

    /// The job: class, id, queue, priority, times (what an adapter indexes on).
    pub fn data(&self) -> &JobData {
        &self.data
    }

    /// The payload as JSON, to store as it is.
    pub fn payload(&self) -> &str {
        &self.payload
    }

    /// The payload's size in bytes.
    pub fn size(&self) -> usize {
        self.payload.len()
    }

    /// The job, giving up its encoded form.
    pub fn into_data(self) -> JobData {
        self.data
    }
}

/// The enqueue side of a backend.
///
/// Guarantees: when `enqueue_all` returns `Ok`, each job is stored (durably, for a durable adapter) and
/// will be performed at least once, or end in the dead set with its error. A job whose
/// `scheduled_at` is set must not run before that time; an adapter without scheduling returns
/// [`Error::NotSupported`] for it, and stores nothing. The adapter stores
/// [`NewJob::payload`] as it is and hands exactly that back to workers; it never sees the
/// runtime.
pub trait Adapter: Send + Sync + fmt::Debug + 'static {
    /// The adapter's name in logs, e.g. `Memory` (`Enqueued X to Memory(default)`).
    fn name(&self) -> &str;

    /// What this adapter can do.
    fn capabilities(&self) -> Capabilities;

    /// Stores many jobs, encoded once by the runtime, in one round trip where the backend
    /// allows; returns their provider ids in order. Either all are stored or the call fails. The
    /// runtime calls only this method, for one job as for many. A durable adapter returns only
    /// once the jobs are durably stored.
    fn enqueue_all<'a>(&'a self, jobs: &'a [NewJob]) -> BoxFuture<'a, Result<Vec<Option<String>>, Error>>;

    /// Stores one job: a batch of one through [`enqueue_all`](Adapter::enqueue_all). For tools
    /// that talk to an adapter directly; applications enqueue through the runtime.
    fn enqueue<'a>(&'a self, job: &'a NewJob) -> BoxFuture<'a, Result<Option<String>, Error>> {
        Box::pin(async move { Ok(self.enqueue_all(std::slice::from_ref(job)).await?.pop().flatten()) })
    }

    /// Stores one job to run at `at` (its `scheduled_at` is replaced and the payload encoded
    /// again); [`Error::NotSupported`] when the adapter cannot schedule. For tools that talk to an
    /// adapter directly.
    fn enqueue_at<'a>(&'a self, job: &'a JobData, at: DateTime<Utc>) -> BoxFuture<'a, Result<Option<String>, Error>> {
        Box::pin(async move {
            if !self.capabilities().scheduling {
                return Err(Error::not_supported(self.name(), "scheduled jobs (enqueue_at)"));
            }
            let job = NewJob::new(JobData { scheduled_at: Some(at), ..job.clone() })?;
            self.enqueue(&job).await
        })
    }

    /// The worker side of this adapter, if workers can drain it.
    fn backend(&self) -> Option<&dyn Backend> {
        None
    }

    /// The inspection side of this adapter, if tools can look into it.
    fn inspector(&self) -> Option<&dyn Inspect> {
        None
    }

    /// Where recurring tasks and their ticks are stored, if this adapter stores them; the
    /// scheduler of a [`Worker`](crate::Worker) and the operations on recurring tasks need it.
    fn recurring(&self) -> Option<&dyn RecurringStore> {
        None
    }

    /// Where concurrency slots, unique keys and throttle counts are kept, if this adapter keeps
    /// them; unique jobs, concurrency limits and throttles need it.
    fn flow(&self) -> Option<&dyn FlowStore> {
        None
    }
}

/// Identifies one claim of one job: the backend's job id and the claim's fencing token.
///
/// Every write about a run (heartbeat, complete, fail, release) carries the ticket, and the
/// backend applies it only while the token is still the job's current one, so a worker whose
/// lease expired cannot overwrite what happened after. A concurrency slot is held under the
/// ticket that took it, and only that ticket releases it
/// ([`FlowStore::release_slot`](super::FlowStore::release_slot)).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Ticket {
    /// The backend's id of the job (its provider job id).
    pub id: String,
    /// The fencing token of this claim; a new claim of the same job gets a new token.
    pub token: i64,
}

/// A job handed to a worker by [`Backend::claim`].
#[derive(Clone, Debug)]
pub struct ClaimedJob {
    /// Identifies this claim.
    pub ticket: Ticket,
    /// The stored payload (Active Job's serialized hash as JSON), possibly undecodable.
    pub payload: String,
    /// How many times the backend has handed this job out, this claim included.
    pub attempt: u32,
}

/// What to claim: [`Backend::claim`]'s parameters.
#[derive(Clone, Copy, Debug)]
pub struct ClaimParams<'a> {
    /// Queues to take jobs from, in order of precedence; `"*"` means every queue, with no
    /// precedence among them. Paused queues are skipped either way.
    pub queues: &'a [String],
    /// At most this many jobs.
    pub limit: usize,
    /// How long the claim holds without a heartbeat before the job may be rescued.
    pub lease: Duration,
    /// The claiming worker's id, for inspection tools.
    pub worker_id: &'a str,
}

/// One failed run, for [`Backend::fail`].
#[derive(Clone, Debug)]
pub struct Failure {
    /// The claim that failed.
    pub ticket: Ticket,
    /// The error, as recorded in the job's history.
    pub error: ErrorRecord,
    /// Run again after this delay (measured on the backend's clock), or `None`: move to dead.
    pub retry_in: Option<Duration>,
    /// The payload to store for the next run (`executions` counted up); `None` keeps the stored one.
    pub payload: Option<String>,
}

/// A run whose failure the job handled by enqueueing itself again (`retry_on`, or a continuable
/// job that failed after making progress), for [`Backend::complete_requeued`]: the run is done,
/// the job lives on in a new stored job with the same Active Job `job_id`.
#[derive(Clone, Debug)]
pub struct Requeued {
    /// The claim that ended.
    pub ticket: Ticket,
    /// The error the run failed with, kept in the run's history.
    pub error: ErrorRecord,
}

/// An error as kept in a job's history and in the dead set.
///
/// Serializes as `{"class", "message", "attempt", "at"}` for adapters that store it as JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorRecord {
    /// The error's class, e.g. `my_app::SmtpError`, `panic`, `ActiveJob::DeserializationError`.
    pub class: String,
    /// The error's message.
    pub message: String,
    /// Which attempt failed.
    pub attempt: u32,
    /// When it failed.
    pub at: DateTime<Utc>,
}

impl ErrorRecord {
    /// The records of several JSON arrays of errors (as SQL adapters store a job's history),
    /// one list after the other.
    pub fn from_json_lists<S: AsRef<str>>(lists: &[S]) -> Result<Vec<ErrorRecord>, serde_json::Error> {
        let mut records = Vec::new();
        for list in lists {
            records.extend(serde_json::from_str::<Vec<ErrorRecord>>(list.as_ref())?);
        }
        Ok(records)
    }
}

/// The side of a backend that workers drain.
///
/// Guarantees, proven for each adapter by the conformance suite:
/// * `claim` hands each ready job to one claimant only, in queue-precedence then priority (lower
///   first) then FIFO order, never before its scheduled time, never from a paused queue, with a
///   fresh fencing token, and counts the attempt;
/// * `complete`, `fail`, `release` and `heartbeat` apply only to tickets whose token is still
///   current (the job is running under that very claim), and return how many did; a stale ticket
///   changes nothing;
/// * `fail` records the error in the job's history, stores the new payload if given, and either
///   makes the job due again after `retry_in` or moves it to the dead set;
/// * `rescue_expired` makes jobs whose lease ran out (no heartbeat) claimable again, and only
///   those; their attempt stays counted;
/// * `complete_requeued` marks runs done like `complete`, keeping each one's error in its history,
///   and `Inspect::find` by `job_id` then shows the latest job with the errors of every run of it;
/// * `release` hands jobs back, ready at once, without spending an attempt;
/// * `save_progress` replaces the stored payload of a job running under that very claim, so that
///   a rescue after the worker died hands out the saved payload; a stale ticket changes nothing.
///
/// Times (due times, leases) are read from the store's clock where the store has one, else from
/// the clock the adapter was built with.
pub trait Backend: Send + Sync {
    /// Claims up to `params.limit` due jobs from `params.queues`.
    fn claim<'a>(&'a self, params: ClaimParams<'a>) -> BoxFuture<'a, Result<Vec<ClaimedJob>, Error>>;

    /// Marks runs as done.
    fn complete<'a>(&'a self, tickets: &'a [Ticket]) -> BoxFuture<'a, Result<usize, Error>>;

    /// Records failed runs: each is scheduled again or moved to the dead set.
    fn fail<'a>(&'a self, failures: &'a [Failure]) -> BoxFuture<'a, Result<usize, Error>>;

    /// Marks runs as done whose failure the job handled by enqueueing itself again, as Rails'
    /// `retry_job` does (a new stored job, same `job_id`), and keeps each run's error in its
    /// history, so that [`Inspect::find`](crate::Inspect::find) by `job_id` shows the retry with
    /// the errors of the runs before it. Applies only to current tickets, as `complete` does.
    ///
    /// The default completes the runs and keeps no error: `find` then shows the retry without
    /// the history of the runs before it.
    fn complete_requeued<'a>(&'a self, runs: &'a [Requeued]) -> BoxFuture<'a, Result<usize, Error>> {
        Box::pin(async move {
            let tickets: Vec<Ticket> = runs.iter().map(|run| run.ticket.clone()).collect();
            self.complete(&tickets).await
        })
    }

    /// Hands claimed jobs back, ready to run, without counting the attempt.
    fn release<'a>(&'a self, tickets: &'a [Ticket]) -> BoxFuture<'a, Result<usize, Error>>;

    /// Extends the leases of running jobs by `lease` from now.
    fn heartbeat<'a>(&'a self, tickets: &'a [Ticket], lease: Duration) -> BoxFuture<'a, Result<usize, Error>>;

    /// Replaces the stored payload of the job running under `ticket` with `payload` (a
    /// continuable job's progress at a checkpoint), so that if its worker dies, the job rescued
    /// by [`rescue_expired`](Backend::rescue_expired) is claimed again with it. Applies only
    /// while the ticket's token is still current (the job is running under that very claim) and
    /// returns whether it did; a stale ticket changes nothing and returns `false`.
    ///
    /// The default is [`Error::NotSupported`]: continuable jobs then keep their progress only
    /// when they are interrupted, and a job whose worker dies restarts from its last interruption.
    fn save_progress<'a>(&'a self, ticket: &'a Ticket, payload: &'a str) -> BoxFuture<'a, Result<bool, Error>> {
        let _ = (ticket, payload);
        Box::pin(async { Err(Error::not_supported("this", "saving progress (save_progress)")) })
    }

    /// Makes jobs whose lease expired claimable again; returns how many.
    fn rescue_expired(&self) -> BoxFuture<'_, Result<u64, Error>>;

    /// Waits until jobs may be ready on `queues`, or `timeout` passes. Backends with wake-ups
    /// (notifications, blocking pops) return early; the default just sleeps.
    fn wait_for_jobs<'a>(&'a self, queues: &'a [String], timeout: Duration) -> BoxFuture<'a, ()> {
        let _ = queues;
        Box::pin(tokio::time::sleep(timeout))
    }

    /// How long until the earliest job on `queues` that waits for its time (scheduled, or
    /// retrying) becomes due, measured on the store's clock: `Some(Duration::ZERO)` when one is
    /// due already, `None` when none waits or the backend cannot tell (the default).
    ///
    /// A worker that found nothing to claim asks this and waits no longer than the answer (nor
    /// than its poll interval), so scheduled jobs start on time without polling often. A job
    /// due on another queue, or one that is gone by the time the worker looks, only costs an
    /// empty claim. Called only by idle workers, so it should be one cheap read.
    fn next_due<'a>(&'a self, queues: &'a [String]) -> BoxFuture<'a, Result<Option<Duration>, Error>> {
        let _ = queues;
        Box::pin(async { Ok(None) })
    }

    /// Registers or refreshes the worker process `info` (written on every heartbeat of the worker,
    /// and once when it starts), alive for `ttl` unless beaten again, and takes the command an
    /// operator left for it with [`Inspect::signal`], if any (each command is returned once).
    /// The backend sets [`ProcessInfo::last_heartbeat`] from its clock.
    fn beat_process<'a>(
        &'a self,
        info: &'a ProcessInfo,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<Option<ProcessCommand>, Error>> {
        let _ = (info, ttl);
        Box::pin(async { Err(Error::not_supported("this", "process registry")) })
    }

    /// Adds these counts to the backend's per-minute history (what [`Inspect::history`] returns),
    /// summing with what other workers wrote for the same minute, queue and class, and forgets
    /// minutes older than the retention ([`HISTORY_RETENTION`](crate::HISTORY_RETENTION) at least).
    /// Workers call it about once per heartbeat, with the counts since the last call.
    fn record_history<'a>(&'a self, points: &'a [HistoryPoint]) -> BoxFuture<'a, Result<(), Error>> {
        let _ = points;
        Box::pin(async { Err(Error::not_supported("this", "history")) })
    }

    /// Tells the backend that the worker `worker_id` stopped: it claims nothing more and its
    /// last reports are written. The backend removes its process entry (see
    /// [`Backend::beat_process`]); Redis, which lists live workers in Sidekiq's process set, drops
    /// it from that list. Other workers sharing the adapter keep running, so a backend forgets
    /// only what belongs to this worker alone.
    fn worker_stopped<'a>(&'a self, worker_id: &'a str) -> BoxFuture<'a, Result<(), Error>> {
        let _ = worker_id;
        Box::pin(async { Ok(()) })
    }
}

//! Events for subscribers: enqueue, perform_start, perform, enqueue_retry, retry_stopped, discard,
//! and a continuable job's steps, interruptions and resumptions.

use std::fmt;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::error::JobError;
use super::payload::JobData;

/// What happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EventKind {
    /// A job was enqueued to run as soon as possible.
    Enqueue,
    /// A job was enqueued to run at a time.
    EnqueueAt,
    /// Several jobs were enqueued in one call ([`Event::count`] says how many).
    EnqueueAll,
    /// A job is about to be performed.
    PerformStart,
    /// A job was performed ([`Event::outcome`] says how it went).
    Perform,
    /// A `retry_on` declaration enqueued the job again.
    EnqueueRetry,
    /// A `retry_on` declaration ran out of attempts.
    RetryStopped,
    /// A job was discarded.
    Discard,
    /// A continuable job started a step, afresh or resumed ([`Event::cursor`] is the cursor it
    /// resumed at).
    StepStarted,
    /// A continuable job skipped a step an earlier run completed.
    StepSkipped,
    /// A continuable job completed a step.
    StepCompleted,
    /// A continuable job stopped at a checkpoint ([`Event::reason`]: `stopping` or `isolating`).
    Interrupt,
    /// A continuable job was enqueued again with its progress, interrupted or failed after
    /// making progress ([`Event::wait`] says when it runs again, [`Event::reason`] why).
    Resume,
    /// A unique job was not enqueued: a job with its unique key is stored already
    /// ([`Event::reason`] is that job's id; the event's job is the one that was not stored).
    EnqueueDuplicate,
    /// A job was delayed by its throttle to the next window with a free start, with no attempt
    /// spent ([`Event::wait`] says when it runs).
    Throttle,
}

/// How a perform ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Outcome {
    /// The job succeeded.
    Performed,
    /// The job failed and a `rescue_from` handled it.
    Rescued,
    /// The job failed and `retry_on` enqueued it again.
    Retried,
    /// The job failed and was discarded (`discard_on`, or an exhausted `retry_on` with a handler).
    Discarded,
    /// A `before_perform` callback halted the job, or an `around_perform` did not call `next`.
    Halted,
    /// A continuable job was interrupted, or failed after making progress, and was enqueued
    /// again with its progress.
    Resumed,
    /// The job failed and nothing handled it: the worker's policy decides.
    Failed,
    /// The job asked to run again later ([`snooze`](super::snooze)) and was stored again, with
    /// no attempt spent ([`Event::wait`] says when it runs again).
    Snoozed,
    /// The job cancelled itself ([`cancel`](super::cancel)): it ends without a retry
    /// ([`Event::reason`] says why).
    Cancelled,
}

impl Outcome {
    /// The outcome as a lowercase label (`performed`, `failed`, ...), for logs and metrics.
    pub fn as_str(&self) -> &'static str {
        match self {
            Outcome::Performed => "performed",
            Outcome::Rescued => "rescued",
            Outcome::Retried => "retried",
            Outcome::Discarded => "discarded",
            Outcome::Halted => "halted",
            Outcome::Resumed => "resumed",
            Outcome::Failed => "failed",
            Outcome::Snoozed => "snoozed",
            Outcome::Cancelled => "cancelled",
        }
    }
}

/// One event, as delivered to [`Subscriber`]s. A job's arguments are only visible when the job
/// allows logging them (`#[job(log_arguments = false)]` hides them).
pub struct Event<'a> {
    pub(crate) kind: EventKind,
    pub(crate) adapter: &'a str,
    pub(crate) job: Option<&'a JobData>,
    pub(crate) log_arguments: bool,
    pub(crate) count: usize,
    pub(crate) duration: Option<Duration>,
    pub(crate) outcome: Option<Outcome>,
    pub(crate) error: Option<&'a JobError>,
    pub(crate) wait: Option<Duration>,
    pub(crate) step: Option<&'a str>,
    pub(crate) cursor: Option<&'a Value>,
    pub(crate) reason: Option<&'a str>,
}

impl<'a> Event<'a> {
    pub(crate) fn new(kind: EventKind, adapter: &'a str, job: Option<&'a JobData>, log_arguments: bool) -> Self {
        Event {
            kind,
            adapter,
            job,
            log_arguments,
            count: 1,
            duration: None,
            outcome: None,
            error: None,
            wait: None,
            step: None,
            cursor: None,
            reason: None,
        }
    }

    /// What happened.
    pub fn kind(&self) -> EventKind {
        self.kind
    }

    /// The adapter's name.
    pub fn adapter(&self) -> &str {
        self.adapter
    }

    /// The job's class (`None` for `EnqueueAll`).
    pub fn job_class(&self) -> Option<&str> {
        self.job.map(|j| j.job_class.as_str())
    }

    /// The job's id.
    pub fn job_id(&self) -> Option<&str> {
        self.job.map(|j| j.job_id.as_str())
    }

    /// The job's queue.
    pub fn queue(&self) -> Option<&str> {
        self.job.map(|j| j.queue_name.as_str())
    }

    /// How many times the job has run, this run included.
    pub fn executions(&self) -> Option<u32> {
        self.job.map(|j| j.executions)
    }

    /// When the job is scheduled to run.
    pub fn scheduled_at(&self) -> Option<DateTime<Utc>> {
        self.job.and_then(|j| j.scheduled_at)
    }

    /// The job's arguments, unless the job hides them.
    pub fn arguments(&self) -> Option<&[Value]> {
        self.job.filter(|_| self.log_arguments).map(|j| j.arguments.as_slice())
    }

    /// How many jobs (`EnqueueAll`), else 1.
    pub fn count(&self) -> usize {
        self.count
    }

    /// How long the perform took (`Perform`).
    pub fn duration(&self) -> Option<Duration> {
        self.duration
    }

    /// How the perform ended (`Perform`).
    pub fn outcome(&self) -> Option<Outcome> {
        self.outcome
    }

    /// The error involved (`Perform` that failed, `EnqueueRetry`, `RetryStopped`, `Discard`).
    pub fn error(&self) -> Option<&JobError> {
        self.error
    }

    /// The delay before the retry (`EnqueueRetry`), the resumption (`Resume`) or the next run
    /// of a snoozed job (`Perform` with [`Outcome::Snoozed`]).
    pub fn wait(&self) -> Option<Duration> {
        self.wait
    }

    /// The step (`StepStarted`, `StepSkipped`, `StepCompleted`), or the step in progress
    /// (`Interrupt`, `Resume`).
    pub fn step(&self) -> Option<&str> {
        self.step
    }

    /// The cursor a step resumed at (`StepStarted`), or the cursor of the step in progress
    /// (`Interrupt`, `Resume`), as encoded in the payload.
    pub fn cursor(&self) -> Option<&Value> {
        self.cursor
    }

    /// Why a continuable job stopped (`Interrupt`: `stopping` or `isolating`) or was enqueued again
    /// (`Resume`: `interrupted`, or the error's class after progress), or why a job cancelled
    /// itself (`Perform` with [`Outcome::Cancelled`]).
    pub fn reason(&self) -> Option<&str> {
        self.reason
    }
}

impl fmt::Debug for Event<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("kind", &self.kind)
            .field("adapter", &self.adapter)
            .field("job_class", &self.job_class())
            .field("job_id", &self.job_id())
            .field("arguments", &self.arguments())
            .field("outcome", &self.outcome)
            .field("error", &self.error.map(|e| e.to_string()))
            .finish_non_exhaustive()
    }
}

/// Receives events; install with `Runtime::builder().subscribe(..)`. Any `Fn(&Event)` is one.
pub trait Subscriber: Send + Sync + 'static {
    /// Called for each event, in the task where it happened; keep it quick.
    fn on_event(&self, event: &Event<'_>);
}

impl<F: Fn(&Event<'_>) + Send + Sync + 'static> Subscriber for F {
    fn on_event(&self, event: &Event<'_>) {
        self(event)
    }
}

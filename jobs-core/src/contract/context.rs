//! `JobContext`: what a running job knows about itself.

use std::any::Any;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

use super::checkpoints::ProgressSink;
use super::continuation::{Continuable, Progress};
use super::error::Error;
use super::payload::JobData;
use super::recurring::RecurringRun;
use super::state::{State, StateMap};

/// The execution context of a running job: its id, attempt, queue, times, a stop signal, and the
/// runtime it runs in (for state and for enqueueing follow-up jobs).
///
/// Take it as a job parameter, `ctx: &JobContext` or `ctx: JobContext`; it is injected, never
/// serialized.
#[derive(Clone, Debug)]
pub struct JobContext {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    data: Box<JobData>,
    stops: Arc<Stops>,
    env: Arc<dyn Environment>,
    /// A continuable job's settings and progress.
    continuation: Option<(Continuable, Mutex<Progress>)>,
    /// Where a worker's run of a continuable job stores its progress at checkpoints.
    sink: Option<ProgressSink>,
}

/// How a run is told to stop: `quiet` when its worker goes quiet or starts shutting down, `stop`
/// when the grace period is over.
#[derive(Debug, Default)]
pub(crate) struct Signals {
    pub(crate) stops: Arc<Stops>,
    /// Where a continuable job stores its progress at checkpoints: only in a worker's runs.
    pub(crate) sink: Option<ProgressSink>,
}

/// A worker's two stop signals, made once and shared by all its runs behind one `Arc`: cloning
/// a `CancellationToken` locks it, so a clone per run would make every run contend on it.
#[derive(Debug, Default)]
pub(crate) struct Stops {
    /// Cancelled as soon as the worker goes quiet or starts shutting down: continuable jobs stop
    /// at their next checkpoint.
    pub(crate) quiet: CancellationToken,
    /// Cancelled when the grace period is over: running jobs are asked to stop.
    pub(crate) stop: CancellationToken,
}

/// What a running job can reach of the runtime that runs it: its state, its app name, and the
/// runtime itself (as `Any`, so that the contract does not depend on the runtime layer; the
/// runtime implements this trait and `JobContext::runtime` downcasts).
pub(crate) trait Environment: Any + Send + Sync + fmt::Debug {
    /// The application state.
    fn state_map(&self) -> &StateMap;
    /// The application's name in global ids, if set.
    fn app_name(&self) -> Option<&str>;
    /// The environment as `Any`, to get the runtime back.
    fn as_any(&self) -> &dyn Any;
}

impl JobContext {
    pub(crate) fn new(
        data: Box<JobData>,
        signals: Signals,
        env: Arc<dyn Environment>,
        continuable: Option<Continuable>,
    ) -> Self {
        let continuation =
            continuable.map(|settings| (settings, Mutex::new(Progress::from_payload(data.continuation.as_ref()))));
        let Signals { stops, sink } = signals;
        JobContext { inner: Arc::new(Inner { data, stops, env, continuation, sink }) }
    }

    /// The payload back, once the run is over: moved out when no clone of the context is left
    /// (the job kept none), copied otherwise.
    pub(crate) fn into_data(self) -> Box<JobData> {
        match Arc::try_unwrap(self.inner) {
            Ok(inner) => inner.data,
            Err(inner) => inner.data.clone(),
        }
    }

    /// Where this run stores its progress at checkpoints, if anywhere.
    pub(crate) fn progress_sink(&self) -> Option<&ProgressSink> {
        self.inner.sink.as_ref()
    }

    /// A continuable job's settings and progress; `None` for other jobs.
    pub(crate) fn continuation(&self) -> Option<(&Continuable, &Mutex<Progress>)> {
        self.inner.continuation.as_ref().map(|(settings, progress)| (settings, progress))
    }

    /// True once the worker running the job has gone quiet or started shutting down (before the
    /// grace period is over, unlike [`JobContext::is_stopping`]): where continuable jobs stop at a
    /// checkpoint. As with Sidekiq, whose `stopping?` is true from `quiet` on, a quiet worker
    /// (usually the first step of a deploy) hands its long jobs back to run elsewhere.
    pub fn is_shutting_down(&self) -> bool {
        self.inner.stops.quiet.is_cancelled() || self.inner.stops.stop.is_cancelled()
    }

    /// The environment the job runs in.
    pub(crate) fn env(&self) -> &dyn Environment {
        &*self.inner.env
    }

    /// The job's id (a UUID, kept across retries).
    pub fn job_id(&self) -> &str {
        &self.inner.data.job_id
    }

    /// The backend's id for this job, if it gave one.
    pub fn provider_job_id(&self) -> Option<&str> {
        self.inner.data.provider_job_id.as_deref()
    }

    /// The job's registered name.
    pub fn job_class(&self) -> &str {
        &self.inner.data.job_class
    }

    /// How many times the job has been performed, this run included (1 on the first run).
    /// Resumptions of a continuable job do not count as executions.
    pub fn executions(&self) -> u32 {
        self.inner.data.executions
    }

    /// How many times a continuable job has been resumed, this run included if it resumed
    /// (Active Job 8.1's `resumptions`); 0 for other jobs.
    pub fn resumptions(&self) -> u32 {
        self.inner.data.resumptions.unwrap_or(0)
    }

    /// Per `retry_on` declaration, how many times it has matched so far.
    pub fn exception_executions(&self) -> &BTreeMap<String, u32> {
        &self.inner.data.exception_executions
    }

    /// The queue the job was taken from.
    pub fn queue(&self) -> &str {
        &self.inner.data.queue_name
    }

    /// The job's priority.
    pub fn priority(&self) -> Option<i32> {
        self.inner.data.priority
    }

    /// When the job was enqueued.
    pub fn enqueued_at(&self) -> Option<DateTime<Utc>> {
        self.inner.data.enqueued_at
    }

    /// When the job was scheduled to run, if it was scheduled.
    pub fn scheduled_at(&self) -> Option<DateTime<Utc>> {
        self.inner.data.scheduled_at
    }

    /// For a job that a recurring task enqueued: the task's key and the tick it was enqueued for
    /// (when its schedule said it should run, whatever the time it was enqueued or started).
    pub fn recurring(&self) -> Option<&RecurringRun> {
        self.inner.data.recurring.as_ref()
    }

    /// The job's payload as it is being performed.
    pub fn data(&self) -> &JobData {
        &self.inner.data
    }

    /// True once the worker asks running jobs to stop (shutdown past its grace period).
    pub fn is_stopping(&self) -> bool {
        self.inner.stops.stop.is_cancelled()
    }

    /// Completes when the worker asks running jobs to stop. A job that returns an error after
    /// this is handed back to the queue without spending an attempt.
    pub async fn stopped(&self) {
        self.inner.stops.stop.cancelled().await
    }

    /// Application state of type `T`, as added with `Runtime::builder().state(..)`.
    pub fn state<T: Send + Sync + 'static>(&self) -> Result<State<T>, Error> {
        self.inner.env.state_map().get::<T>()
    }

    /// The application's name in global ids (`gid://APP/Model/ID`), if the runtime has one.
    pub fn app_name(&self) -> Option<&str> {
        self.inner.env.app_name()
    }
}

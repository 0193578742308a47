//! The registry: which job classes this process knows, by wire name.

use std::any::TypeId;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::contract::{BoxFuture, Environment, Error, FlowControl, JobData, JobError, Outcome, Stops};
use crate::runtime::Runtime;
use crate::support::hash::Words;

/// How a registered job is decoded and performed: the perform layer's pipeline for its type.
///
/// The payload travels boxed through the pipeline, so that each layer moves a pointer rather
/// than the whole payload.
pub(crate) type ExecuteFn = fn(Runtime, Box<JobData>, Ending) -> BoxFuture<'static, Executed>;

/// How a run is stopped, and when a failure nothing handled ends the job.
#[derive(Clone, Debug, Default)]
pub(crate) struct Ending {
    /// The worker's signals: quiet when it starts shutting down (continuable jobs stop at a
    /// checkpoint), stop when its grace period is over (running jobs are asked to stop).
    pub(crate) stops: Arc<Stops>,
    /// The run (counting from 1) from which a failure that nothing handled ends the job, so that
    /// its `after_discard` callbacks run: the worker's retry policy retries the runs before it.
    /// 0 where every failure ends the job (perform_now, the inline and test adapters).
    pub(crate) last_run: u32,
    /// The fencing token of the worker's claim the job runs under (its id is the job's provider
    /// id): a continuable job stores its progress under it. `None` outside a worker.
    pub(crate) claim_token: Option<i64>,
    /// The runtime as the job's environment, made once by a worker for all its runs; `None`
    /// makes one for the run.
    pub(crate) env: Option<Arc<dyn Environment>>,
}

/// What came of running one job.
#[derive(Debug)]
pub(crate) struct Executed {
    /// The payload as performed (`executions` and `exception_executions` counted up), if decodable.
    pub(crate) data: Option<Box<JobData>>,
    /// How it ended.
    pub(crate) outcome: Outcome,
    /// The error, for every outcome but `Performed` and `Halted`.
    pub(crate) error: Option<JobError>,
    /// The halting callback and its reason, for `Halted`.
    pub(crate) halted: Option<(String, Option<String>)>,
    /// How long the run took (zero when the job never ran: a payload not read, a class not known).
    pub(crate) took: Duration,
    /// When the run ended by the runtime's clock, if it ran.
    pub(crate) ended_at: Option<DateTime<Utc>>,
}

impl Executed {
    /// A job that failed before it ran (its payload could not be read, or its class is not known).
    pub(crate) fn unrun(data: Option<Box<JobData>>, error: JobError) -> Self {
        Executed {
            data,
            outcome: Outcome::Failed,
            error: Some(error),
            halted: None,
            took: Duration::ZERO,
            ended_at: None,
        }
    }
}

/// A job class as the registry keeps it: its name and how to decode and perform it.
///
/// `#[job]` submits one per job with `inventory`; [`Registry::register`] is the explicit path.
#[derive(Clone, Copy, Debug)]
pub struct JobRegistration {
    name: &'static str,
    queue: &'static str,
    priority: Option<i32>,
    cron: Option<&'static str>,
    log_arguments: bool,
    flow: FlowControl,
    type_id: fn() -> TypeId,
    execute: ExecuteFn,
}

impl JobRegistration {
    /// A registration from its parts; `JobRegistration::of::<J>()` is the way in.
    pub(crate) const fn from_parts(
        (name, queue, priority, cron): (&'static str, &'static str, Option<i32>, Option<&'static str>),
        (log_arguments, flow): (bool, FlowControl),
        type_id: fn() -> TypeId,
        execute: ExecuteFn,
    ) -> Self {
        JobRegistration { name, queue, priority, cron, log_arguments, flow, type_id, execute }
    }

    /// The job's wire name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The job's default queue.
    pub fn queue(&self) -> &'static str {
        self.queue
    }

    /// The job's default priority.
    pub fn priority(&self) -> Option<i32> {
        self.priority
    }

    /// The job's own recurring schedule (`#[job(cron = "...")]`), if it has one.
    pub fn cron(&self) -> Option<&'static str> {
        self.cron
    }

    /// Whether the job's arguments may be logged.
    pub fn log_arguments(&self) -> bool {
        self.log_arguments
    }

    /// The job's flow control: its concurrency limit, uniqueness rule and throttle, if any.
    pub fn flow(&self) -> &FlowControl {
        &self.flow
    }

    /// Decodes the arguments and performs the job, with its callbacks and error handling.
    pub(crate) fn execute(&self, runtime: Runtime, data: Box<JobData>, ending: Ending) -> BoxFuture<'static, Executed> {
        (self.execute)(runtime, data, ending)
    }
}

inventory::collect!(JobRegistration);

/// The job classes a runtime can decode and perform, by wire name.
///
/// ```
/// # use jobs_core::{Registry, Job, Error, JobContext};
/// # struct Noop;
/// # impl Job for Noop {
/// #     const NAME: &'static str = "Noop";
/// #     type Output = ();
/// #     fn to_arguments(&self, _cx: &jobs_core::encoding::EncodeContext<'_>) -> Result<Vec<serde_json::Value>, Error> { Ok(vec![]) }
/// #     fn from_arguments(_: Vec<serde_json::Value>) -> Result<Self, Error> { Ok(Noop) }
/// #     async fn perform(self, _: JobContext) -> Result<(), Error> { Ok(()) }
/// # }
/// let mut registry = Registry::new();
/// registry.register::<Noop>().unwrap();
/// assert!(registry.get("Noop").is_some());
/// ```
#[derive(Clone, Debug, Default)]
pub struct Registry {
    /// By name: every run looks its class up here. The names are the application's own, so a
    /// multiplication per word spreads them (a payload naming a class can look one up, not add
    /// one).
    jobs: HashMap<&'static str, JobRegistration, Words>,
    /// Whether a registered class has a concurrency limit or a throttle (which workers enforce).
    flow_controlled: bool,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Registry::default()
    }

    /// Every job declared with `#[job]` anywhere in the program.
    pub fn from_inventory() -> Result<Self, Error> {
        let mut registry = Registry::new();
        for registration in inventory::iter::<JobRegistration> {
            registry.add(*registration)?;
        }
        Ok(registry)
    }

    /// Adds a registration.
    pub fn add(&mut self, registration: JobRegistration) -> Result<(), Error> {
        match self.jobs.get(registration.name) {
            Some(existing) if (existing.type_id)() != (registration.type_id)() => {
                Err(Error::DuplicateJob(registration.name.to_owned()))
            }
            _ => {
                let flow = registration.flow();
                self.flow_controlled |= flow.concurrency.is_some() || flow.throttle.is_some();
                self.jobs.insert(registration.name, registration);
                Ok(())
            }
        }
    }

    /// Looks a job class up by wire name.
    pub fn get(&self, name: &str) -> Option<&JobRegistration> {
        self.jobs.get(name)
    }

    /// Every registration, in no particular order.
    pub fn registrations(&self) -> impl Iterator<Item = &JobRegistration> {
        self.jobs.values()
    }

    /// Whether a registered class has a concurrency limit or a throttle: a worker then needs an
    /// adapter with a [`FlowStore`](crate::adapter::FlowStore).
    pub fn has_flow_control(&self) -> bool {
        self.flow_controlled
    }

    /// The registered names, sorted.
    pub fn names(&self) -> Vec<&'static str> {
        let mut names: Vec<_> = self.jobs.keys().copied().collect();
        names.sort_unstable();
        names
    }
}

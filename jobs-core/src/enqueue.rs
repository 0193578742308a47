//! Enqueueing: options (`wait`, `queue`, ...), configured jobs, and bulk enqueue.

use std::marker::PhantomData;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::adapter::{BoxFuture, Capabilities};
use crate::callbacks;
use crate::declarations::Declarations;
use crate::error::Error;
use crate::job::{FromArgs, Job, JobResult};
use crate::payload::JobData;
use crate::runtime::Runtime;

/// When a job should run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum When {
    Wait(Duration),
    At(DateTime<Utc>),
}

/// Options of one enqueue: queue, priority, schedule and, optionally, an explicit runtime.
#[derive(Clone, Debug, Default)]
pub struct EnqueueOptions {
    queue: Option<String>,
    priority: Option<i32>,
    when: Option<When>,
    runtime: Option<Runtime>,
}

/// A job class with enqueue options set, waiting for its arguments: what `MyJob::set()` returns.
///
/// ```no_run
/// # use jobs_core::{ConfiguredJob, Job, FromArgs};
/// # use std::time::Duration;
/// # async fn demo<J: Job + FromArgs<(String,)>>() -> Result<(), jobs_core::Error> {
/// ConfiguredJob::<J, (String,)>::new()
///     .wait(Duration::from_secs(60))
///     .queue("low")
///     .priority(10)
///     .perform_later("hello".to_string())
///     .await?;
/// # Ok(()) }
/// ```
#[must_use = "a configured job does nothing until `perform_later` or `perform_now` is called"]
pub struct ConfiguredJob<J, Args = ()> {
    options: EnqueueOptions,
    _job: PhantomData<fn() -> (J, Args)>,
}

impl<J: Job, Args> Default for ConfiguredJob<J, Args> {
    fn default() -> Self {
        ConfiguredJob { options: EnqueueOptions::default(), _job: PhantomData }
    }
}

impl<J: Job, Args> ConfiguredJob<J, Args> {
    /// No options set: the job's default queue and priority, run as soon as possible.
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs the job after `delay`.
    pub fn wait(mut self, delay: Duration) -> Self {
        self.options.when = Some(When::Wait(delay));
        self
    }

    /// Runs the job at `time` (or as soon as possible if `time` is past).
    pub fn wait_until(mut self, time: DateTime<Utc>) -> Self {
        self.options.when = Some(When::At(time));
        self
    }

    /// Sends the job to `queue` instead of its default queue.
    pub fn queue(mut self, queue: impl Into<String>) -> Self {
        self.options.queue = Some(queue.into());
        self
    }

    /// Gives the job this priority (lower runs first).
    pub fn priority(mut self, priority: i32) -> Self {
        self.options.priority = Some(priority);
        self
    }

    /// Enqueues on `runtime` instead of the current one.
    pub fn runtime(mut self, runtime: &Runtime) -> Self {
        self.options.runtime = Some(runtime.clone());
        self
    }

    /// Enqueues an already built job with these options.
    pub async fn enqueue(self, job: J) -> Result<Enqueued, Error> {
        self.build(job).enqueue().await
    }

    /// Performs an already built job here and now with these options; returns the job's value,
    /// or [`Error::Job`] with its error if the run failed.
    pub async fn perform(self, job: J) -> Result<<J::Output as JobResult>::Value, Error> {
        let runtime = runtime_of(&self.options)?;
        crate::execution::perform_now(&runtime, job, self.options).await
    }

    /// A pending job with these options, for [`perform_all_later`].
    pub fn build(self, job: J) -> PendingJob {
        PendingJob::with_options(&job, self.options)
    }
}

macro_rules! positional {
    ($($arg:ident: $ty:ident),*) => {
        impl<J: FromArgs<($($ty,)*)>, $($ty),*> ConfiguredJob<J, ($($ty,)*)> {
            /// Enqueues the job with these arguments; returns its handle.
            #[allow(clippy::too_many_arguments)]
            pub async fn perform_later(self, $($arg: $ty),*) -> Result<Enqueued, Error> {
                self.enqueue(J::from_args(($($arg,)*))).await
            }

            /// Performs the job here and now with these arguments, callbacks and error handling
            /// included; returns the job's value, or [`Error::Job`] with its error.
            #[allow(clippy::too_many_arguments)]
            pub async fn perform_now(self, $($arg: $ty),*) -> Result<<J::Output as JobResult>::Value, Error> {
                self.perform(J::from_args(($($arg,)*))).await
            }
        }
    };
}

positional!();
positional!(a: A);
positional!(a: A, b: B);
positional!(a: A, b: B, c: C);
positional!(a: A, b: B, c: C, d: D);
positional!(a: A, b: B, c: C, d: D, e: E);
positional!(a: A, b: B, c: C, d: D, e: E, f: F);
positional!(a: A, b: B, c: C, d: D, e: E, f: F, g: G);
positional!(a: A, b: B, c: C, d: D, e: E, f: F, g: G, h: H);
positional!(a: A, b: B, c: C, d: D, e: E, f: F, g: G, h: H, i: I);
positional!(a: A, b: B, c: C, d: D, e: E, f: F, g: G, h: H, i: I, j: K);
positional!(a: A, b: B, c: C, d: D, e: E, f: F, g: G, h: H, i: I, j: K, k: L);
positional!(a: A, b: B, c: C, d: D, e: E, f: F, g: G, h: H, i: I, j: K, k: L, l: M);

/// The most serialized parameters a `#[job]` function may take.
pub const MAX_ARGUMENTS: usize = 12;

/// A job ready to be enqueued, of any class: the unit of [`perform_all_later`].
#[derive(Debug)]
pub struct PendingJob {
    class: &'static str,
    default_queue: &'static str,
    default_priority: Option<i32>,
    log_arguments: bool,
    declarations: &'static Declarations,
    arguments: Result<Vec<Value>, Error>,
    options: EnqueueOptions,
}

impl<J: Job> From<J> for PendingJob {
    fn from(job: J) -> Self {
        PendingJob::new(job)
    }
}

impl PendingJob {
    /// A job with its default queue and priority, to run as soon as possible.
    pub fn new<J: Job>(job: J) -> Self {
        PendingJob::with_options(&job, EnqueueOptions::default())
    }

    pub(crate) fn with_options<J: Job>(job: &J, options: EnqueueOptions) -> Self {
        PendingJob {
            class: J::NAME,
            default_queue: J::QUEUE,
            default_priority: J::PRIORITY,
            log_arguments: J::LOG_ARGUMENTS,
            declarations: J::DECLARATIONS,
            arguments: crate::global_id::encoding_for(options.runtime.as_ref(), || job.to_arguments()),
            options,
        }
    }

    /// Enqueues this one job on the current runtime (or the one set in its options).
    pub async fn enqueue(self) -> Result<Enqueued, Error> {
        let runtime = runtime_of(&self.options)?;
        self.enqueue_on(&runtime).await
    }

    pub(crate) async fn enqueue_on(self, runtime: &Runtime) -> Result<Enqueued, Error> {
        let mut all = enqueue_all(runtime, vec![self]).await?;
        Ok(all.pop().expect("one job in, one handle out"))
    }

    /// Enqueues this one job into `sink` instead of the runtime's adapter — a database
    /// transaction, for one — with the same callbacks, checks, logs and events; on the current
    /// runtime (or the one set in its options).
    pub async fn enqueue_into(self, sink: &mut dyn EnqueueSink) -> Result<Enqueued, Error> {
        let runtime = runtime_of(&self.options)?;
        let mut all = enqueue_all_into(&runtime, vec![self], sink).await?;
        Ok(all.pop().expect("one job in, one handle out"))
    }

    pub(crate) fn into_data(self, runtime: &Runtime) -> Result<(JobData, bool), Error> {
        Ok(self.into_parts(runtime)?.0)
    }

    fn into_parts(self, runtime: &Runtime) -> Result<((JobData, bool), &'static Declarations), Error> {
        let now = runtime.now();
        let scheduled_at = match self.options.when {
            None => None,
            Some(When::Wait(delay)) => {
                Some(now + chrono::Duration::from_std(delay).map_err(|e| Error::Config(e.to_string()))?)
            }
            Some(When::At(at)) => Some(at),
        };
        let data = JobData {
            job_class: self.class.to_owned(),
            job_id: uuid::Uuid::new_v4().to_string(),
            provider_job_id: None,
            queue_name: self.options.queue.unwrap_or_else(|| self.default_queue.to_owned()),
            priority: self.options.priority.or(self.default_priority),
            arguments: self.arguments?,
            executions: 0,
            exception_executions: Default::default(),
            locale: "en".to_owned(),
            timezone: Some("UTC".to_owned()),
            enqueued_at: Some(now),
            scheduled_at,
        };
        Ok(((data, self.log_arguments), self.declarations))
    }
}

/// The handle `perform_later` returns: what the job was enqueued as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Enqueued {
    /// The job's id (UUID).
    pub job_id: String,
    /// The backend's id for the job, if it gave one.
    pub provider_job_id: Option<String>,
    /// The job's class.
    pub job_class: String,
    /// The queue it went to.
    pub queue: String,
    /// When it is due, for a scheduled job.
    pub scheduled_at: Option<DateTime<Utc>>,
}

/// Enqueues many jobs, of one or several classes, in one adapter call, on the current runtime.
///
/// ```no_run
/// # use jobs_core::{PendingJob, perform_all_later, Job};
/// # async fn demo<A: Job, B: Job>(a: A, b: B) -> Result<(), jobs_core::Error> {
/// let handles = perform_all_later([PendingJob::new(a), PendingJob::new(b)]).await?;
/// # Ok(()) }
/// ```
pub async fn perform_all_later(jobs: impl IntoIterator<Item = PendingJob>) -> Result<Vec<Enqueued>, Error> {
    enqueue_all(&Runtime::current()?, jobs.into_iter().collect()).await
}

/// Where an enqueue stores its jobs instead of the runtime's adapter: a database transaction,
/// for one, so that jobs become visible only if it commits. See [`PendingJob::enqueue_into`] and
/// [`Runtime::perform_all_into`]; adapters that offer it (PostgreSQL's transactional enqueue)
/// implement it, applications rarely do.
pub trait EnqueueSink: Send {
    /// The name in logs, like [`Adapter::name`](crate::Adapter::name).
    fn name(&self) -> &str;

    /// What the sink can store; scheduled jobs need `scheduling`.
    fn capabilities(&self) -> Capabilities;

    /// Stores the jobs; returns their provider ids in order. Either all are stored or it fails.
    fn store<'a>(
        &'a mut self,
        runtime: &'a Runtime,
        jobs: &'a [JobData],
    ) -> BoxFuture<'a, Result<Vec<Option<String>>, Error>>;
}

/// Where one enqueue call stores its jobs.
enum Target<'s> {
    Adapter,
    Sink(&'s mut dyn EnqueueSink),
}

pub(crate) async fn enqueue_all(runtime: &Runtime, jobs: Vec<PendingJob>) -> Result<Vec<Enqueued>, Error> {
    enqueue_to(runtime, jobs, Target::Adapter, runtime.adapter().name()).await
}

pub(crate) async fn enqueue_all_into(
    runtime: &Runtime,
    jobs: Vec<PendingJob>,
    sink: &mut dyn EnqueueSink,
) -> Result<Vec<Enqueued>, Error> {
    let name = sink.name().to_owned();
    enqueue_to(runtime, jobs, Target::Sink(sink), &name).await
}

async fn enqueue_to(
    runtime: &Runtime,
    jobs: Vec<PendingJob>,
    target: Target<'_>,
    name: &str,
) -> Result<Vec<Enqueued>, Error> {
    let span = match jobs.as_slice() {
        [job] => tracing::info_span!(target: "jobs", "enqueue", job_class = job.class, adapter = name),
        _ => tracing::info_span!(target: "jobs", "enqueue_all", jobs = jobs.len(), adapter = name),
    };
    tracing::Instrument::instrument(enqueue_in_span(runtime, jobs, target, name), span).await
}

impl Target<'_> {
    fn capabilities(&self, runtime: &Runtime) -> Capabilities {
        match self {
            Target::Adapter => runtime.adapter().capabilities(),
            Target::Sink(sink) => sink.capabilities(),
        }
    }

    async fn store(&mut self, runtime: &Runtime, jobs: &[JobData]) -> Result<Vec<Option<String>>, Error> {
        match self {
            Target::Adapter if jobs.len() == 1 => Ok(vec![runtime.adapter().enqueue(runtime, &jobs[0]).await?]),
            Target::Adapter => runtime.adapter().enqueue_all(runtime, jobs).await,
            Target::Sink(sink) => sink.store(runtime, jobs).await,
        }
    }
}

async fn enqueue_in_span(
    runtime: &Runtime,
    jobs: Vec<PendingJob>,
    mut target: Target<'_>,
    name: &str,
) -> Result<Vec<Enqueued>, Error> {
    let capabilities = target.capabilities(runtime);
    let mut datas = Vec::with_capacity(jobs.len());
    let mut log_arguments = Vec::with_capacity(jobs.len());
    let mut declarations = None;
    for job in jobs {
        let ((data, log), declared) = job.into_parts(runtime)?;
        crate::limits::check_payload_size(&data, runtime.max_payload_size())?;
        if data.scheduled_at.is_some() && !capabilities.scheduling {
            return Err(Error::not_supported(
                name,
                "scheduled jobs (wait / wait_until); use an adapter that schedules, such as memory or sqlite",
            ));
        }
        datas.push(data);
        log_arguments.push(log);
        declarations = Some(declared);
    }
    if let [data] = datas.as_mut_slice() {
        // One job: its enqueue callbacks run around the adapter call. Bulk enqueues skip them, as
        // Rails' perform_all_later does.
        let declarations = declarations.expect("one job");
        let middleware = runtime.middleware();
        data.provider_job_id = if middleware.is_empty() && is_empty(declarations) {
            first(target.store(runtime, std::slice::from_ref(data)).await?)
        } else {
            let provider = std::sync::Mutex::new(None);
            let snapshot = std::slice::from_ref(data);
            let target = &mut target;
            callbacks::enqueue(
                middleware,
                declarations,
                &snapshot[0],
                Box::new(|| {
                    Box::pin(async {
                        *provider.lock().unwrap_or_else(|e| e.into_inner()) =
                            first(target.store(runtime, snapshot).await?);
                        Ok(())
                    })
                }),
            )
            .await?;
            provider.into_inner().unwrap_or_else(|e| e.into_inner())
        };
    } else if !datas.is_empty() {
        let ids = target.store(runtime, &datas).await?;
        for (data, id) in datas.iter_mut().zip(ids) {
            data.provider_job_id = id;
        }
        crate::instrument::enqueued_all(runtime, name, datas.len());
    }
    let handles = datas
        .into_iter()
        .zip(log_arguments)
        .map(|(data, log)| {
            crate::instrument::enqueued(runtime, name, &data, log);
            Enqueued {
                job_id: data.job_id,
                provider_job_id: data.provider_job_id,
                job_class: data.job_class,
                queue: data.queue_name,
                scheduled_at: data.scheduled_at,
            }
        })
        .collect();
    Ok(handles)
}

fn first(ids: Vec<Option<String>>) -> Option<String> {
    ids.into_iter().next().flatten()
}

fn is_empty(declarations: &Declarations) -> bool {
    declarations.before_enqueue.is_empty()
        && declarations.around_enqueue.is_empty()
        && declarations.after_enqueue.is_empty()
}

pub(crate) fn runtime_of(options: &EnqueueOptions) -> Result<Runtime, Error> {
    match &options.runtime {
        Some(runtime) => Ok(runtime.clone()),
        None => Runtime::current(),
    }
}

//! The runtime: the adapter, the registry and the application state, installed once.

use std::fmt;
use std::future::Future;
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};

use crate::adapter::Adapter;
use crate::adapters::MemoryAdapter;
use crate::callbacks::Middleware;
use crate::clock::{Clock, SystemClock};
use crate::enqueue::{Enqueued, PendingJob};
use crate::error::Error;
use crate::events::{Event, Subscriber};
use crate::job::{Job, JobResult};
use crate::registry::{JobRegistration, Registry};
use crate::state::{State, StateMap};

static GLOBAL: RwLock<Option<Runtime>> = RwLock::new(None);

tokio::task_local! {
    static SCOPED: Runtime;
}

/// The jobs runtime: which adapter jobs go to, which job classes exist, and the state jobs get.
///
/// Build one at start-up and [`install`](Runtime::install) it, then call `perform_later` from
/// anywhere; or keep the handle and call [`Runtime::perform_later`] on it (tests, several backends
/// in one application). Tests scope their own runtime with [`Runtime::scope`], which other tests
/// running in parallel do not see.
///
/// ```
/// # use jobs_core::{Runtime, adapters::MemoryAdapter};
/// struct Mailer { from: String }
///
/// let runtime = Runtime::builder()
///     .adapter(MemoryAdapter::new())
///     .state(Mailer { from: "hello@example.com".into() })
///     .build()
///     .unwrap();
/// runtime.install();
/// assert_eq!(runtime.adapter().name(), "Memory");
/// ```
#[derive(Clone)]
pub struct Runtime {
    inner: Arc<Inner>,
}

struct Inner {
    adapter: Arc<dyn Adapter>,
    registry: Registry,
    state: StateMap,
    clock: Arc<dyn Clock>,
    middleware: Vec<Arc<dyn Middleware>>,
    subscribers: Vec<Arc<dyn Subscriber>>,
    retry_jitter: f64,
    app_name: Option<String>,
    max_payload_size: usize,
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("adapter", &self.inner.adapter.name())
            .field("jobs", &self.inner.registry.names())
            .finish_non_exhaustive()
    }
}

impl Runtime {
    /// Starts building a runtime.
    pub fn builder() -> RuntimeBuilder {
        RuntimeBuilder::default()
    }

    /// Makes this the process-wide runtime used by `perform_later` outside any scope.
    pub fn install(&self) {
        *GLOBAL.write().unwrap_or_else(|e| e.into_inner()) = Some(self.clone());
    }

    /// The runtime in effect: the innermost [`scope`](Runtime::scope), else the installed one.
    pub fn current() -> Result<Runtime, Error> {
        if let Ok(runtime) = SCOPED.try_with(Runtime::clone) {
            return Ok(runtime);
        }
        GLOBAL.read().unwrap_or_else(|e| e.into_inner()).clone().ok_or(Error::NoRuntime)
    }

    /// Runs `future` with this runtime as the current one (for this task only).
    pub async fn scope<F: Future>(&self, future: F) -> F::Output {
        SCOPED.scope(self.clone(), future).await
    }

    /// The adapter jobs are enqueued to.
    pub fn adapter(&self) -> &Arc<dyn Adapter> {
        &self.inner.adapter
    }

    /// The job classes this runtime can perform.
    pub fn registry(&self) -> &Registry {
        &self.inner.registry
    }

    /// Application state of type `T`.
    pub fn state<T: Send + Sync + 'static>(&self) -> Result<State<T>, Error> {
        self.inner.state.get::<T>()
    }

    /// The runtime's clock.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }

    /// The application's name in global ids (`gid://APP/Model/ID`), if set.
    pub fn app_name(&self) -> Option<&str> {
        self.inner.app_name.as_deref()
    }

    /// The largest payload, in bytes of JSON, that enqueue accepts.
    pub fn max_payload_size(&self) -> usize {
        self.inner.max_payload_size
    }

    /// The current time on the runtime's clock.
    pub fn now(&self) -> DateTime<Utc> {
        self.inner.clock.now()
    }

    /// Global middleware, outermost first.
    pub(crate) fn middleware(&self) -> &[Arc<dyn Middleware>] {
        &self.inner.middleware
    }

    /// Delivers an event to every subscriber.
    pub(crate) fn emit(&self, event: &Event<'_>) {
        for subscriber in &self.inner.subscribers {
            subscriber.on_event(event);
        }
    }

    /// The default jitter of `retry_on` waits.
    pub fn retry_jitter(&self) -> f64 {
        self.inner.retry_jitter
    }

    /// Enqueues `job` on this runtime's adapter with its default queue and priority.
    pub async fn perform_later<J: Job>(&self, job: J) -> Result<Enqueued, Error> {
        // Encoded for this runtime (its app name in global ids), even when it is not the current one.
        crate::global_id::encoding_for(Some(self), || PendingJob::new(job)).enqueue_on(self).await
    }

    /// Performs `job` right here, with no queue, callbacks and error handling included, with
    /// this runtime as the current one; returns the job's value, or [`Error::Job`] with its error
    /// if the run failed.
    pub async fn perform_now<J: Job>(&self, job: J) -> Result<<J::Output as JobResult>::Value, Error> {
        self.scope(crate::execution::perform_now(self, job, Default::default())).await
    }

    /// Enqueues many jobs, of one or several classes, in one adapter call.
    pub async fn perform_all_later(&self, jobs: impl IntoIterator<Item = PendingJob>) -> Result<Vec<Enqueued>, Error> {
        crate::enqueue::enqueue_all(self, jobs.into_iter().collect()).await
    }

    /// Enqueues many jobs into `sink` (a database transaction, for one) instead of this
    /// runtime's adapter, with the same checks, logs and events as [`Runtime::perform_all_later`].
    pub async fn perform_all_into(
        &self,
        jobs: impl IntoIterator<Item = PendingJob>,
        sink: &mut dyn crate::enqueue::EnqueueSink,
    ) -> Result<Vec<Enqueued>, Error> {
        crate::enqueue::enqueue_all_into(self, jobs.into_iter().collect(), sink).await
    }
}

/// Builds a [`Runtime`].
#[derive(Default)]
pub struct RuntimeBuilder {
    adapter: Option<Arc<dyn Adapter>>,
    registry: Option<Registry>,
    extra: Vec<JobRegistration>,
    state: StateMap,
    clock: Option<Arc<dyn Clock>>,
    middleware: Vec<Arc<dyn Middleware>>,
    subscribers: Vec<Arc<dyn Subscriber>>,
    retry_jitter: Option<f64>,
    app_name: Option<String>,
    max_payload_size: Option<usize>,
}

impl RuntimeBuilder {
    /// The adapter jobs go to (default: a new [`MemoryAdapter`]).
    pub fn adapter(self, adapter: impl Adapter) -> Self {
        self.shared_adapter(Arc::new(adapter))
    }

    /// The adapter, already shared.
    pub fn shared_adapter(mut self, adapter: Arc<dyn Adapter>) -> Self {
        self.adapter = Some(adapter);
        self
    }

    /// Application state for jobs that take a `State<T>`; one value per type.
    pub fn state<T: Send + Sync + 'static>(mut self, value: T) -> Self {
        self.state.insert(Arc::new(value));
        self
    }

    /// Application state, already shared.
    pub fn shared_state<T: Send + Sync + 'static>(mut self, value: Arc<T>) -> Self {
        self.state.insert(value);
        self
    }

    /// Uses exactly this registry instead of every `#[job]` in the program.
    pub fn registry(mut self, registry: Registry) -> Self {
        self.registry = Some(registry);
        self
    }

    /// Registers one more job type (for jobs that implement [`Job`] by hand).
    pub fn register<J: Job>(mut self) -> Self {
        self.extra.push(JobRegistration::of::<J>());
        self
    }

    /// The clock for enqueue times and schedules (default: the system clock).
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.clock = Some(Arc::new(clock));
        self
    }

    /// Adds global middleware: callbacks around every job's enqueue and perform. The first added
    /// is the outermost.
    pub fn middleware(mut self, middleware: impl Middleware) -> Self {
        self.middleware.push(Arc::new(middleware));
        self
    }

    /// Adds an event subscriber (any `Fn(&Event)` will do).
    pub fn subscribe(mut self, subscriber: impl Subscriber) -> Self {
        self.subscribers.push(Arc::new(subscriber));
        self
    }

    /// The default jitter of `retry_on` waits (0.15 unless set); must be in `0.0..=1.0`.
    pub fn retry_jitter(mut self, jitter: f64) -> Self {
        self.retry_jitter = Some(jitter);
        self
    }

    /// The application's name in global ids, `gid://APP/Model/ID` (Rails' `GlobalID.app`): needed
    /// to pass records as `Global<T>`, and checked against the global ids of payloads. Letters,
    /// digits and hyphens.
    pub fn app_name(mut self, name: impl Into<String>) -> Self {
        self.app_name = Some(name.into());
        self
    }

    /// The largest payload, in bytes of JSON, that enqueue accepts (default
    /// [`DEFAULT_MAX_PAYLOAD_SIZE`](crate::DEFAULT_MAX_PAYLOAD_SIZE), 512 KiB); a bigger one fails
    /// with [`Error::PayloadTooLarge`].
    pub fn max_payload_size(mut self, bytes: usize) -> Self {
        self.max_payload_size = Some(bytes);
        self
    }

    /// Builds the runtime; fails if two job types share a name, or if the app name is not a
    /// valid host name.
    pub fn build(self) -> Result<Runtime, Error> {
        let mut registry = match self.registry {
            Some(registry) => registry,
            None => Registry::from_inventory()?,
        };
        for registration in self.extra {
            registry.add(registration)?;
        }
        if let Some(name) = &self.app_name
            && (name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        {
            return Err(Error::Config(format!(
                "app name `{name}` cannot be used in global ids: use letters, digits and hyphens"
            )));
        }
        let clock = self.clock.unwrap_or_else(|| Arc::new(SystemClock));
        let adapter = self.adapter.unwrap_or_else(|| Arc::new(MemoryAdapter::with_clock(clock.clone())));
        let retry_jitter = self.retry_jitter.unwrap_or(0.15);
        if !(0.0..=1.0).contains(&retry_jitter) {
            return Err(Error::Config(format!("retry jitter must be between 0 and 1, not {retry_jitter}")));
        }
        Ok(Runtime {
            inner: Arc::new(Inner {
                adapter,
                registry,
                state: self.state,
                app_name: self.app_name,
                max_payload_size: self.max_payload_size.unwrap_or(crate::limits::DEFAULT_MAX_PAYLOAD_SIZE),
                clock,
                middleware: self.middleware,
                subscribers: self.subscribers,
                retry_jitter,
            }),
        })
    }
}

//! Building a runtime: the one place that assembles the layers below it (an adapter, by default
//! the in-memory one; the registry of every `#[job]`; state, clock, middleware, subscribers).

use std::sync::Arc;

use crate::adapters::MemoryAdapter;
use crate::contract::{Adapter, Clock, Error, Job, Middleware, StateMap, Subscriber, SystemClock, TracePropagator};
use crate::encoding::DEFAULT_MAX_PAYLOAD_SIZE;
use crate::runtime::{JobRegistration, Registry, Runtime, RuntimeParts};

impl Runtime {
    /// Starts building a runtime.
    pub fn builder() -> RuntimeBuilder {
        RuntimeBuilder::default()
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
    propagator: Option<Arc<dyn TracePropagator>>,
}

impl RuntimeBuilder {
    /// The adapter jobs go to (default: a new [`MemoryAdapter`], which keeps jobs in this
    /// process only; [`build`](Self::build) then logs once that they are not durable).
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
    /// [`DEFAULT_MAX_PAYLOAD_SIZE`](crate::encoding::DEFAULT_MAX_PAYLOAD_SIZE), 512 KiB); a bigger one fails
    /// with [`Error::PayloadTooLarge`].
    pub fn max_payload_size(mut self, bytes: usize) -> Self {
        self.max_payload_size = Some(bytes);
        self
    }

    /// Carries the trace context of each enqueue in its payload (under `__otel_headers`, as
    /// OpenTelemetry's Ruby instrumentation does) and connects the perform span to it, so that a
    /// trace runs from the request that enqueued a job to the job's own spans, across processes.
    /// `jobs::otel` (the `otel` feature) provides one for OpenTelemetry; without one (the
    /// default) payloads carry no trace context and nothing is spent on it.
    pub fn trace_propagator(mut self, propagator: impl TracePropagator) -> Self {
        self.propagator = Some(Arc::new(propagator));
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
        let adapter = self.adapter.unwrap_or_else(|| {
            tracing::info!(
                target: "jobs",
                "No adapter configured: jobs go to a MemoryAdapter in this process and are lost when it exits \
                 (not durable); pass Runtime::builder().adapter(..) to keep them"
            );
            Arc::new(MemoryAdapter::with_clock(clock.clone()))
        });
        let retry_jitter = self.retry_jitter.unwrap_or(0.15);
        if !(0.0..=1.0).contains(&retry_jitter) {
            return Err(Error::Config(format!("retry jitter must be between 0 and 1, not {retry_jitter}")));
        }
        Ok(Runtime::from_parts(RuntimeParts {
            adapter,
            registry,
            state: self.state,
            app_name: self.app_name,
            max_payload_size: self.max_payload_size.unwrap_or(DEFAULT_MAX_PAYLOAD_SIZE),
            clock,
            middleware: self.middleware,
            subscribers: self.subscribers,
            retry_jitter,
            propagator: self.propagator,
        }))
    }
}

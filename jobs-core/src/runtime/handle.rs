//! The runtime: the adapter, the registry and the application state, installed once.

use std::fmt;
use std::future::Future;
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};

use crate::contract::TracePropagator;
use crate::contract::{Adapter, Clock, EncodeContext, Error, Event, Middleware, State, StateMap, Subscriber};
use crate::runtime::Registry;

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
    inner: Arc<RuntimeParts>,
}

/// What a runtime is made of; the builder fills it in, once.
pub(crate) struct RuntimeParts {
    pub(crate) adapter: Arc<dyn Adapter>,
    pub(crate) registry: Registry,
    pub(crate) state: StateMap,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) middleware: Vec<Arc<dyn Middleware>>,
    pub(crate) subscribers: Vec<Arc<dyn Subscriber>>,
    pub(crate) retry_jitter: f64,
    pub(crate) app_name: Option<String>,
    pub(crate) max_payload_size: usize,
    pub(crate) propagator: Option<Arc<dyn TracePropagator>>,
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
    /// A runtime of these parts.
    pub(crate) fn from_parts(parts: RuntimeParts) -> Self {
        Runtime { inner: Arc::new(parts) }
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
    pub fn scope<F: Future>(&self, future: F) -> impl Future<Output = F::Output> + use<F> {
        SCOPED.scope(self.clone(), future)
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

    /// The application state.
    pub(crate) fn state_map(&self) -> &StateMap {
        &self.inner.state
    }

    /// What encoding a job's arguments needs from this runtime.
    pub(crate) fn encode_context(&self) -> EncodeContext<'_> {
        match self.app_name() {
            Some(name) => EncodeContext::new().app_name(name),
            None => EncodeContext::new(),
        }
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

    /// The trace propagator, if one is installed: it carries the enqueue's trace context in the
    /// payload to the perform.
    pub(crate) fn propagator(&self) -> Option<&dyn TracePropagator> {
        self.inner.propagator.as_deref()
    }

    /// The default jitter of `retry_on` waits.
    pub fn retry_jitter(&self) -> f64 {
        self.inner.retry_jitter
    }
}

//! What an adapter's factory gives the suite, and the runner of one case.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use jobs_core::adapter::Adapter;
use jobs_core::{BoxFuture, Error, ManualClock};

/// Stores a raw payload on a queue, bypassing [`JobData`](crate::JobData); returns its backend id.
pub(crate) type RawEnqueue = Arc<dyn Fn(String, String) -> BoxFuture<'static, Result<String, Error>> + Send + Sync>;

/// How long one case may take before it fails; generous, for loaded machines.
const CASE_TIMEOUT: Duration = Duration::from_secs(240);

/// An adapter under test, made fresh for one case by the adapter's factory.
///
/// Each case gets its own fixture, so a factory isolates cases by giving each its own store: a
/// new memory adapter, a new database file, a new schema or key prefix.
///
/// ```
/// # use std::sync::Arc;
/// # use jobs_conformance::Fixture;
/// # use jobs_core::{ManualClock, adapters::MemoryAdapter};
/// let clock = ManualClock::new(chrono::Utc::now());
/// let memory = MemoryAdapter::with_clock(Arc::new(clock.clone()));
/// let raw = memory.clone();
/// let fixture = Fixture::new(memory)
///     .clock(clock)
///     .raw_enqueue(move |queue, payload| {
///         let raw = raw.clone();
///         async move { Ok(raw.push_raw(&queue, payload)) }
///     });
/// ```
pub struct Fixture {
    pub(crate) adapter: Arc<dyn Adapter>,
    pub(crate) clock: Option<ManualClock>,
    pub(crate) raw: Option<RawEnqueue>,
    pub(crate) guards: Vec<Box<dyn Any + Send>>,
}

impl fmt::Debug for Fixture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fixture")
            .field("adapter", &self.adapter.name())
            .field("clock", &self.clock)
            .field("raw_enqueue", &self.raw.is_some())
            .finish_non_exhaustive()
    }
}

impl Fixture {
    /// A fixture for `adapter`, whose store owns the clock: the suite waits in real time (briefly).
    pub fn new(adapter: impl Adapter) -> Self {
        Fixture::shared(Arc::new(adapter))
    }

    /// A fixture for an adapter already shared.
    pub fn shared(adapter: Arc<dyn Adapter>) -> Self {
        Fixture { adapter, clock: None, raw: None, guards: Vec::new() }
    }

    /// The adapter reads its time from `clock`; the suite moves it instead of sleeping, and the
    /// case's runtime uses it too.
    pub fn clock(mut self, clock: ManualClock) -> Self {
        self.clock = Some(clock);
        self
    }

    /// How to store a raw, possibly undecodable payload on a queue (returning its backend id),
    /// for the case of undecodable payloads; without it that part of the case is skipped.
    pub fn raw_enqueue<F, Fut>(mut self, enqueue: F) -> Self
    where
        F: Fn(String, String) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<String, Error>> + Send + 'static,
    {
        self.raw = Some(Arc::new(move |queue, payload| Box::pin(enqueue(queue, payload))));
        self
    }

    /// Keeps `guard` alive until the case ends (a temporary directory, a schema to drop, ...).
    pub fn guard(mut self, guard: impl Send + 'static) -> Self {
        self.guards.push(Box::new(guard));
        self
    }
}

/// What a factory may return: a [`Fixture`], or `None` to skip the case (a server that is not
/// there), which the factory should explain on stderr.
pub trait IntoFixture {
    /// The fixture, or `None` to skip.
    fn into_fixture(self) -> Option<Fixture>;
}

impl IntoFixture for Fixture {
    fn into_fixture(self) -> Option<Fixture> {
        Some(self)
    }
}

impl IntoFixture for Option<Fixture> {
    fn into_fixture(self) -> Option<Fixture> {
        self
    }
}

/// Runs one case on a fresh multi-threaded tokio runtime with a fixture from `factory`; what
/// each `#[test]` of [`conformance_suite!`](crate::conformance_suite) calls.
///
/// ```no_run
/// # use jobs_conformance::{Fixture, cases, run};
/// # use jobs_core::adapters::MemoryAdapter;
/// run("priority_order", || async { Fixture::new(MemoryAdapter::new()) }, cases::priority_order);
/// ```
pub fn run<F, Fut, C, CaseFut>(name: &str, factory: F, case: C)
where
    F: FnOnce() -> Fut,
    Fut: Future,
    Fut::Output: IntoFixture,
    C: FnOnce(Fixture) -> CaseFut,
    CaseFut: Future<Output = ()>,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime for the conformance case");
    runtime.block_on(async {
        let Some(fixture) = factory().await.into_fixture() else {
            eprintln!("conformance case `{name}` skipped: the factory gave no fixture");
            return;
        };
        if tokio::time::timeout(CASE_TIMEOUT, case(fixture)).await.is_err() {
            panic!("conformance case `{name}` did not finish within {CASE_TIMEOUT:?}");
        }
    });
}

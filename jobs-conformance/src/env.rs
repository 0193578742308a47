//! The harness a case works with: the adapter, a runtime of conformance jobs, time, waiting.

use std::any::Any;
use std::sync::Arc;
use std::time::Duration;

use jobs_core::adapter::{Adapter, Backend, ClaimParams, ClaimedJob, ErrorRecord, Failure, Ticket};
use jobs_core::{
    Backoff, ConfiguredJob, Enqueued, Inspect, Job, JobData, JobInfo, JobState, ListParams, ManualClock, PendingJob,
    Registry, RetryPolicy, Runtime, RuntimeBuilder, Worker, WorkerBuilder, WorkerHandle,
};

use super::fixture::{Fixture, RawEnqueue};
use super::jobs::{Probe, registry};

/// How long to wait for a condition before failing; generous, for loaded machines.
const WAIT: Duration = Duration::from_secs(60);

pub(crate) struct Env {
    pub(crate) adapter: Arc<dyn Adapter>,
    pub(crate) runtime: Runtime,
    pub(crate) probe: Arc<Probe>,
    clock: Option<ManualClock>,
    raw: Option<RawEnqueue>,
    _guards: Vec<Box<dyn Any + Send>>,
}

impl Env {
    pub(crate) fn new(fixture: Fixture) -> Env {
        Env::with_registry(fixture, registry(), |builder| builder)
    }

    /// An environment whose runtime knows the jobs of `registry`, built with `more` besides.
    pub(crate) fn with_registry(
        fixture: Fixture,
        registry: Registry,
        more: impl FnOnce(RuntimeBuilder) -> RuntimeBuilder,
    ) -> Env {
        let probe = Arc::new(Probe::default());
        let builder =
            Runtime::builder().shared_adapter(fixture.adapter.clone()).registry(registry).shared_state(probe.clone());
        let mut builder = more(builder);
        if let Some(clock) = &fixture.clock {
            builder = builder.clock(clock.clone());
        }
        let runtime = builder.build().expect("the conformance runtime builds");
        Env {
            adapter: fixture.adapter,
            runtime,
            probe,
            clock: fixture.clock,
            raw: fixture.raw,
            _guards: fixture.guards,
        }
    }

    pub(crate) fn backend(&self) -> &dyn Backend {
        self.adapter.backend().expect("the conformance suite needs an adapter that workers can drain")
    }

    pub(crate) fn inspector(&self) -> &dyn Inspect {
        self.adapter.inspector().expect("the conformance suite needs the adapter's inspection side")
    }

    /// The manual clock, when the adapter reads its time from one.
    pub(crate) fn manual(&self) -> Option<&ManualClock> {
        self.clock.as_ref()
    }

    pub(crate) fn raw(&self) -> Option<&RawEnqueue> {
        self.raw.as_ref()
    }

    /// Enqueue options for job class `J` on the case's runtime.
    pub(crate) fn set<J: Job>(&self) -> ConfiguredJob<J> {
        ConfiguredJob::new().runtime(&self.runtime)
    }

    /// Enqueues `job` on `queue`; returns its backend id.
    pub(crate) async fn enqueue<J: Job>(&self, queue: &str, job: J) -> String {
        provider_id(&self.set::<J>().queue(queue).enqueue(job).await.expect("enqueue succeeds"))
    }

    /// A worker on `queues` with quick polling and quick retries (two, without delay).
    pub(crate) fn worker(&self, queues: &[&str]) -> WorkerBuilder {
        Worker::builder()
            .runtime(&self.runtime)
            .queues(queues.iter().copied())
            .concurrency(4)
            .poll_interval(Duration::from_millis(20))
            .shutdown_grace(Duration::from_secs(30))
            .retry_policy(RetryPolicy::retries(2).backoff(Backoff::Fixed(Duration::ZERO)))
    }

    /// The payload the runtime hands an adapter for `job` (built with [`Env::set`]), without
    /// storing it anywhere: for cases that call the adapter directly.
    pub(crate) async fn data(&self, job: PendingJob) -> JobData {
        job.to_job_data(&self.runtime).expect("the runtime encodes a conformance job")
    }

    /// Claims up to `limit` jobs of `queue` directly, as a worker would.
    pub(crate) async fn claim(&self, queue: &str, limit: usize, lease: Duration) -> Vec<ClaimedJob> {
        let queues = [queue.to_owned()];
        let params = ClaimParams { queues: &queues, limit, lease, worker_id: "conformance" };
        self.backend().claim(params).await.expect("claim succeeds")
    }

    /// Claims the one ready job of `queue`.
    pub(crate) async fn claim_one(&self, queue: &str, lease: Duration) -> ClaimedJob {
        let mut claimed = self.claim(queue, 1, lease).await;
        assert_eq!(claimed.len(), 1, "expected one job to claim on queue `{queue}`");
        claimed.remove(0)
    }

    /// A failure of `ticket` at `attempt`, with the error message `message`.
    pub(crate) fn failure(&self, ticket: &Ticket, attempt: u32, message: &str, retry_in: Option<Duration>) -> Failure {
        Failure {
            ticket: ticket.clone(),
            error: ErrorRecord {
                class: "Conformance::Error".to_owned(),
                message: message.to_owned(),
                attempt,
                at: self.runtime.now(),
            },
            retry_in,
            payload: None,
        }
    }

    /// The job with backend id `id`, which must exist.
    pub(crate) async fn find(&self, id: &str) -> JobInfo {
        self.inspector().find(id).await.expect("find succeeds").unwrap_or_else(|| panic!("job {id} not found"))
    }

    /// Lets leases of `lease` taken before now run out: moves the manual clock past them, or
    /// waits that long in real time.
    pub(crate) async fn outlive(&self, lease: Duration) {
        match self.manual() {
            Some(clock) => clock.advance(lease + Duration::from_secs(1)),
            None => tokio::time::sleep(lease + Duration::from_millis(50)).await,
        }
    }

    /// Lets `span` pass: moves the manual clock, or waits in real time. Cases that need two
    /// groups of jobs apart in time put this between them, and compare with bounds taken
    /// halfway, so that neither clock precision nor the store's own clock matters.
    pub(crate) async fn pass(&self, span: Duration) {
        match self.manual() {
            Some(clock) => clock.advance(span),
            None => tokio::time::sleep(span).await,
        }
    }

    /// How far apart in time [`Env::pass`] puts two groups of jobs: a minute on a manual
    /// clock, a fraction of a second in real time.
    pub(crate) fn gap(&self) -> Duration {
        if self.manual().is_some() { Duration::from_secs(60) } else { Duration::from_millis(150) }
    }

    /// How far a time the store set may be from the case's clock: none on a manual clock (the
    /// adapter reads the same one), a few seconds when the store owns its clock.
    pub(crate) fn slack(&self) -> chrono::Duration {
        if self.manual().is_some() { chrono::Duration::zero() } else { chrono::Duration::seconds(5) }
    }

    /// Every job matching `params`, walking its pages; fails on a page larger than asked.
    pub(crate) async fn walk(&self, params: ListParams) -> Vec<JobInfo> {
        let mut jobs = Vec::new();
        let mut params = params;
        loop {
            let page = self.inspector().list(&params).await.expect("list succeeds");
            assert!(
                page.jobs.len() <= params.limit,
                "a page of {} jobs for a limit of {}",
                page.jobs.len(),
                params.limit
            );
            jobs.extend(page.jobs);
            match page.next {
                Some(cursor) => params = params.after(cursor),
                None => return jobs,
            }
        }
    }

    /// Calls `rescue_expired` until it has rescued `count` jobs in all.
    pub(crate) async fn rescue(&self, count: u64) {
        let mut rescued = 0;
        let deadline = tokio::time::Instant::now() + WAIT;
        while rescued < count {
            rescued += self.backend().rescue_expired().await.expect("rescue_expired succeeds");
            assert!(rescued <= count, "rescued {rescued} jobs, expected {count}");
            assert!(tokio::time::Instant::now() < deadline, "only {rescued} of {count} expired jobs were rescued");
            if rescued < count {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }

    /// Waits until `condition` holds; fails the case after a generous timeout.
    pub(crate) async fn wait_for(&self, what: &str, mut condition: impl FnMut() -> bool) {
        let deadline = tokio::time::Instant::now() + WAIT;
        while !condition() {
            assert!(tokio::time::Instant::now() < deadline, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Waits until the job with backend id `id` satisfies `condition`; returns it.
    pub(crate) async fn wait_for_job(&self, id: &str, what: &str, condition: impl Fn(&JobInfo) -> bool) -> JobInfo {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let info = self.find(id).await;
            if condition(&info) {
                return info;
            }
            assert!(tokio::time::Instant::now() < deadline, "timed out waiting for job {id} to be {what}: {info:?}");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Waits until the job with backend id `id` is in `state`; returns it.
    pub(crate) async fn wait_for_state(&self, id: &str, state: JobState) -> JobInfo {
        self.wait_for_job(id, state.as_str(), |info| info.state == state).await
    }
}

/// The backend id an enqueue returned; the suite needs one to look jobs up.
pub(crate) fn provider_id(enqueued: &Enqueued) -> String {
    enqueued.provider_job_id.clone().expect("the adapter returns a provider job id for every stored job")
}

/// The key (first argument) of a claimed conformance job.
pub(crate) fn key_of(job: &ClaimedJob) -> String {
    let data = JobData::from_json(&job.payload).expect("a conformance payload decodes");
    data.arguments.first().and_then(|v| v.as_str()).expect("conformance jobs carry a key").to_owned()
}

/// Builds and starts a worker in one call.
pub(crate) trait Start {
    fn start(self) -> WorkerHandle;
}

impl Start for WorkerBuilder {
    fn start(self) -> WorkerHandle {
        self.build().expect("the worker builds").start()
    }
}

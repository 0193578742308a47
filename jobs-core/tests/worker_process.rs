//! The worker's process side on the memory adapter: `WorkerHandle::quiet` (a quiet worker
//! finishes the jobs it runs, hands back those claimed ahead, claims nothing more, shows as quiet,
//! and stays listed until it is shut down), a backend that keeps no process registry nor history,
//! and a run that panics outside its job.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::Notify;

use jobs_core::adapter::{Adapter, Backend, Capabilities, ClaimParams, ClaimedJob, Failure, NewJob, Ticket};
use jobs_core::adapters::MemoryAdapter;
use jobs_core::encoding::{ArgumentsReader, EncodeContext, to_argument};
use jobs_core::{
    Backoff, BoxFuture, ConfiguredJob, Error, Event, EventKind, HistoryPoint, Inspect, Job, JobContext, JobState,
    ProcessCommand, ProcessInfo, ProcessState, Registry, RetryPolicy, Runtime, RuntimeBuilder, Worker,
};
use support::eventually;

/// What the jobs did, and the gate a held job waits for.
#[derive(Default)]
struct Log {
    lines: Mutex<Vec<String>>,
    gate: Notify,
}

impl Log {
    fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }
}

/// Logs its start, waits for the gate when `hold`, logs its end.
struct Step {
    label: String,
    hold: bool,
}

impl Job for Step {
    const NAME: &'static str = "Step";
    type Output = ();

    fn to_arguments(&self, _cx: &EncodeContext<'_>) -> Result<Vec<Value>, Error> {
        Ok(vec![to_argument(Self::NAME, "label", &self.label)?, to_argument(Self::NAME, "hold", &self.hold)?])
    }

    fn from_arguments(arguments: Vec<Value>) -> Result<Self, Error> {
        let mut reader = ArgumentsReader::new(Self::NAME, arguments, 2)?;
        Ok(Step { label: reader.next("label")?, hold: reader.next("hold")? })
    }

    async fn perform(self, ctx: JobContext) -> Result<(), Error> {
        let log = ctx.state::<Log>()?;
        log.lines.lock().unwrap().push(format!("{} started", self.label));
        if self.hold {
            log.gate.notified().await;
        }
        log.lines.lock().unwrap().push(format!("{} finished", self.label));
        Ok(())
    }
}

/// A memory adapter, and a runtime over it that runs `Step` jobs into a fresh log.
fn step_runtime() -> (MemoryAdapter, Arc<Log>, Runtime) {
    let memory = MemoryAdapter::new();
    let (log, rt) = step_runtime_over(memory.clone(), |builder| builder);
    (memory, log, rt)
}

/// A runtime over `adapter` that runs `Step` jobs into a fresh log, set up further by `configure`.
fn step_runtime_over(
    adapter: impl Adapter,
    configure: impl FnOnce(RuntimeBuilder) -> RuntimeBuilder,
) -> (Arc<Log>, Runtime) {
    let log = Arc::new(Log::default());
    let mut registry = Registry::new();
    registry.register::<Step>().unwrap();
    let builder = Runtime::builder().adapter(adapter).registry(registry).shared_state(log.clone());
    (log, configure(builder).build().unwrap())
}

#[tokio::test]
async fn a_quiet_worker_finishes_what_it_holds_and_claims_nothing_more() {
    let (memory, log, rt) = step_runtime();
    let enqueue =
        |label: &str, hold| ConfiguredJob::<Step>::new().runtime(&rt).enqueue(Step { label: label.into(), hold });
    enqueue("held", true).await.unwrap();
    let handle = Worker::builder()
        .runtime(&rt)
        .poll_interval(Duration::from_millis(10))
        .lease(Duration::from_millis(300))
        .build()
        .unwrap()
        .start();
    assert_eq!(handle.state(), ProcessState::Running);
    eventually("the held job to start", || log.lines() == ["held started"]).await;
    let listed = memory.processes().await.unwrap();
    assert_eq!(
        listed.iter().map(|p| (p.id.as_str(), p.state)).collect::<Vec<_>>(),
        [(handle.id(), ProcessState::Running)]
    );

    handle.quiet();
    handle.quiet();
    assert_eq!(handle.state(), ProcessState::Quiet);
    enqueue("after quiet", false).await.unwrap();
    log.gate.notify_one();
    eventually("the held job to finish", || log.lines() == ["held started", "held finished"]).await;
    let quiet = |p: &jobs_core::ProcessInfo| p.id == handle.id() && p.state == ProcessState::Quiet;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while !memory.processes().await.unwrap().iter().any(quiet) {
        assert!(tokio::time::Instant::now() < deadline, "the process entry never showed the worker quiet");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(memory.pending(), 1, "the job enqueued after quiet waits");
    assert!(!handle.is_finished(), "a quiet worker keeps running until it is shut down");

    handle.shutdown().await.unwrap();
    assert_eq!(log.lines(), ["held started", "held finished"], "nothing ran after quiet");
    assert!(memory.processes().await.unwrap().is_empty(), "a stopped worker leaves the list");
}

#[tokio::test]
async fn jobs_claimed_ahead_go_back_unrun_when_the_worker_goes_quiet() {
    let (memory, log, rt) = step_runtime();
    let enqueue = |label: String, hold| ConfiguredJob::<Step>::new().runtime(&rt).enqueue(Step { label, hold });
    let held = enqueue("held".into(), true).await.unwrap().provider_job_id.unwrap();
    let mut ahead = Vec::new();
    for n in 0..3 {
        ahead.push(enqueue(format!("ahead {n}"), false).await.unwrap().provider_job_id.unwrap());
    }
    // One slot and three jobs claimed ahead: the first claim takes all four.
    let handle = Worker::builder()
        .runtime(&rt)
        .concurrency(1)
        .prefetch(3)
        .poll_interval(Duration::from_millis(10))
        .build()
        .unwrap()
        .start();
    eventually("the held job to start", || log.lines() == ["held started"]).await;
    let state = |id: &String| {
        let id = id.clone();
        let memory = memory.clone();
        async move { memory.find(&id).await.unwrap().map(|job| (job.state, job.attempts)).unwrap() }
    };
    for id in &ahead {
        assert_eq!(state(id).await, (JobState::Running, 1), "claimed ahead with the held job");
    }

    handle.quiet();
    log.gate.notify_one();
    eventually("the held job to finish", || log.lines() == ["held started", "held finished"]).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    for id in &ahead {
        // Handed back by the quiet worker itself, not at its shutdown: it is still running.
        while state(id).await != (JobState::Ready, 0) {
            assert!(tokio::time::Instant::now() < deadline, "job {id} never went back: {:?}", state(id).await);
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    assert!(!handle.is_finished());
    assert_eq!(state(&held).await.0, JobState::Completed);
    handle.shutdown().await.unwrap();
    assert_eq!(log.lines(), ["held started", "held finished"], "no job claimed ahead ran after quiet");
}

/// The memory adapter as a third-party adapter written before the registry and the history:
/// `beat_process` and `record_history` keep their `NotSupported` defaults (counted here).
#[derive(Clone, Debug, Default)]
struct Older {
    memory: MemoryAdapter,
    beats: Arc<AtomicUsize>,
    records: Arc<AtomicUsize>,
}

impl Adapter for Older {
    fn name(&self) -> &str {
        "Older"
    }

    fn capabilities(&self) -> Capabilities {
        self.memory.capabilities()
    }

    fn enqueue_all<'a>(&'a self, jobs: &'a [NewJob]) -> BoxFuture<'a, Result<Vec<Option<String>>, Error>> {
        self.memory.enqueue_all(jobs)
    }

    fn backend(&self) -> Option<&dyn Backend> {
        Some(self)
    }
}

impl Backend for Older {
    fn claim<'a>(&'a self, params: ClaimParams<'a>) -> BoxFuture<'a, Result<Vec<ClaimedJob>, Error>> {
        self.memory.claim(params)
    }

    fn complete<'a>(&'a self, tickets: &'a [Ticket]) -> BoxFuture<'a, Result<usize, Error>> {
        self.memory.complete(tickets)
    }

    fn fail<'a>(&'a self, failures: &'a [Failure]) -> BoxFuture<'a, Result<usize, Error>> {
        self.memory.fail(failures)
    }

    fn release<'a>(&'a self, tickets: &'a [Ticket]) -> BoxFuture<'a, Result<usize, Error>> {
        self.memory.release(tickets)
    }

    fn heartbeat<'a>(&'a self, tickets: &'a [Ticket], lease: Duration) -> BoxFuture<'a, Result<usize, Error>> {
        self.memory.heartbeat(tickets, lease)
    }

    fn rescue_expired(&self) -> BoxFuture<'_, Result<u64, Error>> {
        self.memory.rescue_expired()
    }

    fn beat_process<'a>(
        &'a self,
        _: &'a ProcessInfo,
        _: Duration,
    ) -> BoxFuture<'a, Result<Option<ProcessCommand>, Error>> {
        self.beats.fetch_add(1, Ordering::SeqCst);
        Box::pin(async { Err(Error::not_supported("Older", "process registry")) })
    }

    fn record_history<'a>(&'a self, _: &'a [HistoryPoint]) -> BoxFuture<'a, Result<(), Error>> {
        self.records.fetch_add(1, Ordering::SeqCst);
        Box::pin(async { Err(Error::not_supported("Older", "history")) })
    }
}

#[tokio::test]
async fn a_backend_without_registry_or_history_is_asked_once_and_keeps_working() {
    let older = Older::default();
    let (log, rt) = step_runtime_over(older.clone(), |builder| builder);
    let enqueue = |label: String| ConfiguredJob::<Step>::new().runtime(&rt).enqueue(Step { label, hold: false });
    let handle = Worker::builder()
        .runtime(&rt)
        .poll_interval(Duration::from_millis(10))
        .lease(Duration::from_millis(60))
        .build()
        .unwrap()
        .start();
    for n in 0..3 {
        enqueue(format!("job {n}")).await.unwrap();
        eventually("the job to run", || log.lines().len() == 2 * (n + 1)).await;
        tokio::time::sleep(Duration::from_millis(50)).await; // a few heartbeats, with runs to record
    }
    handle.shutdown().await.unwrap();
    assert_eq!(older.memory.pending(), 0, "every job ran and completed");
    assert_eq!(older.beats.load(Ordering::SeqCst), 1, "beat_process is not asked again after NotSupported");
    assert_eq!(older.records.load(Ordering::SeqCst), 1, "record_history is not asked again after NotSupported");
}

#[tokio::test]
async fn a_run_that_panics_outside_its_job_fails_it_and_the_worker_runs_on() {
    let memory = MemoryAdapter::new();
    // An event subscriber that panics on the end of one job's run: after the job, outside it.
    let poisoned: Arc<Mutex<Option<String>>> = Arc::default();
    let target = poisoned.clone();
    let subscriber = move |event: &Event<'_>| {
        let poisoned = target.lock().unwrap().clone();
        if event.kind() == EventKind::Perform && event.job_id().is_some() && event.job_id() == poisoned.as_deref() {
            panic!("the subscriber gave up");
        }
    };
    let (log, rt) = step_runtime_over(memory.clone(), |builder| builder.subscribe(subscriber));
    let enqueue =
        |label: &str| ConfiguredJob::<Step>::new().runtime(&rt).enqueue(Step { label: label.into(), hold: false });
    let boom = enqueue("boom").await.unwrap().job_id;
    *poisoned.lock().unwrap() = Some(boom.clone());
    enqueue("after").await.unwrap();
    // One runner, one retry: the runner that panicked must run the next job, and the job that
    // made it panic is claimed twice, then dead.
    let handle = Worker::builder()
        .runtime(&rt)
        .concurrency(1)
        .retry_policy(RetryPolicy::retries(1).backoff(Backoff::Fixed(Duration::from_millis(10))))
        .poll_interval(Duration::from_millis(10))
        .build()
        .unwrap()
        .start();
    eventually("the poisoned job in the dead set", || !memory.dead().is_empty()).await;
    let dead = memory.dead();
    let (data, errors) = &dead[0];
    assert_eq!(data.job_id, boom);
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert_eq!(errors.iter().map(|e| e.attempt).collect::<Vec<_>>(), [1, 2]);
    assert!(
        errors.iter().all(|e| e.class == "jobs::PanicError" && e.message.contains("the subscriber gave up")),
        "{errors:?}"
    );
    eventually("the job after it to run", || log.lines().contains(&"after finished".to_owned())).await;
    assert_eq!(log.lines().iter().filter(|line| *line == "boom finished").count(), 2, "{:?}", log.lines());
    handle.shutdown().await.unwrap();
}

//! The inspection side: states, the dead set, pausing, declared capabilities.

use std::sync::Arc;
use std::time::Duration;

use crate::Fixture;
use crate::env::{Env, Start};
use crate::jobs::Record;
use jobs_core::adapter::{Adapter, Backend, Capabilities, NewJob, Requeued};
use jobs_core::{BoxFuture, ConfiguredJob, Error, Inspect, JobAction, JobData, JobState, ListParams, Runtime, Target};

const LEASE: Duration = Duration::from_secs(600);
const HOUR: Duration = Duration::from_secs(3600);

/// `find` shows a job in each state it goes through — scheduled, ready, running, retrying, dead,
/// completed — with its attempts and errors; retrying acts on dead jobs only, and a deleted job
/// is gone; `counts` agrees with `list`.
pub async fn find_shows_each_state(fixture: Fixture) {
    let env = Env::new(fixture);
    let (backend, inspector) = (env.backend(), env.inspector());

    let scheduled = env.set::<Record>().queue("states-s").wait(HOUR).enqueue(Record::new("s")).await.unwrap();
    let scheduled = scheduled.provider_job_id.expect("a provider job id");
    assert_eq!(env.find(&scheduled).await.state, JobState::Scheduled);

    // Ready, running, retrying (and, on a manual clock, due again, running, completed).
    let a = env.enqueue("states-a", Record::new("a")).await;
    let info = env.find(&a).await;
    assert_eq!((info.state, info.attempts, info.errors.len()), (JobState::Ready, 0, 0));
    let claim = env.claim_one("states-a", LEASE).await;
    assert_eq!(claim.attempt, 1);
    assert_eq!((env.find(&a).await.state, env.find(&a).await.attempts), (JobState::Running, 1));
    let mut failure = env.failure(&claim.ticket, 1, "first try failed", Some(HOUR));
    let mut data = JobData::from_json(&claim.payload).unwrap();
    data.executions = 1;
    failure.payload = Some(data.to_json().unwrap());
    assert_eq!(backend.fail(std::slice::from_ref(&failure)).await.unwrap(), 1);
    let retrying = env.find(&a).await;
    assert_eq!(retrying.state, JobState::Retrying);
    assert_eq!(retrying.errors, vec![failure.error.clone()]);
    assert_eq!(retrying.data().unwrap().executions, 1, "the failure's payload is stored");
    if let Some(clock) = env.manual() {
        clock.advance(HOUR + Duration::from_secs(1));
        assert_eq!(env.find(&a).await.state, JobState::Ready, "a retry is ready once due");
        let again = env.claim_one("states-a", LEASE).await;
        assert_eq!((again.attempt, env.find(&a).await.state), (2, JobState::Running));
        assert_eq!(backend.complete(std::slice::from_ref(&again.ticket)).await.unwrap(), 1);
        let done = env.find(&a).await;
        assert_eq!((done.state, done.attempts, done.errors.len()), (JobState::Completed, 2, 1), "{done:?}");
    }

    // Dead, retried from the dead set, completed.
    let b = env.enqueue("states-b", Record::new("b")).await;
    let claim = env.claim_one("states-b", LEASE).await;
    let failure = env.failure(&claim.ticket, 1, "gave up", None);
    assert_eq!(backend.fail(std::slice::from_ref(&failure)).await.unwrap(), 1);
    let dead = env.find(&b).await;
    assert_eq!((dead.state, dead.errors.clone()), (JobState::Dead, vec![failure.error.clone()]));
    assert_eq!(inspector.apply(JobAction::Retry, &Target::Ids(vec![a.clone()])).await.unwrap(), 0, "only dead jobs");
    assert_eq!(inspector.apply(JobAction::Retry, &Target::Ids(vec![b.clone()])).await.unwrap(), 1);
    let retried = env.find(&b).await;
    assert_eq!((retried.state, retried.errors.len()), (JobState::Ready, 1), "a retried job keeps its history");
    let claim = env.claim_one("states-b", LEASE).await;
    assert_eq!(backend.complete(std::slice::from_ref(&claim.ticket)).await.unwrap(), 1);
    assert_eq!(env.find(&b).await.state, JobState::Completed);

    // Dead, then deleted.
    let c = env.enqueue("states-c", Record::new("c")).await;
    let claim = env.claim_one("states-c", LEASE).await;
    backend.fail(&[env.failure(&claim.ticket, 1, "hopeless", None)]).await.unwrap();
    assert_eq!(inspector.apply(JobAction::Delete, &Target::Ids(vec![c.clone()])).await.unwrap(), 1);
    assert!(inspector.find(&c).await.unwrap().is_none(), "a deleted job is gone");

    // Released: ready again, the attempt given back.
    let d = env.enqueue("states-d", Record::new("d")).await;
    let claim = env.claim_one("states-d", LEASE).await;
    assert_eq!(backend.release(std::slice::from_ref(&claim.ticket)).await.unwrap(), 1);
    let released = env.find(&d).await;
    assert_eq!((released.state, released.attempts), (JobState::Ready, 0));

    let dead = env.enqueue("states-c", Record::new("e")).await;
    let claim = env.claim_one("states-c", LEASE).await;
    backend.fail(&[env.failure(&claim.ticket, 1, "hopeless", None)]).await.unwrap();
    assert_counts_agree_with_list(inspector, &["states-s", "states-a", "states-b", "states-c", "states-d"]).await;
    let dead_list = inspector.list(&ListParams::new().state(JobState::Dead)).await.unwrap().jobs;
    assert_eq!(dead_list.iter().map(|j| j.id.as_str()).collect::<Vec<_>>(), [dead.as_str()]);
}

async fn assert_counts_agree_with_list(inspector: &dyn Inspect, queues: &[&str]) {
    let counts = inspector.counts().await.unwrap();
    let mut total = 0;
    for queue in queues {
        for state in JobState::ALL {
            let listed = inspector.list(&ListParams::new().queue(*queue).state(state).limit(1000)).await.unwrap().jobs;
            assert!(listed.iter().all(|j| j.queue == *queue && j.state == state), "list filters: {listed:?}");
            assert_eq!(counts.get(queue, state), listed.len() as u64, "{queue}/{state}: {counts:?} vs {listed:?}");
            total += listed.len();
        }
    }
    let all = inspector.list(&ListParams::new().limit(1000)).await.unwrap();
    assert_eq!(all.jobs.len(), total, "list without filters shows every job");
    assert_eq!(all.next, None, "one page holds them all");
    let first = inspector.list(&ListParams::new().limit(2)).await.unwrap();
    assert_eq!(first.jobs, all.jobs[..2].to_vec(), "a page is the start of the same order");
    let cursor = first.next.expect("more jobs follow the first page");
    let second = inspector.list(&ListParams::new().limit(2).after(cursor)).await.unwrap();
    assert_eq!(second.jobs, all.jobs[2..4].to_vec(), "the cursor continues the same order");
}

/// A paused queue keeps its jobs (and accepts new ones) but no worker claims them; once resumed
/// they run. Other queues keep flowing meanwhile.
pub async fn pause_and_resume(fixture: Fixture) {
    let env = Env::new(fixture);
    let inspector = env.inspector();
    if !env.adapter.capabilities().pause {
        assert!(matches!(inspector.pause("paused").await, Err(Error::NotSupported { .. })));
        eprintln!("{} does not declare pausing queues: checked that pausing is NotSupported", env.adapter.name());
        return;
    }
    inspector.pause("paused").await.unwrap();
    inspector.pause("paused").await.unwrap();
    assert_eq!(inspector.paused().await.unwrap(), ["paused"]);
    let held = env.enqueue("paused", Record::new("held")).await;
    env.enqueue("flowing", Record::new("flowing")).await;

    let worker = env.worker(&["paused", "flowing"]).start();
    env.wait_for("the job of the other queue to run", || env.probe.count("flowing") == 1).await;
    env.enqueue("flowing", Record::new("flowing-2")).await;
    env.wait_for("a later job of the other queue to run", || env.probe.count("flowing-2") == 1).await;
    assert_eq!(env.probe.count("held"), 0, "a job of a paused queue ran");
    assert!(env.claim("paused", 10, LEASE).await.is_empty(), "a paused queue gives nothing to claim");
    assert_eq!(env.find(&held).await.state, JobState::Ready);

    inspector.resume("paused").await.unwrap();
    assert!(inspector.paused().await.unwrap().is_empty());
    env.wait_for("the paused queue's job to run once resumed", || env.probe.count("held") == 1).await;
    worker.shutdown().await.unwrap();
    inspector.resume("paused").await.unwrap();
}

/// Every capability an adapter declares works, and every one it does not declare is an
/// `Error::NotSupported` that stores nothing, whether asked of the adapter or through a runtime.
pub async fn unsupported_capability_is_not_supported(fixture: Fixture) {
    let env = Env::new(fixture);
    let capabilities = env.adapter.capabilities();
    let before = env.inspector().counts().await.unwrap().pending();

    let through_runtime = env.set::<Record>().queue("caps").wait(HOUR).enqueue(Record::new("later")).await;
    let data = env.data(env.set::<Record>().build(Record::new("at"))).await;
    let direct = env.adapter.enqueue_at(&data, env.runtime.now() + chrono::Duration::hours(1)).await;
    let paused = env.inspector().pause("caps").await;
    if capabilities.scheduling {
        assert_eq!(env.find(&through_runtime.unwrap().provider_job_id.unwrap()).await.state, JobState::Scheduled);
        assert_eq!(env.find(&direct.unwrap().unwrap()).await.state, JobState::Scheduled);
    } else {
        assert!(matches!(through_runtime, Err(Error::NotSupported { .. })), "scheduling: {through_runtime:?}");
        assert!(matches!(direct, Err(Error::NotSupported { .. })), "enqueue_at: {direct:?}");
    }
    match paused {
        Ok(()) => assert!(capabilities.pause, "pausing works but is not declared"),
        Err(Error::NotSupported { .. }) => assert!(!capabilities.pause, "pausing is declared but NotSupported"),
        Err(error) => panic!("pausing failed: {error}"),
    }

    // The same adapter with scheduling masked: the runtime refuses before storing anything.
    let masked = Runtime::builder()
        .shared_adapter(Arc::new(Masked(env.adapter.clone())))
        .registry(crate::jobs::registry())
        .build()
        .unwrap();
    let refused = ConfiguredJob::<Record>::new().runtime(&masked).wait(HOUR).enqueue(Record::new("masked")).await;
    assert!(matches!(refused, Err(Error::NotSupported { .. })), "masked scheduling: {refused:?}");
    let refused = masked.adapter().enqueue_at(&data, masked.now()).await;
    assert!(matches!(refused, Err(Error::NotSupported { .. })), "masked enqueue_at: {refused:?}");
    let stored = if capabilities.scheduling { 2 } else { 0 };
    assert_eq!(env.inspector().counts().await.unwrap().pending(), before + stored, "a refused job was stored");
}

/// The adapter under test, declaring no optional capability.
#[derive(Debug)]
struct Masked(Arc<dyn Adapter>);

impl Adapter for Masked {
    fn name(&self) -> &str {
        self.0.name()
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities { durable: self.0.capabilities().durable, ..Capabilities::default() }
    }

    fn enqueue_all<'a>(&'a self, jobs: &'a [NewJob]) -> BoxFuture<'a, Result<Vec<Option<String>>, Error>> {
        self.0.enqueue_all(jobs)
    }

    fn backend(&self) -> Option<&dyn Backend> {
        self.0.backend()
    }
}

/// `find` takes the Active Job `job_id` that `perform_later` returned as well as the provider id.
/// A `retry_on` retry is a new job with the same job id (the run that failed is completed, as in
/// Rails, keeping its error): by job id, the job shows as its latest run, retrying with its
/// counters and the errors of the runs before it, never as completed until a run has succeeded.
pub async fn find_by_job_id_shows_the_latest_run(fixture: Fixture) {
    let env = Env::new(fixture);
    let (backend, inspector) = (env.backend(), env.inspector());

    let enqueued = env.set::<Record>().queue("by-job-id").enqueue(Record::new("first")).await.unwrap();
    let first = enqueued.provider_job_id.clone().expect("a provider job id");
    let by_job_id = env.find(&enqueued.job_id).await;
    assert_eq!((by_job_id.id.as_str(), by_job_id.state), (first.as_str(), JobState::Ready));
    assert_eq!(by_job_id, env.find(&first).await, "both ids find the same job");
    assert_eq!(by_job_id.data().unwrap().job_id, enqueued.job_id);
    for unknown in ["3fa85f64-5717-4562-b3fc-2c963f66afa6", "not-an-id", "999999"] {
        assert_eq!(inspector.find(unknown).await.unwrap(), None, "no job has id {unknown}");
    }

    // A retry_on retry, as the runtime performs one: the run completes with its error, a new job
    // is enqueued.
    let claim = env.claim_one("by-job-id", LEASE).await;
    let mut retry = JobData::from_json(&claim.payload).unwrap();
    let requeued =
        Requeued { ticket: claim.ticket.clone(), error: env.failure(&claim.ticket, 1, "first try failed", None).error };
    assert_eq!(backend.complete_requeued(std::slice::from_ref(&requeued)).await.unwrap(), 1);
    assert_eq!(
        backend.complete_requeued(std::slice::from_ref(&requeued)).await.unwrap(),
        0,
        "a stale ticket changes nothing"
    );
    retry.executions = 1;
    retry.exception_executions.insert("[Conformance::Error]".to_owned(), 1);
    retry.scheduled_at = Some(env.runtime.now() + chrono::Duration::hours(1));
    let second = env.adapter.enqueue(&NewJob::new(retry).unwrap()).await.unwrap().expect("a provider job id");
    assert_ne!(second, first, "the retry is a new job");
    let finished = env.find(&first).await;
    assert_eq!(finished.state, JobState::Completed, "the provider id still names the finished run");
    assert_eq!(finished.errors, vec![requeued.error.clone()], "the finished run keeps its error");
    let waiting = env.find(&enqueued.job_id).await;
    assert_eq!((waiting.id.as_str(), waiting.state), (second.as_str(), JobState::Retrying), "{waiting:?}");
    assert_eq!(waiting.errors, vec![requeued.error.clone()], "by job id, the retry shows the runs before it");
    assert_eq!(env.find(&second).await.state, JobState::Scheduled, "by provider id, the stored job alone");
    let data = waiting.data().unwrap();
    assert_eq!((data.executions, data.exception_executions["[Conformance::Error]"]), (1, 1));

    // The retry runs and fails in turn, under the worker's policy: retrying, with its error. On
    // the store's own clock, a retry due now stands in for the one an hour away.
    if let Some(clock) = env.manual() {
        clock.advance(HOUR + Duration::from_secs(1));
    } else {
        let mut due = waiting.data().unwrap();
        due.scheduled_at = None;
        let third = env.adapter.enqueue(&NewJob::new(due).unwrap()).await.unwrap().expect("a provider job id");
        assert_eq!(env.find(&enqueued.job_id).await.id, third, "the latest job of the id is shown");
    }
    let claim = env.claim_one("by-job-id", LEASE).await;
    let failure = env.failure(&claim.ticket, 2, "second try failed", Some(HOUR));
    assert_eq!(backend.fail(std::slice::from_ref(&failure)).await.unwrap(), 1);
    let retrying = env.find(&enqueued.job_id).await;
    let history = vec![requeued.error, failure.error];
    assert_eq!((retrying.state, retrying.errors.clone()), (JobState::Retrying, history), "{retrying:?}");
}

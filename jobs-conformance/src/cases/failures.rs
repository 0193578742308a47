//! Failures: retries, the dead set, payloads nobody can perform.

use std::time::Duration;

use crate::Fixture;
use crate::env::{Env, Start};
use crate::jobs::{FailBoxed, FailTimes, RETRY_ON_WAIT, Record, RetryOnFailure};
use jobs_core::adapter::NewJob;
use jobs_core::{Backoff, JobInfo, JobState, PendingJob, RetryPolicy};

/// A failed run is retried later; the stored job keeps the error (class, message, attempt) and
/// the payload's `executions`, which the next run sees counted up.
pub async fn retry_persists_executions_and_error(fixture: Fixture) {
    let env = Env::new(fixture);
    let delay = if env.manual().is_some() { Duration::from_secs(3600) } else { Duration::from_secs(1) };
    let id = env.enqueue("retry", FailTimes { key: "flaky".into(), failures: 1 }).await;
    let policy = RetryPolicy::retries(3).backoff(Backoff::Fixed(delay));
    let worker = env.worker(&["retry"]).retry_policy(policy).start();

    let failed = env.wait_for_job(&id, "failed once", |info| !info.errors.is_empty()).await;
    let error = &failed.errors[0];
    assert!(error.class.ends_with("ConformanceError"), "error class {}", error.class);
    assert_eq!((error.message.as_str(), error.attempt), ("flaky failed on execution 1", 1));
    if let Some(clock) = env.manual() {
        assert_eq!(failed.state, JobState::Retrying);
        assert_eq!(failed.data().unwrap().executions, 1, "the stored payload counts the failed execution");
        assert_eq!(env.probe.count("flaky"), 1, "the retry waits for its time");
        clock.advance(delay + Duration::from_secs(1));
    }
    env.wait_for("the retry to run", || env.probe.count("flaky") == 2).await;
    worker.shutdown().await.unwrap();

    let runs = env.probe.runs_of("flaky");
    assert_eq!(runs.iter().map(|r| r.executions).collect::<Vec<_>>(), [1, 2], "executions seen by each run");
    assert_eq!(runs[0].job_id, runs[1].job_id, "a retry is the same job");
    let done = env.find(&id).await;
    assert_eq!((done.state, done.attempts, done.errors.len()), (JobState::Completed, 2, 1), "{done:?}");
    assert_eq!(done.errors[0], *error, "the error of the failed run stays in the job's history");
}

/// A failure that `retry_on` handles enqueues the job again (a new stored job with the same
/// `job_id`, as Rails' `retry_job` does), and the run keeps its error: by the `job_id` that
/// `perform_later` returned, the job shows as retrying with that error, then as completed with
/// it once the retry succeeded. Several workers share the queue.
pub async fn retry_on_keeps_the_error_history(fixture: Fixture) {
    let env = Env::new(fixture);
    let job = RetryOnFailure { key: "retried-on".into(), failures: 1 };
    let enqueued = env.set::<RetryOnFailure>().queue("retry-on").enqueue(job).await.expect("enqueue succeeds");
    let workers = [env.worker(&["retry-on"]).start(), env.worker(&["retry-on"]).start()];

    if let Some(clock) = env.manual() {
        let waiting = env.wait_for_job(&enqueued.job_id, "the retry enqueued", |info| !info.errors.is_empty()).await;
        assert_eq!(waiting.state, JobState::Retrying, "a retry waiting for its time is retrying: {waiting:?}");
        assert_ne!(Some(&waiting.id), enqueued.provider_job_id.as_ref(), "the retry is a new stored job");
        assert_eq!(env.probe.count("retried-on"), 1, "the retry waits for its time");
        clock.advance(RETRY_ON_WAIT + Duration::from_secs(1));
    }
    env.wait_for("the retry to run", || env.probe.count("retried-on") == 2).await;
    let done = env.wait_for_job(&enqueued.job_id, "completed", |info| info.state == JobState::Completed).await;
    for worker in workers {
        worker.shutdown().await.unwrap();
    }

    assert_eq!(env.probe.count("retried-on"), 2, "one failed run, one retry");
    assert_eq!(done.errors.len(), 1, "the failed run's error stays in the job's history: {done:?}");
    let error = &done.errors[0];
    assert!(error.class.ends_with("ConformanceError"), "error class {}", error.class);
    assert_eq!((error.message.as_str(), error.attempt), ("retried-on failed on execution 1", 1));
    assert_eq!(done.data().unwrap().executions, 1, "the stored retry counts the failed execution");
    let first = enqueued.provider_job_id.expect("a provider job id");
    let first_run = env.find(&first).await;
    assert_eq!((first_run.state, first_run.errors.clone()), (JobState::Completed, vec![error.clone()]));
}

/// A retry due sooner than the poll interval (default 1 s) starts on time: the failure wakes
/// idle workers, which then wait for its due time. The retry waits 300 ms; a worker that slept
/// out its poll would start it about a second after the first run. Store's clock only.
pub async fn retries_start_on_time(fixture: Fixture) {
    let env = Env::new(fixture);
    if env.manual().is_some() {
        return;
    }
    env.enqueue("retry-on-time", FailTimes { key: "soon".into(), failures: 1 }).await;
    let policy = RetryPolicy::retries(1).backoff(Backoff::Fixed(Duration::from_millis(300)));
    let worker = env.worker(&["retry-on-time"]).poll_interval(Duration::from_secs(1)).retry_policy(policy).start();
    env.wait_for("the retry to run", || env.probe.count("soon") == 2).await;
    worker.shutdown().await.unwrap();

    let runs = env.probe.runs_of("soon");
    let between = runs[1].at - runs[0].at;
    assert!(between >= chrono::Duration::milliseconds(300), "the retry started {between} after the first run");
    assert!(between < chrono::Duration::milliseconds(800), "the retry, due after 300 ms, started {between} after");
}

/// A job that keeps failing goes to the dead set once its attempts are spent, with every error,
/// and is not run again.
pub async fn exhausted_attempts_go_dead_with_error(fixture: Fixture) {
    let env = Env::new(fixture);
    let id = env.enqueue("doomed", FailTimes { key: "doomed".into(), failures: u32::MAX }).await;
    let worker = env.worker(&["doomed"]).start();
    let dead = env.wait_for_state(&id, JobState::Dead).await;
    env.enqueue("doomed", Record::new("after")).await;
    env.wait_for("a later job on the same queue to run", || env.probe.count("after") == 1).await;
    worker.shutdown().await.unwrap();

    assert_eq!(env.probe.count("doomed"), 3, "one run and two retries, then dead");
    assert_eq!(dead.errors.iter().map(|e| e.attempt).collect::<Vec<_>>(), [1, 2, 3]);
    let last = dead.errors.last().unwrap();
    assert!(last.class.ends_with("ConformanceError"), "error class {}", last.class);
    assert_eq!(last.message, "doomed failed on execution 3");
    assert_eq!(env.find(&id).await.state, JobState::Dead, "a dead job stays dead");
    let counts = env.inspector().counts().await.unwrap();
    assert_eq!(counts.get("doomed", JobState::Dead), 1, "{counts:?}");
}

/// A dead job's error history names the class of the error that happened, not the box it came
/// in: a boxed `ConformanceError` is a `ConformanceError`, a bare message a `RuntimeError` (as
/// Ruby names `raise "message"`), each with its message as it was.
pub async fn dead_job_records_the_boxed_error_class(fixture: Fixture) {
    let env = Env::new(fixture);
    let boxed = env.enqueue("boxed", FailBoxed { key: "boxed".into(), message_only: false }).await;
    let message = env.enqueue("boxed", FailBoxed { key: "message".into(), message_only: true }).await;
    let worker = env.worker(&["boxed"]).retry_policy(RetryPolicy::none()).start();
    let boxed = env.wait_for_state(&boxed, JobState::Dead).await;
    let message = env.wait_for_state(&message, JobState::Dead).await;
    worker.shutdown().await.unwrap();

    let class_and_message = |info: &JobInfo| {
        assert_eq!(info.errors.len(), 1, "{info:?}");
        (info.errors[0].class.clone(), info.errors[0].message.clone())
    };
    assert_eq!(class_and_message(&boxed), ("ConformanceError".to_owned(), "boxed failed".to_owned()));
    assert_eq!(class_and_message(&message), ("RuntimeError".to_owned(), "message failed".to_owned()));
}

/// A payload that is not JSON goes to the dead set after its first attempt, and a payload naming
/// an unknown job class through its retries, each with a clear error, while the queue keeps
/// flowing.
pub async fn poison_jobs_go_dead_while_queue_flows(fixture: Fixture) {
    let env = Env::new(fixture);
    let garbage = match env.raw() {
        Some(raw) => Some(raw("poison".to_owned(), "{ this is not a job".to_owned()).await.unwrap()),
        None => {
            eprintln!("the fixture cannot store raw payloads: skipping the undecodable payload");
            None
        }
    };
    let mut unknown = env.data(env.set::<Record>().build(Record::new("unknown"))).await;
    unknown.job_class = "Conformance::NoSuchJob".to_owned();
    unknown.queue_name = "poison".to_owned();
    let unknown = NewJob::new(unknown).expect("a payload encodes");
    let unknown = env.adapter.enqueue(&unknown).await.unwrap().expect("a provider job id");
    let fine: Vec<PendingJob> =
        (0..20).map(|n| env.set::<Record>().queue("poison").build(Record::new(format!("fine-{n}")))).collect();
    env.runtime.perform_all_later(fine).await.unwrap();

    let worker = env.worker(&["poison"]).concurrency(2).start();
    let dead_unknown = env.wait_for_state(&unknown, JobState::Dead).await;
    let dead_garbage = match &garbage {
        Some(id) => Some(env.wait_for_state(id, JobState::Dead).await),
        None => None,
    };
    env.wait_for("the good jobs to run", || (0..20).all(|n| env.probe.count(&format!("fine-{n}")) == 1)).await;
    worker.shutdown().await.unwrap();

    assert_failed(&dead_unknown, &[1, 2, 3], "jobs::UnknownJob", "Conformance::NoSuchJob");
    assert_eq!(dead_unknown.data().unwrap().executions, 3, "the unknown job's executions are counted");
    if let Some(dead) = dead_garbage {
        assert_failed(&dead, &[1], "jobs::InvalidPayload", "invalid job payload");
        assert_eq!(dead.payload, "{ this is not a job", "an undecodable payload is kept as it was");
    }
    assert_eq!(env.probe.runs().len(), 20, "only the good jobs ran");
}

/// After one failed run each, a payload that is not JSON is dead (no retry can make it JSON, as in
/// Sidekiq), while a payload naming an unknown class, one whose arguments do not decode, and one
/// that is JSON but not a job hash wait for a retry: the next deploy may read them (rolling deploys).
pub async fn non_json_payload_dies_at_once_unknown_class_retries(fixture: Fixture) {
    let env = Env::new(fixture);
    let Some(raw) = env.raw() else {
        eprintln!("the fixture cannot store raw payloads: skipping the case");
        return;
    };
    let garbage = raw("poison".to_owned(), "not json at all".to_owned()).await.unwrap();
    let foreign = raw("poison".to_owned(), r#"{"job_class": ["a", "list"]}"#.to_owned()).await.unwrap();
    let mut unknown = env.data(env.set::<Record>().build(Record::new("unknown"))).await;
    unknown.job_class = "Conformance::FromTheNextDeploy".to_owned();
    unknown.queue_name = "poison".to_owned();
    let mut bad_arguments = env.data(env.set::<Record>().build(Record::new("bad"))).await;
    bad_arguments.arguments = vec![serde_json::json!({"key": 1}), serde_json::json!(2)];
    bad_arguments.queue_name = "poison".to_owned();
    let mut ids = Vec::new();
    for data in [unknown, bad_arguments] {
        let job = NewJob::new(data).expect("a payload encodes");
        ids.push(env.adapter.enqueue(&job).await.unwrap().expect("a provider job id"));
    }

    let policy = RetryPolicy::retries(5).backoff(Backoff::Fixed(Duration::from_secs(3600)));
    let worker = env.worker(&["poison"]).retry_policy(policy).start();
    let dead = env.wait_for_state(&garbage, JobState::Dead).await;
    let mut retrying = Vec::new();
    for id in ids.iter().chain([&foreign]) {
        retrying.push(env.wait_for_job(id, "failed once", |info| !info.errors.is_empty()).await);
    }
    worker.shutdown().await.unwrap();

    assert_failed(&dead, &[1], "jobs::InvalidPayload", "invalid job payload");
    assert_eq!(dead.payload, "not json at all", "the payload is kept as it was, for a person to look at");
    let [unknown, bad_arguments, foreign] = &retrying[..] else { unreachable!() };
    assert_eq!(unknown.state, JobState::Retrying, "{unknown:?}");
    assert_failed(unknown, &[1], "jobs::UnknownJob", "Conformance::FromTheNextDeploy");
    assert_eq!(bad_arguments.state, JobState::Retrying, "{bad_arguments:?}");
    assert_failed(bad_arguments, &[1], "ActiveJob::DeserializationError", "Conformance::Record");
    assert_eq!(foreign.state, JobState::Retrying, "{foreign:?}");
    assert_failed(foreign, &[1], "jobs::InvalidPayload", "invalid job payload");
    let counts = env.inspector().counts().await.unwrap();
    assert_eq!((counts.get("poison", JobState::Dead), counts.get("poison", JobState::Retrying)), (1, 3), "{counts:?}");
}

fn assert_failed(info: &JobInfo, attempts: &[u32], class: &str, message: &str) {
    assert_eq!(info.errors.iter().map(|e| e.attempt).collect::<Vec<_>>(), attempts, "{info:?}");
    for error in &info.errors {
        assert_eq!(error.class, class, "{info:?}");
        assert!(error.message.contains(message), "error message `{}` should mention `{message}`", error.message);
    }
}

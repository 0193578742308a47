//! retry_on, discard_on, rescue_from, after_discard, timeouts and panics, on the memory adapter
//! (through a worker) and on the test adapter.

mod common;

use std::time::Duration;

use common::{Log, eventually, log, runtime, worker, worker_with};
use jobs::adapters::{JobFilter, TestAdapter};
use jobs::prelude::*;
use jobs::{DeserializationError, JobError, Outcome, PanicError, RetryPolicy, TimeoutError};

#[derive(Debug, thiserror::Error)]
#[error("smtp server busy")]
struct SmtpBusy;

#[derive(Debug, thiserror::Error)]
#[error("address rejected")]
struct Rejected;

#[derive(Debug, thiserror::Error)]
#[error("quota exceeded")]
struct Quota;

/// Fails with `SmtpBusy` until its third run.
#[job(retry_on(SmtpBusy, wait = "0s", attempts = 5))]
async fn deliver(to: String, log: State<Log>, ctx: &JobContext) -> Result<(), SmtpBusy> {
    log.push(format!("{to} run {} provider {}", ctx.executions(), ctx.provider_job_id().unwrap_or("-")));
    if ctx.executions() < 3 { Err(SmtpBusy) } else { Ok(()) }
}

#[tokio::test]
async fn a_job_that_fails_twice_then_succeeds_keeps_its_id_and_counts() {
    let memory = MemoryAdapter::new();
    let rt = runtime(&memory);
    let handle = rt.scope(Deliver::perform_later("ada".into())).await.unwrap();
    let w = worker(&rt, &["default"], 1);
    eventually("third run", || log(&rt).lines().len() == 3).await;
    eventually("queue empty", || memory.pending() == 0).await;
    w.shutdown().await.unwrap();
    let lines = log(&rt).lines();
    assert!(lines[0].starts_with("ada run 1"), "{lines:?}");
    assert!(lines[2].starts_with("ada run 3"), "{lines:?}");
    let providers: Vec<&str> = lines.iter().map(|l| l.rsplit(' ').next().unwrap()).collect();
    assert_eq!(providers[0], handle.provider_job_id.as_deref().unwrap());
    assert!(
        providers[0] != providers[1] && providers[1] != providers[2],
        "a retry gets a new provider id: {providers:?}"
    );
    assert!(memory.dead().is_empty());
}

#[tokio::test]
async fn retries_carry_executions_and_exception_executions_in_the_payload() {
    let jobs = TestAdapter::new();
    let rt = Runtime::builder().adapter(jobs.clone()).state(Log::default()).build().unwrap();
    rt.scope(async {
        let first = Deliver::perform_later("bob".into()).await.unwrap();
        let ran = jobs.perform_enqueued_jobs(JobFilter::any()).await.unwrap();
        assert_eq!(ran, 3, "the first run and two retries");
        let performed = jobs.performed_jobs();
        assert!(performed.iter().all(|d| d.job_id == first.job_id), "a retry keeps the job id");
        assert_eq!(performed.iter().map(|d| d.executions).collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(performed[1].exception_executions.get("[SmtpBusy]"), Some(&2));
        assert!(performed[1].scheduled_at.is_some(), "a retry is scheduled");
    })
    .await;
}

/// Always fails; three attempts, then the handler.
#[job(retry_on(SmtpBusy, attempts = 3, wait = "0s", with = give_up))]
async fn deliver_with_handler(log: State<Log>) -> Result<(), SmtpBusy> {
    log.push("try");
    Err(SmtpBusy)
}

async fn give_up(ctx: &JobContext, error: &JobError) {
    ctx.state::<Log>().unwrap().push(format!("gave up after {} runs: {}", ctx.executions(), error.message()));
}

#[tokio::test]
async fn attempts_exhausted_with_a_handler_call_it_and_stop() {
    let memory = MemoryAdapter::new();
    let rt = runtime(&memory);
    rt.scope(DeliverWithHandler::perform_later()).await.unwrap();
    let w = worker(&rt, &["default"], 1);
    eventually("handler called", || log(&rt).lines().len() == 4).await;
    eventually("queue empty", || memory.pending() == 0).await;
    w.shutdown().await.unwrap();
    assert_eq!(log(&rt).lines(), ["try", "try", "try", "gave up after 3 runs: smtp server busy"]);
    assert!(memory.dead().is_empty(), "a handled exhaustion is not dead");
}

/// Always fails; two attempts, no handler.
#[job(retry_on(SmtpBusy, attempts = 2, wait = "0s"), after_discard = note_discard)]
async fn deliver_without_handler(log: State<Log>) -> Result<(), SmtpBusy> {
    log.push("try");
    Err(SmtpBusy)
}

async fn note_discard(ctx: &JobContext, error: &JobError) {
    ctx.state::<Log>().unwrap().push(format!("after_discard: {}", error.message()));
}

#[tokio::test]
async fn attempts_exhausted_without_a_handler_go_on_to_the_worker_policy() {
    let memory = MemoryAdapter::new();
    let rt = runtime(&memory);
    rt.scope(DeliverWithoutHandler::perform_later()).await.unwrap();
    let w = worker_with(&rt, &["default"], 1, RetryPolicy::none());
    eventually("dead", || memory.dead().len() == 1).await;
    w.shutdown().await.unwrap();
    assert_eq!(log(&rt).lines(), ["try", "try", "after_discard: smtp server busy"]);
    let (data, errors) = memory.dead().pop().unwrap();
    assert_eq!(data.executions, 2);
    assert_eq!(errors.last().unwrap().class, "failures::SmtpBusy");
    assert_eq!(errors.last().unwrap().message, "smtp server busy");
}

/// Discards on `Rejected`, retries on `SmtpBusy`: the later declaration wins for each error.
#[job(
    retry_on(SmtpBusy, wait = "0s"),
    discard_on(Rejected, with = note_rejection),
    after_discard = note_discard
)]
async fn notify(to: String, log: State<Log>) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    log.push(format!("notify {to}"));
    Err(if to == "bounce" { Box::new(Rejected) } else { Box::new(SmtpBusy) })
}

async fn note_rejection(ctx: &JobContext, error: &JobError) {
    ctx.state::<Log>().unwrap().push(format!("rejected: {}", error.message()));
}

#[tokio::test]
async fn discard_on_drops_the_job_and_runs_after_discard() {
    let memory = MemoryAdapter::new();
    let rt = runtime(&memory);
    rt.scope(Notify::perform_later("bounce".into())).await.unwrap();
    let w = worker(&rt, &["default"], 1);
    eventually("discarded", || log(&rt).lines().len() == 3).await;
    w.shutdown().await.unwrap();
    assert_eq!(log(&rt).lines(), ["notify bounce", "rejected: address rejected", "after_discard: address rejected"]);
    assert_eq!(memory.pending(), 0);
    assert!(memory.dead().is_empty());
}

/// `rescue_from` swallows `Quota`; later declarations are tried first.
#[job(retry_on(Quota, wait = "0s"), rescue_from(Quota, with = over_quota))]
async fn sync_account(log: State<Log>) -> Result<(), Quota> {
    log.push("sync");
    Err(Quota)
}

async fn over_quota(ctx: &JobContext, error: &JobError) -> Result<(), JobError> {
    ctx.state::<Log>().unwrap().push(format!("rescued {}", error.message()));
    Ok(())
}

#[tokio::test]
async fn rescue_from_swallows_the_error_and_takes_precedence_when_declared_later() {
    let memory = MemoryAdapter::new();
    let rt = runtime(&memory);
    rt.scope(SyncAccount::perform_later()).await.unwrap();
    let w = worker(&rt, &["default"], 1);
    eventually("rescued", || log(&rt).lines().len() == 2).await;
    eventually("done", || memory.pending() == 0).await;
    w.shutdown().await.unwrap();
    assert_eq!(log(&rt).lines(), ["sync", "rescued quota exceeded"], "rescued once, never retried");
}

fn is_transient(error: &JobError) -> bool {
    error.message().contains("try again")
}

/// Matching by predicate; the retry goes to another queue with another priority.
#[job(retry_on(matches = is_transient, wait = "0s", queue = "retries", priority = 7))]
async fn fetch_feed(log: State<Log>, ctx: &JobContext) -> Result<(), String> {
    log.push(format!("fetch on {} priority {:?}", ctx.queue(), ctx.priority()));
    if ctx.executions() == 1 { Err("please try again".into()) } else { Ok(()) }
}

#[tokio::test]
async fn retry_on_matches_by_predicate_and_moves_the_retry() {
    let memory = MemoryAdapter::new();
    let rt = runtime(&memory);
    rt.scope(FetchFeed::perform_later()).await.unwrap();
    let w = worker(&rt, &["default", "retries"], 1);
    eventually("retried", || log(&rt).lines().len() == 2).await;
    w.shutdown().await.unwrap();
    assert_eq!(log(&rt).lines(), ["fetch on default priority None", "fetch on retries priority Some(7)"]);
}

#[job(retry_on(PanicError, attempts = 2, wait = "0s"))]
async fn explode_then_recover(log: State<Log>, ctx: &JobContext) {
    log.push(format!("run {}", ctx.executions()));
    if ctx.executions() == 1 {
        panic!("kaboom");
    }
}

#[tokio::test]
async fn a_panic_is_an_error_that_retry_on_can_match() {
    let memory = MemoryAdapter::new();
    let rt = runtime(&memory);
    rt.scope(ExplodeThenRecover::perform_later()).await.unwrap();
    let w = worker(&rt, &["default"], 1);
    eventually("recovered", || log(&rt).lines().len() == 2).await;
    eventually("done", || memory.pending() == 0).await;
    w.shutdown().await.unwrap();
    assert_eq!(log(&rt).lines(), ["run 1", "run 2"]);
}

#[job(timeout = "50ms")]
async fn hang(log: State<Log>) {
    log.push("hanging");
    tokio::time::sleep(Duration::from_secs(60)).await;
}

#[tokio::test]
async fn a_timeout_is_an_error_of_the_job() {
    let memory = MemoryAdapter::new();
    let rt = runtime(&memory);
    rt.scope(Hang::perform_later()).await.unwrap();
    let w = worker_with(&rt, &["default"], 1, RetryPolicy::none());
    eventually("dead", || memory.dead().len() == 1).await;
    w.shutdown().await.unwrap();
    let (_, errors) = memory.dead().pop().unwrap();
    assert_eq!(errors[0].class, "jobs::TimeoutError");
    assert_eq!(errors[0].message, "job timed out after 50ms");
    let error = rt.scope(Hang::perform_now()).await.unwrap_err();
    assert!(matches!(&error, jobs::Error::Job(e) if e.is::<TimeoutError>()), "{error}");
}

#[job(discard_on(DeserializationError))]
async fn greet(name: String, log: State<Log>) {
    log.push(format!("hello {name}"));
}

#[tokio::test]
async fn discard_on_applies_to_arguments_that_cannot_be_decoded() {
    let memory = MemoryAdapter::new();
    let rt = runtime(&memory);
    let wrong = r#"{"job_class":"Greet","job_id":"x","queue_name":"default","arguments":[42]}"#;
    memory.push_raw("default", wrong.to_owned());
    rt.scope(Greet::perform_later("ada".into())).await.unwrap();
    let w = worker(&rt, &["default"], 1);
    eventually("both handled", || memory.pending() == 0).await;
    w.shutdown().await.unwrap();
    assert_eq!(log(&rt).lines(), ["hello ada"]);
    assert!(memory.dead().is_empty(), "the undecodable job was discarded, not retried into the dead set");
}

/// Fails with an error that nothing handles, boxed or as a bare message.
#[job]
async fn fail_boxed(message_only: bool) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    if message_only { Err("again".into()) } else { Err(Box::new(Quota)) }
}

#[job]
async fn fail_with_message() -> Result<(), String> {
    Err("again".to_owned())
}

#[tokio::test]
async fn the_dead_set_records_the_class_of_the_error_not_of_its_box() {
    let memory = MemoryAdapter::new();
    let rt = runtime(&memory);
    rt.scope(async {
        FailBoxed::perform_later(false).await.unwrap();
        FailBoxed::perform_later(true).await.unwrap();
        FailWithMessage::perform_later().await.unwrap();
    })
    .await;
    let w = worker_with(&rt, &["default"], 1, RetryPolicy::none());
    eventually("three dead", || memory.dead().len() == 3).await;
    w.shutdown().await.unwrap();
    let mut recorded: Vec<(String, String)> =
        memory.dead().into_iter().map(|(_, errors)| (errors[0].class.clone(), errors[0].message.clone())).collect();
    recorded.sort();
    let pair = |class: &str, message: &str| (class.to_owned(), message.to_owned());
    assert_eq!(
        recorded,
        [pair("Quota", "quota exceeded"), pair("RuntimeError", "again"), pair("RuntimeError", "again")],
        "a boxed error keeps its class; a bare message is a RuntimeError, its message unprefixed"
    );
}

#[tokio::test]
async fn perform_now_returns_normally_when_a_declaration_handled_the_error() {
    let memory = MemoryAdapter::new();
    let rt = runtime(&memory);
    rt.scope(async {
        SyncAccount::perform_now().await.expect("rescue_from handled it");
        Notify::perform_now("bounce".into()).await.expect("discard_on handled it");
        Deliver::perform_now("eve".into()).await.expect("retry_on enqueued a retry");
    })
    .await;
    assert_eq!(memory.pending(), 1, "the retry is enqueued");
    assert_eq!(
        log(&rt).lines()[..4],
        ["sync", "rescued quota exceeded", "notify bounce", "rejected: address rejected"],
        "the handlers ran"
    );
}

/// Has a value to return, which a rescued run never produced.
#[job(rescue_from(Quota, with = over_quota))]
async fn quota_left(log: State<Log>) -> Result<u32, Quota> {
    log.push("sync");
    Err(Quota)
}

#[tokio::test]
async fn perform_now_of_a_job_with_a_value_reports_the_handled_error() {
    let memory = MemoryAdapter::new();
    let rt = runtime(&memory);
    let error = rt.scope(QuotaLeft::perform_now()).await.unwrap_err();
    match error {
        jobs::Error::Handled { job, outcome, error } => {
            assert_eq!((job.as_str(), outcome), ("QuotaLeft", Outcome::Rescued));
            assert!(error.is::<Quota>());
        }
        other => panic!("expected Error::Handled, got {other:?}"),
    }
    assert_eq!(log(&rt).lines(), ["sync", "rescued quota exceeded"]);
}

/// Fails every time, with nothing to handle it.
#[job(after_discard = note_discard)]
async fn always_fails(log: State<Log>, ctx: &JobContext) -> Result<(), Quota> {
    log.push(format!("run {}", ctx.executions()));
    Err(Quota)
}

#[tokio::test]
async fn after_discard_runs_once_when_the_worker_policy_gives_up() {
    let memory = MemoryAdapter::new();
    let rt = runtime(&memory);
    rt.scope(AlwaysFails::perform_later()).await.unwrap();
    let w = worker_with(&rt, &["default"], 1, RetryPolicy::retries(2).backoff(jobs::Backoff::Fixed(Duration::ZERO)));
    eventually("dead", || memory.dead().len() == 1).await;
    eventually("after_discard", || log(&rt).lines().len() == 4).await;
    w.shutdown().await.unwrap();
    assert_eq!(
        log(&rt).lines(),
        ["run 1", "run 2", "run 3", "after_discard: quota exceeded"],
        "not while the policy still retries, once when the job goes dead"
    );

    let rt = runtime(&memory);
    rt.scope(AlwaysFails::perform_now()).await.unwrap_err();
    assert_eq!(log(&rt).lines(), ["run 1", "after_discard: quota exceeded"], "perform_now ends the job too");
}

/// Always fails; two attempts, then the handler, then after_discard.
#[job(retry_on(SmtpBusy, attempts = 2, wait = "0s", with = give_up), after_discard = note_discard)]
async fn deliver_with_handler_and_after_discard(log: State<Log>) -> Result<(), SmtpBusy> {
    log.push("try");
    Err(SmtpBusy)
}

#[tokio::test]
async fn after_discard_runs_after_an_exhausted_retry_on_handler() {
    let memory = MemoryAdapter::new();
    let rt = runtime(&memory);
    rt.scope(DeliverWithHandlerAndAfterDiscard::perform_later()).await.unwrap();
    let w = worker(&rt, &["default"], 1);
    eventually("after_discard", || log(&rt).lines().len() == 4).await;
    eventually("queue empty", || memory.pending() == 0).await;
    w.shutdown().await.unwrap();
    assert_eq!(
        log(&rt).lines(),
        ["try", "try", "gave up after 2 runs: smtp server busy", "after_discard: smtp server busy"]
    );
    assert!(memory.dead().is_empty());
}

/// Fails with an `anyhow::Error`: one carrying a typed error, or one made from a message.
#[job]
async fn fail_anyhow(message_only: bool) -> anyhow::Result<()> {
    if message_only { Err(anyhow::anyhow!("again")) } else { Err(anyhow::Error::new(Quota)) }
}

#[tokio::test]
async fn an_anyhow_error_records_the_class_of_the_error_it_carries() {
    let memory = MemoryAdapter::new();
    let rt = runtime(&memory);
    for (message_only, class, message) in [(false, "Quota", "quota exceeded"), (true, "RuntimeError", "again")] {
        match rt.scope(FailAnyhow::perform_now(message_only)).await {
            Err(jobs::Error::Job(error)) => assert_eq!((error.class(), error.message().as_str()), (class, message)),
            other => panic!("expected Error::Job, got {other:?}"),
        }
    }
}

/// Fails with `SmtpBusy` on its first run; the retry waits an hour.
#[job(retry_on(SmtpBusy, wait = "1h", attempts = 5))]
async fn deliver_later(log: State<Log>, ctx: &JobContext) -> Result<(), SmtpBusy> {
    log.push(format!("run {}", ctx.executions()));
    if ctx.executions() < 2 { Err(SmtpBusy) } else { Ok(()) }
}

#[tokio::test]
async fn the_job_id_finds_a_job_retrying_after_retry_on_with_its_errors_not_its_finished_run() {
    let clock = jobs::ManualClock::new(chrono::Utc::now());
    let memory = MemoryAdapter::with_clock(std::sync::Arc::new(clock.clone()));
    let rt = Runtime::builder().adapter(memory.clone()).clock(clock.clone()).state(Log::default()).build().unwrap();
    let enqueued = rt.scope(DeliverLater::perform_later()).await.unwrap();
    let first = enqueued.provider_job_id.clone().unwrap();
    let w = worker(&rt, &["default"], 1);
    eventually("the first run", || log(&rt).lines() == ["run 1"]).await;
    eventually("the first run to finish", || memory.pending() == 1).await;

    let waiting = jobs::Inspect::find(&memory, &enqueued.job_id).await.unwrap().expect("found by job id");
    assert_eq!(waiting.state, jobs::JobState::Retrying, "{waiting:?}");
    let history: Vec<_> = waiting.errors.iter().map(|e| (e.class.as_str(), e.message.as_str(), e.attempt)).collect();
    assert_eq!(history, [("failures::SmtpBusy", "smtp server busy", 1)], "the failed run's error, by job id");
    assert_ne!(waiting.id, first, "the retry is a new job of the same job id");
    let data = waiting.data().unwrap();
    assert_eq!((data.job_id.as_str(), data.executions), (enqueued.job_id.as_str(), 1));
    assert_eq!(data.exception_executions.get("[SmtpBusy]"), Some(&1));

    clock.advance(Duration::from_secs(2 * 3600)); // past the wait and its jitter
    eventually("the retry", || log(&rt).lines() == ["run 1", "run 2"]).await;
    eventually("the retry to finish", || memory.pending() == 0).await;
    w.shutdown().await.unwrap();
    let done = jobs::Inspect::find(&memory, &enqueued.job_id).await.unwrap().expect("found by job id");
    assert_eq!((done.state, done.id), (jobs::JobState::Completed, waiting.id));
    assert_eq!(done.errors, waiting.errors, "the completed job keeps the history of its runs");
}

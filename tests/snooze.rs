//! Snooze and cancel from inside a job: what callbacks, handlers, events, logs and `perform_now`
//! make of them. The store's side (rescheduling, no attempt spent, no retry) is the conformance
//! suite's `snooze` cases, run on every adapter.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{CapturedLogs, Log, eventually, log, runtime, worker};
use jobs::adapters::{JobFilter, TestAdapter};
use jobs::prelude::*;
use jobs::{Error, EventKind, JobError, Outcome};

/// Snoozes 30 s while it has run `snoozes` times or fewer; an export named `stale` cancels itself.
#[job(after_perform = performed, after_discard = discarded)]
async fn poll_export(export: String, snoozes: usize, log: State<Log>, ctx: &JobContext) -> Result<(), JobError> {
    log.push(format!("{export} run {}", ctx.executions()));
    if export == "stale" {
        return Err(jobs::cancel("export deleted"));
    }
    if log.lines().iter().filter(|line| line.starts_with(&format!("{export} run"))).count() <= snoozes {
        return Err(jobs::snooze(Duration::from_secs(30)));
    }
    Ok(())
}

async fn performed(ctx: &JobContext) {
    ctx.state::<Log>().unwrap().push("after_perform");
}

async fn discarded(ctx: &JobContext, error: &JobError) {
    ctx.state::<Log>().unwrap().push(format!("after_discard: {}", error.cancelled().unwrap_or("not a cancel")));
}

type Seen = Arc<Mutex<Vec<(EventKind, Option<Outcome>, Option<Duration>, Option<String>, bool)>>>;

fn recording(jobs: &TestAdapter) -> (Runtime, Seen) {
    let seen: Seen = Arc::default();
    let sink = seen.clone();
    let runtime = Runtime::builder()
        .adapter(jobs.clone())
        .state(Log::default())
        .subscribe(move |event: &jobs::Event<'_>| {
            if event.kind() == EventKind::Perform {
                let reason = event.reason().map(str::to_owned);
                sink.lock().unwrap().push((
                    event.kind(),
                    event.outcome(),
                    event.wait(),
                    reason,
                    event.error().is_some(),
                ));
            }
        })
        .build()
        .unwrap();
    (runtime, seen)
}

#[tokio::test]
async fn a_snoozed_job_runs_again_as_the_same_attempt_and_after_perform_runs_once_it_finishes() {
    let jobs = TestAdapter::new();
    let (rt, seen) = recording(&jobs);
    rt.scope(async {
        let first = PollExport::perform_later("report".into(), 2).await.unwrap();
        let before = rt.now();
        assert_eq!(jobs.perform_enqueued_jobs(JobFilter::any()).await.unwrap(), 3, "two snoozes, then done");
        let performed = jobs.performed_jobs();
        assert!(performed.iter().all(|d| d.job_id == first.job_id), "a snoozed job keeps its job id");
        assert_eq!(performed.iter().map(|d| d.executions).collect::<Vec<_>>(), [1, 1, 1], "no attempt spent");
        assert!(performed.iter().all(|d| d.exception_executions.is_empty()));
        let due = performed[1].scheduled_at.expect("a snoozed job is scheduled");
        assert!(due >= before + chrono::Duration::seconds(30), "due at {due}, snoozed after {before}");
    })
    .await;
    let lines = log(&rt).lines();
    assert_eq!(lines, ["report run 1", "report run 1", "report run 1", "after_perform"], "{lines:?}");
    let thirty = Some(Duration::from_secs(30));
    assert_eq!(
        *seen.lock().unwrap(),
        [
            (EventKind::Perform, Some(Outcome::Snoozed), thirty, None, false),
            (EventKind::Perform, Some(Outcome::Snoozed), thirty, None, false),
            (EventKind::Perform, Some(Outcome::Performed), None, None, false),
        ],
        "a snooze is no error to subscribers (error trackers)"
    );
}

#[tokio::test]
async fn a_test_performing_due_jobs_leaves_a_snoozed_job_waiting() {
    let jobs = TestAdapter::new();
    let rt = Runtime::builder().adapter(jobs.clone()).state(Log::default()).build().unwrap();
    rt.scope(async {
        PollExport::perform_later("report".into(), 5).await.unwrap();
        assert_eq!(jobs.perform_enqueued_jobs(JobFilter::any().at(rt.now())).await.unwrap(), 1);
        let waiting = jobs.enqueued_jobs();
        assert_eq!(waiting.len(), 1, "the snoozed run waits for its time: {waiting:?}");
        assert!(waiting[0].scheduled_at.is_some_and(|at| at > rt.now()));
    })
    .await;
}

#[tokio::test]
async fn a_cancelled_job_is_discarded_cleanly_with_its_reason() {
    let memory = MemoryAdapter::new();
    let rt = runtime(&memory);
    rt.scope(PollExport::perform_later("stale".into(), 0)).await.unwrap();
    let w = worker(&rt, &["default"], 1);
    eventually("the cancel to be handled", || log(&rt).lines().len() == 2).await;
    eventually("the queue to be empty", || memory.pending() == 0).await;
    w.shutdown().await.unwrap();
    assert_eq!(log(&rt).lines(), ["stale run 1", "after_discard: export deleted"], "no retry, no after_perform");
    assert!(memory.dead().is_empty(), "a cancel sends nothing to the dead set");
}

#[tokio::test]
async fn subscribers_and_logs_see_snoozed_and_cancelled() {
    let jobs = TestAdapter::new();
    let (rt, seen) = recording(&jobs);
    let logs = CapturedLogs::start(tracing::Level::INFO);
    rt.scope(async {
        PollExport::perform_later("stale".into(), 0).await.unwrap();
        PollExport::perform_later("late".into(), 1).await.unwrap();
        assert_eq!(jobs.perform_enqueued_jobs(JobFilter::any()).await.unwrap(), 3);
    })
    .await;
    let reason = Some("export deleted".to_owned());
    assert_eq!(seen.lock().unwrap()[0], (EventKind::Perform, Some(Outcome::Cancelled), None, reason, false));
    let text = logs.text();
    assert!(text.contains("Cancelled PollExport (Job ID: "), "{text}");
    assert!(text.contains("Test(default) in "), "{text}");
    assert!(text.contains("ms: export deleted"), "{text}");
    assert!(text.contains("ms, to run again in 30 seconds"), "{text}");
    assert!(!text.contains("Error performing"), "neither is logged as an error: {text}");
}

#[tokio::test]
async fn perform_now_returns_after_a_snooze_or_a_cancel_and_the_snooze_is_enqueued() {
    let jobs = TestAdapter::new();
    let rt = Runtime::builder().adapter(jobs.clone()).state(Log::default()).build().unwrap();
    rt.scope(async {
        PollExport::perform_now("report".into(), 1).await.expect("a snooze is handled");
        PollExport::perform_now("stale".into(), 0).await.expect("a cancel is handled");
        let enqueued = jobs.enqueued_jobs();
        assert_eq!(enqueued.len(), 1, "only the snooze is stored: {enqueued:?}");
        assert_eq!((enqueued[0].arguments[0].as_str(), enqueued[0].executions), (Some("report"), 0));
    })
    .await;
}

#[tokio::test]
async fn a_snooze_on_an_adapter_that_cannot_schedule_fails_clearly() {
    let rt = Runtime::builder().adapter(InlineAdapter::new()).state(Log::default()).build().unwrap();
    let error = rt.scope(PollExport::perform_now("report".into(), 1)).await.unwrap_err();
    assert!(matches!(error, Error::NotSupported { ref feature, .. } if feature.contains("snoozing")), "{error}");
}

/// Snoozes once, from a job whose errors are `anyhow::Error` or boxed errors.
#[job]
async fn snooze_anyhow(log: State<Log>) -> anyhow::Result<()> {
    log.push("anyhow");
    if log.lines().len() == 1 { Err(jobs::snooze(Duration::ZERO).into()) } else { Ok(()) }
}

#[job]
async fn cancel_boxed() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    Err(jobs::cancel("boxed").into())
}

#[tokio::test]
async fn jobs_failing_with_anyhow_or_boxed_errors_can_snooze_and_cancel() {
    let jobs = TestAdapter::new();
    let (rt, seen) = recording(&jobs);
    rt.scope(async {
        SnoozeAnyhow::perform_later().await.unwrap();
        CancelBoxed::perform_later().await.unwrap();
        assert_eq!(jobs.perform_enqueued_jobs(JobFilter::any()).await.unwrap(), 3);
    })
    .await;
    let outcomes: Vec<_> = seen.lock().unwrap().iter().map(|event| event.1).collect();
    let expected = [Some(Outcome::Snoozed), Some(Outcome::Cancelled), Some(Outcome::Performed)];
    assert_eq!(outcomes, expected, "a zero snooze runs again at once");
    assert!(jobs.performed_jobs()[2].scheduled_at.is_none(), "a zero snooze is not scheduled");
}

//! Continuable jobs on the memory adapter: steps skipped once completed, cursors resumed after a
//! shutdown, isolated steps, `max_resumptions`, errors after progress, invalid step orders.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Log, eventually, log, worker_with};
use jobs::adapter::Adapter;
use jobs::prelude::*;
use jobs::{Error, Event, EventKind, RetryPolicy};
use serde_json::{Value, json};

/// Rows `0..rows` in step `rows` between `prepare` and `finish`; waits at row `pause_at` until
/// its worker shuts down (so that the checkpoint right after interrupts it), and fails once at
/// row `fail_at` on its first execution.
#[job(continuable(resume_wait = "0s"))]
async fn import(
    rows: u64,
    pause_at: Option<u64>,
    fail_at: Option<u64>,
    log: State<Log>,
    ctx: &JobContext,
) -> Result<(), Error> {
    let log: &Log = &log;
    log.push(format!("run resumptions={} executions={}", ctx.resumptions(), ctx.executions()));
    ctx.step("prepare", |_| async {
        log.push("prepare");
        Ok::<_, Error>(())
    })
    .await?;
    ctx.step("rows", |step| async move {
        let mut row = step.cursor::<u64>()?.unwrap_or(0);
        if step.resumed() {
            log.push(format!("resumed at {row}"));
        }
        while row < rows {
            if Some(row) == fail_at && ctx.resumptions() == 0 {
                return Err(Error::Config(format!("row {row} failed")));
            }
            if Some(row) == pause_at && ctx.resumptions() == 0 {
                while !ctx.is_shutting_down() {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
            log.push(format!("row {row}"));
            row += 1;
            step.set(row).await?;
        }
        Ok(())
    })
    .await?;
    ctx.step("finish", |_| async {
        log.push("finish");
        Ok::<_, Error>(())
    })
    .await
}

/// Completes `prepare`, moves the cursor of `rows` to `pause_at`, then logs its provider id and
/// waits for its worker to shut down (its progress as stored meanwhile is what a rescue would
/// hand out if the worker died there).
#[job(continuable(resume_wait = "0s", checkpoint_interval = "0s"))]
async fn tracked(pause_at: u64, log: State<Log>, ctx: &JobContext) -> Result<(), Error> {
    checkpoints_then_wait(pause_at, &log, ctx).await
}

/// [`tracked`] with progress stored at most once an hour at checkpoints.
#[job(continuable(resume_wait = "0s", checkpoint_interval = "1h"))]
async fn throttled(pause_at: u64, log: State<Log>, ctx: &JobContext) -> Result<(), Error> {
    checkpoints_then_wait(pause_at, &log, ctx).await
}

async fn checkpoints_then_wait(pause_at: u64, log: &Log, ctx: &JobContext) -> Result<(), Error> {
    ctx.step("prepare", |_| async { Ok::<_, Error>(()) }).await?;
    ctx.step("rows", |step| async move {
        let mut row = step.cursor::<u64>()?.unwrap_or(0);
        while row < pause_at {
            row += 1;
            step.set(row).await?;
        }
        log.push(format!("paused {}", ctx.provider_job_id().unwrap_or("-")));
        while !ctx.is_shutting_down() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        Ok(())
    })
    .await
}

/// Three steps, the middle one isolated; records the resumption each step ran in.
#[job(continuable(resume_wait = "0s"))]
async fn isolate(log: State<Log>, ctx: &JobContext) -> Result<(), Error> {
    for (name, isolated) in [("first", false), ("second", true), ("third", false)] {
        let options = if isolated { StepOptions::new().isolated() } else { StepOptions::new() };
        ctx.step_with(name, options, |_| async {
            log.push(format!("{name} in resumption {}", ctx.resumptions()));
            Ok::<_, Error>(())
        })
        .await?;
    }
    Ok(())
}

/// Isolated steps force a resumption each; only one is allowed.
#[job(continuable(max_resumptions = 1, resume_wait = "0s"))]
async fn limited(log: State<Log>, ctx: &JobContext) -> Result<(), Error> {
    for name in ["a", "b", "c"] {
        ctx.step_with(name, StepOptions::new().isolated(), |_| async {
            log.push(name);
            Ok::<_, Error>(())
        })
        .await?;
    }
    Ok(())
}

/// Fails after making progress, with `resume_errors_after_advancing = false`.
#[job(continuable(resume_errors_after_advancing = false, resume_wait = "0s"))]
async fn strict(log: State<Log>, ctx: &JobContext) -> Result<(), Error> {
    let log: &Log = &log;
    ctx.step_with("count", StepOptions::new().start(10u32), |step| async move {
        let at = step.cursor::<u32>()?.unwrap_or_default();
        log.push(format!("from {at} on execution {}", ctx.executions()));
        step.advance().await?;
        if ctx.executions() == 1 { Err(Error::Config("first run fails".into())) } else { Ok(()) }
    })
    .await
}

/// Steps in an order of its argument's choosing.
#[job(continuable)]
async fn ordered(kind: String, ctx: &JobContext) -> Result<(), Error> {
    match kind.as_str() {
        "repeated" => {
            ctx.step("a", |_| async { Ok::<_, Error>(()) }).await?;
            ctx.step("a", |_| async { Ok::<_, Error>(()) }).await
        }
        "nested" => ctx.step("outer", |_| async { ctx.step("inner", |_| async { Ok::<_, Error>(()) }).await }).await,
        _ => {
            ctx.step("b", |_| async { Ok::<_, Error>(()) }).await?;
            ctx.step("a", |_| async { Ok::<_, Error>(()) }).await
        }
    }
}

#[job]
async fn not_continuable(ctx: &JobContext) -> Result<(), Error> {
    ctx.step("a", |_| async { Ok::<_, Error>(()) }).await
}

/// The continuation events a runtime saw: kind, step, cursor.
type Seen = Arc<Mutex<Vec<(EventKind, Option<String>, Option<Value>)>>>;

/// A runtime on `memory` that records the continuation events it sees.
fn recording_runtime(memory: &MemoryAdapter) -> (Runtime, Seen) {
    let events: Seen = Arc::default();
    let seen = events.clone();
    let rt = Runtime::builder()
        .adapter(memory.clone())
        .state(Log::default())
        .subscribe(move |event: &Event<'_>| {
            if matches!(
                event.kind(),
                EventKind::StepStarted
                    | EventKind::StepSkipped
                    | EventKind::StepCompleted
                    | EventKind::Interrupt
                    | EventKind::Resume
            ) {
                let entry = (event.kind(), event.step().map(str::to_owned), event.cursor().cloned());
                seen.lock().unwrap().push(entry);
            }
        })
        .build()
        .unwrap();
    (rt, events)
}

fn no_retries(rt: &Runtime) -> jobs::WorkerHandle {
    worker_with(rt, &["default"], 1, RetryPolicy::none())
}

#[tokio::test]
async fn a_shutdown_interrupts_at_a_checkpoint_and_the_next_run_resumes_at_the_cursor() {
    let memory = MemoryAdapter::new();
    let (rt, events) = recording_runtime(&memory);
    rt.scope(Import::perform_later(8, Some(4), None)).await.unwrap();
    let first = no_retries(&rt);
    eventually("the job to reach row 4", || log(&rt).lines().contains(&"row 3".to_owned())).await;
    first.shutdown().await.unwrap();
    assert!(!log(&rt).lines().contains(&"row 5".to_owned()), "the run went on after its checkpoint");

    let stored = memory.pending();
    assert_eq!(stored, 1, "the interrupted job is stored again with its progress");
    {
        let events = events.lock().unwrap();
        assert!(events.contains(&(EventKind::Interrupt, Some("rows".into()), Some(json!(5)))), "{events:?}");
        assert!(events.contains(&(EventKind::Resume, Some("rows".into()), Some(json!(5)))), "{events:?}");
    }

    let second = no_retries(&rt);
    eventually("the job to finish", || log(&rt).lines().contains(&"finish".to_owned())).await;
    second.shutdown().await.unwrap();
    let lines = log(&rt).lines();
    let rows: Vec<&String> = lines.iter().filter(|l| l.starts_with("row ")).collect();
    let expected: Vec<String> = (0..8).map(|r| format!("row {r}")).collect();
    assert_eq!(rows, expected.iter().collect::<Vec<_>>(), "every row once, in order: {lines:?}");
    assert_eq!(lines.iter().filter(|l| *l == "prepare").count(), 1, "a completed step never runs again: {lines:?}");
    assert!(lines.contains(&"resumed at 5".to_owned()), "{lines:?}");
    assert!(
        lines.contains(&"run resumptions=1 executions=1".to_owned()),
        "a resumption counts, an attempt does not: {lines:?}"
    );
    let events = events.lock().unwrap();
    assert!(events.contains(&(EventKind::StepSkipped, Some("prepare".into()), None)), "{events:?}");
    assert!(events.contains(&(EventKind::StepStarted, Some("rows".into()), Some(json!(5)))), "{events:?}");
    assert!(events.contains(&(EventKind::StepCompleted, Some("finish".into()), None)), "{events:?}");
    assert_eq!(memory.pending(), 0);
    assert!(memory.dead().is_empty());
}

#[tokio::test]
async fn an_error_after_progress_resumes_instead_of_failing() {
    let memory = MemoryAdapter::new();
    let (rt, _) = recording_runtime(&memory);
    rt.scope(Import::perform_later(5, None, Some(2))).await.unwrap();
    let w = no_retries(&rt);
    eventually("the job to finish", || log(&rt).lines().contains(&"finish".to_owned())).await;
    w.shutdown().await.unwrap();
    let lines = log(&rt).lines();
    assert!(lines.contains(&"resumed at 2".to_owned()), "{lines:?}");
    assert_eq!(lines.iter().filter(|l| l.starts_with("row ")).count(), 5, "{lines:?}");
    assert!(memory.dead().is_empty(), "no retry was left to the policy, yet nothing died");
}

#[tokio::test]
async fn without_resume_errors_after_advancing_an_error_is_an_ordinary_failure() {
    let memory = MemoryAdapter::new();
    let (rt, _) = recording_runtime(&memory);
    rt.scope(Strict::perform_later()).await.unwrap();
    let w = no_retries(&rt);
    eventually("the job to die", || memory.dead().len() == 1).await;
    w.shutdown().await.unwrap();
    let (_, errors) = memory.dead().pop().unwrap();
    assert!(errors[0].message.contains("first run fails"), "{errors:?}");
    assert_eq!(log(&rt).lines(), ["from 10 on execution 1"]);
}

#[tokio::test]
async fn isolated_steps_run_in_executions_of_their_own() {
    let memory = MemoryAdapter::new();
    let (rt, _) = recording_runtime(&memory);
    rt.scope(Isolate::perform_later()).await.unwrap();
    let w = no_retries(&rt);
    eventually("the last step", || log(&rt).lines().len() == 3).await;
    eventually("the queue to drain", || memory.pending() == 0).await;
    w.shutdown().await.unwrap();
    assert_eq!(log(&rt).lines(), ["first in resumption 0", "second in resumption 1", "third in resumption 2"]);
}

#[tokio::test]
async fn reaching_max_resumptions_fails_the_job_with_a_clear_error() {
    let memory = MemoryAdapter::new();
    let (rt, _) = recording_runtime(&memory);
    rt.scope(Limited::perform_later()).await.unwrap();
    let w = no_retries(&rt);
    eventually("the job to die", || memory.dead().len() == 1).await;
    w.shutdown().await.unwrap();
    assert_eq!(log(&rt).lines(), ["a", "b"], "the step after the limit never ran");
    let (data, errors) = memory.dead().pop().unwrap();
    assert_eq!(errors[0].class, "ActiveJob::Continuation::ResumeLimitError");
    assert_eq!(errors[0].message, "Limited was resumed the maximum of 1 times (max_resumptions)");
    assert_eq!(data.continuation.unwrap().completed, ["a", "b"], "the dead job keeps its progress");
}

#[tokio::test]
async fn invalid_step_orders_are_errors() {
    let rt = Runtime::builder().adapter(MemoryAdapter::new()).build().unwrap();
    rt.scope(async {
        let repeated = Ordered::perform_now("repeated".into()).await.unwrap_err().to_string();
        assert!(repeated.contains("invalid step: step 'a' has already been encountered"), "{repeated}");
        let nested = Ordered::perform_now("nested".into()).await.unwrap_err().to_string();
        assert!(nested.contains("invalid step: step 'inner' is nested inside step 'outer'"), "{nested}");
        let plain = NotContinuable::perform_now().await.unwrap_err().to_string();
        assert!(plain.contains("declare it with #[job(continuable)]"), "{plain}");
    })
    .await;

    // A payload whose completed steps the job meets in another order.
    let memory = MemoryAdapter::new();
    let (rt, _) = recording_runtime(&memory);
    let mut data = PendingJob::new(Ordered { kind: "reordered".into() }).to_job_data(&rt).unwrap();
    data.continuation = Some(serde_json::from_value(json!({"completed": ["a", "b"]})).unwrap());
    memory.push_raw("default", data.to_json().unwrap());
    let w = no_retries(&rt);
    eventually("the job to die", || memory.dead().len() == 1).await;
    w.shutdown().await.unwrap();
    let (_, errors) = memory.dead().pop().unwrap();
    assert_eq!(errors[0].class, "ActiveJob::Continuation::InvalidStepError");
    assert_eq!(errors[0].message, "invalid step: step 'b' found, expected to see 'a'");
}

#[tokio::test]
async fn a_continuable_job_is_enqueued_with_active_job_8_1_keys() {
    let adapter = jobs::adapters::TestAdapter::new();
    let rt = Runtime::builder().adapter(adapter.clone()).state(Log::default()).build().unwrap();
    rt.scope(Isolate::perform_later()).await.unwrap();
    let json = adapter.enqueued_jobs().pop().unwrap().to_json().unwrap();
    assert!(json.ends_with(r#""scheduled_at":null,"continuation":{"completed":[]},"resumptions":0}"#), "{json}");
    rt.scope(Record::perform_later()).await.unwrap();
    let plain = adapter.enqueued_jobs().pop().unwrap().to_json().unwrap();
    assert!(!plain.contains("continuation") && !plain.contains("resumptions"), "{plain}");
}

#[job]
async fn record() {}

/// The progress stored under the running job's claim, once the job logged that it paused.
async fn stored_progress(memory: &MemoryAdapter, rt: &Runtime) -> Value {
    eventually("the job to pause", || log(rt).lines().iter().any(|l| l.starts_with("paused "))).await;
    let lines = log(rt).lines();
    let id = lines.iter().find_map(|l| l.strip_prefix("paused ")).unwrap().to_owned();
    let info = memory.inspector().unwrap().find(&id).await.unwrap().expect("the running job");
    let payload: Value = serde_json::from_str(&info.payload).unwrap();
    payload["continuation"].clone()
}

#[tokio::test]
async fn a_worker_stores_progress_at_checkpoints_under_its_claim() {
    let memory = MemoryAdapter::new();
    let (rt, _) = recording_runtime(&memory);
    rt.scope(Tracked::perform_later(3)).await.unwrap();
    let worker = no_retries(&rt);
    let stored = stored_progress(&memory, &rt).await;
    assert_eq!(stored, json!({"completed": ["prepare"], "current": ["rows", 3]}), "every checkpoint is stored");
    worker.shutdown().await.unwrap();
}

#[tokio::test]
async fn checkpoints_are_stored_at_most_once_per_interval_and_at_each_completed_step() {
    let memory = MemoryAdapter::new();
    let (rt, _) = recording_runtime(&memory);
    rt.scope(Throttled::perform_later(3)).await.unwrap();
    let worker = no_retries(&rt);
    let stored = stored_progress(&memory, &rt).await;
    assert_eq!(stored, json!({"completed": ["prepare"]}), "the completed step is stored, the cursor not yet");
    worker.shutdown().await.unwrap();
}

//! The worker on the memory adapter: queues, priorities, schedules, retries, panics, shutdown.

mod common;

use std::time::Duration;

use common::{Log, eventually, log, runtime, worker};
use jobs::ManualClock;
use jobs::prelude::*;

#[job]
async fn record(label: String, log: State<Log>) {
    log.push(label);
}

#[job]
async fn flaky(label: String, log: State<Log>, ctx: &JobContext) -> Result<(), String> {
    log.push(format!("{label} attempt {}", ctx.executions()));
    if ctx.executions() < 3 { Err(format!("{label} not yet")) } else { Ok(()) }
}

#[job]
async fn explode(log: State<Log>) {
    log.push("exploding");
    panic!("boom");
}

#[job]
async fn slow(label: String, log: State<Log>, ctx: JobContext) -> Result<(), String> {
    log.push(format!("{label} started (attempt {})", ctx.executions()));
    tokio::select! {
        () = tokio::time::sleep(Duration::from_secs(30)) => Ok(()),
        () = ctx.stopped() => {
            log.push(format!("{label} asked to stop"));
            Err("interrupted".to_owned())
        }
    }
}

#[tokio::test]
async fn performs_only_the_queues_it_listens_to() {
    let memory = MemoryAdapter::new();
    let rt = runtime(&memory);
    rt.scope(async {
        Record::perform_later("default job".into()).await.unwrap();
        Record::set().queue("other").perform_later("other job".into()).await.unwrap();
    })
    .await;
    let handle = worker(&rt, &["default"], 2);
    eventually("default job performed", || log(&rt).lines() == ["default job"]).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    handle.shutdown().await.unwrap();
    assert_eq!(log(&rt).lines(), ["default job"]);
    assert_eq!(memory.pending(), 1, "the other queue's job is still waiting");
}

#[tokio::test]
async fn lower_priority_numbers_run_first_and_queues_in_listed_order() {
    let memory = MemoryAdapter::new();
    let rt = runtime(&memory);
    rt.scope(async {
        Record::set().priority(10).perform_later("p10".into()).await.unwrap();
        Record::set().priority(-5).perform_later("p-5".into()).await.unwrap();
        Record::perform_later("p-none".into()).await.unwrap();
        Record::set().priority(1).perform_later("p1".into()).await.unwrap();
        Record::set().queue("urgent").priority(99).perform_later("urgent".into()).await.unwrap();
    })
    .await;
    let handle = worker(&rt, &["urgent", "default"], 1);
    eventually("all performed", || log(&rt).lines().len() == 5).await;
    handle.shutdown().await.unwrap();
    assert_eq!(log(&rt).lines(), ["urgent", "p-5", "p-none", "p1", "p10"]);
}

#[tokio::test]
async fn scheduled_jobs_wait_for_their_time() {
    let clock = ManualClock::new("2030-01-01T00:00:00Z".parse().unwrap());
    let memory = MemoryAdapter::with_clock(std::sync::Arc::new(clock.clone()));
    let rt = Runtime::builder().adapter(memory.clone()).clock(clock.clone()).state(Log::default()).build().unwrap();
    rt.scope(async {
        Record::set().wait(Duration::from_secs(3600)).perform_later("in an hour".into()).await.unwrap();
        Record::perform_later("now".into()).await.unwrap();
    })
    .await;
    let handle = worker(&rt, &["default"], 2);
    eventually("the immediate job", || log(&rt).lines() == ["now"]).await;
    clock.advance(Duration::from_secs(3599));
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(log(&rt).lines(), ["now"], "a scheduled job never runs early");
    clock.advance(Duration::from_secs(1));
    eventually("the scheduled job once due", || log(&rt).lines() == ["now", "in an hour"]).await;
    handle.shutdown().await.unwrap();
}

#[tokio::test]
async fn failures_are_retried_in_process_until_they_succeed() {
    let memory = MemoryAdapter::new();
    let rt = runtime(&memory);
    rt.scope(Flaky::perform_later("invoice".into())).await.unwrap();
    let handle = worker(&rt, &["default"], 1);
    eventually("third attempt", || log(&rt).lines().len() == 3).await;
    handle.shutdown().await.unwrap();
    assert_eq!(log(&rt).lines(), ["invoice attempt 1", "invoice attempt 2", "invoice attempt 3"]);
    assert_eq!(memory.pending(), 0);
    assert!(memory.dead().is_empty());
}

#[tokio::test]
async fn a_panicking_job_is_a_failed_job_and_the_worker_goes_on() {
    let memory = MemoryAdapter::new();
    let rt = runtime(&memory);
    rt.scope(async {
        Explode::perform_later().await.unwrap();
        Record::perform_later("after the panic".into()).await.unwrap();
    })
    .await;
    let handle = worker(&rt, &["default"], 1);
    eventually("panicking job dead", || memory.dead().len() == 1).await;
    eventually("next job performed", || log(&rt).lines().contains(&"after the panic".to_owned())).await;
    handle.shutdown().await.unwrap();
    let (data, errors) = memory.dead().pop().unwrap();
    assert_eq!(data.job_class, "Explode");
    assert_eq!(data.executions, 4, "one run and three retries");
    assert_eq!(errors.len(), 4);
    assert_eq!(errors[0].class, "jobs::PanicError");
    assert!(errors[0].message.contains("boom"), "{:?}", errors[0]);
}

#[tokio::test]
async fn unknown_classes_and_garbage_payloads_end_dead_with_their_reason() {
    let memory = MemoryAdapter::new();
    let rt = runtime(&memory);
    let stranger = r#"{"job_class":"NobodyKnowsMe","job_id":"1","arguments":[],"queue_name":"default"}"#;
    memory.push_raw("default", stranger.to_owned());
    memory.push_raw("default", "{ not json".to_owned());
    rt.scope(Record::perform_later("still flowing".into())).await.unwrap();
    let handle = worker(&rt, &["default"], 1);
    eventually("both poisoned jobs dead", || memory.pending() == 0).await;
    handle.shutdown().await.unwrap();
    assert_eq!(log(&rt).lines(), ["still flowing"]);
    // The unknown class decodes, so it is listed with its payload; the garbage one is kept too.
    let dead = memory.dead();
    assert_eq!(dead.len(), 1, "only decodable payloads are listed with their JobData");
    let (data, errors) = &dead[0];
    assert_eq!(data.job_class, "NobodyKnowsMe");
    assert_eq!(errors.last().unwrap().class, "jobs::UnknownJob");
    assert!(errors.last().unwrap().message.contains("unknown job class `NobodyKnowsMe`"));
}

#[tokio::test]
async fn shutdown_asks_running_jobs_to_stop_and_hands_them_back_without_an_attempt() {
    let memory = MemoryAdapter::new();
    let rt = runtime(&memory);
    rt.scope(Slow::perform_later("report".into())).await.unwrap();
    let handle = worker(&rt, &["default"], 1);
    eventually("slow job started", || log(&rt).lines() == ["report started (attempt 1)"]).await;
    handle.shutdown().await.unwrap();
    assert_eq!(log(&rt).lines(), ["report started (attempt 1)", "report asked to stop"]);
    assert_eq!(memory.pending(), 1, "the job is back in the queue");
    assert!(memory.dead().is_empty());

    // The next worker runs it again as its first real attempt.
    let handle = worker(&rt, &["default"], 1);
    eventually("restarted", || log(&rt).lines().len() == 3).await;
    handle.shutdown().await.unwrap();
    assert_eq!(log(&rt).lines()[2], "report started (attempt 1)", "the interrupted run did not count");
}

#[job]
async fn quick(log: State<Log>) {
    log.push("quick started");
    tokio::time::sleep(Duration::from_millis(300)).await;
    log.push("quick finished");
}

#[tokio::test]
async fn shutdown_lets_running_jobs_finish_within_the_grace_period() {
    let memory = MemoryAdapter::new();
    let rt = runtime(&memory);
    rt.scope(Quick::perform_later()).await.unwrap();
    let handle = Worker::builder()
        .runtime(&rt)
        .poll_interval(Duration::from_millis(20))
        .shutdown_grace(Duration::from_secs(20))
        .build()
        .unwrap()
        .start();
    eventually("quick job started", || log(&rt).lines() == ["quick started"]).await;
    handle.shutdown().await.unwrap();
    assert_eq!(log(&rt).lines(), ["quick started", "quick finished"]);
    assert_eq!(memory.pending(), 0, "the job completed rather than being handed back");
}

#[job]
async fn fan_out(count: u32) -> Result<(), jobs::Error> {
    for i in 0..count {
        Record::perform_later(format!("child {i}")).await?;
    }
    Ok(())
}

#[tokio::test]
async fn jobs_enqueue_follow_ups_on_the_workers_runtime_without_an_installed_one() {
    let memory = MemoryAdapter::new();
    let rt = runtime(&memory);
    rt.perform_later(FanOut { count: 2 }).await.unwrap();
    let handle = worker(&rt, &["default"], 2);
    eventually("children performed", || log(&rt).lines().len() == 2).await;
    handle.shutdown().await.unwrap();
    let mut lines = log(&rt).lines();
    lines.sort();
    assert_eq!(lines, ["child 0", "child 1"]);
    assert!(memory.dead().is_empty(), "the parent did not fail for want of a runtime");
}

#[tokio::test]
async fn prefetched_jobs_wait_for_a_slot_and_go_back_at_shutdown() {
    let memory = MemoryAdapter::new();
    let rt = runtime(&memory);
    for label in ["a", "b", "c", "d"] {
        rt.perform_later(Slow { label: label.into() }).await.unwrap();
    }
    let handle = Worker::builder()
        .runtime(&rt)
        .concurrency(1)
        .prefetch(3)
        .poll_interval(std::time::Duration::from_millis(20))
        .shutdown_grace(std::time::Duration::from_millis(100))
        .build()
        .unwrap()
        .start();
    eventually("first job started", || log(&rt).lines() == ["a started (attempt 1)"]).await;
    let claimed = jobs::Inspect::counts(&memory).await.unwrap();
    assert_eq!(claimed.get("default", jobs::JobState::Running), 4, "one running, three claimed ahead: {claimed:?}");
    handle.shutdown().await.unwrap();
    assert_eq!(log(&rt).lines(), ["a started (attempt 1)", "a asked to stop"], "prefetched jobs never started");
    assert_eq!(memory.pending(), 4, "all four are back in the queue");
    let ready = jobs::Inspect::list(&memory, &jobs::ListParams::new().state(jobs::JobState::Ready)).await.unwrap();
    assert!(ready.jobs.iter().all(|job| job.attempts == 0), "no attempt spent: {ready:?}");
}

#[job]
async fn at_once(label: String, log: State<Log>) {
    log.push(label);
}

#[job]
async fn brief(label: String, log: State<Log>) {
    tokio::time::sleep(Duration::from_millis(2)).await;
    log.push(label);
}

/// Stores `jobs` and drains them with two workers (built by `worker`) over one memory store;
/// returns how many each ran.
async fn shared_by_two_workers(
    jobs: Vec<PendingJob>,
    worker: impl Fn(&Runtime) -> jobs::WorkerBuilder,
) -> (usize, usize) {
    let (memory, total) = (MemoryAdapter::new(), jobs.len());
    let (first, second) = (runtime(&memory), runtime(&memory));
    first.scope(jobs::perform_all_later(jobs)).await.unwrap();
    let (a, b) = (worker(&first).build().unwrap().start(), worker(&second).build().unwrap().start());
    eventually("every job ran", || log(&first).lines().len() + log(&second).lines().len() == total).await;
    a.shutdown().await.unwrap();
    b.shutdown().await.unwrap();
    (log(&first).lines().len(), log(&second).lines().len())
}

/// By default a worker claims ahead only what it will start within a few milliseconds, so a
/// second worker on the same backlog gets its share instead of finding everything claimed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_share_a_backlog_of_short_jobs() {
    let jobs = (0..600).map(|n| PendingJob::new(Brief { label: n.to_string() })).collect();
    let (first, second) = shared_by_two_workers(jobs, |rt| {
        Worker::builder().runtime(rt).concurrency(5).poll_interval(Duration::from_millis(20))
    })
    .await;
    assert!(first >= 150 && second >= 150, "each worker ran at least a quarter of the jobs: {first} and {second}");
}

/// Jobs that take no time at all are claimed hundreds at a time (the claim-ahead's cap, not its
/// horizon, bounds them), and still a second worker on the same backlog keeps busy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_share_a_backlog_of_instant_jobs() {
    let jobs = (0..20_000).map(|n| PendingJob::new(AtOnce { label: n.to_string() })).collect();
    let (first, second) = shared_by_two_workers(jobs, |rt| Worker::builder().runtime(rt).concurrency(10)).await;
    assert!(first >= 4_000 && second >= 4_000, "each worker ran at least a fifth of the jobs: {first} and {second}");
}

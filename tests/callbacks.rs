//! Enqueue and perform callbacks, per job and as global middleware; halting.

mod common;

use common::{Log, eventually, log, runtime, worker};
use jobs::adapters::{JobFilter, TestAdapter};
use jobs::prelude::*;
use jobs::{BoxFuture, Error, Halt, JobData, JobError, Middleware, NextEnqueue, NextPerform};

#[job(
    before_enqueue = [stamp_enqueue, check_enqueue],
    around_enqueue = wrap_enqueue,
    after_enqueue = enqueued,
    before_perform = check_perform,
    around_perform = wrap_perform,
    after_perform = performed
)]
async fn watched(label: String, log: State<Log>) {
    log.push(format!("perform {label}"));
}

fn log_of_current() -> State<Log> {
    Runtime::current().unwrap().state::<Log>().unwrap()
}

async fn stamp_enqueue(job: &JobData) {
    log_of_current().push(format!("before_enqueue 1 {}", job.arguments[0]));
}

async fn check_enqueue(job: &JobData) -> Result<(), Halt> {
    log_of_current().push("before_enqueue 2");
    if job.arguments[0] == "blocked" { Err(Halt::because("blocked label")) } else { Ok(()) }
}

async fn wrap_enqueue(job: &JobData, next: NextEnqueue<'_>) -> Result<(), Error> {
    log_of_current().push(format!("around_enqueue in {}", job.job_class));
    let result = next.run().await;
    log_of_current().push("around_enqueue out");
    result
}

async fn enqueued(_: &JobData) {
    log_of_current().push("after_enqueue");
}

async fn check_perform(ctx: &JobContext) -> Result<(), Halt> {
    let log = ctx.state::<Log>().unwrap();
    log.push("before_perform");
    if ctx.data().arguments[0] == "skip" { Err(Halt::because("skip label")) } else { Ok(()) }
}

async fn wrap_perform(ctx: &JobContext, next: NextPerform<'_>) -> Result<(), JobError> {
    ctx.state::<Log>().unwrap().push("around_perform in");
    let result = next.run().await;
    ctx.state::<Log>().unwrap().push("around_perform out");
    result
}

async fn performed(ctx: &JobContext) {
    ctx.state::<Log>().unwrap().push("after_perform");
}

/// Global middleware that records what it sees.
struct Audit;

impl Middleware for Audit {
    fn name(&self) -> &str {
        "Audit"
    }
    fn before_enqueue<'a>(&'a self, job: &'a JobData) -> BoxFuture<'a, Result<(), Halt>> {
        Box::pin(async move {
            log_of_current().push("global before_enqueue");
            if job.queue_name == "closed" { Err(Halt::because("queue closed")) } else { Ok(()) }
        })
    }
    fn after_enqueue<'a>(&'a self, _: &'a JobData) -> BoxFuture<'a, ()> {
        Box::pin(async { log_of_current().push("global after_enqueue") })
    }
    fn around_perform<'a>(&'a self, ctx: &'a JobContext, next: NextPerform<'a>) -> BoxFuture<'a, Result<(), JobError>> {
        Box::pin(async move {
            ctx.state::<Log>().unwrap().push("global around_perform in");
            let result = next.run().await;
            ctx.state::<Log>().unwrap().push("global around_perform out");
            result
        })
    }
    fn after_perform<'a>(&'a self, ctx: &'a JobContext) -> BoxFuture<'a, ()> {
        Box::pin(async move { ctx.state::<Log>().unwrap().push("global after_perform") })
    }
}

fn audited(adapter: impl jobs::adapter::Adapter) -> Runtime {
    Runtime::builder().adapter(adapter).middleware(Audit).state(Log::default()).build().unwrap()
}

#[tokio::test]
async fn callbacks_run_in_order_around_enqueue_and_perform() {
    let jobs = TestAdapter::new();
    let rt = audited(jobs.clone());
    rt.scope(async {
        Watched::perform_later("a".into()).await.unwrap();
        jobs.perform_enqueued_jobs(JobFilter::any()).await.unwrap();
    })
    .await;
    assert_eq!(
        log(&rt).lines(),
        [
            "global before_enqueue",
            "before_enqueue 1 \"a\"",
            "before_enqueue 2",
            "around_enqueue in Watched",
            "around_enqueue out",
            "after_enqueue",
            "global after_enqueue",
            "before_perform",
            "global around_perform in",
            "around_perform in",
            "perform a",
            "around_perform out",
            "global around_perform out",
            "after_perform",
            "global after_perform",
        ]
    );
}

#[tokio::test]
async fn a_halting_before_enqueue_returns_an_error_naming_the_callback() {
    let jobs = TestAdapter::new();
    let rt = audited(jobs.clone());
    let error = rt.scope(Watched::perform_later("blocked".into())).await.unwrap_err();
    assert_eq!(error.to_string(), "Watched was halted by callback `check_enqueue`: blocked label");
    let error = rt.scope(Watched::set().queue("closed").perform_later("x".into())).await.unwrap_err();
    assert_eq!(error.to_string(), "Watched was halted by callback `Audit`: queue closed");
    jobs.assert_no_enqueued_jobs(JobFilter::any());
    assert!(!log(&rt).lines().iter().any(|l| l.starts_with("around_enqueue")), "halted before the adapter");
}

#[tokio::test]
async fn a_halting_before_perform_skips_the_job_without_retrying_it() {
    let memory = MemoryAdapter::new();
    let rt = runtime(&memory);
    rt.scope(async {
        Watched::perform_later("skip".into()).await.unwrap();
        Watched::perform_later("run".into()).await.unwrap();
    })
    .await;
    let w = worker(&rt, &["default"], 1);
    eventually("second job performed", || log(&rt).lines().contains(&"perform run".to_owned())).await;
    eventually("queue empty", || memory.pending() == 0).await;
    w.shutdown().await.unwrap();
    let lines = log(&rt).lines();
    assert!(!lines.contains(&"perform skip".to_owned()), "{lines:?}");
    assert_eq!(lines.iter().filter(|l| *l == "before_perform").count(), 2, "halted once, not retried: {lines:?}");
    assert!(memory.dead().is_empty());

    let error = rt.scope(Watched::perform_now("skip".into())).await.unwrap_err();
    assert_eq!(error.to_string(), "Watched was halted by callback `check_perform`: skip label");
}

/// Its `around_perform` lets the job run only for the label "go".
#[job(around_perform = gate)]
async fn gated(label: String, log: State<Log>) {
    log.push(format!("perform {label}"));
}

async fn gate(ctx: &JobContext, next: NextPerform<'_>) -> Result<(), JobError> {
    if ctx.data().arguments[0] == "go" {
        next.run().await
    } else {
        ctx.state::<Log>().unwrap().push("gate closed");
        Ok(())
    }
}

#[tokio::test]
async fn an_around_perform_that_does_not_call_next_halts_the_job() {
    let memory = MemoryAdapter::new();
    let rt = runtime(&memory);
    rt.scope(async {
        Gated::perform_later("stop".into()).await.unwrap();
        Gated::perform_later("go".into()).await.unwrap();
    })
    .await;
    let w = worker(&rt, &["default"], 1);
    eventually("the second job performed", || log(&rt).lines().contains(&"perform go".to_owned())).await;
    eventually("queue empty", || memory.pending() == 0).await;
    w.shutdown().await.unwrap();
    assert_eq!(log(&rt).lines(), ["gate closed", "perform go"], "skipped once, not retried");
    assert!(memory.dead().is_empty(), "a skipped job is no failure");

    let error = rt.scope(Gated::perform_now("stop".into())).await.unwrap_err();
    assert_eq!(error.to_string(), "Gated was halted by callback `gate`");
}

/// Two of each after callback, to show their order.
#[job(after_enqueue = [after_enqueue_1, after_enqueue_2], after_perform = [after_perform_1, after_perform_2])]
async fn ordered(log: State<Log>) {
    log.push("perform");
}

async fn after_enqueue_1(_: &JobData) {
    log_of_current().push("after_enqueue 1");
}

async fn after_enqueue_2(_: &JobData) {
    log_of_current().push("after_enqueue 2");
}

async fn after_perform_1(ctx: &JobContext) {
    ctx.state::<Log>().unwrap().push("after_perform 1");
}

async fn after_perform_2(ctx: &JobContext) {
    ctx.state::<Log>().unwrap().push("after_perform 2");
}

#[tokio::test]
async fn after_callbacks_run_last_declared_first_then_global_ones_as_in_active_job() {
    let jobs = TestAdapter::new();
    let rt = audited(jobs.clone());
    rt.scope(async {
        Ordered::perform_later().await.unwrap();
        jobs.perform_enqueued_jobs(JobFilter::any()).await.unwrap();
    })
    .await;
    assert_eq!(
        log(&rt).lines(),
        [
            "global before_enqueue",
            "after_enqueue 2",
            "after_enqueue 1",
            "global after_enqueue",
            "global around_perform in",
            "perform",
            "global around_perform out",
            "after_perform 2",
            "after_perform 1",
            "global after_perform",
        ]
    );
}

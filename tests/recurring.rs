//! Recurring jobs through the facade: `#[job(cron)]` run by a worker's scheduler with the tick in
//! `JobContext`, `Recurring` tasks and recurring files stored at start, and start-up errors.

mod common;

use std::time::Duration;

use common::{Log, eventually, log, runtime};
use jobs::prelude::*;
use jobs::{RecurringTasks, Worker};

#[job(cron = "* * * * * *", queue = "ticks")]
async fn every_second(ctx: &JobContext, log: State<Log>) {
    let run = ctx.recurring().expect("a recurring job knows its tick");
    log.push(format!("{} {}", run.task, run.run_at.timestamp_subsec_nanos()));
}

#[job]
async fn report(kind: String, log: State<Log>) {
    log.push(format!("report {kind}"));
}

fn worker(runtime: &Runtime) -> jobs::WorkerBuilder {
    Worker::builder().runtime(runtime).queues(["ticks", "reports"]).poll_interval(Duration::from_millis(20))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cron_job_runs_each_second_with_its_tick() {
    let memory = MemoryAdapter::new();
    let runtime = runtime(&memory);
    let handle = worker(&runtime).build().unwrap().start();
    let log = log(&runtime);
    eventually("two ticks performed", || log.lines().len() >= 2).await;
    handle.shutdown().await.unwrap();
    for line in log.lines() {
        assert_eq!(line, "EverySecond 0", "keyed by the class, on whole seconds");
    }
    let tasks = RecurringTasks::new(&runtime).unwrap().list().await.unwrap();
    assert_eq!(tasks.len(), 1);
    assert!(tasks[0].state.task.is_static && tasks[0].state.last_job_id.is_some());
}

#[tokio::test]
async fn an_invalid_schedule_is_a_start_up_error_naming_the_task_and_expression() {
    let runtime = runtime(&MemoryAdapter::new());
    let bad = Recurring::new("nightly", "0 25 * * *").job(Report { kind: "daily".into() });
    let error = worker(&runtime).recurring(bad).build().unwrap_err().to_string();
    assert!(error.contains("`nightly`") && error.contains("0 25 * * *"), "{error}");

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("recurring.toml");
    std::fs::write(&file, "[cleanup]\nclass = \"Cleanup\"\nschedule = \"every blue moon\"\n").unwrap();
    let error = worker(&runtime).recurring_file(&file).build().unwrap_err().to_string();
    assert!(
        error.contains("recurring.toml") && error.contains("`cleanup`") && error.contains("every blue moon"),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tasks_removed_from_the_file_are_removed_at_the_next_start() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = SqliteAdapter::open(dir.path().join("jobs.db")).await.unwrap();
    let runtime = Runtime::builder().adapter(sqlite).state(Log::default()).build().unwrap();
    let file = dir.path().join("recurring.toml");
    std::fs::write(
        &file,
        "[weekly]\nclass = \"Report\"\nargs = [\"weekly\"]\nschedule = \"0 9 * * 1\"\ntime_zone = \"Europe/Paris\"\n\n\
         [daily]\nclass = \"Report\"\nargs = [\"daily\"]\nschedule = \"@daily\"\nqueue = \"reports\"\n",
    )
    .unwrap();
    let first = worker(&runtime).recurring_file(&file).build().unwrap().start();
    let tasks = RecurringTasks::new(&runtime).unwrap();
    eventually_async(|| async { tasks.list().await.unwrap().len() == 3 }).await;
    tasks.run_now("daily").await.unwrap();
    let log = log(&runtime);
    eventually("the daily report ran now", || log.lines().contains(&"report daily".to_owned())).await;
    first.shutdown().await.unwrap();

    std::fs::write(&file, "[weekly]\nclass = \"Report\"\nargs = [\"weekly\"]\nschedule = \"0 9 * * 1\"\n").unwrap();
    let second = worker(&runtime).recurring_file(&file).build().unwrap().start();
    eventually_async(|| async { tasks.list().await.unwrap().len() == 2 }).await;
    let keys: Vec<String> = tasks.list().await.unwrap().into_iter().map(|info| info.state.task.key).collect();
    assert_eq!(keys, ["EverySecond", "weekly"], "daily is gone; the cron job of the code stays");
    second.shutdown().await.unwrap();
}

async fn eventually_async<F, Fut>(check: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..400 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("timed out");
}

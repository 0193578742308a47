//! Recurring jobs on SQLite: a `#[job(cron)]` job every two seconds, a `Recurring` task built in
//! code, and two workers that both run a scheduler, each tick enqueued once. It prints the ticks
//! and stops by itself after a few.
//!
//! ```text
//! cargo run --example recurring              # jobs in a temporary file
//! cargo run --example recurring -- /tmp/r.db # jobs in this file
//! ```

use std::sync::Mutex;
use std::time::Duration;

use jobs::prelude::*;
use jobs::{Error, Recurring, RecurringTasks};
use tokio::sync::Notify;

const TICKS: usize = 4;

/// The ticks performed, in order.
#[derive(Default)]
struct Ticks {
    seen: Mutex<Vec<String>>,
    changed: Notify,
}

/// Every two seconds, on whole seconds, whatever the number of workers.
#[job(cron = "*/2 * * * * *", queue = "ticks")]
async fn heartbeat(ctx: &JobContext, ticks: State<Ticks>) {
    let run = ctx.recurring().expect("enqueued by the scheduler");
    let line = format!("{} tick at {} (job {})", run.task, run.run_at.format("%H:%M:%S"), ctx.job_id());
    println!("{line}");
    ticks.seen.lock().unwrap().push(line);
    ticks.changed.notify_waiters();
}

/// A job with arguments: scheduled through `Recurring`.
#[job(queue = "ticks")]
async fn report(kind: String) {
    println!("report: {kind}");
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    let dir = tempfile::tempdir().map_err(|e| Error::Config(e.to_string()))?;
    let path = std::env::args().nth(1).map_or_else(|| dir.path().join("recurring.db"), Into::into);
    let sqlite = SqliteAdapter::open(&path).await?;
    let runtime = Runtime::builder().adapter(sqlite).state(Ticks::default()).build()?;

    let nightly = Recurring::new("nightly-report", "0 3 * * *")
        .job(Report { kind: "nightly".into() })
        .time_zone("Europe/Paris")
        .description("yesterday's numbers");
    // Two workers, as two processes would be: both run a scheduler; the store lets each tick through once.
    let workers = [
        Worker::builder().runtime(&runtime).queues(["ticks"]).recurring(nightly).build()?.start(),
        Worker::builder().runtime(&runtime).queues(["ticks"]).build()?.start(),
    ];

    let ticks = runtime.state::<Ticks>()?;
    while ticks.seen.lock().unwrap().len() < TICKS {
        tokio::time::timeout(Duration::from_secs(10), ticks.changed.notified())
            .await
            .map_err(|_| Error::Config("no tick within 10 seconds".into()))?;
    }
    for worker in workers {
        worker.shutdown().await?;
    }

    for info in RecurringTasks::new(&runtime)?.list().await? {
        let task = &info.state.task;
        println!(
            "task {}: {} {}, next run {}, last run {}",
            task.key,
            task.class,
            task.schedule,
            info.next_run_at.map_or("-".into(), |at| at.to_rfc3339()),
            info.state.last_run_at.map_or("never".into(), |at| at.to_rfc3339()),
        );
    }
    let seen = ticks.seen.lock().unwrap().clone();
    let mut times: Vec<&str> = seen.iter().filter_map(|line| line.split(" tick at ").nth(1)).collect();
    times.dedup();
    assert_eq!(times.len(), seen.len(), "each tick was performed once");
    println!("{} ticks, each once, with two schedulers", seen.len());
    Ok(())
}

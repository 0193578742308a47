//! Quick start: declare jobs, store some for now and some for later in SQLite, run a worker until
//! every job in the database is done, and print what happened.
//!
//! ```text
//! cargo run --example quickstart                       # jobs in ./jobs.db
//! cargo run --example quickstart -- /tmp/demo.db       # or another file
//! JOBS_DATABASE=/tmp/demo.db cargo run --example quickstart
//! ```
//!
//! Jobs outlive the process: stop a run with Ctrl-C (or `kill -9`) while the images are being
//! resized, run it again, and the second run performs the jobs the first one left.

use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use jobs::prelude::*;
use jobs::{Inspect, JobState};
use tracing_subscriber::EnvFilter;

/// What the jobs did, shared with them as application state.
struct Journal {
    started: DateTime<Utc>,
    lines: Mutex<Vec<String>>,
    leftovers: Mutex<usize>,
}

impl Journal {
    fn write(&self, ctx: &JobContext, line: String) {
        let earlier = ctx.enqueued_at().is_some_and(|at| at < self.started);
        if earlier {
            *self.leftovers.lock().unwrap() += 1;
        }
        println!("  {line}{}", if earlier { "  (left by an earlier run)" } else { "" });
        self.lines.lock().unwrap().push(line);
    }
}

/// Sends a welcome email (here: writes a line in the journal).
#[job(queue = "mailers")]
async fn send_welcome_email(address: String, journal: State<Journal>, ctx: &JobContext) {
    journal.write(ctx, format!("welcome email sent to {address} (job {}, attempt {})", ctx.job_id(), ctx.executions()));
}

/// Adds up an invoice; fails for an empty one.
#[job(queue = "billing", priority = 5)]
async fn bill_customer(
    customer_id: u64,
    amounts: Vec<u32>,
    journal: State<Journal>,
    ctx: &JobContext,
) -> Result<(), String> {
    if amounts.is_empty() {
        return Err(format!("customer {customer_id} has nothing to bill"));
    }
    journal.write(ctx, format!("billed customer {customer_id}: {} cents", amounts.iter().sum::<u32>()));
    Ok(())
}

/// Resizes an image (here: takes a second), long enough to interrupt the run.
#[job(queue = "media")]
async fn resize_image(name: String, journal: State<Journal>, ctx: &JobContext) {
    tokio::time::sleep(Duration::from_secs(1)).await;
    journal.write(ctx, format!("resized {name}"));
}

/// A nightly clean-up, scheduled for later.
#[job]
async fn clean_up(table: String, journal: State<Journal>, ctx: &JobContext) {
    journal.write(ctx, format!("cleaned up {table}"));
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The Rails-style log lines ("Enqueued ..", "Performed .. in 1.20ms"), on stderr; RUST_LOG
    // picks what shows (default `info`; `RUST_LOG=jobs=debug` for more, `RUST_LOG=off` for none).
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .with_writer(std::io::stderr)
        .init();
    let path =
        std::env::args().nth(1).or_else(|| std::env::var("JOBS_DATABASE").ok()).unwrap_or_else(|| "jobs.db".to_owned());
    let sqlite = SqliteAdapter::open(&path).await?;
    let left = sqlite.counts().await?.pending();
    let journal = Journal { started: Utc::now(), lines: Mutex::default(), leftovers: Mutex::default() };
    let runtime = Runtime::builder().adapter(sqlite.clone()).state(journal).build()?;
    runtime.install();

    println!("Jobs are stored in {path} ({}).", runtime.adapter().name());
    if left > 0 {
        println!("{left} jobs were left there by an earlier run: this run performs them too.");
    }
    println!("Enqueueing jobs:");
    let job = SendWelcomeEmail::perform_later("ada@example.com".into()).await?;
    println!("  SendWelcomeEmail -> job id {} on queue {}", job.job_id, job.queue);
    BillCustomer::perform_later(42, vec![1999, 500]).await?;
    let later = CleanUp::set().wait(Duration::from_secs(2)).perform_later("sessions".into()).await?;
    println!("  CleanUp -> scheduled at {}", later.scheduled_at.expect("scheduled"));
    let images = ["cat.png", "dog.png", "owl.png", "fox.png", "elk.png", "bee.png"];
    perform_all_later(
        [
            PendingJob::new(SendWelcomeEmail { address: "grace@example.com".into() }),
            PendingJob::new(BillCustomer { customer_id: 7, amounts: vec![250] }),
        ]
        .into_iter()
        .chain(images.iter().map(|name| PendingJob::new(ResizeImage { name: (*name).into() }))),
    )
    .await?;
    println!("  2 more emails and bills, and {} images to resize, in one insert", images.len());

    println!("Performing now, without a queue:");
    BillCustomer::perform_now(1, vec![100]).await?;

    println!("Running a worker until every job in {path} is done (Ctrl-C to interrupt):");
    let worker = Worker::builder()
        .queues(["mailers", "billing", "media", "default"])
        .concurrency(2)
        .lease(Duration::from_secs(5))
        .poll_interval(Duration::from_millis(100))
        .shutdown_grace(Duration::from_secs(5))
        .build()?
        .start();
    let all_done = async {
        while sqlite.counts().await.map_or(true, |counts| counts.pending() > 0) {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    let interrupted = tokio::select! {
        () = all_done => false,
        () = jobs::shutdown_signal() => true,
    };
    worker.shutdown().await?;

    let journal = runtime.state::<Journal>()?;
    let counts = sqlite.counts().await?;
    let performed = journal.lines.lock().unwrap().len();
    let leftovers = *journal.leftovers.lock().unwrap();
    println!(
        "{}: {performed} jobs performed, {leftovers} of them left by an earlier run.",
        if interrupted { "Interrupted" } else { "Done" }
    );
    println!(
        "{path} now holds {} completed, {} dead and {} pending jobs{}.",
        counts.total(JobState::Completed),
        counts.total(JobState::Dead),
        counts.pending(),
        if counts.pending() > 0 { ": run again to perform them" } else { "" }
    );
    sqlite.close().await;
    Ok(())
}

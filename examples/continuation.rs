//! Long jobs in steps: a continuable import on SQLite that a shutdown interrupts at a checkpoint
//! and the next run resumes at the step and cursor it reached.
//!
//! ```text
//! cargo run --example continuation                  # Ctrl-C while rows are imported, then run again
//! cargo run --example continuation -- --stop-once   # stops its worker once by itself, then resumes
//! cargo run --example continuation -- /tmp/c.db     # jobs in another file (default ./continuation.db)
//! ```

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use jobs::prelude::*;
use jobs::{Error, Inspect, WorkerHandle};
use tokio::sync::Notify;
use tracing_subscriber::EnvFilter;

const ROWS: u64 = 2_000;
/// With `--stop-once`, the worker is stopped once this many rows were imported in this process.
const STOP_AFTER: u64 = 700;

/// What the import reports to `main`.
#[derive(Default)]
struct Progress {
    rows: AtomicU64,
    reached: Notify,
}

/// Downloads a file, imports its rows one checkpoint at a time, then cleans up. Completed steps
/// are skipped when the job resumes; the `rows` step resumes at its cursor.
#[job(continuable(resume_wait = "1s"))]
async fn import_csv(file: String, progress: State<Progress>, ctx: &JobContext) -> Result<(), Error> {
    let progress: &Progress = &progress;
    if ctx.resumptions() > 0 {
        println!("Resuming {file} (resumption {}): {}", ctx.resumptions(), where_it_stopped(ctx));
    }
    ctx.step("download", |_| async {
        println!("  download: fetching {file}");
        tokio::time::sleep(Duration::from_millis(300)).await;
        Ok::<_, Error>(())
    })
    .await?;
    ctx.step("rows", |step| async move {
        let mut row = step.cursor::<u64>()?.unwrap_or(0);
        println!("  rows: {} at row {row}", if step.resumed() { "resumed" } else { "started" });
        while row < ROWS {
            tokio::time::sleep(Duration::from_millis(2)).await; // import row `row` here
            row += 1;
            if progress.rows.fetch_add(1, Ordering::SeqCst) + 1 == STOP_AFTER {
                progress.reached.notify_one();
            }
            if row % 250 == 0 {
                println!("  rows: {row} of {ROWS}");
            }
            step.set(row).await?; // a checkpoint: a shutdown stops the job here, at this cursor
        }
        Ok::<_, Error>(())
    })
    .await?;
    ctx.step("finish", |_| async {
        println!("  finish: {file} imported");
        Ok::<_, Error>(())
    })
    .await
}

/// The step and cursor the payload carries: where the last run stopped.
fn where_it_stopped(ctx: &JobContext) -> String {
    ctx.data().continuation.as_ref().map(|c| c.description()).unwrap_or_else(|| "not started".to_owned())
}

fn worker() -> Result<WorkerHandle, Error> {
    Ok(Worker::builder().concurrency(1).poll_interval(Duration::from_millis(100)).build()?.start())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("jobs=info")))
        .with_writer(std::io::stderr)
        .init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let stop_once = args.iter().any(|a| a == "--stop-once");
    let path = args.iter().find(|a| !a.starts_with("--")).cloned().unwrap_or_else(|| "continuation.db".to_owned());
    let sqlite = SqliteAdapter::open(&path).await?;
    let runtime = Runtime::builder().adapter(sqlite.clone()).state(Progress::default()).build()?;
    runtime.install();

    if sqlite.counts().await?.pending() == 0 {
        let job = ImportCsv::perform_later("customers.csv".into()).await?;
        println!("Enqueued an import of {ROWS} rows (job {}) in {path}.", job.job_id);
    } else {
        println!("An import left in {path} by an earlier run: this run resumes it.");
    }
    let all_done = async {
        while sqlite.counts().await.map_or(true, |counts| counts.pending() > 0) {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    tokio::pin!(all_done);

    let mut running = worker()?;
    if stop_once {
        let progress = runtime.state::<Progress>()?;
        tokio::select! {
            () = progress.reached.notified() => {}
            () = &mut all_done => {}
        }
        println!("Stopping the worker after {STOP_AFTER} rows, as a deploy would...");
        running.shutdown().await?;
        println!("Stopped. Starting a new worker, which resumes the import.");
        running = worker()?;
    }
    let interrupted = tokio::select! {
        () = &mut all_done => false,
        () = jobs::shutdown_signal() => true,
    };
    running.shutdown().await?;
    if interrupted {
        println!("Interrupted: the import is stored with its progress. Run again to resume it.");
    } else {
        println!("Done: {path} holds no pending job.");
    }
    sqlite.close().await;
    Ok(())
}

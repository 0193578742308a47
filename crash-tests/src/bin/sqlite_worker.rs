//! Helper of the SQLite crash tests (`tests/sqlite.rs`), not a tool: runs one side of a worker
//! process on a SQLite jobs file, so that the tests can kill it with SIGKILL mid-run.
//!
//! ```text
//! sqlite-worker enqueue DB COUNT      store COUNT jobs numbered 0..COUNT
//! sqlite-worker work DB DIR [--stall] perform jobs until none is left, then exit
//! ```
//!
//! A job appends its number to `DIR/started-PID.log` when it starts and to `DIR/done-PID.log`
//! when it is done; with `--stall`, every tenth job never finishes, so that some jobs are
//! certainly running when the process is killed.

use std::path::{Path, PathBuf};
use std::time::Duration;

use jobs_core::encoding::{ArgumentsReader, to_argument};
use jobs_core::{Error, Job, JobContext, PendingJob, Registry, Runtime, Worker};
use jobs_crash_tests::drain::until_drained;
use jobs_crash_tests::log::append;
use jobs_sqlite::SqliteAdapter;
use serde_json::Value;

/// Where jobs log, and whether every tenth one stalls.
struct Settings {
    dir: PathBuf,
    stall: bool,
}

struct CrashJob {
    n: u64,
}

impl Job for CrashJob {
    const NAME: &'static str = "CrashJob";
    type Output = ();

    fn to_arguments(&self, _cx: &jobs_core::encoding::EncodeContext<'_>) -> Result<Vec<Value>, Error> {
        Ok(vec![to_argument(Self::NAME, "n", &self.n)?])
    }

    fn from_arguments(arguments: Vec<Value>) -> Result<Self, Error> {
        Ok(CrashJob { n: ArgumentsReader::new(Self::NAME, arguments, 1)?.next("n")? })
    }

    async fn perform(self, ctx: JobContext) -> Result<(), Error> {
        let settings = ctx.state::<Settings>()?;
        append(&settings.dir, "started", &self.n.to_string());
        if settings.stall && self.n.is_multiple_of(10) {
            std::future::pending::<()>().await;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
        append(&settings.dir, "done", &self.n.to_string());
        Ok(())
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["enqueue", db, count] => runtime.block_on(enqueue(Path::new(db), count.parse()?)),
        ["work", db, dir, rest @ ..] => runtime.block_on(work(Path::new(db), Path::new(dir), rest == ["--stall"])),
        _ => Err("usage: sqlite-worker enqueue DB COUNT | work DB DIR [--stall]".into()),
    }
}

fn jobs_runtime(sqlite: SqliteAdapter, settings: Settings) -> Result<Runtime, Error> {
    let mut registry = Registry::new();
    registry.register::<CrashJob>()?;
    Runtime::builder().adapter(sqlite).registry(registry).state(settings).build()
}

async fn enqueue(db: &Path, count: u64) -> Result<(), Box<dyn std::error::Error>> {
    let sqlite = SqliteAdapter::open(db).await?;
    let runtime = jobs_runtime(sqlite.clone(), Settings { dir: PathBuf::new(), stall: false })?;
    runtime.perform_all_later((0..count).map(|n| PendingJob::new(CrashJob { n }))).await?;
    sqlite.close().await;
    Ok(())
}

async fn work(db: &Path, dir: &Path, stall: bool) -> Result<(), Box<dyn std::error::Error>> {
    let sqlite = SqliteAdapter::open(db).await?;
    let runtime = jobs_runtime(sqlite.clone(), Settings { dir: dir.to_owned(), stall })?;
    Worker::builder()
        .runtime(&runtime)
        .concurrency(8)
        .lease(Duration::from_secs(2))
        .poll_interval(Duration::from_millis(50))
        .shutdown_grace(Duration::from_millis(500))
        .stop_timeout(Duration::from_millis(500))
        .build()?
        // Stops when every job is done, or on SIGTERM / SIGINT like any worker.
        .run_until(until_drained(&sqlite))
        .await?;
    sqlite.close().await;
    Ok(())
}

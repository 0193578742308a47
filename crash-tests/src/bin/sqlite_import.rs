//! Helper of the SQLite continuation crash test (`tests/continuation.rs`), not a tool: a worker
//! process running a continuable import on a SQLite jobs file, to be stopped with SIGTERM or
//! killed with SIGKILL mid-step.
//!
//! ```text
//! sqlite-import enqueue DB ROWS   store one import of rows 0..ROWS
//! sqlite-import work DB DIR       perform until no job is left, then exit
//! ```
//!
//! The import appends each row it saves to `DIR/rows-PID.log` and each step it runs to
//! `DIR/steps-PID.log`, one write per line so that a kill never tears one.

use std::path::{Path, PathBuf};
use std::time::Duration;

use jobs_core::encoding::{ArgumentsReader, EncodeContext, to_argument};
use jobs_core::{Continuable, Error, Job, JobContext, Registry, Runtime, Worker};
use jobs_crash_tests::drain::until_drained;
use jobs_crash_tests::log::append;
use jobs_sqlite::SqliteAdapter;
use serde_json::Value;

/// How often, at most, the import's progress is stored at its checkpoints (it also is at each
/// completed step): the most work a SIGKILL makes it repeat.
const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(50);

/// Where the import logs.
struct LogDir(PathBuf);

struct CrashImport {
    rows: u64,
}

impl Job for CrashImport {
    const NAME: &'static str = "CrashImport";
    const CONTINUABLE: Option<Continuable> =
        Some(Continuable::new().resume_wait(Duration::ZERO).checkpoint_interval(CHECKPOINT_INTERVAL));
    type Output = Result<(), Error>;

    fn to_arguments(&self, _cx: &EncodeContext<'_>) -> Result<Vec<Value>, Error> {
        Ok(vec![to_argument(Self::NAME, "rows", &self.rows)?])
    }

    fn from_arguments(arguments: Vec<Value>) -> Result<Self, Error> {
        Ok(CrashImport { rows: ArgumentsReader::new(Self::NAME, arguments, 1)?.next("rows")? })
    }

    async fn perform(self, ctx: JobContext) -> Result<Self::Output, Error> {
        let dir = ctx.state::<LogDir>()?;
        let dir = dir.0.as_path();
        Ok(async {
            ctx.step("prepare", |_| async {
                append(dir, "steps", "prepare");
                Ok::<_, Error>(())
            })
            .await?;
            ctx.step("rows", |step| async move {
                append(dir, "steps", "rows");
                let mut row = step.cursor::<u64>()?.unwrap_or(0);
                while row < self.rows {
                    append(dir, "rows", &row.to_string());
                    row += 1;
                    step.set(row).await?;
                    if row.is_multiple_of(10) {
                        tokio::time::sleep(Duration::from_millis(2)).await;
                    }
                }
                Ok::<_, Error>(())
            })
            .await?;
            ctx.step("finish", |_| async {
                append(dir, "steps", "finish");
                Ok(())
            })
            .await
        }
        .await)
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["enqueue", db, rows] => runtime.block_on(enqueue(Path::new(db), rows.parse()?)),
        ["work", db, dir] => runtime.block_on(work(Path::new(db), Path::new(dir))),
        _ => Err("usage: sqlite-import enqueue DB ROWS | work DB DIR".into()),
    }
}

fn jobs_runtime(sqlite: SqliteAdapter, dir: &Path) -> Result<Runtime, Error> {
    let mut registry = Registry::new();
    registry.register::<CrashImport>()?;
    Runtime::builder().adapter(sqlite).registry(registry).state(LogDir(dir.to_owned())).build()
}

async fn enqueue(db: &Path, rows: u64) -> Result<(), Box<dyn std::error::Error>> {
    let sqlite = SqliteAdapter::open(db).await?;
    jobs_runtime(sqlite.clone(), Path::new("."))?.perform_later(CrashImport { rows }).await?;
    sqlite.close().await;
    Ok(())
}

async fn work(db: &Path, dir: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let sqlite = SqliteAdapter::open(db).await?;
    let runtime = jobs_runtime(sqlite.clone(), dir)?;
    Worker::builder()
        .runtime(&runtime)
        .lease(Duration::from_secs(2))
        .poll_interval(Duration::from_millis(50))
        .build()?
        .run_until(until_drained(&sqlite))
        .await?;
    sqlite.close().await;
    Ok(())
}

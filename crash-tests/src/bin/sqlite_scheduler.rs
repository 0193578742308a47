//! Helper of the recurring crash test (`tests/recurring.rs`), not a tool: a worker process
//! running a scheduler on a SQLite jobs file, with one task ticking every second, so that the
//! test can kill it with SIGKILL mid-run while another process schedules the same task.
//!
//! ```text
//! sqlite-scheduler DB DIR     schedule and perform until SIGTERM
//! ```
//!
//! A performed tick appends its time (seconds since the epoch) to `DIR/ticks-PID.log`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use jobs_core::{Error, Job, JobContext, MissedTicks, Recurring, Registry, Runtime, Worker};
use jobs_crash_tests::log::append;
use jobs_sqlite::SqliteAdapter;
use serde_json::Value;

struct Dir(PathBuf);

struct Tick;

impl Job for Tick {
    const NAME: &'static str = "Tick";
    type Output = ();

    fn to_arguments(&self, _cx: &jobs_core::encoding::EncodeContext<'_>) -> Result<Vec<Value>, Error> {
        Ok(Vec::new())
    }

    fn from_arguments(_arguments: Vec<Value>) -> Result<Self, Error> {
        Ok(Tick)
    }

    async fn perform(self, ctx: JobContext) -> Result<(), Error> {
        let dir = ctx.state::<Dir>()?;
        let run = ctx.recurring().ok_or_else(|| Error::Config("a tick without its time".into()))?;
        append(&dir.0, "ticks", &run.run_at.timestamp().to_string());
        Ok(())
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [db, dir] = args.as_slice() else { return Err("usage: sqlite-scheduler DB DIR".into()) };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    runtime.block_on(work(Path::new(db), Path::new(dir)))
}

async fn work(db: &Path, dir: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let sqlite = SqliteAdapter::open(db).await?;
    let mut registry = Registry::new();
    registry.register::<Tick>()?;
    let runtime = Runtime::builder().adapter(sqlite.clone()).registry(registry).state(Dir(dir.to_owned())).build()?;
    // A late scheduler catches up every tick of the last minute: the test expects no gap.
    let every_second =
        Recurring::new("every-second", "* * * * * *").job(Tick).missed(MissedTicks::within(Duration::from_secs(60))?);
    Worker::builder()
        .runtime(&runtime)
        .recurring(every_second)
        .lease(Duration::from_secs(2))
        .poll_interval(Duration::from_millis(50))
        .shutdown_grace(Duration::from_millis(500))
        .build()?
        .run()
        .await?;
    sqlite.close().await;
    Ok(())
}

//! Helper of the concurrency-slot crash test (`tests/concurrency_slots.rs`), not a tool: a worker
//! process on a SQLite jobs file whose job class allows two runs per key at once, so that the test
//! can kill it with SIGKILL while its jobs hold every slot of their key.
//!
//! ```text
//! sqlite-limited enqueue DB KEY FIRST COUNT [--long]  store COUNT jobs of KEY numbered FIRST..
//! sqlite-limited work DB DIR [--hog]                  perform until no job is left, then exit
//! ```
//!
//! A run appends `start N TIME` to `DIR/ledger-PID.log` once it holds its slot and `end N TIME`
//! before it gives it back (see `jobs_crash_tests::limited`). With `--hog`, the jobs enqueued
//! `--long` never end, holding their slots until the process dies, and the worker's lease is the
//! long `HOG_LEASE`; without it, every job runs for `RUN`.

use std::path::{Path, PathBuf};

use jobs_core::encoding::{ArgumentsReader, EncodeContext, to_argument};
use jobs_core::{
    ConcurrencyLimit, Error, FlowControl, FlowKey, Job, JobContext, PendingJob, Registry, Runtime, Worker,
};
use jobs_crash_tests::drain::until_drained;
use jobs_crash_tests::limited::{Entry, Event, HOG_LEASE, HOLD, LEASE, LEDGER, LIMIT, RUN};
use jobs_crash_tests::log::append;
use jobs_sqlite::SqliteAdapter;
use serde_json::Value;

/// Where runs log, and whether long jobs hog their slots.
struct Settings {
    dir: PathBuf,
    hog: bool,
}

/// What `#[job(limits_concurrency(to = 2, key = |job| job.key.clone(), duration = "5s"))]` on
/// `async fn limited(n: u64, key: String, long: bool)` declares, by hand as the other helpers do.
struct Limited {
    n: u64,
    key: String,
    long: bool,
}

impl Job for Limited {
    const NAME: &'static str = "Limited";
    const FLOW: FlowControl =
        FlowControl { concurrency: Some(ConcurrencyLimit::to(LIMIT).duration(HOLD)), ..FlowControl::NONE };
    type Output = ();

    fn to_arguments(&self, _cx: &EncodeContext<'_>) -> Result<Vec<Value>, Error> {
        Ok(vec![
            to_argument(Self::NAME, "n", &self.n)?,
            to_argument(Self::NAME, "key", &self.key)?,
            to_argument(Self::NAME, "long", &self.long)?,
        ])
    }

    fn from_arguments(arguments: Vec<Value>) -> Result<Self, Error> {
        let mut reader = ArgumentsReader::new(Self::NAME, arguments, 3)?;
        Ok(Limited { n: reader.next("n")?, key: reader.next("key")?, long: reader.next("long")? })
    }

    fn flow_key(&self, which: FlowKey) -> Option<String> {
        (which == FlowKey::Concurrency).then(|| self.key.clone())
    }

    async fn perform(self, ctx: JobContext) -> Result<(), Error> {
        let settings = ctx.state::<Settings>()?;
        append(&settings.dir, LEDGER, &Entry::now(Event::Start, self.n).to_line());
        if self.long && settings.hog {
            std::future::pending::<()>().await;
        }
        tokio::time::sleep(RUN).await;
        append(&settings.dir, LEDGER, &Entry::now(Event::End, self.n).to_line());
        Ok(())
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["enqueue", db, key, first, count, rest @ ..] if rest.is_empty() || rest == ["--long"] => {
            let (first, count): (u64, u64) = (first.parse()?, count.parse()?);
            let jobs = (first..first + count).map(|n| Limited { n, key: (*key).to_owned(), long: !rest.is_empty() });
            runtime.block_on(enqueue(Path::new(db), jobs))
        }
        ["work", db, dir] => runtime.block_on(work(Path::new(db), Path::new(dir), false)),
        ["work", db, dir, "--hog"] => runtime.block_on(work(Path::new(db), Path::new(dir), true)),
        _ => Err("usage: sqlite-limited enqueue DB KEY FIRST COUNT [--long] | work DB DIR [--hog]".into()),
    }
}

fn jobs_runtime(sqlite: SqliteAdapter, settings: Settings) -> Result<Runtime, Error> {
    let mut registry = Registry::new();
    registry.register::<Limited>()?;
    Runtime::builder().adapter(sqlite).registry(registry).state(settings).build()
}

async fn enqueue(db: &Path, jobs: impl Iterator<Item = Limited>) -> Result<(), Box<dyn std::error::Error>> {
    let sqlite = SqliteAdapter::open(db).await?;
    let runtime = jobs_runtime(sqlite.clone(), Settings { dir: PathBuf::new(), hog: false })?;
    runtime.perform_all_later(jobs.map(PendingJob::new)).await?;
    sqlite.close().await;
    Ok(())
}

async fn work(db: &Path, dir: &Path, hog: bool) -> Result<(), Box<dyn std::error::Error>> {
    let sqlite = SqliteAdapter::open(db).await?;
    let runtime = jobs_runtime(sqlite.clone(), Settings { dir: dir.to_owned(), hog })?;
    // More room than the limit, so that only the slots keep a key to two runs at once.
    Worker::builder()
        .runtime(&runtime)
        .concurrency(8)
        .lease(if hog { HOG_LEASE } else { LEASE })
        .poll_interval(std::time::Duration::from_millis(50))
        .build()?
        .run_until(until_drained(&sqlite))
        .await?;
    sqlite.close().await;
    Ok(())
}

//! Two worker processes schedule one every-second task on a SQLite file; one is killed with
//! SIGKILL mid-run. Every tick is still enqueued exactly once — before, at and after the kill —
//! and the survivor goes on enqueueing the next ticks: no process needs to be alone.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use jobs_core::{Inspect, ListParams};
use jobs_sqlite::SqliteAdapter;

const SCHEDULER: &str = env!("CARGO_BIN_EXE_sqlite-scheduler");
const TIMEOUT: Duration = Duration::from_secs(120);

/// A scheduler process, killed if the test fails before it exits.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn scheduler(db: &Path, dir: &Path) -> Process {
    Process(Command::new(SCHEDULER).arg(db).arg(dir).spawn().expect("start a scheduler process"))
}

/// The performed ticks (seconds since the epoch) of the process `pid`.
fn performed_by(dir: &Path, pid: u32) -> Vec<i64> {
    std::fs::read_to_string(dir.join(format!("ticks-{pid}.log")))
        .unwrap_or_default()
        .lines()
        .map(|line| line.parse().expect("a tick"))
        .collect()
}

/// How many jobs the store holds per tick of the task.
async fn enqueued(db: &Path) -> BTreeMap<i64, usize> {
    let sqlite = SqliteAdapter::open(db).await.unwrap();
    let mut ticks = BTreeMap::new();
    let mut params = ListParams::new().limit(500);
    loop {
        let page = sqlite.list(&params).await.unwrap();
        for job in &page.jobs {
            let run = job.data().unwrap().recurring.expect("a recurring job");
            *ticks.entry(run.run_at.timestamp()).or_default() += 1;
        }
        match page.next {
            Some(cursor) => params = params.after(cursor),
            None => break,
        }
    }
    sqlite.close().await;
    ticks
}

fn wait_until(what: &str, mut condition: impl FnMut() -> bool) {
    let deadline = Instant::now() + TIMEOUT;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_killed_scheduler_leaves_each_next_tick_enqueued_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("jobs.db");
    let tokio = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    // Migrate once before two processes race to open the file.
    tokio.block_on(async { SqliteAdapter::open(&db).await.unwrap().close().await });

    let mut doomed = scheduler(&db, dir.path());
    let survivor = scheduler(&db, dir.path());
    wait_until("both processes to perform ticks", || {
        performed_by(dir.path(), doomed.0.id()).len() >= 2 && performed_by(dir.path(), survivor.0.id()).len() >= 2
    });
    doomed.0.kill().expect("SIGKILL a scheduler");
    doomed.0.wait().unwrap();
    let killed_at = chrono::Utc::now().timestamp();

    wait_until("three more ticks after the kill", || {
        performed_by(dir.path(), survivor.0.id()).iter().filter(|tick| **tick > killed_at + 1).count() >= 3
    });
    drop(survivor);

    let ticks = tokio.block_on(enqueued(&db));
    let twice: Vec<_> = ticks.iter().filter(|(_, count)| **count != 1).collect();
    assert!(twice.is_empty(), "ticks enqueued more than once: {twice:?}");
    let (first, last) = (*ticks.keys().next().unwrap(), *ticks.keys().next_back().unwrap());
    let missing: Vec<i64> = (first..=last).filter(|tick| !ticks.contains_key(tick)).collect();
    assert!(missing.is_empty(), "ticks never enqueued: {missing:?}");
    assert!(last > killed_at + 3, "the survivor went on: last tick {last}, killed at {killed_at}");
}

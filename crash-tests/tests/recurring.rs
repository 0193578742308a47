//! Two worker processes schedule one every-second task on a SQLite file; one is killed with
//! SIGKILL mid-run. Every tick is still enqueued exactly once — before, at and after the kill —
//! and the survivor goes on enqueueing the next ticks: no process needs to be alone.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use jobs_core::{Inspect, ListParams};
use jobs_crash_tests::log::lines;
use jobs_crash_tests::process::{Process, wait_until};
use jobs_sqlite::SqliteAdapter;

const SCHEDULER: &str = env!("CARGO_BIN_EXE_sqlite-scheduler");
const TIMEOUT: Duration = Duration::from_secs(120);
const POLL: Duration = Duration::from_millis(50);

fn scheduler(db: &Path, dir: &Path) -> Process {
    Process::spawn(Command::new(SCHEDULER).arg(db).arg(dir))
}

/// The performed ticks (seconds since the epoch) of the process `pid`.
fn performed_by(dir: &Path, pid: u32) -> Vec<i64> {
    lines(dir, "ticks", pid).iter().map(|line| line.parse().expect("a tick")).collect()
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

#[test]
fn a_killed_scheduler_leaves_each_next_tick_enqueued_once() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("jobs.db");
    let tokio = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    // Migrate once before two processes race to open the file.
    tokio.block_on(async { SqliteAdapter::open(&db).await.unwrap().close().await });

    let mut doomed = scheduler(&db, dir.path());
    let survivor = scheduler(&db, dir.path());
    wait_until("both processes to perform ticks", TIMEOUT, POLL, || {
        performed_by(dir.path(), doomed.pid()).len() >= 2 && performed_by(dir.path(), survivor.pid()).len() >= 2
    });
    doomed.kill();
    let killed_at = chrono::Utc::now().timestamp();

    wait_until("three more ticks after the kill", TIMEOUT, POLL, || {
        performed_by(dir.path(), survivor.pid()).iter().filter(|tick| **tick > killed_at + 1).count() >= 3
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

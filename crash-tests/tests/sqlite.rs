//! A worker process killed with SIGKILL while jobs are running loses none of them: the next
//! worker processes rescue and perform every job, and only the jobs in flight at the kill may run
//! twice.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use jobs_core::{Inspect, JobState, ListParams};
use jobs_crash_tests::log::all_lines;
use jobs_crash_tests::process::{Process, wait_until};
use jobs_sqlite::SqliteAdapter;

const JOBS: u64 = 200;
const WORKER: &str = env!("CARGO_BIN_EXE_sqlite-worker");
const TIMEOUT: Duration = Duration::from_secs(180);
const POLL: Duration = Duration::from_millis(20);

fn worker(db: &Path, dir: &Path, extra: &[&str]) -> Process {
    Process::spawn(Command::new(WORKER).arg("work").arg(db).arg(dir).args(extra))
}

/// How many times each job logged `kind` (started or done), over every process.
fn logged(dir: &Path, kind: &str) -> BTreeMap<u64, usize> {
    let mut counts = BTreeMap::new();
    for (_, line) in all_lines(dir, kind) {
        *counts.entry(line.parse().expect("a job number")).or_default() += 1;
    }
    counts
}

#[test]
fn a_killed_worker_loses_no_job() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("jobs.db");
    let status = Command::new(WORKER).arg("enqueue").arg(&db).arg(JOBS.to_string()).status().unwrap();
    assert!(status.success(), "enqueueing failed: {status}");

    let mut doomed = worker(&db, dir.path(), &["--stall"]);
    wait_until("the first worker to be mid-run", TIMEOUT, POLL, || {
        let stalled = logged(dir.path(), "started").keys().filter(|n| *n % 10 == 0).count();
        logged(dir.path(), "done").len() >= 20 && stalled >= 2
    });
    doomed.kill();

    let tokio = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let in_flight: BTreeSet<u64> = tokio.block_on(async {
        let sqlite = SqliteAdapter::open(&db).await.unwrap();
        let running = sqlite.list(&ListParams::new().state(JobState::Running).limit(1000)).await.unwrap().jobs;
        sqlite.close().await;
        running.iter().map(|job| job.data().unwrap().arguments[0].as_u64().unwrap()).collect()
    });
    assert!(in_flight.len() >= 2, "the stalled jobs were running when the worker was killed: {in_flight:?}");

    let mut next = [worker(&db, dir.path(), &[]), worker(&db, dir.path(), &[])];
    for process in &mut next {
        let status = process.wait(TIMEOUT);
        assert!(status.success(), "a second worker failed: {status}");
    }

    let done = logged(dir.path(), "done");
    let missing: Vec<u64> = (0..JOBS).filter(|n| !done.contains_key(n)).collect();
    assert!(missing.is_empty(), "jobs never completed: {missing:?}");
    let twice: BTreeSet<u64> = done.iter().filter(|(_, count)| **count > 1).map(|(n, _)| *n).collect();
    assert!(
        twice.is_subset(&in_flight),
        "jobs ran twice that were not in flight at the kill: {twice:?} vs {in_flight:?}"
    );
    tokio.block_on(async {
        let sqlite = SqliteAdapter::open(&db).await.unwrap();
        let counts = sqlite.counts().await.unwrap();
        assert_eq!((counts.total(JobState::Completed), counts.pending()), (JOBS, 0), "{counts:?}");
        sqlite.close().await;
    });
}

#[test]
fn sigterm_shuts_a_worker_down_and_hands_its_running_jobs_back() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("jobs.db");
    let status = Command::new(WORKER).arg("enqueue").arg(&db).arg("40").status().unwrap();
    assert!(status.success(), "enqueueing failed: {status}");

    // Every tenth job never finishes, so some are certainly running when SIGTERM arrives.
    let mut first = worker(&db, dir.path(), &["--stall"]);
    wait_until("the stalling jobs to start", TIMEOUT, POLL, || {
        let started = logged(dir.path(), "started");
        (0..40).step_by(10).all(|n| started.contains_key(&n))
    });
    first.terminate();
    let status = first.wait(Duration::from_secs(60));
    assert!(status.success(), "a SIGTERM'd worker exits cleanly: {status}");

    // The stalled jobs went back to the queue without spending an attempt, and none is dead.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let sqlite = SqliteAdapter::open(&db).await.unwrap();
        for n in (0..40).step_by(10) {
            let ready = sqlite.list(&ListParams::new().state(JobState::Ready)).await.unwrap().jobs;
            assert!(
                ready.iter().any(|job| job.payload.contains(&format!("\"arguments\":[{n}]")) && job.attempts == 0),
                "job {n} is ready again with no attempt spent: {ready:?}"
            );
        }
        let dead = sqlite.list(&ListParams::new().state(JobState::Dead)).await.unwrap().jobs;
        assert!(dead.is_empty(), "{dead:?}");
        sqlite.close().await;
    });

    // The next worker performs them.
    let mut second = worker(&db, dir.path(), &[]);
    assert!(second.wait(TIMEOUT).success());
    let done = logged(dir.path(), "done");
    assert_eq!(done.keys().copied().collect::<BTreeSet<_>>(), (0..40).collect::<BTreeSet<_>>());
}

//! A continuable job on SQLite: a SIGTERM interrupts it at a checkpoint and stores its cursor; a
//! SIGKILL mid-step loses only the work since the last stored progress, which the next worker
//! repeats. A worker stores a running job's progress under its claim at checkpoints (at most once
//! per `checkpoint_interval`, 50 ms here) and at each completed step: after a kill the rescued job
//! resumes from the last checkpoint stored, past the last interruption, and only the rows saved
//! since that checkpoint are saved again.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use jobs_crash_tests::log::lines;
use jobs_crash_tests::process::{Process, wait_until};

const ROWS: u64 = 3_000;
const IMPORT: &str = env!("CARGO_BIN_EXE_sqlite-import");
const TIMEOUT: Duration = Duration::from_secs(180);
const POLL: Duration = Duration::from_millis(10);

fn worker(db: &Path, dir: &Path) -> Process {
    Process::spawn(Command::new(IMPORT).arg("work").arg(db).arg(dir))
}

fn rows(dir: &Path, pid: u32) -> Vec<u64> {
    lines(dir, "rows", pid).iter().map(|l| l.parse().expect("a row number")).collect()
}

#[test]
fn a_killed_import_resumes_from_its_last_stored_progress() {
    let dir = tempfile::tempdir().unwrap();
    let (dir, db) = (dir.path(), dir.path().join("jobs.db"));
    let status = Command::new(IMPORT).arg("enqueue").arg(&db).arg(ROWS.to_string()).status().unwrap();
    assert!(status.success(), "enqueueing failed: {status}");

    // SIGTERM: the import stops at its next checkpoint and is stored again at its cursor.
    let mut first = worker(&db, dir);
    wait_until("the first worker to save 500 rows", TIMEOUT, POLL, || rows(dir, first.pid()).len() >= 500);
    first.terminate();
    assert!(first.wait(TIMEOUT).success(), "a SIGTERM'd worker exits cleanly");
    let stored_at = rows(dir, first.pid()).len() as u64;
    assert!(stored_at < ROWS, "the import finished before SIGTERM");
    assert_eq!(rows(dir, first.pid()), (0..stored_at).collect::<Vec<_>>());

    // SIGKILL mid-step: this run's progress reached the store at its checkpoints until the kill.
    let mut second = worker(&db, dir);
    wait_until("the second worker to save 500 rows", TIMEOUT, POLL, || rows(dir, second.pid()).len() >= 500);
    second.kill();
    let killed = rows(dir, second.pid());
    assert_eq!(killed.first(), Some(&stored_at), "the second run resumed at the stored cursor");
    assert!(killed.len() < (ROWS - stored_at) as usize, "the import finished before SIGKILL");

    // The next worker rescues the job once its lease expires and resumes from the last checkpoint
    // the killed run stored, not from the last interruption: the rows the killed run saved after
    // that checkpoint are saved again, no others.
    let mut third = worker(&db, dir);
    assert!(third.wait(TIMEOUT).success(), "the third worker finished the import");
    let resumed = rows(dir, third.pid());
    let checkpoint = *resumed.first().expect("the third run saved rows");
    assert_eq!(resumed, (checkpoint..ROWS).collect::<Vec<_>>(), "resumed at a stored cursor, in order");
    assert!(
        checkpoint > stored_at,
        "the killed run's checkpoints were stored: resumed at {checkpoint}, its interruption was at {stored_at}"
    );
    let killed_up_to = stored_at + killed.len() as u64;
    assert!(checkpoint <= killed_up_to, "resumed at {checkpoint}, past the killed run's last row {killed_up_to}");

    let mut saved: BTreeMap<u64, usize> = BTreeMap::new();
    for pid in [first.pid(), second.pid(), third.pid()] {
        for row in rows(dir, pid) {
            *saved.entry(row).or_default() += 1;
        }
    }
    assert_eq!(saved.len() as u64, ROWS, "every row saved");
    let repeated: Vec<u64> = saved.iter().filter(|(_, n)| **n > 1).map(|(row, _)| *row).collect();
    let since_checkpoint: Vec<u64> = killed.iter().copied().filter(|row| *row >= checkpoint).collect();
    assert_eq!(repeated, since_checkpoint, "only the rows since the last stored checkpoint were saved twice");
    assert_eq!(lines(dir, "steps", first.pid()), ["prepare", "rows"]);
    assert_eq!(lines(dir, "steps", second.pid()), ["rows"], "a completed step never runs again");
    assert_eq!(lines(dir, "steps", third.pid()), ["rows", "finish"]);
}
